//! A loaded plugin and its calls: a fresh store per call under the effective limits, and the
//! classification of failures into [`PluginError`] codes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::Component;
use wasmtime::{Engine, Store, Trap};

use crate::bindings::{role_mapper as rm, webhook_transform as wt};
use crate::host::{EPOCH_TICK, Ticker, chain};
use crate::store::State;
use crate::{Limits, PluginError, RoleDecision, RoleInput, TransformInput, TransformOutput, World};

/// The result of a successful call and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Run<T> {
    /// What the plugin decided, validated.
    pub output: T,
    /// Fuel spent on instantiation and the call (deterministic for a given input).
    pub fuel_used: u64,
    /// Wall-clock time of instantiation and the call.
    pub duration: Duration,
}

/// A compiled, validated component of a known world. Cheap to clone; `Send + Sync`; calls
/// may run on many threads at once, each in its own instance.
#[derive(Clone)]
pub struct Plugin(Arc<Inner>);

struct Inner {
    sha256: String,
    size: usize,
    component: Component,
    typed: Typed,
    engine: Engine,
    ceiling: Limits,
    _ticker: Arc<Ticker>,
}

pub(crate) enum Typed {
    RoleMapper(rm::RoleMapperPre<State>),
    WebhookTransform(wt::WebhookTransformPre<State>),
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("sha256", &self.sha256())
            .field("world", &self.world())
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

impl Plugin {
    pub(crate) fn new(
        sha256: String,
        size: usize,
        component: Component,
        typed: Typed,
        engine: Engine,
        ceiling: Limits,
        ticker: Arc<Ticker>,
    ) -> Plugin {
        Plugin(Arc::new(Inner { sha256, size, component, typed, engine, ceiling, _ticker: ticker }))
    }

    /// Lowercase hex SHA-256 of the component's bytes.
    pub fn sha256(&self) -> &str {
        &self.0.sha256
    }

    /// The world the component implements.
    pub fn world(&self) -> World {
        match self.0.typed {
            Typed::RoleMapper(_) => World::RoleMapper,
            Typed::WebhookTransform(_) => World::WebhookTransform,
        }
    }

    /// Size of the component's bytes.
    pub fn size(&self) -> usize {
        self.0.size
    }

    pub(crate) fn component(&self) -> &Component {
        &self.0.component
    }

    /// Runs a role mapper once. `limits` are tightened by the host's (they can only be
    /// stricter); pass `host.limits()` for the defaults.
    pub fn map_role(&self, input: &RoleInput, limits: &Limits) -> Result<Run<RoleDecision>, PluginError> {
        let Typed::RoleMapper(pre) = &self.0.typed else {
            return Err(PluginError::WrongWorld { expected: World::RoleMapper, actual: self.world() });
        };
        let limits = self.0.ceiling.tightened(limits);
        check_input_size(input, &limits)?;
        let arg = rm::RoleInput::from(input);
        self.run(
            &limits,
            |store| pre.instantiate(&mut *store)?.call_map_role(&mut *store, &arg),
            |out| RoleDecision::from_guest(out, limits.max_output_bytes),
        )
    }

    /// Runs a webhook transform once; `limits` as for [`Plugin::map_role`].
    pub fn transform(
        &self,
        input: &TransformInput,
        limits: &Limits,
    ) -> Result<Run<TransformOutput>, PluginError> {
        let Typed::WebhookTransform(pre) = &self.0.typed else {
            return Err(PluginError::WrongWorld { expected: World::WebhookTransform, actual: self.world() });
        };
        let limits = self.0.ceiling.tightened(limits);
        check_input_size(input, &limits)?;
        let payload =
            serde_json::to_string(&input.payload).map_err(|e| PluginError::Host(format!("payload: {e}")))?;
        let arg = wt::TransformInput { event_type: input.event_type.clone(), payload };
        self.run(
            &limits,
            |store| pre.instantiate(&mut *store)?.call_transform(&mut *store, &arg),
            |out| TransformOutput::from_guest(out, limits.max_output_bytes),
        )
    }

    /// Instantiates and calls in a fresh store, then converts or classifies the outcome.
    fn run<O, T>(
        &self,
        limits: &Limits,
        call: impl FnOnce(&mut Store<State>) -> wasmtime::Result<O>,
        convert: impl FnOnce(O) -> Result<T, PluginError>,
    ) -> Result<Run<T>, PluginError> {
        let start = Instant::now();
        let mut store = Store::new(&self.0.engine, State::new(limits.memory_bytes));
        store.limiter(|state| &mut state.limiter);
        store.set_fuel(limits.fuel).map_err(|e| PluginError::Host(format!("fuel: {e}")))?;
        store.set_epoch_deadline(epoch_ticks(limits.timeout));
        store.epoch_deadline_trap();
        let result = call(&mut store);
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let duration = start.elapsed();
        match result {
            Ok(out) => Ok(Run { output: convert(out)?, fuel_used, duration }),
            Err(e) => Err(classify(&e, store.data(), limits)),
        }
    }
}

/// Ticks until the deadline: rounded up, plus one because the current tick is partly gone.
fn epoch_ticks(timeout: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos().max(1);
    u64::try_from(timeout.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX).saturating_add(1)
}

fn check_input_size(input: &impl serde::Serialize, limits: &Limits) -> Result<(), PluginError> {
    let size = serde_json::to_vec(input).map_err(|e| PluginError::Host(format!("input: {e}")))?.len();
    if size > limits.max_input_bytes {
        return Err(PluginError::InputTooLarge { size, limit: limits.max_input_bytes });
    }
    Ok(())
}

fn classify(e: &wasmtime::Error, state: &State, limits: &Limits) -> PluginError {
    if state.limiter.memory_refused {
        return PluginError::MemoryLimit { limit: limits.memory_bytes };
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => PluginError::FuelExhausted { budget: limits.fuel },
        Some(Trap::Interrupt) => PluginError::Timeout(limits.timeout),
        Some(Trap::StackOverflow) => {
            PluginError::Trapped("stack overflow (the plugin recursed past the host's stack limit)".into())
        }
        Some(Trap::UnreachableCodeReached) => {
            PluginError::Trapped("`unreachable` executed (a Rust plugin panicked or aborted)".into())
        }
        Some(trap) => PluginError::Trapped(trap.to_string()),
        None => PluginError::Trapped(chain(e)),
    }
}
