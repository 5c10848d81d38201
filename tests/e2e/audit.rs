//! State changes and sign-in events leave audit entries (read here straight from the database;
//! the audit API arrives with the organizations work), and no entry holds a secret.

use guildhall_entities::audit_log;
use guildhall_tests::{PASSWORD, TestServer};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;

#[tokio::test]
async fn sign_in_events_and_admin_actions_are_audited_without_secrets() {
    let (server, admin) = TestServer::with_admin().await;
    let (user, body) = server.signup("user@example.com").await;
    server.login("user@example.com", "wrong password").await.problem(401);
    server.login("user@example.com", PASSWORD).await.expect(200);
    let token = user.post("/api/v1/auth/tokens", &json!({ "name": "ci" })).await;
    let secret = token.expect(201)["token"].as_str().unwrap().to_string();
    admin.post_empty("/api/v1/admin/signing-keys/rotate").await.expect(200);
    admin.patch("/api/v1/instance/settings", &json!({ "approval_required": true })).await.expect(200);
    let user_id = body["user"]["id"].as_str().unwrap();
    admin.post_empty(&format!("/api/v1/users/{user_id}/disable")).await.expect(200);

    let entries =
        audit_log::Entity::find().order_by_asc(audit_log::Column::Id).all(server.db()).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "user.signed_up",
        "org.created",
        "user.login_failed",
        "user.logged_in",
        "api_token.created",
        "signing_key.rotated",
        "instance.settings_updated",
        "user.disabled",
    ] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let failed = entries.iter().find(|e| e.action == "user.login_failed").unwrap();
    assert_eq!(failed.target_id.as_deref(), Some(user_id));
    assert!(failed.request_id.is_some() && failed.ip.as_deref() == Some("127.0.0.1"));
    let disabled = entries.iter().find(|e| e.action == "user.disabled").unwrap();
    assert_eq!(disabled.actor_type, "user");

    let everything = format!("{entries:?}");
    for secret in [PASSWORD, "wrong password", secret.as_str(), body["refresh_token"].as_str().unwrap()] {
        assert!(!everything.contains(secret), "a secret reached the audit log");
    }
    assert!(!everything.contains("argon2"));
}
