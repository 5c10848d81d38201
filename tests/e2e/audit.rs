//! State changes and sign-in events leave audit entries, no entry holds a secret, and the
//! per-org hash chain detects edited and removed entries.

use guildhall_entities::audit_log;
use guildhall_tests::{PASSWORD, TestServer};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

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

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn org_changes_are_listed_newest_first_with_before_and_after() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    // A direct add: the org has verified the member's domain.
    server.verify_domain(&owner, &org, "example.com").await;
    let (member_client, member) = server.signup("member@example.com").await;
    let member_id = member["user"]["id"].as_str().unwrap().to_string();
    let token = server.token_mailed_to("member@example.com", "gh_ver_").unwrap();
    member_client.post("/api/v1/auth/verify-email", &json!({ "token": token })).await.expect(200);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/members"),
            &json!({ "email": "member@example.com", "role": "member" }),
        )
        .await
        .expect(201);
    owner
        .patch(&format!("/api/v1/orgs/{org}/members/{member_id}"), &json!({ "role": "admin" }))
        .await
        .expect(200);
    owner
        .patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "Renamed", "data_retention_days": 30 }))
        .await
        .expect(200);

    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs")).await;
    let entries = log.expect(200)["data"].as_array().unwrap().clone();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions[..3], ["org.updated", "member.role_changed", "member.added"], "{actions:?}");
    assert!(actions.contains(&"email_domain.verified") && actions.contains(&"org.created"), "{actions:?}");
    let updated = &entries[0];
    assert_eq!(updated["details"]["name"], json!({ "from": "owner's organization", "to": "Renamed" }));
    assert_eq!(updated["details"]["data_retention_days"], json!({ "from": 90, "to": 30 }));
    assert_eq!(updated["actor"]["type"], "user");
    assert_eq!(updated["actor"]["id"], body["user"]["id"]);
    assert_eq!(updated["target"], json!({ "type": "org", "id": org }));
    assert!(updated["request_id"].is_string() && updated["ip"] == "127.0.0.1");
    assert_eq!(entries[1]["details"]["role"], json!({ "from": "member", "to": "admin" }));

    let members_only = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=member.*")).await;
    let actions: Vec<Value> =
        members_only.expect(200)["data"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, [json!("member.role_changed"), json!("member.added")]);
    let about_member = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?target={member_id}")).await;
    assert_eq!(about_member.expect(200)["data"].as_array().unwrap().len(), 2);
    let page = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?limit=2")).await;
    let page = page.expect(200).clone();
    let next = owner
        .get(&format!(
            "/api/v1/orgs/{org}/audit-logs?limit=2&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(next.expect(200)["data"][0]["action"], entries[2]["action"]);
    let future = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?since=2999-01-01T00:00:00Z")).await;
    assert_eq!(future.expect(200)["data"], json!([]));
    for (query, field) in [("since=yesterday", "since"), ("limit=1000", "limit"), ("cursor=zz", "cursor")] {
        let resp = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?{query}")).await;
        assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some(field)), "{query}");
    }
}

#[tokio::test]
async fn the_hash_chain_detects_edited_and_removed_entries() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    for name in ["One", "Two", "Three"] {
        owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": name })).await.expect(200);
    }
    let verify = owner.get(&format!("/api/v1/orgs/{org}/audit-logs/verify")).await;
    let verify = verify.expect(200).clone();
    assert_eq!(verify["valid"], true);
    assert_eq!(verify["first_broken"], Value::Null);
    let checked = verify["checked"].as_u64().unwrap();
    assert!(checked >= 4, "{verify}");

    // Someone with database access rewrites history.
    let org_id: uuid::Uuid = org.parse().unwrap();
    let entries = audit_log::Entity::find()
        .filter(audit_log::Column::OrgId.eq(org_id))
        .order_by_asc(audit_log::Column::Seq)
        .all(server.db())
        .await
        .unwrap();
    let victim =
        entries.iter().find(|e| e.details.as_deref().is_some_and(|d| d.contains("Two"))).unwrap().clone();
    let mut edited = victim.clone().into_active_model();
    edited.details = Set(Some(victim.details.clone().unwrap().replace("Two", "Innocent")));
    edited.update(server.db()).await.unwrap();

    let verify = owner.get(&format!("/api/v1/orgs/{org}/audit-logs/verify")).await;
    let verify = verify.expect(200);
    assert_eq!(verify["valid"], false);
    assert_eq!(verify["first_broken"]["id"], json!(victim.id.to_string()));
    assert_eq!(verify["first_broken"]["seq"], json!(victim.seq));

    // Put it back, then delete an entry instead.
    victim.clone().into_active_model().reset_all().update(server.db()).await.unwrap();
    let verify = owner.get(&format!("/api/v1/orgs/{org}/audit-logs/verify")).await;
    assert_eq!(verify.expect(200)["valid"], true);
    audit_log::Entity::delete_by_id(victim.id).exec(server.db()).await.unwrap();
    let verify = owner.get(&format!("/api/v1/orgs/{org}/audit-logs/verify")).await;
    let verify = verify.expect(200);
    assert_eq!(verify["valid"], false);
    assert_eq!(verify["first_broken"]["seq"], json!(victim.seq + 1));
}

#[tokio::test]
async fn retention_purges_old_entries_and_the_chain_still_verifies() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "data_retention_days": 7 })).await.expect(200);
    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "Old news" })).await.expect(200);
    server.clock.advance(chrono::Duration::days(8));
    let login = server.login("owner@example.com", PASSWORD).await;
    let owner = server.with_token(login.expect(200)["access_token"].as_str().unwrap());
    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "Fresh" })).await.expect(200);

    let purged =
        guildhall_tests::guildhall_server::jobs::purge_expired_audit(&server.server.state).await.unwrap();
    assert!(purged >= 3, "{purged}");
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs")).await;
    let actions: Vec<Value> =
        log.expect(200)["data"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, [json!("org.updated"), json!("user.logged_in")]);
    let verify = owner.get(&format!("/api/v1/orgs/{org}/audit-logs/verify")).await;
    let verify = verify.expect(200);
    assert_eq!((verify["valid"].clone(), verify["checked"].clone()), (json!(true), json!(2)));
    // Purging again finds nothing; new entries keep extending the anchored chain.
    assert_eq!(
        guildhall_tests::guildhall_server::jobs::purge_expired_audit(&server.server.state).await.unwrap(),
        0
    );
    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "Fresher" })).await.expect(200);
    assert_eq!(owner.get(&format!("/api/v1/orgs/{org}/audit-logs/verify")).await.expect(200)["valid"], true);
}
