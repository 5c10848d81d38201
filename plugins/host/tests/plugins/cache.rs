use guildhall_plugin_host::{Host, HostConfig, World, sha256_hex};

use crate::support::{bytes, role_input};

fn host_with_cache(dir: &std::path::Path) -> Host {
    Host::new(HostConfig { cache_dir: Some(dir.to_path_buf()), ..HostConfig::default() }).unwrap()
}

fn cache_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

#[test]
fn a_second_host_finds_the_compiled_plugin_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = bytes("role-mapper-example");
    let sha = sha256_hex(&bytes);
    let first = host_with_cache(dir.path());
    assert!(first.cached(&sha).is_none());
    first.load(&bytes).unwrap();
    assert!(first.cached(&sha).is_some());
    let files = cache_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with(&format!("{sha}-")) && name.ends_with(".cwasm"), "{name}");

    let second = host_with_cache(dir.path());
    let plugin = second.cached(&sha).expect("found on disk");
    assert_eq!(
        (plugin.world(), plugin.sha256(), plugin.size()),
        (World::RoleMapper, sha.as_str(), bytes.len())
    );
    let run = plugin.map_role(&role_input("acme", &["x-admins"]), second.limits()).unwrap();
    assert_eq!(serde_json::to_value(run.output).unwrap()["role"], "admin");
}

#[test]
fn a_corrupted_cache_file_is_ignored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = bytes("slack-transform");
    let sha = sha256_hex(&bytes);
    host_with_cache(dir.path()).load(&bytes).unwrap();
    let file = cache_files(dir.path()).remove(0);
    let mut content = std::fs::read(&file).unwrap();
    let middle = content.len() / 2;
    content[middle] ^= 0xff;
    std::fs::write(&file, &content).unwrap();

    let host = host_with_cache(dir.path());
    assert!(host.cached(&sha).is_none(), "a corrupted artifact must not be deserialized");
    let plugin = host.load(&bytes).unwrap();
    assert_eq!(plugin.world(), World::WebhookTransform);
    assert_ne!(std::fs::read(&file).unwrap(), content, "load rewrote the cache file");
    assert!(host_with_cache(dir.path()).cached(&sha).is_some());

    std::fs::write(&file, b"short").unwrap();
    assert!(host_with_cache(dir.path()).cached(&sha).is_none());
}

#[test]
fn cached_rejects_what_is_not_a_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with_cache(dir.path());
    for key in ["", "../../etc/passwd", &"A".repeat(64), &"0".repeat(63)] {
        assert!(host.cached(key).is_none(), "{key}");
    }
}
