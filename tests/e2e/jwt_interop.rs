//! An independent implementation (PyJWT, on OpenSSL via `cryptography`) verifies our access
//! tokens against the published JWKS, before and after a key rotation.

use guildhall_tests::{PASSWORD, TestServer};
use serde_json::Value;

async fn pyjwt_verify(server: &TestServer, token: &str) -> Result<Value, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/jwt_verify.py");
    let out = tokio::process::Command::new("python3")
        .args([script, &server.url("/.well-known/jwks.json"), token, "guildhall", &server.base])
        .output()
        .await
        .map_err(|e| format!("python3 is needed for this test: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

#[tokio::test]
async fn pyjwt_verifies_access_tokens_before_and_after_rotation() {
    let server = TestServer::start().await;
    let (admin, body) = server.signup("admin@example.com").await;
    let before = body["access_token"].as_str().unwrap().to_string();
    let claims = pyjwt_verify(&server, &before).await.unwrap_or_else(|e| {
        panic!("PyJWT rejected our token (install it with `pip install 'pyjwt[crypto]'`): {e}")
    });
    assert_eq!(claims["sub"], body["user"]["id"]);
    assert_eq!(claims["org_role"], "owner");

    admin.post_empty("/api/v1/admin/signing-keys/rotate").await.expect(200);
    let login = server.login("admin@example.com", PASSWORD).await;
    let after = login.expect(200)["access_token"].as_str().unwrap().to_string();
    let claims = pyjwt_verify(&server, &after).await.expect("token signed by the new key verifies");
    assert_eq!(claims["email"], "admin@example.com");
    // The old key is still published, so the older token verifies too.
    pyjwt_verify(&server, &before).await.expect("token signed by the retired key still verifies");

    // And a tampered token does not.
    let mut forged = after.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    assert!(pyjwt_verify(&server, &forged).await.is_err());
}
