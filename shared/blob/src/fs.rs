//! Local filesystem backend: one file per object under a root directory.
//!
//! An object lives at `<root>/<key>` (key segments become directories). Uploads are written to a
//! temp file and renamed into place, so readers never see a partial object.

use std::io::{self, ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};

use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;
use uuid::Uuid;

use crate::key::is_key_byte;
use crate::meter::Meter;
use crate::{next_chunk, BlobError, BlobKey, BlobObject, BlobStore, ByteRange, PutOutcome};

/// Directory (under the root) for uploads in progress. The '~' is outside the key alphabet, so no
/// key can ever land in it or be listed out of it.
const TMP_DIR: &str = ".tmp~";

/// Read buffer size for downloads.
const READ_CHUNK: usize = 64 * 1024;

/// How often `put` retries publishing when a concurrent `delete` pruned the parent directory
/// between our mkdir and rename.
const PUBLISH_ATTEMPTS: usize = 5;

/// Stores objects as files below a root directory.
///
/// Unlike S3, a key cannot be both an object and a directory on the way to another object
/// ("a" and "a/b"); the second `put` of such a pair fails with a backend error.
#[derive(Debug)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    /// Uses `root` as the store, creating it (and the temp directory) if missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<FsStore, BlobError> {
        let root = root.into();
        let tmp = root.join(TMP_DIR);
        std::fs::create_dir_all(&tmp)
            .map_err(|e| BlobError::backend(format!("cannot create {}", tmp.display()), e))?;
        Ok(FsStore { root })
    }

    fn path_of(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(TMP_DIR)
    }

    /// Removes now-empty directories from `dir` upwards, stopping at the first non-empty one and
    /// never touching the root, so deleted objects don't leave a growing tree of empty dirs.
    async fn prune_empty_dirs(&self, mut dir: &Path) {
        while dir != self.root && dir.starts_with(&self.root) {
            if tokio::fs::remove_dir(dir).await.is_err() {
                break;
            }
            match dir.parent() {
                Some(parent) => dir = parent,
                None => break,
            }
        }
    }
}

/// True for errors that mean "there is no object at this path".
fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::IsADirectory
    )
}

fn io_err<'a>(context: &'a str, path: &'a Path) -> impl FnOnce(io::Error) -> BlobError + 'a {
    move |e| BlobError::backend(format!("{context} {}", path.display()), e)
}

/// Deletes the temp file unless disarmed, also when the `put` future is dropped midway
/// (e.g. the HTTP request was cancelled).
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            if let Err(e) = std::fs::remove_file(&self.path) {
                if e.kind() != ErrorKind::NotFound {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot remove blob temp file");
                }
            }
        }
    }
}

/// Objects up to this size are gathered in memory and written in one blocking call.
const SMALL_OBJECT: usize = 1024 * 1024;

/// Runs filesystem work on a blocking thread. Each `tokio::fs` call is such a hop of its own:
/// for an import of small documents, about ten per object cost more CPU in thread switches
/// than the writing, so a step does all it can in one.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BlobError::backend("blob write task", e))?
}

/// A new temp file in `tmp_dir` (created if missing), removed again unless disarmed.
fn new_temp(tmp_dir: &Path) -> Result<(TempFile, std::fs::File), BlobError> {
    std::fs::create_dir_all(tmp_dir).map_err(io_err("cannot create", tmp_dir))?;
    let tmp = TempFile {
        path: tmp_dir.join(Uuid::new_v4().to_string()),
        armed: true,
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp.path)
        .map_err(io_err("cannot create", &tmp.path))?;
    Ok((tmp, file))
}

/// Moves the finished (fsynced) temp file to `dest`, creating parent directories as needed,
/// and puts the rename on disk.
fn publish(root: &Path, tmp: &Path, dest: &Path) -> Result<(), BlobError> {
    let parent = dest.parent().unwrap_or(root);
    let mut attempt = 1;
    loop {
        match std::fs::create_dir_all(parent).and_then(|()| std::fs::rename(tmp, dest)) {
            Ok(()) => break,
            // A concurrent delete removed an (empty) parent directory in between; redo it.
            Err(e) if e.kind() == ErrorKind::NotFound && attempt < PUBLISH_ATTEMPTS => {
                attempt += 1;
            }
            Err(e) => return Err(io_err("cannot move object into place at", dest)(e)),
        }
    }
    // The rename is only durable once the directory entry is on disk.
    if let Err(e) = std::fs::File::open(parent).and_then(|d| d.sync_all()) {
        tracing::warn!(dir = %parent.display(), error = %e, "fsync of blob directory failed");
    }
    Ok(())
}

