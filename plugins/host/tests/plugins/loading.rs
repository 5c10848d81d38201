use guildhall_plugin_host::{Host, HostConfig, PluginError, World, sha256_hex, testing};

use crate::support::{bytes, host, load, role_input};

#[test]
fn examples_load_with_their_world() {
    for (name, world) in [
        ("role-mapper-example", World::RoleMapper),
        ("slack-transform", World::WebhookTransform),
        ("hostile", World::RoleMapper),
        ("hostile-transform", World::WebhookTransform),
    ] {
        let bytes = bytes(name);
        let plugin = host().load(&bytes).unwrap();
        assert_eq!(plugin.world(), world, "{name}");
        assert_eq!(plugin.sha256(), sha256_hex(&bytes));
        assert_eq!(plugin.size(), bytes.len());
    }
    assert_eq!(World::RoleMapper.as_str(), "role-mapper");
    assert_eq!(World::WebhookTransform.as_str(), "webhook-transform");
}

#[test]
fn a_component_built_against_another_patch_version_of_the_wit_runs() {
    let ours = include_str!("../../../wit/guildhall.wit");
    let probes = include_str!("../../../examples/compat-probe/wit/guildhall.wit");
    assert_eq!(
        ours.replace("guildhall:plugin@0.1.0", "guildhall:plugin@0.1.9"),
        probes,
        "the compat probe's WIT must differ from plugins/wit only in its version"
    );
    let run = load("compat-probe").map_role(&role_input("acme", &[]), host().limits()).unwrap();
    assert_eq!(
        serde_json::to_value(&run.output).unwrap(),
        serde_json::json!({ "decision": "assign", "role": "compat", "teams": [] })
    );
}

fn load_error(bytes: &[u8]) -> PluginError {
    match host().load(bytes) {
        Ok(plugin) => panic!("loaded as {}", plugin.world()),
        Err(e) => e,
    }
}

#[test]
fn bytes_that_are_not_a_component_are_invalid() {
    for (case, bytes, says) in [
        ("text", b"hello, world".to_vec(), "not a WebAssembly binary"),
        ("empty", Vec::new(), "not a WebAssembly binary"),
        ("core module", wat::parse_str("(module)").unwrap(), "not a component"),
        ("truncated component", bytes("role-mapper-example")[..200].to_vec(), "does not compile"),
    ] {
        let error = load_error(&bytes);
        assert_eq!(error.code(), "PLUGIN_INVALID", "{case}: {error}");
        assert!(error.to_string().contains(says), "{case}: {error}");
        assert!(!error.is_plugin_fault(), "{case}");
    }
}

#[test]
fn a_component_of_neither_world_names_the_missing_export() {
    let wat = std::fs::read_to_string(testing::testdata_dir().join("wrong-world.wat")).unwrap();
    let error = load_error(&wat::parse_str(&wat).unwrap());
    assert_eq!(error.code(), "PLUGIN_INVALID");
    let message = error.to_string();
    assert!(
        message.contains("expected export `map-role: func(input: role-input) -> role-decision`"),
        "{message}"
    );
    assert!(message.contains("`transform: func(input: transform-input) -> transform-output`"), "{message}");
    assert!(message.contains("it exports `hello`"), "{message}");
}

#[test]
fn an_export_with_the_wrong_signature_is_invalid() {
    let wat = r#"(component
      (core module $m (func (export "f") (result i32) i32.const 0))
      (core instance $i (instantiate $m))
      (func $f (result u32) (canon lift (core func $i "f")))
      (export "map-role" (func $f)))"#;
    let error = load_error(&wat::parse_str(wat).unwrap());
    assert_eq!(error.code(), "PLUGIN_INVALID");
    assert!(error.to_string().contains("expected export `map-role: func(input: role-input)"), "{error}");
}

#[test]
fn a_component_importing_more_than_wasi_is_invalid() {
    let wat = r#"(component
      (import "guildhall:secrets/vault" (instance (export "get" (func (result u32)))))
      (core module $m (func (export "f") (result i32) i32.const 0))
      (core instance $i (instantiate $m))
      (func $f (result u32) (canon lift (core func $i "f")))
      (export "map-role" (func $f)))"#;
    let error = load_error(&wat::parse_str(wat).unwrap());
    assert_eq!(error.code(), "PLUGIN_INVALID");
    assert!(error.to_string().contains("imports `guildhall:secrets/vault`"), "{error}");
}

#[test]
fn an_oversized_component_is_refused_before_compiling() {
    let small = Host::new(HostConfig { max_component_bytes: 1024, ..HostConfig::default() }).unwrap();
    let error = small.load(&bytes("role-mapper-example")).err().unwrap();
    assert_eq!(error.code(), "PLUGIN_TOO_LARGE");
    assert!(!error.is_plugin_fault());
}

#[test]
fn calling_the_other_worlds_function_is_a_wrong_world_error() {
    let mapper = load("role-mapper-example");
    let input =
        guildhall_plugin_host::TransformInput { event_type: "x".into(), payload: serde_json::json!({}) };
    let error = mapper.transform(&input, host().limits()).unwrap_err();
    assert_eq!(error.code(), "PLUGIN_WRONG_WORLD");
    assert_eq!(error.to_string(), "the plugin implements role-mapper, not webhook-transform");
    let error = load("slack-transform").map_role(&role_input("acme", &[]), host().limits()).unwrap_err();
    assert_eq!(error.code(), "PLUGIN_WRONG_WORLD");
}

#[test]
fn host_and_plugin_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<guildhall_plugin_host::Host>();
    assert_send_sync::<guildhall_plugin_host::Plugin>();
    assert_send_sync::<PluginError>();
}
