//! `guildhall plugin run` as a plugin author runs it: the example plugins' decisions as JSON,
//! a runaway plugin stopped by the server's fuel limit (exit 2), and bad input (exit 1).

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Output, Stdio},
};

use guildhall_plugin_host::testing::example;
use serde_json::{Value, json};

// The other helpers serve the tests that start a server.
#[allow(dead_code)]
mod support;

use support::guildhall;

/// `guildhall plugin run <plugin> --input <input> <extra>`, with `stdin` fed to the process.
fn plugin_run(data: &Path, plugin: &Path, input: &str, extra: &[&str], stdin: &str) -> Output {
    let mut child = guildhall(data)
        .args(["plugin", "run"])
        .arg(plugin)
        .args(["--input", input])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}): {}\nstderr: {}", text(&out.stdout), text(&out.stderr))
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn plugin(name: &str) -> PathBuf {
    example(name).unwrap()
}

#[test]
fn role_mapper_example_maps_admin_and_engineering_groups() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.json");
    let body = json!({
        "org_slug": "acme", "source": "oidc", "subject": "00u1", "email": "ada@acme.test",
        "groups": ["acme-admins", "engineering-core"], "attributes": { "dept": "eng" }
    });
    std::fs::write(&input, body.to_string()).unwrap();
    let at_file = format!("@{}", input.display());
    let out = plugin_run(dir.path(), &plugin("role-mapper-example"), &at_file, &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let run = stdout_json(&out);
    assert_eq!(run["world"], "role-mapper");
    assert_eq!(run["output"], json!({ "decision": "assign", "role": "admin", "teams": ["engineering"] }));
    assert!(run["fuel_used"].as_u64().is_some_and(|fuel| fuel > 0), "{run}");
    assert!(run["duration_us"].as_u64().is_some(), "{run}");
}

#[test]
fn slack_transform_reads_its_input_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let slack = plugin("slack-transform");
    let event =
        json!({ "event_type": "member.created", "payload": { "id": "m1", "email": "ada@acme.test" } });
    let out = plugin_run(dir.path(), &slack, "-", &[], &event.to_string());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let run = stdout_json(&out);
    assert_eq!(run["world"], "webhook-transform");
    assert_eq!(run["output"]["action"], "replace", "{run}");
    assert_eq!(run["output"]["headers"], json!({ "X-Guildhall-Transform": "slack" }));
    assert!(run["output"]["payload"]["text"].as_str().is_some_and(|t| t.contains("member.created")), "{run}");

    let session = json!({ "event_type": "session.created", "payload": {} }).to_string();
    let out = plugin_run(dir.path(), &slack, &session, &[], "");
    assert_eq!(stdout_json(&out)["output"], json!({ "action": "drop" }));
}

#[test]
fn runaway_plugin_stops_at_the_fuel_limit_with_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let input = json!({ "org_slug": "loop", "source": "scim", "email": "a@b.test" }).to_string();
    let hostile = plugin("hostile");
    for (case, extra) in [("server's fuel", &[][..]), ("--fuel", &["--fuel", "100000"][..])] {
        let out = plugin_run(dir.path(), &hostile, &input, extra, "");
        assert_eq!(out.status.code(), Some(2), "{case}: {}", text(&out.stderr));
        let error = &stdout_json(&out)["error"];
        assert_eq!(error["code"], "PLUGIN_FUEL_EXHAUSTED", "{case}: {error}");
        assert!(error["message"].as_str().is_some_and(|m| m.contains("fuel")), "{case}: {error}");
    }
    // Bytes that do not load are the plugin's failure too, with the host's code.
    let not_a_component = dir.path().join("not.wasm");
    std::fs::write(&not_a_component, b"hello").unwrap();
    let out = plugin_run(dir.path(), &not_a_component, &input, &[], "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout_json(&out)["error"]["code"], "PLUGIN_INVALID");
}

#[test]
fn bad_input_exits_1_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let mapper = plugin("role-mapper-example");
    let missing = dir.path().join("missing.json");
    let missing = format!("@{}", missing.display());
    let role = |field: &str, value: Value| {
        let mut input = json!({ "org_slug": "acme", "source": "oidc", "email": "a@acme.test" });
        input[field] = value;
        input.to_string()
    };
    for (case, plugin, input, expected) in [
        ("malformed JSON", &mapper, r#"{"org_slug": "acme","#.to_string(), "not valid JSON"),
        ("unknown source", &mapper, role("source", json!("ldap")), "`source`"),
        ("groups not a list", &mapper, role("groups", json!("admins")), "`groups`"),
        ("missing field", &mapper, json!({ "org_slug": "acme", "source": "oidc" }).to_string(), "`email`"),
        ("transform input", &mapper, json!({ "event_type": "x", "payload": {} }).to_string(), "role-mapper"),
        ("missing input file", &mapper, missing, "missing.json"),
        ("missing plugin", &dir.path().join("absent.wasm"), "{}".to_string(), "absent.wasm"),
    ] {
        let out = plugin_run(dir.path(), plugin, &input, &[], "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case}: {stderr}");
        assert!(stderr.contains(expected), "{case}: {expected:?} not in {stderr}");
        assert!(out.stdout.is_empty(), "{case}: {}", text(&out.stdout));
    }
    let out = guildhall(dir.path()).args(["plugin", "run"]).arg(&mapper).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--input"), "{}", text(&out.stderr));
}
