use chrono::Duration;
use guildhall_tests::{Client, PASSWORD, TestServer};
use serde_json::{Value, json};

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

/// Invites `email` into `org` as `role` and returns the invitation's id.
async fn invite(owner: &Client, org: &str, email: &str, role: &str) -> String {
    let invited = owner
        .post(&format!("/api/v1/orgs/{org}/invitations"), &json!({ "email": email, "role": role }))
        .await;
    invited.expect(201)["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_invitation_is_mailed_and_signing_up_with_it_joins_the_org() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let invited = owner
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            &json!({ "email": "New@Example.com", "role": "admin" }),
        )
        .await;
    let invited = invited.expect(201).clone();
    assert_eq!(
        (invited["email"].as_str(), invited["status"].as_str(), invited["email_sent"].as_bool()),
        (Some("new@example.com"), Some("pending"), Some(true))
    );
    let expires = chrono::DateTime::parse_from_rfc3339(invited["expires_at"].as_str().unwrap()).unwrap();
    let created = chrono::DateTime::parse_from_rfc3339(invited["created_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_days(), 7);
    assert!(invited.get("token").is_none());

    let mail = server.mails_to("new@example.com").pop().expect("an invitation email");
    assert!(mail.contains("owner's organization") && mail.contains("admin"), "{mail}");
    let token = server.token_mailed_to("new@example.com", "gh_inv_").unwrap();
    let pending = owner.get(&format!("/api/v1/orgs/{org}/invitations")).await;
    assert_eq!(pending.expect(200)["data"][0]["id"], invited["id"]);

    let signup = server
        .anon()
        .post(
            "/api/v1/auth/signup",
            &json!({ "email": "new@example.com", "password": PASSWORD, "invitation_token": token }),
        )
        .await;
    let signup = signup.expect(201);
    assert_eq!(signup["org"]["id"], json!(org), "joined the inviting org instead of a new one");
    assert_eq!(signup["org"]["role"], "admin");
    assert_eq!(signup["user"]["email_verified"], true);
    let orgs = server.with_token(signup["access_token"].as_str().unwrap()).get("/api/v1/orgs").await;
    assert_eq!(orgs.expect(200)["data"].as_array().unwrap().len(), 1);
    assert_eq!(owner.get(&format!("/api/v1/orgs/{org}/invitations")).await.expect(200)["data"], json!([]));
    // The link was single-use.
    let (late, _) = server.signup("late@example.com").await;
    let reuse = late.post("/api/v1/invitations/accept", &json!({ "token": token })).await;
    assert_eq!(reuse.problem(409), "INVITATION_USED");
}

#[tokio::test]
async fn a_signed_in_invitee_accepts_with_the_token() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (bob, _) = server.signup("bob@example.com").await;
    owner
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            &json!({ "email": "bob@example.com", "role": "member" }),
        )
        .await
        .expect(201);
    let token = server.token_mailed_to("bob@example.com", "gh_inv_").unwrap();
    // Someone else cannot use Bob's link.
    let (carol, _) = server.signup("carol@example.com").await;
    let stolen = carol.post("/api/v1/invitations/accept", &json!({ "token": token })).await;
    assert_eq!(stolen.problem(403), "INVITATION_EMAIL_MISMATCH");
    let accepted = bob.post("/api/v1/invitations/accept", &json!({ "token": token })).await;
    assert_eq!(accepted.expect(200)["org"]["id"], json!(org));
    bob.get(&format!("/api/v1/orgs/{org}")).await.expect(200);
    let members = owner.get(&format!("/api/v1/orgs/{org}/members?email=bob")).await;
    assert_eq!(members.expect(200)["data"][0]["role"], "member");
    let unknown = bob
        .post(
            "/api/v1/invitations/accept",
            &json!({ "token": "gh_inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
        )
        .await;
    assert_eq!(unknown.problem(404), "INVITATION_NOT_FOUND");
}

#[tokio::test]
async fn verified_invitees_join_on_their_next_sign_in() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    server.signup("dana@example.com").await;
    let verify = server.token_mailed_to("dana@example.com", "gh_ver_").unwrap();
    server.anon().post("/api/v1/auth/verify-email", &json!({ "token": verify })).await.expect(200);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            &json!({ "email": "dana@example.com", "role": "member" }),
        )
        .await
        .expect(201);
    let login = server.login("dana@example.com", PASSWORD).await;
    let dana = server.with_token(login.expect(200)["access_token"].as_str().unwrap());
    dana.get(&format!("/api/v1/orgs/{org}")).await.expect(200);
    // An unverified invitee does not join by signing in alone.
    server.signup("erin@example.com").await;
    owner
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            &json!({ "email": "erin@example.com", "role": "member" }),
        )
        .await
        .expect(201);
    let login = server.login("erin@example.com", PASSWORD).await;
    let erin = server.with_token(login.expect(200)["access_token"].as_str().unwrap());
    assert_eq!(erin.get(&format!("/api/v1/orgs/{org}")).await.problem(404), "NOT_FOUND");
}

