//! Running the `guildhall` binary in tests: a command with a clean environment, a guard that
//! kills the process, a free loopback port, and readiness polling.

use std::{
    net::TcpListener,
    process::{Child, Command},
    time::{Duration, Instant},
};

pub const BIN: &str = env!("CARGO_BIN_EXE_guildhall");

/// `guildhall --data-dir <data>` with no `GUILDHALL_*` variable of the caller's, cheap hashes
/// and quiet logs.
pub fn guildhall(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(data);
    for (key, _) in std::env::vars() {
        if key.starts_with("GUILDHALL_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("GUILDHALL_LOG", "warn")
        .env("GUILDHALL_PASSWORDS__MEMORY_KIB", "256")
        .env("GUILDHALL_PASSWORDS__ITERATIONS", "1");
    cmd
}

/// A running server process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::blocking::get(format!("{base}/readyz")).is_ok_and(|r| r.status() == 200) {
            return;
        }
        std::thread::park_timeout(Duration::from_millis(50));
    }
    panic!("the server did not become ready at {base}");
}
