//! The host: one engine, the epoch ticker, the linker and the caches of compiled components.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use crate::bindings::{role_mapper, webhook_transform};
use crate::cache::{DiskCache, is_sha256_hex};
use crate::plugin::{Plugin, Typed};
use crate::store::State;
use crate::{HostConfig, Limits, PluginError, World, sha256_hex};

/// How often the ticker advances the engine's epoch: the granularity of [`Limits::timeout`].
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Compiled components kept in memory, least recently used evicted first.
const MEMORY_CACHE_ENTRIES: usize = 64;

const MAP_ROLE_SIGNATURE: &str = "map-role: func(input: role-input) -> role-decision";
const TRANSFORM_SIGNATURE: &str = "transform: func(input: transform-input) -> transform-output";

/// Loads and caches plugins. Cheap to clone (an `Arc` inside); `Send + Sync`.
#[derive(Clone)]
pub struct Host(Arc<Inner>);

struct Inner {
    engine: Engine,
    linker: Linker<State>,
    config: HostConfig,
    memory: Mutex<MemoryCache>,
    disk: Option<DiskCache>,
    ticker: Arc<Ticker>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("limits", &self.0.config.limits)
            .field("cache_dir", &self.0.config.cache_dir)
            .finish_non_exhaustive()
    }
}