#[tokio::test]
async fn resend_replaces_the_link_and_revoke_kills_it() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let id = invite(&owner, &org, "x@example.com", "member").await;
    let first = server.token_mailed_to("x@example.com", "gh_inv_").unwrap();
    let dup = owner
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            &json!({ "email": "x@example.com", "role": "admin" }),
        )
        .await;
    assert_eq!(dup.problem(409), "INVITATION_PENDING");
    assert!(dup.body["detail"].as_str().unwrap().contains(&format!("/api/v1/invitations/{id}/resend")));

    owner.post_empty(&format!("/api/v1/invitations/{id}/resend")).await.expect(200);
    let second = server.token_mailed_to("x@example.com", "gh_inv_").unwrap();
    assert_ne!(first, second);
    let (x, _) = server.signup("x@example.com").await;
    assert_eq!(
        x.post("/api/v1/invitations/accept", &json!({ "token": first })).await.problem(404),
        "INVITATION_NOT_FOUND"
    );

    let revoked = owner.post_empty(&format!("/api/v1/invitations/{id}/revoke")).await;
    assert_eq!(revoked.expect(200)["status"], "revoked");
    assert_eq!(
        x.post("/api/v1/invitations/accept", &json!({ "token": second })).await.problem(409),
        "INVITATION_REVOKED"
    );
    assert_eq!(
        owner.post_empty(&format!("/api/v1/invitations/{id}/resend")).await.problem(409),
        "INVITATION_REVOKED"
    );
}

#[tokio::test]
async fn expired_invitations_are_refused_until_resent() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let id = invite(&owner, &org, "slow@example.com", "member").await;
    let token = server.token_mailed_to("slow@example.com", "gh_inv_").unwrap();
    server.clock.advance(Duration::days(8));
    let login = server.login("owner@example.com", PASSWORD).await;
    let owner = server.with_token(login.expect(200)["access_token"].as_str().unwrap());
    let (slow, _) = server.signup("slow@example.com").await;
    assert_eq!(
        slow.post("/api/v1/invitations/accept", &json!({ "token": token })).await.problem(409),
        "INVITATION_EXPIRED"
    );
    assert_eq!(owner.get(&format!("/api/v1/orgs/{org}/invitations")).await.expect(200)["data"], json!([]));
    owner.post_empty(&format!("/api/v1/invitations/{id}/resend")).await.expect(200);
    let fresh = server.token_mailed_to("slow@example.com", "gh_inv_").unwrap();
    slow.post("/api/v1/invitations/accept", &json!({ "token": fresh })).await.expect(200);
}

#[tokio::test]
async fn invitations_follow_role_rules_capacity_and_membership() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let (admin, _) = server.member_of(&owner, &org, "admin@example.com", "admin").await;
    let path = format!("/api/v1/orgs/{org}/invitations");
    assert_eq!(
        admin.post(&path, &json!({ "email": "boss@example.com", "role": "owner" })).await.problem(403),
        "OWNER_REQUIRED"
    );
    assert_eq!(
        owner.post(&path, &json!({ "email": "admin@example.com", "role": "member" })).await.problem(409),
        "ALREADY_MEMBER"
    );
    let (member, _) = server.member_of(&owner, &org, "member@example.com", "member").await;
    assert_eq!(
        member.post(&path, &json!({ "email": "y@example.com", "role": "member" })).await.problem(403),
        "FORBIDDEN"
    );

    // A full org refuses the join at acceptance time.
    owner.patch(&format!("/api/v1/orgs/{org}"), &json!({ "max_users": 3 })).await.expect(200);
    owner.post(&path, &json!({ "email": "fourth@example.com", "role": "member" })).await.expect(201);
    let token = server.token_mailed_to("fourth@example.com", "gh_inv_").unwrap();
    let (fourth, _) = server.signup("fourth@example.com").await;
    assert_eq!(
        fourth.post("/api/v1/invitations/accept", &json!({ "token": token })).await.problem(409),
        "MAX_USERS_REACHED"
    );
}

