//! Key-value stores of type "redis" (`url` in the runtime config), as in
//! Spin: a key is a Redis key of the URL's database, as it is, so every
//! label configured with the same URL sees the same keys. The connection is
//! opened at first use and reconnects by itself after Redis restarts.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

use super::{KvError, KvResult};

pub struct RedisKv {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
}

fn other(error: redis::RedisError) -> KvError {
    KvError::Other(error.to_string())
}

impl RedisKv {
    pub fn new(url: &str) -> anyhow::Result<RedisKv> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("invalid Redis URL '{url}': {e}"))?;
        Ok(RedisKv {
            client,
            connection: OnceCell::new(),
        })
    }

    /// A handle on the shared connection (handles are cheap clones).
    async fn connection(&self) -> KvResult<ConnectionManager> {
        let connection = self
            .connection
            .get_or_try_init(|| self.client.get_connection_manager())
            .await
            .map_err(other)?;
        Ok(connection.clone())
    }

    pub async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.connection().await?.get(key).await.map_err(other)
    }

    pub async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        self.connection()
            .await?
            .set(key, value)
            .await
            .map_err(other)
    }

    pub async fn delete(&self, key: &str) -> KvResult<()> {
        self.connection().await?.del(key).await.map_err(other)
    }

    pub async fn exists(&self, key: &str) -> KvResult<bool> {
        self.connection().await?.exists(key).await.map_err(other)
    }

    /// Every key, in order, gathered with SCAN (which, unlike KEYS, does not
    /// stop the server while it walks a large database).
    pub async fn keys(&self) -> KvResult<Vec<String>> {
        use futures::StreamExt;
        let mut connection = self.connection().await?;
        let mut scan = connection.scan::<String>().await.map_err(other)?;
        let mut keys = vec![];
        while let Some(key) = scan.next().await {
            keys.push(key.map_err(other)?);
        }
        keys.sort();
        keys.dedup(); // SCAN may return a key twice
        Ok(keys)
    }
}
