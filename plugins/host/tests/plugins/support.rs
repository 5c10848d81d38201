use std::collections::BTreeMap;
use std::sync::OnceLock;

use guildhall_plugin_host::{Host, HostConfig, Plugin, RoleInput, Source, testing};

/// The bytes of a built example or fixture.
pub fn bytes(name: &str) -> Vec<u8> {
    let path = testing::example(name).unwrap_or_else(|e| panic!("example {name}: {e}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One host for the tests that need no special configuration.
pub fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| Host::new(HostConfig::default()).unwrap())
}

pub fn load(name: &str) -> Plugin {
    host().load(&bytes(name)).unwrap_or_else(|e| panic!("load {name}: {e}"))
}

pub fn role_input(org: &str, groups: &[&str]) -> RoleInput {
    RoleInput {
        org_slug: org.into(),
        source: Source::Oidc,
        subject: "00u1abc".into(),
        email: "ada@acme.test".into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        attributes: BTreeMap::from([("department".into(), "R&D".into())]),
    }
}
