//! The error contract at the HTTP edge: every failure is problem+json with a stable code.

use guildhall_tests::{PASSWORD, TestServer};
use serde_json::json;

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let server = TestServer::start().await;
    assert_eq!(server.anon().get("/api/v1/nope").await.problem(404), "NOT_FOUND");
    let wrong = server.anon().delete("/api/v1/auth/login").await;
    assert_eq!(wrong.problem(405), "METHOD_NOT_ALLOWED");
    assert_eq!(wrong.header("allow"), Some("POST"));
    // Path parameters match any value; every method of the path is listed.
    let member =
        server.anon().post_empty("/api/v1/orgs/acme/members/0190a7e2-0000-7000-8000-000000000000").await;
    assert_eq!(member.header("allow"), Some("DELETE, GET, PATCH"));
    let scim = server.anon().delete("/scim/v2/ServiceProviderConfig").await;
    assert_eq!((scim.status.as_u16(), scim.header("allow")), (405, Some("GET")));
}

#[tokio::test]
async fn bodies_must_be_json() {
    let server = TestServer::start().await;
    let anon = server.anon();
    let body = json!({ "email": "a@example.com", "password": PASSWORD }).to_string();
    let resp = anon.post_raw("/api/v1/auth/signup", "text/plain", body.clone()).await;
    assert_eq!(resp.problem(415), "UNSUPPORTED_MEDIA_TYPE");
    let resp = anon.post_empty("/api/v1/auth/signup").await;
    assert_eq!(resp.problem(415), "UNSUPPORTED_MEDIA_TYPE");
    let resp = anon.post_raw("/api/v1/auth/signup", "application/json", "").await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("body")));
    let resp = anon.post_raw("/api/v1/auth/signup", "application/json", "{\"email\": ").await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("body")));
    let resp = anon.post_raw("/api/v1/auth/signup", "application/json", vec![0xff, 0xfe, 0x00]).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("body")));
    // A JSON media type with parameters or a +json suffix is fine.
    let resp = anon.post_raw("/api/v1/auth/signup", "application/json; charset=utf-8", body).await;
    resp.expect(201);
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_parsing() {
    let server = TestServer::start().await;
    let huge = json!({ "email": "a@example.com", "password": PASSWORD, "org_name": "x".repeat(70 * 1024) });
    let resp = server.anon().post("/api/v1/auth/signup", &huge).await;
    assert_eq!(resp.problem(413), "PAYLOAD_TOO_LARGE");
    // Streamed without a length, the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(vec![b' '; 40 * 1024]), Ok(vec![b' '; 40 * 1024])];
    let resp = server
        .http
        .post(server.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_stream(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // Nothing was created.
    let (_, body) = server.signup("a@example.com").await;
    assert_eq!(body["user"]["is_instance_admin"], true);
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn problems_never_leak_internals() {
    let server = TestServer::start().await;
    let resp = server.anon().post_raw("/api/v1/auth/login", "application/json", "{\"email\": [1,2,3]}").await;
    resp.problem(400);
    let text = resp.text.to_lowercase();
    for leak in ["sqlx", "sea_orm", "panicked", "src/", "backtrace"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}
