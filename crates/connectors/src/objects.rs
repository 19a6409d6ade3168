//! The object store (文件存储): where the platform keeps files — uploaded materials, issued
//! notices and decisions — behind one interface.
//!
//! [`ObjectStore::Local`] keeps each object as a file under a directory (the default, beside the
//! embedded database); [`ObjectStore::S3`] keeps it in a bucket of an S3-compatible service
//! (chosen by configuration; see [`crate::s3`]). Every object is addressed by a key the caller
//! chose (a UUID: never user input) and its SM3 digest is returned on [`ObjectStore::put`];
//! [`ObjectStore::get`] takes the digest recorded in the database and refuses bytes that do not
//! match it, so a file changed or damaged on disk or in the bucket is reported instead of
//! served — the same check for both kinds of store. Local writes go to a temporary name first
//! and are renamed into place, so a reader never sees half a file; an S3 `PUT` is atomic.

use std::path::{Path, PathBuf};

use sm3::{Digest, Sm3};

use crate::ConnectorError;
use crate::s3::S3Store;

const SYSTEM: &str = "object store";

/// Where files are kept.
#[derive(Debug, Clone)]
pub enum ObjectStore {
    /// Files under a local directory (created on first write).
    Local {
        /// The directory.
        dir: PathBuf,
    },
    /// Objects in a bucket of an S3-compatible service (endpoint, bucket, region, keys and
    /// addressing in its [`crate::s3::S3Config`]).
    S3(Box<S3Store>),
}

/// What [`ObjectStore::put`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Size in bytes.
    pub size: u64,
    /// SM3 of the bytes, 64 lower-case hex characters.
    pub sm3: String,
}

/// SM3 of `bytes` as lower-case hex.
pub fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

impl ObjectStore {
    /// A store in a local directory.
    pub fn local(dir: impl Into<PathBuf>) -> ObjectStore {
        ObjectStore::Local { dir: dir.into() }
    }

    /// A store in an S3-compatible bucket.
    pub fn s3(store: S3Store) -> ObjectStore {
        ObjectStore::S3(Box::new(store))
    }

    /// Where the files are, for logs and `config show` (no secrets).
    pub fn describe(&self) -> String {
        match self {
            ObjectStore::Local { dir } => format!("local directory {}", dir.display()),
            ObjectStore::S3(s) => {
                let c = s.config();
                format!(
                    "s3 {} bucket {} (region {}, {} addressing)",
                    c.endpoint,
                    c.bucket,
                    c.region,
                    if c.path_style {
                        "path-style"
                    } else {
                        "virtual-hosted"
                    }
                )
            }
        }
    }

    /// Whether the store can be used (at start-up, so a wrong setting stops the server
    /// instead of the first upload): the local directory is created; the S3 bucket must exist
    /// and accept the credentials.
    pub async fn check(&self) -> Result<(), ConnectorError> {
        match self {
            ObjectStore::Local { dir } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| ConnectorError::Unavailable {
                        system: SYSTEM,
                        message: format!("{}: {e}", dir.display()),
                    })
            }
            ObjectStore::S3(s) => s.check().await,
        }
    }

    /// Keys are ours (UUIDs); anything else is refused before it reaches a path or a URL.
    fn check_key(key: &str) -> Result<(), ConnectorError> {
        if key.is_empty()
            || key.len() > 128
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ConnectorError::InvalidInput(format!(
                "object key {key:?} is not [A-Za-z0-9_-]{{1,128}}"
            )));
        }
        Ok(())
    }

    fn path(dir: &Path, key: &str) -> Result<PathBuf, ConnectorError> {
        // A key must never leave the directory.
        Self::check_key(key)?;
        // Two levels of fan-out keep directories small.
        let a = key.get(key.len().saturating_sub(2)..).unwrap_or("00");
        Ok(dir.join(a).join(key))
    }

    /// Stores `bytes` under `key` (replacing nothing: keys are fresh).
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<Stored, ConnectorError> {
        let unavailable = |e: std::io::Error| ConnectorError::Unavailable {
            system: SYSTEM,
            message: e.to_string(),
        };
        match self {
            ObjectStore::Local { dir } => {
                let path = Self::path(dir, key)?;
                // One trip to a blocking thread (each `tokio::fs` call would be a trip of its
                // own). Keys are fresh, so the file is created new (never replacing one) and
                // written in place: no reader looks for it before the row naming it commits,
                // which is after this returns. Its folder is made only the first time.
                let data = bytes.to_vec();
                tokio::task::spawn_blocking(move || {
                    use std::io::Write;
                    let create = || {
                        std::fs::OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .open(&path)
                    };
                    let mut file = match create() {
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                            if let Some(parent) = path.parent() {
                                std::fs::create_dir_all(parent)?;
                            }
                            create()?
                        }
                        other => other?,
                    };
                    file.write_all(&data)
                })
                .await
                .map_err(|e| unavailable(std::io::Error::other(e)))?
                .map_err(unavailable)?;
            }
            ObjectStore::S3(s) => {
                Self::check_key(key)?;
                s.put(key, bytes).await?;
            }
        }
        Ok(Stored {
            size: bytes.len() as u64,
            sm3: sm3_hex(bytes),
        })
    }

    /// The bytes under `key`, checked against the SM3 digest recorded when they were stored:
    /// [`ConnectorError::BadAnswer`] when they differ, [`ConnectorError::NotFound`] when the
    /// object is gone, `Unavailable` when the store cannot be read.
    pub async fn get(&self, key: &str, sm3: &str) -> Result<Vec<u8>, ConnectorError> {
        let bytes = match self {
            ObjectStore::Local { dir } => {
                let path = Self::path(dir, key)?;
                tokio::fs::read(&path).await.map_err(|e| {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        ConnectorError::NotFound {
                            system: SYSTEM,
                            key: key.to_owned(),
                        }
                    } else {
                        ConnectorError::Unavailable {
                            system: SYSTEM,
                            message: format!("{key}: {e}"),
                        }
                    }
                })?
            }
            ObjectStore::S3(s) => {
                Self::check_key(key)?;
                s.get(key).await?
            }
        };
        let found = sm3_hex(&bytes);
        if !found.eq_ignore_ascii_case(sm3) {
            return Err(ConnectorError::BadAnswer {
                system: SYSTEM,
                message: format!("{key}: SM3 is {found}, {sm3} was recorded: the file was changed"),
            });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> PathBuf {
        std::env::temp_dir().join(format!("yiwang-objects-{}", uuid_like()))
    }

    fn uuid_like() -> String {
        format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        )
    }

    #[tokio::test]
    async fn round_trip_and_tamper_detection() {
        let dir = temp();
        let store = ObjectStore::local(&dir);
        let s = store.put("abc-123", b"%PDF-1.7 hello").await.unwrap();
        assert_eq!(s.size, 14);
        assert_eq!(
            store.get("abc-123", &s.sm3).await.unwrap(),
            b"%PDF-1.7 hello"
        );
        // The GB/T 32905 example: SM3("abc").
        assert_eq!(
            sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        std::fs::write(dir.join("23").join("abc-123"), b"%PDF-1.7 HELLO").unwrap();
        assert!(matches!(
            store.get("abc-123", &s.sm3).await,
            Err(ConnectorError::BadAnswer { .. })
        ));
        assert!(matches!(
            store.get("missing", &s.sm3).await,
            Err(ConnectorError::NotFound { .. })
        ));
        assert!(matches!(
            store.put("../etc/passwd", b"x").await,
            Err(ConnectorError::InvalidInput(_))
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
