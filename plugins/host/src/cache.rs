//! The disk cache of compiled components: `<cache_dir>/<sha256>-<engine hash>.cwasm`.
//!
//! A file is `MAGIC`, the component's original size (u64 LE), the SHA-256 of the compiled
//! artifact, then the artifact from `Component::serialize`. Files are written to a temporary
//! name and renamed, so a reader never sees half a file; the checksum catches anything that
//! changed the file afterwards, before wasmtime is asked to trust it.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"GHPLUG1\n";
const HEADER: usize = 8 + 8 + 32;

pub(crate) struct DiskCache {
    dir: PathBuf,
    engine_hash: String,
}

impl DiskCache {
    pub(crate) fn new(dir: PathBuf, engine: &Engine) -> std::io::Result<DiskCache> {
        fs::create_dir_all(&dir)?;
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let digest = hasher.0.finalize();
        let engine_hash = crate::hex(digest.get(..8).unwrap_or_default());
        Ok(DiskCache { dir, engine_hash })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_hash))
    }

    /// The compiled component and its original size, or `None` when absent or unusable.
    #[allow(unsafe_code)] // the crate's only `unsafe`; see SAFETY below
    pub(crate) fn get(&self, engine: &Engine, sha256: &str) -> Option<(Component, usize)> {
        if !is_sha256_hex(sha256) {
            return None;
        }
        let bytes = fs::read(self.path(sha256)).ok()?;
        let (header, artifact) = bytes.split_at_checked(HEADER)?;
        let (magic, rest) = header.split_at(8);
        let (size, checksum) = rest.split_at(8);
        if magic != MAGIC || Sha256::digest(artifact).as_slice() != checksum {
            return None;
        }
        let size = usize::try_from(u64::from_le_bytes(size.try_into().ok()?)).ok()?;
        // SAFETY: `Component::deserialize` runs the machine code in `artifact`, so it must come
        // from `Component::serialize` of a compatible engine. This file is written only by
        // `put` below into the server's own data directory; its name binds it to the component's
        // hash and this engine's compatibility hash; the checksum just verified shows it is
        // byte for byte what `put` wrote; and wasmtime itself rejects an incompatible engine.
        // (`deserialize` of the bytes just checked, not `deserialize_file`, so the file cannot
        // change between the check and the use.)
        unsafe { Component::deserialize(engine, artifact) }.ok().map(|c| (c, size))
    }

    /// Stores a compiled component; failures only cost a recompilation later.
    pub(crate) fn put(&self, sha256: &str, size: usize, component: &Component) -> std::io::Result<()> {
        let artifact = component.serialize().map_err(|e| std::io::Error::other(e.to_string()))?;
        let path = self.path(sha256);
        // Unique per writer: two threads may compile and store the same component at once.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let n = WRITES.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(".{sha256}.{}.{n}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(MAGIC)?;
            file.write_all(&(size as u64).to_le_bytes())?;
            file.write_all(&Sha256::digest(&artifact))?;
            file.write_all(&artifact)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
    }
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Feeds `Hash` into SHA-256, for a cache key that stays stable across builds of the server.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}
