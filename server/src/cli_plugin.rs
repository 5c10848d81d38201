//! `guildhall plugin run`: one call of a plugin component on one input, with the host and limits
//! the server's configuration gives (no disk cache), printed as JSON for a plugin author.
//!
//! Exit status: 0 with `{"world","output","duration_us","fuel_used"}` on stdout; 2 with
//! `{"error":{"code","message"}}` on stdout when the component does not load or its call fails
//! (the host's `PLUGIN_*` codes); 1 for bad usage, an unreadable file, or input that is not
//! JSON or not the world's input (the message names the field).

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use guildhall_plugin_host::{Limits, Plugin, PluginError, RoleInput, TransformInput, World};
use guildhall_server::config::Config;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

/// The exit status when the component does not load or its call fails.
pub const PLUGIN_FAILED: i32 = 2;

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Run a component once on one input, as the server would, and print the decision as JSON
    /// (exit status 2 when the plugin fails, 1 for bad usage or input).
    Run(RunArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// The component (`.wasm` built for wasm32-wasip2).
    file: PathBuf,
    /// The input JSON, inline, `@path` to read it from a file, or `-` for stdin. A role mapper
    /// takes {"org_slug","source","subject","email","groups","attributes"}, a webhook
    /// transform {"event_type","payload"}.
    #[arg(long, value_name = "JSON|@FILE|-")]
    input: String,
    /// Fuel for the call; can only lower the configured `plugins.fuel`.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Linear memory for the call, MiB; can only lower the configured `plugins.memory_mib`.
    #[arg(long, value_name = "N")]
    memory_mib: Option<u32>,
}

/// How a run ended, once its output is printed.
pub enum Outcome {
    Ran,
    PluginFailed,
}

pub fn run(config: &Config, command: PluginCommand) -> anyhow::Result<Outcome> {
    match command {
        PluginCommand::Run(args) => run_once(config, &args),
    }
}

fn run_once(config: &Config, args: &RunArgs) -> anyhow::Result<Outcome> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let input = read_input(&args.input)?;
    let limits = tightened(guildhall_server::plugins::limits(config), args);
    let host = guildhall_server::plugins::host(config, false)?;
    let plugin = match host.load(&bytes) {
        Ok(plugin) => plugin,
        Err(e) => return Ok(failed(&e)),
    };
    let world = plugin.world();
    let called = match world {
        World::RoleMapper => call(&plugin, world, input, |p, i: &RoleInput| p.map_role(i, &limits))?,
        World::WebhookTransform => {
            call(&plugin, world, input, |p, i: &TransformInput| p.transform(i, &limits))?
        }
    };
    match called {
        Ok(run) => {
            print_json(&Report {
                world: world.as_str(),
                output: run.output,
                duration_us: u64::try_from(run.duration.as_micros()).unwrap_or(u64::MAX),
                fuel_used: run.fuel_used,
            });
            Ok(Outcome::Ran)
        }
        Err(e) => Ok(failed(&e)),
    }
}

/// What a successful run prints, in this order.
#[derive(Serialize)]
struct Report {
    world: &'static str,
    output: Value,
    duration_us: u64,
    fuel_used: u64,
}

/// What the plugin returned, in its JSON form and with what it cost.
struct Called {
    output: Value,
    duration: std::time::Duration,
    fuel_used: u64,
}

/// Parses `input` as the world's input type (an `Err` names the field), then calls the plugin.
fn call<I: DeserializeOwned, O: Serialize>(
    plugin: &Plugin,
    world: World,
    input: Value,
    run: impl FnOnce(&Plugin, &I) -> Result<guildhall_plugin_host::Run<O>, PluginError>,
) -> anyhow::Result<Result<Called, PluginError>> {
    let input: I = serde_path_to_error::deserialize(input).map_err(|e| {
        let message = e.inner().to_string();
        let (field, message) = guildhall_server::json::describe_error(e.path(), &message);
        let at = if field.is_empty() { String::new() } else { format!("`{field}`: ") };
        anyhow!("the input is not a {world} input: {at}{message}")
    })?;
    Ok(run(plugin, &input).and_then(|run| {
        let output =
            serde_json::to_value(&run.output).map_err(|e| PluginError::Host(format!("output: {e}")))?;
        Ok(Called { output, duration: run.duration, fuel_used: run.fuel_used })
    }))
}

/// The `--input` text (inline, `@file` or `-` for stdin) parsed as JSON.
fn read_input(arg: &str) -> anyhow::Result<Value> {
    let text = if arg == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read the input from stdin")?
    } else if let Some(path) = arg.strip_prefix('@') {
        std::fs::read_to_string(path).with_context(|| format!("cannot read the input file {path}"))?
    } else {
        arg.to_string()
    };
    serde_json::from_str(&text).map_err(|e| anyhow!("the input is not valid JSON: {e}"))
}

/// The configured limits, lowered by `--fuel` and `--memory-mib` (never raised).
fn tightened(configured: Limits, args: &RunArgs) -> Limits {
    let mut limits = configured.clone();
    if let Some(fuel) = args.fuel {
        limits.fuel = fuel;
    }
    if let Some(mib) = args.memory_mib {
        limits.memory_bytes = usize::try_from(mib).unwrap_or(usize::MAX).saturating_mul(1 << 20);
    }
    configured.tightened(&limits)
}

fn failed(e: &PluginError) -> Outcome {
    print_json(&json!({ "error": { "code": e.code(), "message": e.to_string() } }));
    Outcome::PluginFailed
}

fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot print the result: {e}"),
    }
}
