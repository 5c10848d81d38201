//! TEST FIXTURE. Built against `wit/guildhall.wit`, a copy of `plugins/wit/guildhall.wit` whose
//! only difference is the package version (0.1.9). The host test loads it to show that a
//! component built for one 0.1.x works with a host at another: the version is not part of
//! what the component exports. Assigns role `compat` to everyone.

wit_bindgen::generate!({ world: "role-mapper", path: "wit" });

struct Probe;

impl Guest for Probe {
    fn map_role(_input: RoleInput) -> RoleDecision {
        RoleDecision::Assign(Assignment { role: Some("compat".into()), teams: vec![] })
    }
}

export!(Probe);
