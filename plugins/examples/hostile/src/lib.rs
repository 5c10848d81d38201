//! TEST FIXTURE, not an example. A role mapper that misbehaves on request so the host's
//! limits can be tested. The behaviour is chosen by `org-slug`:
//! `loop` spins forever, `bomb` allocates until memory runs out, `recurse` recurses without
//! end, `trap` panics, `huge` returns a role larger than 64 KiB, `many-teams` returns 1000
//! teams, `bad-role` returns an empty role, `peek` reports what WASI lets it see as its role
//! (`t<unix secs>-e<env vars>-a<args>-f<root readable 0/1>-n<loopback connect 0/1>`); anything
//! else assigns `member`.

wit_bindgen::generate!({ world: "role-mapper", path: "../../wit" });

struct Hostile;

impl Guest for Hostile {
    fn map_role(input: RoleInput) -> RoleDecision {
        let assign =
            |role: String, teams: Vec<String>| RoleDecision::Assign(Assignment { role: Some(role), teams });
        match input.org_slug.as_str() {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "bomb" => {
                // Reserving without writing grows memory at almost no fuel cost.
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(Vec::with_capacity(1 << 20));
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => assign(format!("r{}", recurse(std::hint::black_box(u64::MAX))), vec![]),
            "trap" => panic!("the hostile plugin was asked to trap"),
            "huge" => assign("a".repeat(70 * 1024), vec![]),
            "many-teams" => assign("member".into(), (0..1000).map(|i| format!("t{i}")).collect()),
            "bad-role" => assign(String::new(), vec![]),
            "peek" => assign(peek(), vec![]),
            _ => assign("member".into(), vec![]),
        }
    }
}

fn peek() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(u64::MAX);
    let files = u8::from(std::fs::read_dir("/").is_ok());
    let net = u8::from(std::net::TcpStream::connect("127.0.0.1:9").is_ok());
    format!("t{secs}-e{}-a{}-f{files}-n{net}", std::env::vars().count(), std::env::args().count())
}

/// Recursion that keeps everything in wasm locals, so it exhausts the engine's wasm stack
/// (a stack-overflow trap) rather than Rust's shadow stack in linear memory.
#[inline(never)]
fn recurse(n: u64) -> u64 {
    if n == 0 {
        return 1;
    }
    recurse(n - 1).wrapping_mul(31).wrapping_add(n)
}

export!(Hostile);
