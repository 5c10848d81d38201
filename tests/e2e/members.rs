use guildhall_tests::{PASSWORD, TestServer};
use serde_json::{Value, json};

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn owners_add_list_change_and_remove_members() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (_, bob) = server.signup("bob@example.com").await;
    let bob_id = bob["user"]["id"].as_str().unwrap().to_string();
    server.signup("carol@example.com").await;
    // Adding without an invitation works inside the org's verified domains.
    server.verify_domain(&owner, &org, "example.com").await;

    let added = owner
        .post(&format!("/api/v1/orgs/{org}/members"), &json!({ "user_id": bob_id, "role": "admin" }))
        .await;
    let added = added.expect(201);
    assert_eq!(
        (added["email"].as_str(), added["role"].as_str(), added["status"].as_str()),
        (Some("bob@example.com"), Some("admin"), Some("active"))
    );
    assert!(added["joined_at"].is_string());
    owner
        .post(
            &format!("/api/v1/orgs/{org}/members"),
            &json!({ "email": "CAROL@example.com", "role": "member" }),
        )
        .await
        .expect(201);

    let list = owner.get(&format!("/api/v1/orgs/{org}/members")).await;
    assert_eq!(list.expect(200)["data"].as_array().unwrap().len(), 3);
    let admins = owner.get(&format!("/api/v1/orgs/{org}/members?role=admin")).await;
    assert_eq!(admins.expect(200)["data"][0]["email"], "bob@example.com");
    let carol = owner.get(&format!("/api/v1/orgs/{org}/members?email=CAR")).await;
    assert_eq!(carol.expect(200)["data"].as_array().unwrap().len(), 1);
    let suspended = owner.get(&format!("/api/v1/orgs/{org}/members?status=suspended")).await;
    assert_eq!(suspended.expect(200)["data"], json!([]));
    let paged = owner.get(&format!("/api/v1/orgs/{org}/members?limit=2")).await;
    assert_eq!(paged.expect(200)["has_more"], true);

    let changed =
        owner.patch(&format!("/api/v1/orgs/{org}/members/{bob_id}"), &json!({ "role": "member" })).await;
    assert_eq!(changed.expect(200)["role"], "member");
    assert_eq!(
        owner.get(&format!("/api/v1/orgs/{org}/members/{bob_id}")).await.expect(200)["role"],
        "member"
    );
    owner.delete(&format!("/api/v1/orgs/{org}/members/{bob_id}")).await.expect(204);
    assert_eq!(owner.get(&format!("/api/v1/orgs/{org}/members/{bob_id}")).await.problem(404), "NOT_FOUND");
    assert_eq!(
        owner
            .post(
                &format!("/api/v1/orgs/{org}/members"),
                &json!({ "email": "carol@example.com", "role": "member" })
            )
            .await
            .problem(409),
        "ALREADY_MEMBER"
    );
}

#[tokio::test]
async fn only_owners_grant_or_take_owner() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let owner_id = body["user"]["id"].as_str().unwrap().to_string();
    let (admin, admin_id) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let (_, member_id) = server.member_of(&owner, &org, "member@example.com", "member").await;
    server.signup("new@example.com").await;

    let add = admin
        .post(&format!("/api/v1/orgs/{org}/members"), &json!({ "email": "new@example.com", "role": "owner" }))
        .await;
    assert_eq!(add.problem(403), "OWNER_REQUIRED");
    let promote =
        admin.patch(&format!("/api/v1/orgs/{org}/members/{member_id}"), &json!({ "role": "owner" })).await;
    assert_eq!(promote.problem(403), "OWNER_REQUIRED");
    let demote =
        admin.patch(&format!("/api/v1/orgs/{org}/members/{owner_id}"), &json!({ "role": "member" })).await;
    assert_eq!(demote.problem(403), "FORBIDDEN");
    assert_eq!(
        admin.delete(&format!("/api/v1/orgs/{org}/members/{owner_id}")).await.problem(403),
        "OWNER_REQUIRED"
    );
    // Admins manage non-owners.
    admin
        .patch(&format!("/api/v1/orgs/{org}/members/{member_id}"), &json!({ "role": "admin" }))
        .await
        .expect(200);
    owner
        .patch(&format!("/api/v1/orgs/{org}/members/{admin_id}"), &json!({ "role": "owner" }))
        .await
        .expect(200);
}

