//! Keeps a database's WAL short: a background thread checkpoints it after
//! new writes, and lets it start over once it is long.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rusqlite::Connection;

use super::database::SqlDatabase;

/// How often the checkpointer looks for new commits.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(50);
/// WAL size (in pages, 512 MiB) at which the checkpointer lets the WAL start
/// over. Each start-over stops writers for two `fsync`s (10-20 ms on a slow
/// disk), so not often: under full load about every 4 s. A WAL this long
/// costs readers nothing, as they look up only the frames not yet copied
/// into the database.
const WAL_RESTART_PAGES: i64 = 131_072;

/// Checkpoints the database's WAL in the background, every
/// [`CHECKPOINT_INTERVAL`] after new writes. Request connections never
/// checkpoint (`wal_autocheckpoint = 0`): otherwise every thousand pages one
/// commit copies them into the database and syncs both files while it has
/// the writer turn, and every writer waits behind it. A checkpoint also
/// syncs the WAL (`synchronous = NORMAL` does not at each commit), so a
/// power loss can undo at most the commits since the last checkpoint.
///
/// SQLite starts the WAL over only when a writer begins with every frame
/// checkpointed, which under steady writes never happens by itself; so once
/// the WAL passes [`WAL_RESTART_PAGES`] the checkpointer catches up on the
/// last frames while holding the writer turn, and the next writer starts
/// the WAL over. The thread ends with the database.
pub(super) fn start_checkpointer(db: &Arc<SqlDatabase>) -> anyhow::Result<()> {
    let conn = db.connect()?;
    let writer = db.writer.clone();
    let db = Arc::downgrade(db);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut checkpointed = None;
            loop {
                std::thread::sleep(CHECKPOINT_INTERVAL);
                let Some(writes) = db.upgrade().map(|db| db.writes.load(Ordering::Relaxed)) else {
                    return;
                };
                if checkpointed == Some(writes) {
                    continue;
                }
                let caught_up = checkpoint(&conn).and_then(|wal_pages| {
                    if wal_pages >= WAL_RESTART_PAGES {
                        let _turn = writer.blocking_lock();
                        checkpoint(&conn)?;
                    }
                    Ok(())
                });
                match caught_up {
                    Ok(()) => checkpointed = Some(writes),
                    Err(e) => tracing::debug!("checkpoint failed: {e}"),
                }
            }
        })?;
    Ok(())
}

/// A passive checkpoint (it waits for no one); the WAL's size in pages.
fn checkpoint(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spin::sqlite::database::tests::{connection, database, run};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpointer_copies_commits_into_the_database() {
        let (db, dir) = database("checkpoint");
        let conn = connection(&db);
        for n in 0..50 {
            run(&conn, &format!("INSERT INTO t VALUES ({n})")).await;
        }
        // The database file alone (without its WAL) has them once they are
        // checkpointed.
        let copy = dir.join("copy.sqlite");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            std::fs::copy(dir.join("db.sqlite"), &copy).unwrap();
            let rows: i64 = Connection::open(&copy)
                .and_then(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
                .unwrap_or(0);
            if rows == 50 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no checkpoint");
            tokio::time::sleep(CHECKPOINT_INTERVAL).await;
        }
        drop((conn, db));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
