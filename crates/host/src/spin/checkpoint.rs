//! Keeps a SQLite file's WAL short — a SQLite database's or a key-value
//! store's: a background thread checkpoints it after new writes, and lets
//! it start over once it is long.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rusqlite::Connection;

/// How often the checkpointer looks for new commits.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(50);
/// WAL size (in pages, 512 MiB) at which the checkpointer lets the WAL start
/// over. Each start-over stops writers for a few milliseconds, so not
/// often: under full load about every 2 s. A WAL this long costs readers
/// nothing, as they look up only the frames not yet copied into the
/// database.
const WAL_RESTART_PAGES: i64 = 131_072;
/// Pages (1 MiB) that the checkpoint with the writers stopped may find to
/// copy and sync.
const STOP_BACKLOG_PAGES: i64 = 256;
/// At most this many checkpoints close in on the WAL's end before the stop,
/// for when writes come faster than they are copied.
const MAX_CLOSING_IN_ROUNDS: usize = 8;

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
                match catch_up(&conn, db.as_ref(), WAL_RESTART_PAGES) {
                    Ok(()) => checkpointed = Some(writes),
                    Err(e) => tracing::debug!("checkpoint failed: {e}"),
                }
            }
        })?;
    Ok(())
}

/// A passive checkpoint, and once the WAL has `restart_pages`, another with
/// the writers stopped. The stop lasts as long as that checkpoint takes to
/// copy and sync what is not yet on disk, so first, with writers running:
/// - the database file is synced. SQLite syncs it only at a checkpoint
///   that copies the whole WAL, the stop's, which would otherwise write
///   out every page copied since the last start-over;
/// - passive checkpoints close in on the WAL's end until one had at most
///   [`STOP_BACKLOG_PAGES`] to copy.
fn catch_up(conn: &Connection, db: &dyn Checkpointed, restart_pages: i64) -> anyhow::Result<()> {
    let mut wal = checkpoint(conn)?;
    if wal.pages < restart_pages {
        return Ok(());
    }
    sync_database_file(conn)?;
    for _ in 0..MAX_CLOSING_IN_ROUNDS {
        let next = checkpoint(conn)?;
        let backlog = next.pages - wal.copied;
        wal = next;
        if backlog <= STOP_BACKLOG_PAGES {
            break;
        }
    }
    let mut stopped = Ok(());
    db.with_writers_stopped(&mut || stopped = checkpoint(conn).map(drop));
    Ok(stopped?)
}

fn sync_database_file(conn: &Connection) -> anyhow::Result<()> {
    let path = conn.path().context("the database has no file")?;
    std::fs::File::open(path)?.sync_data()?;
    Ok(())
}

/// The WAL as a checkpoint found it.
struct Wal {
    /// Its size in pages.
    pages: i64,
    /// Pages copied into the database so far, this checkpoint's included.
    copied: i64,
}

/// A passive checkpoint (it waits for no one).
fn checkpoint(conn: &Connection) -> rusqlite::Result<Wal> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok(Wal {
            pages: row.get(1)?,
            copied: row.get(2)?,
        })
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

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

    /// A file with one writer connection and no checkpointer of its own.
    struct Scratch {
        path: std::path::PathBuf,
        writer: std::sync::Mutex<Connection>,
    }

    impl Checkpointed for Scratch {
        fn connect(&self) -> rusqlite::Result<Connection> {
            Connection::open(&self.path)
        }

        fn writes(&self) -> u64 {
            0
        }

        fn with_writers_stopped(&self, work: &mut dyn FnMut()) {
            let _writer = self.writer.lock().unwrap();
            work();
        }
    }

    #[test]
    fn a_long_wal_starts_over_while_writes_go_on_and_loses_none() {
        let dir = std::env::temp_dir().join(format!("spin-host-restart-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scratch.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE t (n INTEGER)",
            )
            .unwrap();
        let scratch = Scratch {
            path: path.clone(),
            writer: std::sync::Mutex::new(writer),
        };
        let inserted = AtomicI64::new(0);
        let insert = || {
            let writer = scratch.writer.lock().unwrap();
            writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
            inserted.fetch_add(1, Ordering::Relaxed);
        };
        (0..200).for_each(|_| insert());
        let conn = scratch.connect().unwrap();
        let started_over = wal_start_overs(&path);

        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    insert();
                }
            });
            catch_up(&conn, &scratch, 100).unwrap();
            insert();
            done.store(true, Ordering::Relaxed);
        });

        assert!(wal_start_overs(&path) > started_over, "the WAL went on");
        checkpoint(&conn).unwrap();
        let copy = dir.join("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        let in_the_file: i64 = Connection::open(&copy)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(in_the_file, inserted.load(Ordering::Relaxed));
        drop((conn, scratch));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// How often the file's WAL has started over: its header's checkpoint
    /// sequence number.
    fn wal_start_overs(db: &std::path::Path) -> u32 {
        let wal = std::fs::read(format!("{}-wal", db.display())).unwrap();
        u32::from_be_bytes(wal[12..16].try_into().unwrap())
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
