//! Keeps a SQLite file's WAL short — a SQLite database's or a key-value
//! store's: a background thread checkpoints it after new writes, and lets
//! it start over once it is long.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

/// How often the checkpointer looks for new commits.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(50);
/// WAL size (in pages, 512 MiB) at which the checkpointer lets the WAL start
/// over. Each start-over stops writers for two `fsync`s (10-20 ms on a slow
/// disk), so not often: under full load about every 4 s. A WAL this long
/// costs readers nothing, as they look up only the frames not yet copied
/// into the database.
const WAL_RESTART_PAGES: i64 = 131_072;

/// A SQLite file whose writers never checkpoint (`wal_autocheckpoint = 0`
/// on their connections), left to [`start_checkpointer`].
pub trait Checkpointed: Send + Sync + 'static {
    /// A connection of the checkpointer's own to the file.
    fn connect(&self) -> rusqlite::Result<Connection>;
    /// Writes committed so far: the checkpointer's cue.
    fn writes(&self) -> u64;
    /// Runs `work` while nobody writes.
    fn with_writers_stopped(&self, work: &mut dyn FnMut());
}

/// Checkpoints the file's WAL in the background, every
/// [`CHECKPOINT_INTERVAL`] after new writes. Writers never checkpoint:
/// otherwise every thousand pages one commit copies them into the database
/// and syncs both files while it holds the write lock, and every writer
/// waits behind it. A checkpoint also syncs the WAL (`synchronous = NORMAL`
/// does not at each commit), so a power loss can undo at most the commits
/// since the last checkpoint.
///
/// SQLite starts the WAL over only when a writer begins with every frame
/// checkpointed, which under steady writes never happens by itself; so once
/// the WAL passes [`WAL_RESTART_PAGES`] the checkpointer catches up on the
/// last frames with the writers stopped, and the next writer starts the WAL
/// over. The thread ends with the file's owner.
pub fn start_checkpointer<D: Checkpointed>(db: &Arc<D>) -> anyhow::Result<()> {
    let conn = db.connect()?;
    let db = Arc::downgrade(db);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut checkpointed = None;
            loop {
                std::thread::sleep(CHECKPOINT_INTERVAL);
                let Some(db) = db.upgrade() else {
                    return;
                };
                let writes = db.writes();
                if checkpointed == Some(writes) {
                    continue;
                }
                match catch_up(&conn, db.as_ref()) {
                    Ok(()) => checkpointed = Some(writes),
                    Err(e) => tracing::debug!("checkpoint failed: {e}"),
                }
            }
        })?;
    Ok(())
}

/// A passive checkpoint, and once the WAL is long, another with the
/// writers stopped.
fn catch_up(conn: &Connection, db: &dyn Checkpointed) -> rusqlite::Result<()> {
    if checkpoint(conn)? < WAL_RESTART_PAGES {
        return Ok(());
    }
    let mut result = Ok(0);
    db.with_writers_stopped(&mut || result = checkpoint(conn));
    result.map(drop)
}

/// A passive checkpoint (it waits for no one); the WAL's size in pages.
fn checkpoint(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_key_value_file_is_checkpointed_too() {
        let dir =
            std::env::temp_dir().join(format!("spin-host-kv-checkpoint-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let kv = crate::spin::key_value::SqliteKv::open(&dir.join("kv.db")).unwrap();
        for n in 0..50 {
            kv.set("default", &format!("k{n}"), b"v").unwrap();
        }
        wait_for_rows(
            &dir.join("kv.db"),
            "SELECT count(*) FROM spin_key_value",
            50,
        )
        .await;
        drop(kv);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Waits until a copy of `file` alone (without its WAL) counts `rows`:
    /// until they are checkpointed into it.
    pub(crate) async fn wait_for_rows(file: &std::path::Path, count: &str, rows: i64) {
        let copy = file.with_extension("copy");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            std::fs::copy(file, &copy).unwrap();
            let counted: i64 = Connection::open(&copy)
                .and_then(|c| c.query_row(count, [], |r| r.get(0)))
                .unwrap_or(0);
            if counted == rows {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "no checkpoint");
            tokio::time::sleep(CHECKPOINT_INTERVAL).await;
        }
    }
}
