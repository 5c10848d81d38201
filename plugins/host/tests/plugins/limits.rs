use std::time::{Duration, Instant};

use guildhall_plugin_host::{Host, HostConfig, Limits, PluginError};

use crate::support::{host, load, role_input};

fn hostile(org: &str) -> PluginError {
    match load("hostile").map_role(&role_input(org, &[]), host().limits()) {
        Ok(run) => panic!("{org}: returned {:?}", run.output),
        Err(e) => e,
    }
}

#[test]
fn a_plugin_that_loops_runs_out_of_fuel_and_the_next_call_works() {
    let error = hostile("loop");
    assert_eq!(error.code(), "PLUGIN_FUEL_EXHAUSTED", "{error}");
    assert!(error.is_plugin_fault());
    let run = load("hostile").map_role(&role_input("acme", &[]), host().limits()).unwrap();
    assert_eq!(serde_json::to_value(run.output).unwrap()["role"], "member");
}

#[test]
fn a_plugin_that_allocates_without_end_hits_the_memory_limit() {
    let error = hostile("bomb");
    assert_eq!(error.code(), "PLUGIN_MEMORY_LIMIT", "{error}");
    assert_eq!(error.to_string(), "the plugin tried to use more than 16777216 bytes of memory");
}

#[test]
fn unbounded_recursion_is_a_stack_overflow_trap() {
    let error = hostile("recurse");
    assert_eq!(error.code(), "PLUGIN_TRAPPED", "{error}");
    assert!(error.to_string().contains("stack overflow"), "{error}");
}

#[test]
fn a_panic_is_a_trap() {
    let error = hostile("trap");
    assert_eq!(error.code(), "PLUGIN_TRAPPED", "{error}");
    assert!(error.to_string().contains("panicked"), "{error}");
}

#[test]
fn oversized_or_malformed_role_decisions_are_invalid_output() {
    for (org, says) in [
        ("huge", "more than the limit of 65536"),
        ("many-teams", "1000 teams, at most 32"),
        ("bad-role", "a role must be 1 to 128 bytes, got 0"),
    ] {
        let error = hostile(org);
        assert_eq!(error.code(), "PLUGIN_INVALID_OUTPUT", "{org}: {error}");
        assert!(error.to_string().contains(says), "{org}: {error}");
    }
}

#[test]
fn an_oversized_input_is_refused_before_the_call() {
    let mut input = role_input("acme", &[]);
    input.groups = (0..5000).map(|i| format!("group-number-{i}")).collect();
    let error = load("role-mapper-example").map_role(&input, host().limits()).unwrap_err();
    assert_eq!(error.code(), "PLUGIN_INPUT_TOO_LARGE", "{error}");
    assert!(!error.is_plugin_fault());
}

#[test]
fn tighter_limits_apply_and_looser_ones_do_not() {
    let plugin = load("role-mapper-example");
    let input = role_input("acme", &["eng-admins"]);
    let tight = Limits { fuel: 1000, ..host().limits().clone() };
    let error = plugin.map_role(&input, &tight).unwrap_err();
    assert_eq!(error, PluginError::FuelExhausted { budget: 1000 });
    let loose = Limits { fuel: u64::MAX, ..host().limits().clone() };
    assert_eq!(
        load("hostile").map_role(&role_input("loop", &[]), &loose).unwrap_err(),
        PluginError::FuelExhausted { budget: host().limits().fuel }
    );
    let little_memory = Limits { memory_bytes: 64 << 10, ..host().limits().clone() };
    assert_eq!(plugin.map_role(&input, &little_memory).unwrap_err().code(), "PLUGIN_MEMORY_LIMIT");
}

#[test]
fn the_wall_clock_timeout_stops_a_plugin_with_fuel_to_spare() {
    let limits = Limits { fuel: u64::MAX, timeout: Duration::from_millis(100), ..Limits::default() };
    let host = Host::new(HostConfig { limits, ..HostConfig::default() }).unwrap();
    let plugin = host.load(&crate::support::bytes("hostile")).unwrap();
    let start = Instant::now();
    let error = plugin.map_role(&role_input("loop", &[]), host.limits()).unwrap_err();
    assert_eq!(error.code(), "PLUGIN_TIMEOUT", "{error}");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
}

#[test]
fn limits_tighten_field_by_field() {
    let a = Limits { fuel: 5, memory_bytes: 100, ..Limits::default() };
    let b = Limits { fuel: 10, memory_bytes: 50, timeout: Duration::from_millis(5), ..Limits::default() };
    assert_eq!(
        a.tightened(&b),
        Limits { fuel: 5, memory_bytes: 50, timeout: Duration::from_millis(5), ..Limits::default() }
    );
}

#[test]
fn wasi_shows_a_plugin_nothing() {
    let run = load("hostile").map_role(&role_input("peek", &[]), host().limits()).unwrap();
    // Clock at the epoch, no environment, no arguments, no files, no network.
    assert_eq!(serde_json::to_value(run.output).unwrap()["role"], "t0-e0-a0-f0-n0");
}
