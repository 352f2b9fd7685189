//! A job's bytes while it is processed. A large body bound for SES waits on
//! disk, in an unnamed temporary file, while its email is built and sent:
//! the worker then holds one form of the attachments at a time (the decoded
//! bytes, then the MIME, then the SES request) instead of the job's base64
//! beside each of them. The bytes come back from disk only to republish the
//! job (a retry or a dead letter), and the file vanishes with the job, or
//! with the process.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

/// One delivery's body.
pub struct JobBody {
    len: usize,
    state: Mutex<State>,
}

enum State {
    Memory(Arc<Vec<u8>>),
    Spooled(Arc<std::fs::File>),
}

/// Where and from what size bodies are set aside on disk.
#[derive(Debug, Clone)]
pub struct Spool {
    /// Bodies of at least this many bytes are set aside; 0 never.
    pub above: usize,
    pub dir: PathBuf,
}

impl JobBody {
    pub fn new(bytes: Vec<u8>) -> JobBody {
        JobBody {
            len: bytes.len(),
            state: Mutex::new(State::Memory(Arc::new(bytes))),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the body waits on disk.
    pub fn is_spooled(&self) -> bool {
        matches!(*self.lock(), State::Spooled(_))
    }

    /// The bytes: shared when in memory, read back when on disk (then the
    /// caller's copy is the only one, freed when it drops it).
    pub async fn bytes(&self) -> std::io::Result<Arc<Vec<u8>>> {
        let file = match &*self.lock() {
            State::Memory(bytes) => return Ok(bytes.clone()),
            State::Spooled(file) => file.clone(),
        };
        let len = self.len;
        // Positional reads: no shared file offset between readers.
        let read = tokio::task::spawn_blocking(move || {
            let mut bytes = vec![0; len];
            file.read_exact_at(&mut bytes, 0)?;
            Ok::<_, std::io::Error>(bytes)
        });
        Ok(Arc::new(read.await.map_err(std::io::Error::other)??))
    }

    /// Sets the body aside on disk if it is at least `spool.above` bytes and
    /// no one else holds its bytes. On any error it stays in memory: the job
    /// is processed all the same, with more memory.
    pub async fn set_aside(&self, spool: &Spool) {
        if spool.above == 0 || self.len < spool.above {
            return;
        }
        let bytes = match &*self.lock() {
            State::Memory(bytes) if Arc::strong_count(bytes) == 1 => bytes.clone(),
            _ => return,
        };
        let dir = spool.dir.clone();
        let written = tokio::task::spawn_blocking(move || {
            let mut file = tempfile::tempfile_in(&dir)?;
            file.write_all(&bytes)?;
            Ok::<_, std::io::Error>(file)
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|written| written);
        match written {
            Ok(file) => *self.lock() = State::Spooled(Arc::new(file)),
            Err(e) => {
                tracing::warn!(error = %e, dir = %spool.dir.display(), "cannot set a large job aside on disk; keeping it in memory");
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool(above: usize) -> Spool {
        Spool {
            above,
            dir: std::env::temp_dir(),
        }
    }

    #[tokio::test]
    async fn a_large_body_waits_on_disk_and_comes_back_whole() {
        let original: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let body = JobBody::new(original.clone());
        body.set_aside(&spool(1000)).await;
        assert!(body.is_spooled());
        assert_eq!(*body.bytes().await.unwrap(), original);
        assert_eq!(*body.bytes().await.unwrap(), original, "read twice");
        assert_eq!(body.len(), original.len());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn readers_of_a_body_on_disk_do_not_disturb_each_other() {
        let original: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let body = JobBody::new(original.clone());
        body.set_aside(&spool(1000)).await;
        for _ in 0..20 {
            let (a, b) = tokio::join!(body.bytes(), body.bytes());
            assert!(*a.unwrap() == original && *b.unwrap() == original);
        }
    }

    #[tokio::test]
    async fn small_or_shared_bodies_stay_in_memory() {
        let body = JobBody::new(vec![1; 10]);
        body.set_aside(&spool(1000)).await;
        assert!(!body.is_spooled());
        let body = JobBody::new(vec![1; 10_000]);
        body.set_aside(&spool(0)).await;
        assert!(!body.is_spooled(), "0 never spools");
        let held = body.bytes().await.unwrap();
        body.set_aside(&spool(1000)).await;
        assert!(!body.is_spooled(), "someone still reads it");
        drop(held);
        body.set_aside(&spool(1000)).await;
        assert!(body.is_spooled());
    }

    #[tokio::test]
    async fn an_unwritable_directory_keeps_the_body_in_memory() {
        let body = JobBody::new(vec![9; 5000]);
        let missing = Spool {
            above: 1,
            dir: std::env::temp_dir().join("herald-no-such-dir/below"),
        };
        body.set_aside(&missing).await;
        assert!(!body.is_spooled());
        assert_eq!(*body.bytes().await.unwrap(), vec![9; 5000]);
    }
}
