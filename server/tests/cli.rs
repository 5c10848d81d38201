//! The `guildhall` binary as a user runs it: a new data directory is all it needs.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

mod support;

use support::{BIN, Server, free_port, guildhall, wait_ready};

#[test]
fn first_run_creates_the_data_dir_and_the_admin_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let out = guildhall(&data)
        .args(["admin", "create", "--email", "Root@Example.com", "--password", "a long enough password"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.join("guildhall.db").exists());
    assert!(data.join("master.key").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("master.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "master key readable by others: {mode:o}");
    }
    // Without --password a password is generated and shown once; an existing user is promoted.
    let out = guildhall(&data).args(["admin", "create", "--email", "second@example.com"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success() && text.contains("password"), "{text}");
    let out = guildhall(&data).args(["admin", "create", "--email", "root@example.com"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("now an active instance admin"));

    let out = guildhall(&data).args(["keys", "rotate"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = guildhall(&data).arg("migrate").output().unwrap();
    assert!(out.status.success());

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        guildhall(&data)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(&base);
    let client = reqwest::blocking::Client::new();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": "root@example.com", "password": "a long enough password" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(login["user"]["is_instance_admin"], true, "{login}");
    // Both keys (the first and the rotated one) are published.
    let jwks: Value = client.get(format!("{base}/.well-known/jwks.json")).send().unwrap().json().unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
}

#[test]
fn invalid_configuration_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = guildhall(dir.path())
        .env("GUILDHALL_TOKENS__ACCESS_TTL_SECONDS", "5")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tokens.access_ttl_seconds"));

    let config = dir.path().join("guildhall.toml");
    std::fs::write(&config, "bind = \"127.0.0.1:0\"\n[passwords]\nmemory = 5\n").unwrap();
    let out = guildhall(dir.path()).arg("--config").arg(&config).arg("migrate").output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("passwords.memory"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = guildhall(dir.path()).args(["serve", "--bind", "not-an-address"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`bind`"));
}

#[test]
fn openapi_command_prints_the_committed_document() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/guildhall.json")).unwrap();
    assert_eq!(printed.trim_end(), committed.trim_end());
}