impl Host {
    /// Builds the engine (fuel, epoch interruption, `max_stack_bytes`), starts the epoch
    /// ticker thread (it stops when the last `Host` and `Plugin` are dropped) and creates
    /// `cache_dir` if it is set.
    pub fn new(config: HostConfig) -> Result<Host, PluginError> {
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(config.max_stack_bytes);
        let engine = Engine::new(&wasm).map_err(|e| PluginError::Host(format!("engine: {e}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| PluginError::Host(format!("WASI linker: {e}")))?;
        let disk = match &config.cache_dir {
            Some(dir) => Some(
                DiskCache::new(dir.clone(), &engine)
                    .map_err(|e| PluginError::Host(format!("cache directory {}: {e}", dir.display())))?,
            ),
            None => None,
        };
        let ticker = Arc::new(Ticker::start(engine.clone())?);
        Ok(Host(Arc::new(Inner {
            engine,
            linker,
            config,
            memory: Mutex::new(MemoryCache::default()),
            disk,
            ticker,
        })))
    }

    /// The ceiling for every call (a call's limits are tightened by these).
    pub fn limits(&self) -> &Limits {
        &self.0.config.limits
    }

    /// Validates and compiles a component, or takes it from the memory or disk cache.
    ///
    /// Fails with [`PluginError::TooLarge`] above `max_component_bytes`, and with
    /// [`PluginError::Invalid`] when the bytes are not WebAssembly, are a core module instead
    /// of a component, do not compile, export neither `map-role` nor `transform` with the
    /// world's signature, or import anything but WASI 0.2.
    pub fn load(&self, bytes: &[u8]) -> Result<Plugin, PluginError> {
        let limit = self.0.config.max_component_bytes;
        if bytes.len() > limit {
            return Err(PluginError::TooLarge { size: bytes.len(), limit });
        }
        let sha256 = sha256_hex(bytes);
        if let Some(plugin) = self.in_memory(&sha256) {
            return Ok(plugin);
        }
        check_header(bytes)?;
        if let Some(plugin) = self.on_disk(&sha256) {
            return Ok(plugin);
        }
        let component = Component::from_binary(&self.0.engine, bytes)
            .map_err(|e| PluginError::Invalid(format!("it does not compile: {}", chain(&e))))?;
        let plugin = self.prepare(component, sha256, bytes.len())?;
        if let Some(disk) = &self.0.disk
            && let Err(e) = disk.put(plugin.sha256(), plugin.size(), plugin.component())
        {
            tracing::warn!(sha256 = plugin.sha256(), error = %e, "could not write the plugin to the disk cache");
        }
        self.remember(&plugin);
        Ok(plugin)
    }

    /// A plugin loaded before, by the SHA-256 of its bytes: from memory, else from the disk
    /// cache (which survives restarts). `None` when neither has it.
    pub fn cached(&self, sha256_hex: &str) -> Option<Plugin> {
        self.in_memory(sha256_hex).or_else(|| self.on_disk(sha256_hex))
    }

    fn in_memory(&self, sha256: &str) -> Option<Plugin> {
        self.0.memory.lock().ok()?.get(sha256)
    }

    fn on_disk(&self, sha256: &str) -> Option<Plugin> {
        let (component, size) = self.0.disk.as_ref()?.get(&self.0.engine, sha256)?;
        let plugin = self.prepare(component, sha256.to_string(), size).ok()?;
        self.remember(&plugin);
        Some(plugin)
    }

    fn remember(&self, plugin: &Plugin) {
        if let Ok(mut memory) = self.0.memory.lock() {
            memory.insert(plugin.clone());
        }
    }

    /// Finds the world from the component's exports, checks its imports and signature, and
    /// pre-links it so that each call only instantiates.
    fn prepare(&self, component: Component, sha256: String, size: usize) -> Result<Plugin, PluginError> {
        let engine = &self.0.engine;
        let ty = component.component_type();
        let exports: Vec<String> = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
        let exports_name = |name: &str| exports.iter().any(|e| e == name);
        let world = match (exports_name("map-role"), exports_name("transform")) {
            (true, false) => World::RoleMapper,
            (false, true) => World::WebhookTransform,
            (true, true) => {
                return Err(PluginError::Invalid(
                    "it exports both `map-role` and `transform`; a plugin implements one world".into(),
                ));
            }
            (false, false) => {
                let found = if exports.is_empty() { "nothing".to_string() } else { quoted(&exports) };
                return Err(PluginError::Invalid(format!(
                    "expected export `{MAP_ROLE_SIGNATURE}` (world role-mapper) or \
                     `{TRANSFORM_SIGNATURE}` (world webhook-transform), but it exports {found}"
                )));
            }
        };
        if let Some((name, _)) = ty.imports(engine).find(|(name, _)| !name.starts_with("wasi:")) {
            return Err(PluginError::Invalid(format!(
                "it imports `{name}`, but plugins may import only WASI 0.2 interfaces"
            )));
        }
        let pre =
            self.0.linker.instantiate_pre(&component).map_err(|e| {
                PluginError::Invalid(format!("its imports cannot be satisfied: {}", chain(&e)))
            })?;
        let mismatch = |signature: &str, e: wasmtime::Error| {
            PluginError::Invalid(format!("expected export `{signature}` of world {world}: {}", chain(&e)))
        };
        let typed = match world {
            World::RoleMapper => Typed::RoleMapper(
                role_mapper::RoleMapperPre::new(pre).map_err(|e| mismatch(MAP_ROLE_SIGNATURE, e))?,
            ),
            World::WebhookTransform => Typed::WebhookTransform(
                webhook_transform::WebhookTransformPre::new(pre)
                    .map_err(|e| mismatch(TRANSFORM_SIGNATURE, e))?,
            ),
        };
        Ok(Plugin::new(
            sha256,
            size,
            component,
            typed,
            self.0.engine.clone(),
            self.0.config.limits.clone(),
            self.0.ticker.clone(),
        ))
    }
}

/// Tells a non-WebAssembly file and a core module from a component before compiling.
fn check_header(bytes: &[u8]) -> Result<(), PluginError> {
    match (bytes.get(..4), bytes.get(4..8)) {
        (Some(b"\0asm"), Some([0x0d, 0x00, 0x01, 0x00])) => Ok(()),
        (Some(b"\0asm"), Some([0x01, 0x00, 0x00, 0x00])) => Err(PluginError::Invalid(
            "it is a core WebAssembly module, not a component; build it with \
             `cargo build --target wasm32-wasip2` (or wrap it with `wasm-tools component new`)"
                .into(),
        )),
        (Some(b"\0asm"), _) => {
            Err(PluginError::Invalid("it is WebAssembly of an unsupported version, not a component".into()))
        }
        _ => Err(PluginError::Invalid("it is not a WebAssembly binary (no `\\0asm` header)".into())),
    }
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// An error and its causes on one line.
pub(crate) fn chain(e: &wasmtime::Error) -> String {
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

/// Least-recently-used cache of prepared plugins by SHA-256.
#[derive(Default)]
struct MemoryCache {
    entries: HashMap<String, (Plugin, u64)>,
    clock: u64,
}

impl MemoryCache {
    fn get(&mut self, sha256: &str) -> Option<Plugin> {
        if !is_sha256_hex(sha256) {
            return None;
        }
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(sha256).map(|(plugin, used)| {
            *used = clock;
            plugin.clone()
        })
    }

    fn insert(&mut self, plugin: Plugin) {
        self.clock += 1;
        if self.entries.len() >= MEMORY_CACHE_ENTRIES
            && !self.entries.contains_key(plugin.sha256())
            && let Some(oldest) =
                self.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.entries.insert(plugin.sha256().to_string(), (plugin, self.clock));
    }
}

/// A thread that advances the engine's epoch every [`EPOCH_TICK`]; it ends when this is dropped.
pub(crate) struct Ticker {
    _stop: Mutex<mpsc::Sender<()>>,
}

impl Ticker {
    fn start(engine: Engine) -> Result<Ticker, PluginError> {
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| PluginError::Host(format!("epoch ticker thread: {e}")))?;
        Ok(Ticker { _stop: Mutex::new(stop) })
    }
}