#[tokio::test]
async fn invitation_routes_are_not_found_for_other_orgs() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let id = invite(&owner, &org, "t@example.com", "member").await;
    let (mallory, _) = server.signup("mallory@example.com").await;
    assert_eq!(mallory.get(&format!("/api/v1/orgs/{org}/invitations")).await.problem(404), "NOT_FOUND");
    assert_eq!(
        mallory
            .post(
                &format!("/api/v1/orgs/{org}/invitations"),
                &json!({ "email": "m@example.com", "role": "owner" })
            )
            .await
            .problem(404),
        "NOT_FOUND"
    );
    assert_eq!(
        mallory.post_empty(&format!("/api/v1/invitations/{id}/resend")).await.problem(404),
        "NOT_FOUND"
    );
    assert_eq!(
        mallory.post_empty(&format!("/api/v1/invitations/{id}/revoke")).await.problem(404),
        "NOT_FOUND"
    );
    let pending = owner.get(&format!("/api/v1/orgs/{org}/invitations")).await;
    assert_eq!(pending.expect(200)["data"][0]["status"], "pending");
}

#[tokio::test]
async fn invitation_endpoints_reject_bad_input() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let path = format!("/api/v1/orgs/{org}/invitations");
    for (case, req, field) in [
        ("missing email", json!({ "role": "member" }), "email"),
        ("bad email", json!({ "email": "nope", "role": "member" }), "email"),
        ("missing role", json!({ "email": "a@example.com" }), "role"),
        ("unknown role", json!({ "email": "a@example.com", "role": "pilot" }), "role"),
        ("wrong type", json!({ "email": ["a@example.com"], "role": "member" }), "email"),
        ("unknown field", json!({ "email": "a@example.com", "role": "member", "message": "hi" }), "message"),
    ] {
        let resp = owner.post(&path, &req).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    assert_eq!(owner.get(&path).await.expect(200)["data"], json!([]));
    let resp = owner.post_empty("/api/v1/invitations/not-a-uuid/resend").await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("id")));
    assert_eq!(
        owner.post_empty(&format!("/api/v1/invitations/{}/revoke", uuid::Uuid::now_v7())).await.problem(404),
        "NOT_FOUND"
    );
    let resp = owner.post("/api/v1/invitations/accept", &json!({})).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("token")));
    let resp = owner.post("/api/v1/invitations/accept", &json!({ "token": "nope" })).await;
    assert_eq!(resp.problem(404), "INVITATION_NOT_FOUND");
    let resp = server.anon().post("/api/v1/invitations/accept", &json!({ "token": "nope" })).await;
    assert_eq!(resp.problem(401), "UNAUTHENTICATED");
    let signup = server
        .anon()
        .post(
            "/api/v1/auth/signup",
            &json!({ "email": "z@example.com", "password": PASSWORD, "invitation_token": "gh_inv_bad" }),
        )
        .await;
    assert_eq!(signup.problem(404), "INVITATION_NOT_FOUND");
    let resp = server.anon().post("/api/v1/auth/verify-email", &json!({ "token": 5 })).await;
    assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some("token")));
}

#[tokio::test]
async fn an_invitation_opens_a_closed_signup() {
    let (server, admin) = TestServer::with_admin().await;
    let me = admin.get("/api/v1/auth/me").await;
    let org = me.expect(200)["org"]["id"].as_str().unwrap().to_string();
    admin.patch("/api/v1/instance/settings", &json!({ "signup_open": false })).await.expect(200);
    admin
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            &json!({ "email": "guest@example.com", "role": "member" }),
        )
        .await
        .expect(201);
    let token = server.token_mailed_to("guest@example.com", "gh_inv_").unwrap();
    let plain = server
        .anon()
        .post("/api/v1/auth/signup", &json!({ "email": "guest@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(plain.problem(403), "SIGNUP_CLOSED");
    let invited = server
        .anon()
        .post(
            "/api/v1/auth/signup",
            &json!({ "email": "guest@example.com", "password": PASSWORD, "invitation_token": token }),
        )
        .await;
    assert_eq!(invited.expect(201)["org"]["id"], json!(org));
}

#[tokio::test]
async fn signing_up_into_an_org_follows_its_stricter_password_policy() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .patch(&format!("/api/v1/orgs/{org}"), &json!({ "auth_settings": { "password_min_length": 20 } }))
        .await
        .expect(200);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            &json!({ "email": "new@example.com", "role": "member" }),
        )
        .await
        .expect(201);
    let token = server.token_mailed_to("new@example.com", "gh_inv_").unwrap();
    let short = server
        .anon()
        .post(
            "/api/v1/auth/signup",
            &json!({ "email": "new@example.com", "password": "only16characters", "invitation_token": token }),
        )
        .await;
    assert_eq!((short.problem(400).as_str(), short.field()), ("VALIDATION_ERROR", Some("password")));
    let ok = server
        .anon()
        .post(
            "/api/v1/auth/signup",
            &json!({ "email": "new@example.com", "password": PASSWORD, "invitation_token": token }),
        )
        .await;
    assert_eq!(ok.expect(201)["org"]["id"], json!(org));
}
