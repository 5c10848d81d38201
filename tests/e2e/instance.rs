use guildhall_tests::TestServer;
use serde_json::json;

#[tokio::test]
async fn admins_read_and_change_instance_settings() {
    let (_server, admin) = TestServer::with_admin().await;
    let settings = admin.get("/api/v1/instance/settings").await;
    let settings = settings.expect(200);
    assert_eq!(settings["signup_open"], true);
    assert_eq!(settings["approval_required"], false);
    assert_eq!(settings["password_min_length"], 10);
    assert_eq!(settings["max_login_attempts"], 5);

    let changed = admin
        .patch("/api/v1/instance/settings", &json!({ "approval_required": true, "password_min_length": 12 }))
        .await;
    let changed = changed.expect(200);
    assert_eq!(changed["approval_required"], true);
    assert_eq!(changed["password_min_length"], 12);
    assert_eq!(changed["signup_open"], true, "fields left out keep their value");
    let again = admin.get("/api/v1/instance/settings").await;
    assert_eq!(again.expect(200)["password_min_length"], 12);
}

#[tokio::test]
async fn password_policy_follows_the_instance_setting() {
    let (server, admin) = TestServer::with_admin().await;
    admin.patch("/api/v1/instance/settings", &json!({ "password_min_length": 20 })).await.expect(200);
    let resp = server
        .anon()
        .post("/api/v1/auth/signup", &json!({ "email": "b@example.com", "password": "only16characters" }))
        .await;
    assert_eq!(resp.problem(400), "VALIDATION_ERROR");
    assert_eq!(resp.field(), Some("password"));
}

#[tokio::test]
async fn only_admins_touch_instance_settings() {
    let (server, _admin) = TestServer::with_admin().await;
    let (user, _) = server.signup("user@example.com").await;
    assert_eq!(user.get("/api/v1/instance/settings").await.problem(403), "FORBIDDEN");
    assert_eq!(
        user.patch("/api/v1/instance/settings", &json!({ "signup_open": false })).await.problem(403),
        "FORBIDDEN"
    );
    assert_eq!(server.anon().get("/api/v1/instance/settings").await.problem(401), "UNAUTHENTICATED");
    // The refused change did not happen.
    server.signup("another@example.com").await;
}

#[tokio::test]
async fn instance_settings_reject_bad_input() {
    let (_server, admin) = TestServer::with_admin().await;
    for (case, body, field) in [
        ("wrong type", json!({ "signup_open": "yes" }), "signup_open"),
        ("too short", json!({ "password_min_length": 4 }), "password_min_length"),
        ("too long", json!({ "password_min_length": 1000 }), "password_min_length"),
        ("zero attempts", json!({ "max_login_attempts": 0 }), "max_login_attempts"),
        ("lockout too long", json!({ "lockout_minutes": 100000 }), "lockout_minutes"),
        ("float", json!({ "lockout_minutes": 1.5 }), "lockout_minutes"),
        ("unknown", json!({ "signup": true }), "signup"),
    ] {
        let resp = admin.patch("/api/v1/instance/settings", &body).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    let unchanged = admin.get("/api/v1/instance/settings").await;
    assert_eq!(unchanged.expect(200)["password_min_length"], 10);
}
