//! TEST FIXTURE, not an example. A role mapper that misbehaves on request so the host's
//! limits can be tested. The behaviour is chosen by `org-slug`:
//! `loop` spins forever, `bomb` allocates until memory runs out, `recurse` recurses without
//! end, `trap` panics, `huge` returns a role larger than 64 KiB, `many-teams` returns 1000
//! teams, `bad-role` returns an empty role; anything else assigns `member`.

wit_bindgen::generate!({ world: "role-mapper", path: "../../wit" });

struct Hostile;

impl Guest for Hostile {
    fn map_role(input: RoleInput) -> RoleDecision {
        let assign = |role: String, teams: Vec<String>| {
            RoleDecision::Assign(Assignment { role: Some(role), teams })
        };
        match input.org_slug.as_str() {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => assign(format!("r{}", recurse(std::hint::black_box(1))), vec![]),
            "trap" => panic!("the hostile plugin was asked to trap"),
            "huge" => assign("a".repeat(70 * 1024), vec![]),
            "many-teams" => assign("member".into(), (0..1000).map(|i| format!("t{i}")).collect()),
            "bad-role" => assign(String::new(), vec![]),
            _ => assign("member".into(), vec![]),
        }
    }
}

#[inline(never)]
#[allow(unconditional_recursion)] // on purpose: the host must stop it
fn recurse(n: u64) -> u64 {
    let frame = std::hint::black_box([n; 64]);
    recurse(frame[(n % 64) as usize] + 1).wrapping_add(frame[0])
}

export!(Hostile);
