//! Numbers for the README, not assertions: `cargo test -p guildhall-plugin-host --release
//! --test plugins measure -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use guildhall_plugin_host::{Host, HostConfig, Limits, TransformInput};

use crate::support::{bytes, role_input};

const CALLS: usize = 10_000;

#[test]
#[ignore = "prints measurements; run by hand"]
fn measure() {
    let limits = Limits::default();
    let transform_input = TransformInput {
        event_type: "member.role_changed".into(),
        payload: serde_json::json!({ "id": "evt_1", "org": "acme", "data": { "email": "ada@acme.test", "role": "admin" } }),
    };
    let groups = ["engineering-web", "sales-emea", "platform-admins", "everyone"];
    for name in ["role-mapper-example", "slack-transform"] {
        let bytes = bytes(name);
        // A new host per example, so the compile is cold (no cache hit).
        let host = Host::new(HostConfig::default()).unwrap();
        let start = Instant::now();
        let plugin = host.load(&bytes).unwrap();
        let compile = start.elapsed();
        let mut times = Vec::with_capacity(CALLS);
        let mut fuel = 0;
        for _ in 0..CALLS {
            let (duration, fuel_used) = match plugin.world() {
                guildhall_plugin_host::World::RoleMapper => {
                    let run = plugin.map_role(&role_input("acme", &groups), &limits).unwrap();
                    (run.duration, run.fuel_used)
                }
                guildhall_plugin_host::World::WebhookTransform => {
                    let run = plugin.transform(&transform_input, &limits).unwrap();
                    (run.duration, run.fuel_used)
                }
            };
            times.push(duration);
            fuel = fuel_used;
        }
        times.sort();
        let pct = |p: usize| times.get(CALLS * p / 100).copied().unwrap_or(Duration::ZERO);
        println!(
            "{name}: {} bytes, cold compile {compile:?}, {CALLS} calls p50 {:?} p99 {:?}, fuel per call {fuel}",
            bytes.len(),
            pct(50),
            pct(99),
        );
    }
}