#[async_trait::async_trait]
impl BlobStore for FsStore {
    async fn put(
        &self,
        key: &BlobKey,
        mut body: crate::ByteStream,
        max_size: u64,
    ) -> Result<PutOutcome, BlobError> {
        // Gathered first: most documents are small and then take one blocking call.
        let mut meter = Meter::new(max_size);
        let mut head = Vec::new();
        let mut gathered = 0usize;
        let small = loop {
            match next_chunk(&mut body).await? {
                None => break true,
                Some(chunk) => {
                    meter.update(&chunk)?;
                    gathered += chunk.len();
                    head.push(chunk);
                    if gathered > SMALL_OBJECT {
                        break false;
                    }
                }
            }
        };
        let (tmp_dir, root, dest) = (self.tmp_dir(), self.root.clone(), self.path_of(key));
        if small {
            return blocking(move || {
                use std::io::Write;
                let (mut tmp, mut file) = new_temp(&tmp_dir)?;
                for chunk in &head {
                    file.write_all(chunk)
                        .map_err(io_err("cannot write", &tmp.path))?;
                }
                file.sync_all().map_err(io_err("cannot fsync", &tmp.path))?;
                drop(file);
                publish(&root, &tmp.path, &dest)?;
                tmp.armed = false;
                Ok(meter.finish())
            })
            .await;
        }

        let (mut tmp, file) = blocking(move || new_temp(&tmp_dir)).await?;
        let mut file = tokio::fs::File::from_std(file);
        for chunk in &head {
            file.write_all(chunk)
                .await
                .map_err(io_err("cannot write", &tmp.path))?;
        }
        while let Some(chunk) = next_chunk(&mut body).await? {
            meter.update(&chunk)?;
            file.write_all(&chunk)
                .await
                .map_err(io_err("cannot write", &tmp.path))?;
        }
        file.flush()
            .await
            .map_err(io_err("cannot write", &tmp.path))?;
        file.sync_all()
            .await
            .map_err(io_err("cannot fsync", &tmp.path))?;
        drop(file);
        let path = tmp.path.clone();
        blocking(move || publish(&root, &path, &dest)).await?;
        tmp.armed = false;
        Ok(meter.finish())
    }

    async fn get(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobObject, BlobError> {
        let path = self.path_of(key);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if is_missing(&e) => return Err(BlobError::NotFound),
            Err(e) => return Err(io_err("cannot open", &path)(e)),
        };
        let meta = file
            .metadata()
            .await
            .map_err(io_err("cannot stat", &path))?;
        // Opening a directory succeeds on Unix; a directory is a key prefix, not an object.
        if !meta.is_file() {
            return Err(BlobError::NotFound);
        }
        let size = meta.len();
        let (start, len) = match range {
            Some(r) => {
                r.check_within(size)?;
                (r.start, r.len())
            }
            None => (0, size),
        };
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .await
                .map_err(io_err("cannot seek in", &path))?;
        }
        let reader = tokio::io::AsyncReadExt::take(file, len);
        Ok(BlobObject {
            size,
            body: Box::pin(ReaderStream::with_capacity(reader, READ_CHUNK)),
        })
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let path = self.path_of(key);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {
                if let Some(parent) = path.parent() {
                    self.prune_empty_dirs(parent).await;
                }
                Ok(())
            }
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(io_err("cannot delete", &path)(e)),
        }
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        let path = self.path_of(key);
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if is_missing(&e) => Ok(false),
            Err(e) => Err(io_err("cannot stat", &path)(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>, BlobError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || list_blocking(&root, &prefix))
            .await
            .map_err(|e| BlobError::backend("listing task failed", e))?
    }

    async fn check(&self) -> Result<(), BlobError> {
        let meta = tokio::fs::metadata(&self.root)
            .await
            .map_err(io_err("cannot stat blob root", &self.root))?;
        if !meta.is_dir() {
            return Err(BlobError::Backend(format!(
                "blob root {} is not a directory",
                self.root.display()
            )));
        }
        let tmp_dir = self.tmp_dir();
        tokio::fs::create_dir_all(&tmp_dir)
            .await
            .map_err(io_err("cannot create", &tmp_dir))?;
        // Writability is what uploads need; creating a file proves it where permission bits can't.
        let probe = TempFile {
            path: tmp_dir.join(format!("probe-{}", Uuid::new_v4())),
            armed: true,
        };
        tokio::fs::write(&probe.path, b"ok").await.map_err(io_err(
            "blob root is not writable, cannot create",
            &probe.path,
        ))?;
        drop(probe);
        Ok(())
    }

    fn backend_name(&self) -> &'static str {
        "filesystem"
    }
}

