//! Large byte strings of multi-step state (a seal session's document and its prepared
//! revision) in a folder every instance shares: [`BlobDir`]. A blob is named by the SHA-256 of
//! its bytes, written to a temporary file and renamed into place (a crash leaves no partial
//! blob), and checked against its name when read (a changed file is refused, not used).
//! Records ([`super::RecordStore`]) name their blobs; the blob folder is one per namespace
//! (e.g. a seal session's tid), dropped with it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::StoreError;

/// A folder of content-addressed blobs.
#[derive(Debug, Clone)]
pub struct BlobDir {
    root: PathBuf,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("cannot {what} {}: {e}", path.display()))
}

/// A namespace or blob name: letters, digits, `-`, `_`, `.`, not starting with a dot.
fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "`{}` is not a blob name",
            crate::crypto::truncate(name, 40)
        )))
    }
}

impl BlobDir {
    /// Blobs under `root` (made when first written).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, ns: &str, id: &str) -> Result<PathBuf, StoreError> {
        check_name(ns)?;
        check_name(id)?;
        Ok(self.root.join(ns).join(id))
    }

    /// Stores `bytes` in namespace `ns`; returns the blob's id (SHA-256, hex).
    pub async fn put(&self, ns: &str, bytes: &[u8]) -> Result<String, StoreError> {
        let id = data_encoding::HEXLOWER.encode(&Sha256::digest(bytes));
        let path = self.path(ns, &id)?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(id);
        }
        let dir = self.root.join(ns);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io("create", &dir, e))?;
        let mut random = [0u8; 8];
        getrandom::fill(&mut random)
            .map_err(|e| StoreError::Backend(format!("no randomness for a blob name: {e}")))?;
        let tmp = dir.join(format!(".tmp-{}", data_encoding::HEXLOWER.encode(&random)));
        tokio::fs::write(&tmp, bytes)
            .await
            .map_err(|e| io("write", &tmp, e))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| io("store", &path, e))?;
        Ok(id)
    }

    /// The bytes of blob `id` of namespace `ns`, checked against their name.
    pub async fn get(&self, ns: &str, id: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(ns, id)?;
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| io("read", &path, e))?;
        if data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes)) != id {
            return Err(StoreError::Backend(format!(
                "{} does not hold the bytes it is named after (changed on disk)",
                path.display()
            )));
        }
        Ok(bytes)
    }

    /// Drops namespace `ns` and its blobs.
    pub async fn drop_namespace(&self, ns: &str) -> Result<(), StoreError> {
        check_name(ns)?;
        let dir = self.root.join(ns);
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("remove", &dir, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn blobs_round_trip_and_a_changed_file_or_a_bad_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobDir::new(dir.path());
        let id = blobs.put("T1", b"%PDF-1.7 ...").await.unwrap();
        assert_eq!(id.len(), 64);
        assert_eq!(blobs.put("T1", b"%PDF-1.7 ...").await.unwrap(), id);
        assert_eq!(blobs.get("T1", &id).await.unwrap(), b"%PDF-1.7 ...");
        std::fs::write(dir.path().join("T1").join(&id), b"tampered").unwrap();
        assert!(blobs.get("T1", &id).await.is_err());
        assert!(blobs.get("../etc", "passwd").await.is_err());
        assert!(blobs.get("T1", "..").await.is_err());
        blobs.drop_namespace("T1").await.unwrap();
        assert!(blobs.get("T1", &id).await.is_err());
        blobs.drop_namespace("T1").await.unwrap();
    }
}
