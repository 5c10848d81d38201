use guildhall_tests::TestServer;
use serde_json::{Value, json};

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn domains_are_listed_normalized_and_removed() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let path = format!("/api/v1/orgs/{org}/email-domains");
    let added = owner.post(&path, &json!({ "domain": " Example.COM. " })).await;
    let added = added.expect(201);
    assert_eq!(
        (added["domain"].as_str(), added["auto_join"].as_bool(), added["default_role"].as_str()),
        (Some("example.com"), Some(false), Some("member"))
    );
    let idn = owner
        .post(&path, &json!({ "domain": "Bücher.example", "auto_join": true, "default_role": "admin" }))
        .await;
    assert_eq!(idn.expect(201)["domain"], "xn--bcher-kva.example");
    let list = owner.get(&path).await;
    let domains: Vec<&str> =
        list.expect(200)["data"].as_array().unwrap().iter().map(|d| d["domain"].as_str().unwrap()).collect();
    assert_eq!(domains, ["example.com", "xn--bcher-kva.example"]);
    assert_eq!(owner.post(&path, &json!({ "domain": "EXAMPLE.com" })).await.problem(409), "DOMAIN_EXISTS");
    owner.delete(&format!("{path}/bücher.example")).await.expect(204);
    owner.delete(&format!("{path}/example.com")).await.expect(204);
    assert_eq!(owner.delete(&format!("{path}/example.com")).await.problem(404), "NOT_FOUND");
    assert_eq!(owner.get(&path).await.expect(200)["data"], json!([]));
}

#[tokio::test]
async fn an_allowlist_admits_matching_emails_and_subdomains_only() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    owner
        .post(&format!("/api/v1/orgs/{org}/email-domains"), &json!({ "domain": "example.com" }))
        .await
        .expect(201);
    for email in ["eu-alice@eu.example.com", "bob@example.com"] {
        server.signup(email).await;
        owner
            .post(&format!("/api/v1/orgs/{org}/members"), &json!({ "email": email, "role": "member" }))
            .await
            .expect(201);
    }
    for email in ["mallory@badexample.com", "eve@example.com.evil.io"] {
        server.signup(email).await;
        let add = owner
            .post(&format!("/api/v1/orgs/{org}/members"), &json!({ "email": email, "role": "member" }))
            .await;
        assert_eq!(add.problem(403), "DOMAIN_NOT_ALLOWED", "{email}");
        let invite = owner
            .post(&format!("/api/v1/orgs/{org}/invitations"), &json!({ "email": email, "role": "member" }))
            .await;
        assert_eq!(invite.problem(403), "DOMAIN_NOT_ALLOWED", "{email}");
    }
}

#[tokio::test]
async fn verified_users_auto_join_with_the_default_role() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@corp.example").await;
    let org = org_of(&body);
    owner
        .post(
            &format!("/api/v1/orgs/{org}/email-domains"),
            &json!({ "domain": "corp.example", "auto_join": true, "default_role": "admin" }),
        )
        .await
        .expect(201);
    // Signing up alone proves nothing: no join until the address is verified.
    let (newcomer, _) = server.signup("dev@team.corp.example").await;
    assert_eq!(newcomer.get(&format!("/api/v1/orgs/{org}")).await.problem(404), "NOT_FOUND");
    let token = server.token_mailed_to("dev@team.corp.example", "gh_ver_").expect("verification mail");
    let verified = server.anon().post("/api/v1/auth/verify-email", &json!({ "token": token })).await;
    let verified = verified.expect(200);
    assert_eq!(verified["user"]["email_verified"], true);
    assert_eq!(verified["joined"][0]["id"], json!(org));
    assert_eq!(verified["joined"][0]["role"], "admin");
    newcomer.get(&format!("/api/v1/orgs/{org}")).await.expect(200);
    // The token works once.
    let again = server.anon().post("/api/v1/auth/verify-email", &json!({ "token": token })).await;
    assert_eq!((again.problem(400).as_str(), again.field()), ("VALIDATION_ERROR", Some("token")));
    // Someone at another domain does not join.
    server.signup("x@other.example").await;
    let token = server.token_mailed_to("x@other.example", "gh_ver_").unwrap();
    let other = server.anon().post("/api/v1/auth/verify-email", &json!({ "token": token })).await;
    assert_eq!(other.expect(200)["joined"], json!([]));
}

#[tokio::test]
async fn domain_endpoints_reject_bad_input_and_public_providers() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let path = format!("/api/v1/orgs/{org}/email-domains");
    for (case, req, field) in [
        ("missing", json!({}), "domain"),
        ("empty", json!({ "domain": "" }), "domain"),
        ("no dot", json!({ "domain": "localhost" }), "domain"),
        ("spaces", json!({ "domain": "exa mple.com" }), "domain"),
        ("ip", json!({ "domain": "10.0.0.1" }), "domain"),
        ("gmail", json!({ "domain": "gmail.com" }), "domain"),
        ("outlook subdomain", json!({ "domain": "x.outlook.com" }), "domain"),
        ("wrong type", json!({ "domain": 7 }), "domain"),
        ("auto_join type", json!({ "domain": "example.com", "auto_join": "yes" }), "auto_join"),
        ("unknown role", json!({ "domain": "example.com", "default_role": "pilot" }), "default_role"),
        ("owner role", json!({ "domain": "example.com", "default_role": "owner" }), "default_role"),
    ] {
        let resp = owner.post(&path, &req).await;
        assert_eq!(resp.problem(400), "VALIDATION_ERROR", "{case}");
        assert_eq!(resp.field(), Some(field), "{case}: {}", resp.text);
    }
    assert_eq!(owner.get(&path).await.expect(200)["data"], json!([]));
    let (member, _) = server.member_of(&owner, &org, "m@example.com", "member").await;
    assert_eq!(member.post(&path, &json!({ "domain": "example.com" })).await.problem(403), "FORBIDDEN");
    member.get(&path).await.expect(200);
    let (stranger, _) = server.signup("s@elsewhere.example").await;
    assert_eq!(stranger.get(&path).await.problem(404), "NOT_FOUND");
    assert_eq!(stranger.post(&path, &json!({ "domain": "x.example" })).await.problem(404), "NOT_FOUND");
    assert_eq!(stranger.delete(&format!("{path}/example.com")).await.problem(404), "NOT_FOUND");
}