/// Walks the tree below `root` for keys starting with `prefix`, sorted.
fn list_blocking(root: &Path, prefix: &str) -> Result<Vec<BlobKey>, BlobError> {
    // Start at the deepest directory the prefix names completely. If that part could not be a
    // key path, no key can start with the prefix (and we must not turn it into a path).
    let start_rel = match prefix.rfind('/') {
        Some(i) => &prefix[..i],
        None => "",
    };
    if !start_rel.is_empty() && BlobKey::parse(start_rel).is_err() {
        return Ok(Vec::new());
    }

    let mut keys = Vec::new();
    let mut pending = vec![start_rel.to_owned()];
    while let Some(rel) = pending.pop() {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => continue,
            Err(e) => return Err(io_err("cannot list", &dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io_err("cannot list", &dir))?;
            // Names that cannot be key segments (the temp dir, stray files) are not objects.
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !name.bytes().all(is_key_byte) || name == "." || name == ".." {
                continue;
            }
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let file_type = entry
                .file_type()
                .map_err(io_err("cannot stat", &entry.path()))?;
            if file_type.is_dir() {
                let as_dir = format!("{child}/");
                if as_dir.starts_with(prefix) || prefix.starts_with(&as_dir) {
                    pending.push(child);
                }
            } else if file_type.is_file() && child.starts_with(prefix) {
                if let Ok(key) = BlobKey::parse(&child) {
                    keys.push(key);
                }
            }
        }
    }
    keys.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FsStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FsStore::new(dir.path().join("blobs")).expect("store");
        (dir, store)
    }

    #[tokio::test]
    async fn passes_the_backend_contract() {
        let (_dir, store) = store();
        crate::contract::run_all(&store, "contract/fs/").await;
    }

    #[tokio::test]
    async fn passes_the_backend_contract_without_prefix() {
        let (_dir, store) = store();
        crate::contract::run_all(&store, "").await;
    }

    #[tokio::test]
    async fn failed_uploads_leave_no_temp_files() {
        let (_dir, store) = store();
        crate::contract::too_large_leaves_nothing(&store, "t/").await;
        crate::contract::failing_body_leaves_nothing(&store, "t/").await;
        let leftovers: Vec<_> = std::fs::read_dir(store.tmp_dir())
            .expect("tmp dir exists")
            .collect();
        assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    }

    #[tokio::test]
    async fn delete_prunes_empty_directories_but_keeps_the_root() {
        let (_dir, store) = store();
        let key = BlobKey::parse("a/b/c/object").expect("key");
        let body: crate::ByteStream = Box::pin(futures_util::stream::iter([Ok(
            bytes::Bytes::from_static(b"x"),
        )]));
        store.put(&key, body, 10).await.expect("put");
        store.delete(&key).await.expect("delete");
        assert!(!store.root.join("a").exists());
        assert!(store.root.is_dir());
    }

    #[tokio::test]
    async fn stray_files_and_directories_are_not_listed_or_found() {
        let (_dir, store) = store();
        std::fs::create_dir_all(store.root.join("dir/sub")).expect("mkdir");
        std::fs::write(store.root.join("dir/sub/has space"), b"x").expect("write");
        std::fs::write(store.tmp_dir().join("upload"), b"x").expect("write");
        assert_eq!(store.list("").await.expect("list"), Vec::<BlobKey>::new());
        let dir_key = BlobKey::parse("dir/sub").expect("key");
        assert!(!store.exists(&dir_key).await.expect("exists"));
        assert!(matches!(
            store.get(&dir_key, None).await,
            Err(BlobError::NotFound)
        ));
        store
            .delete(&dir_key)
            .await
            .expect("deleting a directory key is a no-op");
        assert!(store.root.join("dir/sub").is_dir());
    }

    #[tokio::test]
    async fn list_prefix_that_is_not_a_path_finds_nothing() {
        let (_dir, store) = store();
        for prefix in ["../", "/", "a//", "..", "x y/"] {
            assert!(store.list(prefix).await.expect("list").is_empty());
        }
    }

    #[tokio::test]
    async fn check_fails_when_root_is_gone() {
        let (dir, store) = store();
        std::fs::remove_dir_all(dir.path().join("blobs")).expect("rm");
        std::fs::write(dir.path().join("blobs"), b"not a dir").expect("write");
        assert!(matches!(store.check().await, Err(BlobError::Backend(_))));
    }
}
