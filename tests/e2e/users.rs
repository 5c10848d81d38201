use guildhall_tests::{PASSWORD, TestServer};
use serde_json::{Value, json};

fn id(body: &Value) -> String {
    body["user"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn admins_list_users_with_filters_and_paging() {
    let (server, admin) = TestServer::with_admin().await;
    for name in ["carol", "dave", "erin"] {
        server.signup(&format!("{name}@corp.example")).await;
    }
    let all = admin.get("/api/v1/users").await;
    let emails: Vec<&str> =
        all.expect(200)["data"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["admin@example.com", "carol@corp.example", "dave@corp.example", "erin@corp.example"]);

    let corp = admin.get("/api/v1/users?email=CORP.example").await;
    assert_eq!(corp.expect(200)["data"].as_array().unwrap().len(), 3);

    let page = admin.get("/api/v1/users?limit=3").await;
    let page = page.expect(200).clone();
    assert_eq!(page["has_more"], true);
    let next =
        admin.get(&format!("/api/v1/users?limit=3&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    let next = next.expect(200);
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    assert_eq!(next["has_more"], false);

    let active = admin.get("/api/v1/users?status=active").await;
    assert_eq!(active.expect(200)["data"].as_array().unwrap().len(), 4);
    let pending = admin.get("/api/v1/users?status=pending").await;
    assert_eq!(pending.expect(200)["data"], json!([]));
    let bad = admin.get("/api/v1/users?status=sleepy").await;
    assert_eq!(bad.problem(400), "VALIDATION_ERROR");
    assert_eq!(bad.field(), Some("status"));
}

#[tokio::test]
async fn non_admins_cannot_manage_users() {
    let (server, admin) = TestServer::with_admin().await;
    let (user, _) = server.signup("user@example.com").await;
    let admin_me = admin.get("/api/v1/auth/me").await;
    let admin_id = admin_me.expect(200)["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(user.get("/api/v1/users").await.problem(403), "FORBIDDEN");
    for action in ["approve", "disable", "enable"] {
        assert_eq!(
            user.post_empty(&format!("/api/v1/users/{admin_id}/{action}")).await.problem(403),
            "FORBIDDEN"
        );
    }
    assert_eq!(user.delete(&format!("/api/v1/users/{admin_id}")).await.problem(403), "FORBIDDEN");
    assert_eq!(server.anon().get("/api/v1/users").await.problem(401), "UNAUTHENTICATED");
}

#[tokio::test]
async fn disabling_a_user_revokes_sessions_and_tokens_at_once() {
    let (server, admin) = TestServer::with_admin().await;
    let (user, body) = server.signup("user@example.com").await;
    let pat = user.post("/api/v1/auth/tokens", &json!({ "name": "ci" })).await;
    let pat = server.with_token(pat.expect(201)["token"].as_str().unwrap());
    pat.get("/api/v1/auth/me").await.expect(200);

    let disabled = admin.post_empty(&format!("/api/v1/users/{}/disable", id(&body))).await;
    assert_eq!(disabled.expect(200)["status"], "disabled");
    assert_eq!(user.get("/api/v1/auth/me").await.problem(401), "SESSION_REVOKED");
    assert_eq!(pat.get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");
    let refresh =
        server.anon().post("/api/v1/auth/refresh", &json!({ "refresh_token": body["refresh_token"] })).await;
    assert_eq!(refresh.problem(401), "INVALID_REFRESH_TOKEN");
    assert_eq!(server.login("user@example.com", PASSWORD).await.problem(403), "ACCOUNT_DISABLED");

    assert_eq!(
        admin.post_empty(&format!("/api/v1/users/{}/disable", id(&body))).await.problem(409),
        "ALREADY_DISABLED"
    );
    admin.post_empty(&format!("/api/v1/users/{}/enable", id(&body))).await.expect(200);
    server.login("user@example.com", PASSWORD).await.expect(200);
    assert_eq!(
        admin.post_empty(&format!("/api/v1/users/{}/enable", id(&body))).await.problem(409),
        "NOT_DISABLED"
    );
    assert_eq!(
        admin.post_empty(&format!("/api/v1/users/{}/approve", id(&body))).await.problem(409),
        "NOT_PENDING"
    );
}

#[tokio::test]
async fn the_last_instance_admin_cannot_be_disabled_or_deleted() {
    let (_server, admin) = TestServer::with_admin().await;
    let me = admin.get("/api/v1/auth/me").await;
    let admin_id = me.expect(200)["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        admin.post_empty(&format!("/api/v1/users/{admin_id}/disable")).await.problem(409),
        "LAST_INSTANCE_ADMIN"
    );
    assert_eq!(admin.delete(&format!("/api/v1/users/{admin_id}")).await.problem(409), "LAST_INSTANCE_ADMIN");
    admin.get("/api/v1/auth/me").await.expect(200);
}

#[tokio::test]
async fn deleting_a_user_removes_them_and_their_solo_org() {
    let (server, admin) = TestServer::with_admin().await;
    let (user, body) = server.signup("gone@example.com").await;
    admin.delete(&format!("/api/v1/users/{}", id(&body))).await.expect(204);
    assert_eq!(user.get("/api/v1/auth/me").await.problem(401), "INVALID_TOKEN");
    assert_eq!(server.login("gone@example.com", PASSWORD).await.problem(401), "INVALID_CREDENTIALS");
    assert_eq!(admin.delete(&format!("/api/v1/users/{}", id(&body))).await.problem(404), "NOT_FOUND");
    // The email is free again.
    server.signup("gone@example.com").await;
}

#[tokio::test]
async fn user_admin_endpoints_reject_bad_ids() {
    let (_server, admin) = TestServer::with_admin().await;
    for path in ["/api/v1/users/123/approve", "/api/v1/users/%20/disable"] {
        let resp = admin.post_empty(path).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{path}");
        assert_eq!(resp.field(), Some("id"), "{path}");
    }
    let unknown = uuid::Uuid::now_v7();
    for action in ["approve", "disable", "enable"] {
        assert_eq!(
            admin.post_empty(&format!("/api/v1/users/{unknown}/{action}")).await.problem(404),
            "NOT_FOUND"
        );
    }
    assert_eq!(admin.delete(&format!("/api/v1/users/{unknown}")).await.problem(404), "NOT_FOUND");
    for (query, field) in [("limit=500", "limit"), ("cursor=zzz", "cursor"), ("limit=-1", "limit")] {
        let resp = admin.get(&format!("/api/v1/users?{query}")).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{query}");
        assert_eq!(resp.field(), Some(field), "{query}");
    }
}
