//! The per-call store: a WASI context that grants nothing and a resource limiter that
//! remembers when it refused memory, so that failure is reported as such.

use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

/// Core instances a component may create. A Rust guest needs 3 to 5 (its module plus the
/// adapter shims wit-component adds).
const MAX_INSTANCES: usize = 16;
/// Tables and memories a component may create.
const MAX_TABLES: usize = 8;
const MAX_MEMORIES: usize = 2;
/// Elements a table may grow to.
const MAX_TABLE_ELEMENTS: usize = 10_000;
/// Largest `get-random-bytes` request, so a guest cannot make the host allocate much.
const MAX_RANDOM_BYTES: u64 = 4096;

pub(crate) struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
}

impl State {
    pub(crate) fn new(memory_bytes: usize) -> State {
        State { wasi: deny_all_wasi(), table: ResourceTable::new(), limiter: Limiter::new(memory_bytes) }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// No preopens, environment, arguments or network; stdin closed and stdout/stderr discarded
/// (the builder's defaults, restated by not touching them); clocks stuck at zero; randomness
/// a fixed byte cycle. The plugin is then a deterministic function of its input.
fn deny_all_wasi() -> WasiCtx {
    WasiCtx::builder()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }))
        .wall_clock(ZeroClock)
        .monotonic_clock(ZeroClock)
        .secure_random(wasmtime_wasi::Deterministic::new(vec![0x5a, 0xa5, 0x3c, 0xc3]))
        .insecure_random(wasmtime_wasi::Deterministic::new(vec![0x17, 0x71]))
        .insecure_random_seed(0)
        .max_random_size(MAX_RANDOM_BYTES)
        .build()
}

/// A wall and monotonic clock that always reads zero.
struct ZeroClock;

impl HostWallClock for ZeroClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for ZeroClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// wasmtime's `StoreLimits` for counts and tables, plus a memory budget summed over all of
/// the instance's memories, and a flag recording that memory was refused.
pub(crate) struct Limiter {
    inner: StoreLimits,
    memory_limit: usize,
    memory_used: usize,
    pub(crate) memory_refused: bool,
}

impl Limiter {
    fn new(memory_limit: usize) -> Limiter {
        let inner = StoreLimitsBuilder::new()
            .instances(MAX_INSTANCES)
            .tables(MAX_TABLES)
            .memories(MAX_MEMORIES)
            .table_elements(MAX_TABLE_ELEMENTS)
            .trap_on_grow_failure(true)
            .build();
        Limiter { inner, memory_limit, memory_used: 0, memory_refused: false }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let used = self.memory_used.saturating_add(desired.saturating_sub(current));
        if used > self.memory_limit {
            self.memory_refused = true;
            // A trap rather than `memory.grow` returning -1: the guest's allocator would only
            // abort, and this way the error says what happened.
            return Err(wasmtime::format_err!("memory limit of {} bytes reached", self.memory_limit));
        }
        self.memory_used = used;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, max)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}