#[tokio::test]
async fn the_last_owner_stays() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let owner_id = body["user"]["id"].as_str().unwrap().to_string();
    let (_, other_id) = server.member_of(&owner, &org, "other@example.com", "member").await;
    let path = format!("/api/v1/orgs/{org}/members/{owner_id}");
    assert_eq!(owner.patch(&path, &json!({ "role": "admin" })).await.problem(409), "LAST_OWNER");
    assert_eq!(owner.delete(&path).await.problem(409), "LAST_OWNER");
    // With a second owner, the first may step down and leave.
    owner
        .patch(&format!("/api/v1/orgs/{org}/members/{other_id}"), &json!({ "role": "owner" }))
        .await
        .expect(200);
    owner.patch(&path, &json!({ "role": "admin" })).await.expect(200);
}

#[tokio::test]
async fn members_leave_but_never_their_last_org() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (member, member_id) = server.member_of(&owner, &org, "member@example.com", "member").await;
    // Leaving needs no permission and ends the member's sessions in that org.
    member.delete(&format!("/api/v1/orgs/{org}/members/{member_id}")).await.expect(204);
    assert_eq!(member.get("/api/v1/auth/me").await.problem(401), "SESSION_REVOKED");
    let login = server.login("member@example.com", PASSWORD).await;
    let login = login.expect(200).clone();
    assert_ne!(login["org"]["id"], json!(org));

    // The member's own org is now their only one.
    let own_org = login["org"]["id"].as_str().unwrap();
    let me = server.with_token(login["access_token"].as_str().unwrap());
    let leave = me.delete(&format!("/api/v1/orgs/{own_org}/members/{member_id}")).await;
    assert_eq!(leave.problem(409), "LAST_OWNER");
    // And removing a user's only org is refused too.
    let (_, lone) = server.signup("lone@example.com").await;
    let lone_id = lone["user"]["id"].as_str().unwrap().to_string();
    let lone_org = org_of(&lone);
    let lone_client = server.with_token(lone["access_token"].as_str().unwrap());
    server.invite_and_accept(&lone_client, &owner, &lone_org, "owner@example.com", "owner").await;
    let removed = owner.delete(&format!("/api/v1/orgs/{lone_org}/members/{lone_id}")).await;
    assert_eq!(removed.problem(409), "LAST_ORG");
}

#[tokio::test]
async fn max_users_caps_adds() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "max_users": 2 })).await.expect(200);
    server.verify_domain(&owner, &org, "example.com").await;
    server.member_of(&owner, &org, "two@example.com", "member").await;
    server.signup("three@example.com").await;
    let add = owner
        .post(
            &format!("/api/v1/orgs/{org}/members"),
            &json!({ "email": "three@example.com", "role": "member" }),
        )
        .await;
    assert_eq!(add.problem(409), "MAX_USERS_REACHED");
    let shrink = owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "max_users": 1 })).await;
    assert_eq!((shrink.problem(400).as_str(), shrink.field()), ("VALIDATION_ERROR", Some("max_users")));
    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "max_users": null })).await.expect(200);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/members"),
            &json!({ "email": "three@example.com", "role": "member" }),
        )
        .await
        .expect(201);
}

