use guildhall_tests::TestServer;

#[tokio::test]
async fn health_and_readiness_answer() {
    let server = TestServer::start().await;
    assert_eq!(server.anon().get("/healthz").await.expect(200)["status"], "ok");
    assert_eq!(server.anon().get("/readyz").await.expect(200)["status"], "ok");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let server = TestServer::start().await;
    server.db().clone().close().await.unwrap();
    assert_eq!(server.anon().get("/readyz").await.problem(503), "UNAVAILABLE");
    assert_eq!(server.anon().get("/healthz").await.expect(200)["status"], "ok");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let server = TestServer::start().await;
    let resp =
        server.http.get(server.url("/healthz")).header("x-request-id", "trace-abc-123").send().await.unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-abc-123");
    let resp = server.anon().get("/healthz").await;
    assert_eq!(resp.header("x-request-id").map(str::len), Some(36));
    // An unusable id is replaced, and problems carry the id too.
    let resp =
        server.http.get(server.url("/nowhere")).header("x-request-id", "x".repeat(500)).send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["request_id"], id);
}

#[tokio::test]
async fn metrics_count_requests_per_operation() {
    let server = TestServer::start().await;
    server.anon().get("/healthz").await.expect(200);
    server.anon().post("/api/v1/auth/login", &serde_json::json!({})).await.problem(400);
    let metrics = server.anon().get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text;
    assert!(
        text.contains(r#"guildhall_http_requests_total{method="GET",route="healthz",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"guildhall_http_requests_total{method="POST",route="login",status="400"} 1"#),
        "{text}"
    );
    assert!(text.contains("guildhall_http_request_duration_seconds_bucket"), "{text}");
}

#[tokio::test]
async fn docs_and_spec_are_served() {
    let server = TestServer::start().await;
    let docs = server.http.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().to_lowercase().contains("swagger"));
    let spec = server.anon().get("/openapi.json").await;
    assert_eq!(spec.expect(200)["info"]["title"], "Guildhall");
}

/// The committed document is what the server serves; regenerate it with
/// `cargo run -p guildhall-server -- openapi > openapi/guildhall.json`.
#[tokio::test]
async fn committed_openapi_document_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/guildhall.json");
    let committed = std::fs::read_to_string(path).expect("openapi/guildhall.json exists");
    let generated = guildhall_tests::guildhall_server::openapi_json();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/guildhall.json is stale: run `cargo run -p guildhall-server -- openapi > openapi/guildhall.json`"
    );
    let server = TestServer::start().await;
    let served = server.anon().get("/openapi.json").await;
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(served.body, committed, "the served document differs from the committed one");
}

#[tokio::test]
async fn every_operation_has_an_id_a_summary_and_documented_errors() {
    let spec: serde_json::Value =
        serde_json::from_str(&guildhall_tests::guildhall_server::openapi_json()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id =
                op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{method} {path} is undocumented"
            );
            let secured = op.get("security").is_some();
            if secured {
                assert!(op["responses"]["401"].is_object(), "{method} {path} does not document 401");
            }
        }
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}

/// A Python SDK generated from the committed document (openapi-python-client) drives the
/// server and parses its responses, problems included.
#[tokio::test]
async fn a_generated_python_sdk_works_against_the_server() {
    let server = TestServer::start().await;
    let work = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/sdk_check.py");
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .arg(&server.base)
        .arg(work.path())
        .output()
        .await
        .expect("python3 runs (install the SDK generator with `pip install openapi-python-client`)");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("sdk ok"),
        "generated SDK check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