#[tokio::test]
async fn a_custom_role_with_members_write_adds_members_but_does_not_update_the_org() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/roles"),
            &json!({ "key": "recruiter", "name": "Recruiter", "permissions": ["members:write"] }),
        )
        .await
        .expect(201);
    let (recruiter, _) = server.member_of(&owner, &org, "recruiter@example.com", "recruiter").await;
    server.verify_domain(&owner, &org, "example.com").await;
    server.signup("hire@example.com").await;
    recruiter
        .post(
            &format!("/api/v1/orgs/{org}/members"),
            &json!({ "email": "hire@example.com", "role": "recruiter" }),
        )
        .await
        .expect(201);
    assert_eq!(
        recruiter.patch(&format!("/api/v1/orgs/{org}"), &json!({ "name": "x" })).await.problem(403),
        "FORBIDDEN"
    );
    assert_eq!(recruiter.get(&format!("/api/v1/orgs/{org}/members")).await.problem(403), "FORBIDDEN");
    // A role that grants more than the recruiter holds cannot be handed out by them.
    server.signup("boss@example.com").await;
    let add_admin = recruiter
        .post(
            &format!("/api/v1/orgs/{org}/members"),
            &json!({ "email": "boss@example.com", "role": "admin" }),
        )
        .await;
    assert_eq!(add_admin.problem(403), "PERMISSION_NOT_HELD");
}

#[tokio::test]
async fn plain_members_read_but_do_not_write() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (member, _) = server.member_of(&owner, &org, "member@example.com", "member").await;
    member.get(&format!("/api/v1/orgs/{org}/members")).await.expect(200);
    server.signup("x@example.com").await;
    assert_eq!(
        member
            .post(
                &format!("/api/v1/orgs/{org}/members"),
                &json!({ "email": "x@example.com", "role": "member" })
            )
            .await
            .problem(403),
        "FORBIDDEN"
    );
    assert_eq!(member.get(&format!("/api/v1/orgs/{org}/audit-logs")).await.problem(403), "FORBIDDEN");
    assert_eq!(
        member
            .post(
                &format!("/api/v1/orgs/{org}/roles"),
                &json!({ "key": "k", "name": "K", "permissions": [] })
            )
            .await
            .problem(403),
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn member_endpoints_reject_bad_input() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let owner_id = body["user"]["id"].as_str().unwrap().to_string();
    server.signup("someone@example.com").await;
    server.verify_domain(&owner, &org, "example.com").await;
    let path = format!("/api/v1/orgs/{org}/members");
    for (case, req, field) in [
        ("neither id nor email", json!({ "role": "member" }), "user_id"),
        ("both", json!({ "user_id": owner_id, "email": "someone@example.com", "role": "member" }), "user_id"),
        ("bad id", json!({ "user_id": "nope", "role": "member" }), "user_id"),
        ("bad email", json!({ "email": "nope", "role": "member" }), "email"),
        ("unknown email", json!({ "email": "ghost@example.com", "role": "member" }), "email"),
        ("missing role", json!({ "email": "someone@example.com" }), "role"),
        ("unknown role", json!({ "email": "someone@example.com", "role": "pilot" }), "role"),
        ("role wrong type", json!({ "email": "someone@example.com", "role": 1 }), "role"),
    ] {
        let resp = owner.post(&path, &req).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    let unknown = owner.post(&path, &json!({ "user_id": uuid::Uuid::now_v7(), "role": "member" })).await;
    assert_eq!(unknown.problem(403), "CONSENT_REQUIRED");
    let resp = owner.patch(&format!("{path}/not-a-uuid"), &json!({ "role": "member" })).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("user_id")));
    let resp = owner.patch(&format!("{path}/{}", uuid::Uuid::now_v7()), &json!({ "role": "member" })).await;
    assert_eq!(resp.problem(404), "NOT_FOUND");
    let resp = owner.patch(&format!("{path}/{owner_id}"), &json!({ "role": "" })).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("role")));
    for (query, field) in [("limit=0", "limit"), ("status=gone", "status"), ("cursor=x", "cursor")] {
        let resp = owner.get(&format!("{path}?{query}")).await;
        assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some(field)), "{query}");
    }
    let list = owner.get(&path).await;
    assert_eq!(list.expect(200)["data"].as_array().unwrap().len(), 1);
}
