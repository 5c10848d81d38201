use guildhall_tests::{Client, TestServer, dns::DnsServer};
use serde_json::{Value, json};

fn org_of(body: &Value) -> String {
    body["org"]["id"].as_str().unwrap().to_string()
}

/// A server whose DNS lookups go to `dns`.
async fn with_dns(dns: &DnsServer) -> TestServer {
    let resolver = dns.addr.to_string();
    TestServer::start_with(|config| config.dns.resolver = resolver).await
}

/// Lists `domain` in `org` and returns the TXT record `(name, value)` that would verify it.
async fn add_domain(client: &Client, org: &str, body: Value) -> (String, String) {
    let added = client.post(&format!("/api/v1/orgs/{org}/email-domains"), &body).await;
    let added = added.expect(201);
    let record = &added["verification"];
    (record["txt_name"].as_str().unwrap().to_string(), record["txt_value"].as_str().unwrap().to_string())
}

async fn verify(client: &Client, org: &str, domain: &str, body: Value) -> guildhall_tests::Resp {
    client.post(&format!("/api/v1/orgs/{org}/email-domains/{domain}/verify"), &body).await
}

/// Signs up `email`, verifies the address and returns the orgs it auto-joined.
async fn signup_verified(server: &TestServer, email: &str) -> Value {
    server.signup(email).await;
    let token = server.token_mailed_to(email, "gh_ver_").expect("verification mail");
    let verified = server.anon().post("/api/v1/auth/verify-email", &json!({ "token": token })).await;
    verified.expect(200)["joined"].clone()
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
    assert_eq!((&added["verified"], &added["verified_at"]), (&json!(false), &Value::Null));
    assert_eq!(added["verification"]["txt_name"], "_guildhall-challenge.example.com");
    assert!(added["verification"]["txt_value"].as_str().unwrap().starts_with("guildhall-verification="));
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
    // Adding an account directly takes the org's verified domain; the owner is an instance admin.
    server.verify_domain(&owner, &org, "example.com").await;
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
        assert_eq!(add.problem(403), "CONSENT_REQUIRED", "{email}");
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
    // Auto-join waits for verification; the owner, the first user, is an instance admin.
    verify(&owner, &org, "corp.example", json!({ "method": "manual" })).await.expect(200);
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

#[tokio::test]
async fn domain_is_verified_by_its_dns_txt_record() {
    let dns = DnsServer::start().await;
    let server = with_dns(&dns).await;
    let (owner, body) = server.signup("owner@acme.test").await;
    let org = org_of(&body);
    let (name, value) = add_domain(&owner, &org, json!({ "domain": "acme.test" })).await;
    assert_eq!(name, "_guildhall-challenge.acme.test");
    dns.publish_txt(&name, "v=spf1 -all");
    dns.publish_txt(&name, &value);

    let verified = verify(&owner, &org, "ACME.test", json!({ "method": "dns" })).await;
    let verified = verified.expect(200).clone();
    assert_eq!((&verified["verified"], &verified["verification_method"]), (&json!(true), &json!("dns")));
    assert!(verified["verified_at"].is_string(), "{verified}");
    assert_eq!(verified["verification"], Value::Null);
    let listed = owner.get(&format!("/api/v1/orgs/{org}/email-domains")).await;
    assert_eq!(listed.expect(200)["data"][0], verified);

    // Again, with the default method and the record gone: nothing changes.
    dns.clear_txt(&name);
    let again = verify(&owner, &org, "acme.test", json!({})).await;
    assert_eq!(again.expect(200)["verified_at"], verified["verified_at"]);
    let log = owner.get(&format!("/api/v1/orgs/{org}/audit-logs?action=email_domain.*")).await;
    let entries = log.expect(200)["data"].as_array().unwrap().clone();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["email_domain.verified", "email_domain.added"]);
    assert_eq!(entries[0]["details"], json!({ "domain": "acme.test", "method": "dns" }));
    assert_eq!(entries[0]["target"], json!({ "type": "email_domain", "id": "acme.test" }));

    // A verified domain can still be removed.
    owner.delete(&format!("/api/v1/orgs/{org}/email-domains/acme.test")).await.expect(204);
    assert_eq!(owner.get(&format!("/api/v1/orgs/{org}/email-domains")).await.expect(200)["data"], json!([]));
}

#[tokio::test]
async fn unpublished_or_wrong_txt_record_does_not_verify() {
    let dns = DnsServer::start().await;
    let server = with_dns(&dns).await;
    let (owner, body) = server.signup("owner@acme.test").await;
    let org = org_of(&body);
    let (name, value) = add_domain(&owner, &org, json!({ "domain": "acme.test" })).await;
    let (_, other_value) = add_domain(&owner, &org, json!({ "domain": "other.test" })).await;

    // No body at all means the default method, DNS.
    let unpublished = owner.post_empty(&format!("/api/v1/orgs/{org}/email-domains/acme.test/verify")).await;
    assert_eq!(unpublished.problem(409), "DOMAIN_NOT_VERIFIED");
    let detail = unpublished.body["detail"].as_str().unwrap();
    assert!(detail.contains(&name) && detail.contains(&value), "{detail}");
    for (case, at, published) in [
        ("another domain's token", name.as_str(), other_value.as_str()),
        ("a prefix of the value", name.as_str(), "guildhall-verification="),
        ("the value with extra text", name.as_str(), &format!("{value}x")),
        ("the right value at the apex", "acme.test", value.as_str()),
        ("the right value at a lookalike name", "_guildhall-challenge.acme.test.evil.test", value.as_str()),
    ] {
        dns.publish_txt(at, published);
        let resp = verify(&owner, &org, "acme.test", json!({})).await;
        assert_eq!(resp.problem(409), "DOMAIN_NOT_VERIFIED", "{case}");
        dns.clear_txt(at);
    }
    let listed = owner.get(&format!("/api/v1/orgs/{org}/email-domains")).await;
    let acme = listed.expect(200)["data"][0].clone();
    assert_eq!(
        (&acme["domain"], &acme["verified"], &acme["verified_at"]),
        (&json!("acme.test"), &json!(false), &Value::Null)
    );
}

#[tokio::test]
async fn dns_server_down_does_not_verify() {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = TestServer::start_with(|config| config.dns.resolver = closed.to_string()).await;
    let (owner, body) = server.signup("owner@acme.test").await;
    let org = org_of(&body);
    add_domain(&owner, &org, json!({ "domain": "acme.test" })).await;
    let resp = verify(&owner, &org, "acme.test", json!({ "method": "dns" })).await;
    assert_eq!(resp.problem(409), "DOMAIN_NOT_VERIFIED");
    let listed = owner.get(&format!("/api/v1/orgs/{org}/email-domains")).await;
    assert_eq!(listed.expect(200)["data"][0]["verified"], false);
}

#[tokio::test]
async fn public_suffix_cannot_be_claimed() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = org_of(&body);
    let path = format!("/api/v1/orgs/{org}/email-domains");
    for suffix in ["co.uk", "github.io", "com", "s3.amazonaws.com", "CO.UK."] {
        let resp = owner.post(&path, &json!({ "domain": suffix, "auto_join": true })).await;
        assert_eq!(
            (resp.problem(400).as_str(), resp.field()),
            ("VALIDATION_ERROR", Some("domain")),
            "{suffix}"
        );
    }
    let resp = owner.post(&path, &json!({ "domain": "github.io" })).await;
    resp.problem(400);
    assert!(resp.body["errors"][0]["message"].as_str().unwrap().contains("public suffix"), "{}", resp.text);
    // A name registered under a public suffix is an ordinary domain.
    for owned in ["example.co.uk", "acme.github.io"] {
        owner.post(&path, &json!({ "domain": owned })).await.expect(201);
    }
}

#[tokio::test]
async fn manual_verification_is_for_instance_admins_only() {
    let server = TestServer::start().await;
    let (admin, body) = server.signup("admin@first.test").await;
    let admin_org = org_of(&body);
    let (owner, body) = server.signup("owner@second.test").await;
    let org = org_of(&body);
    add_domain(&owner, &org, json!({ "domain": "second.test" })).await;
    let refused = verify(&owner, &org, "second.test", json!({ "method": "manual" })).await;
    assert_eq!(refused.problem(403), "FORBIDDEN");
    let listed = owner.get(&format!("/api/v1/orgs/{org}/email-domains")).await;
    assert_eq!(listed.expect(200)["data"][0]["verified"], false);

    add_domain(&admin, &admin_org, json!({ "domain": "first.test" })).await;
    let verified = verify(&admin, &admin_org, "first.test", json!({ "method": "manual" })).await;
    assert_eq!(verified.expect(200)["verification_method"], "manual");
}

#[tokio::test]
async fn domain_verified_by_one_org_cannot_be_verified_by_another() {
    let dns = DnsServer::start().await;
    let server = with_dns(&dns).await;
    let (admin, body) = server.signup("admin@a.test").await;
    let first = org_of(&body);
    let (rival, body) = server.signup("rival@b.test").await;
    let second = org_of(&body);
    server.invite_and_accept(&rival, &admin, &second, "admin@a.test", "admin").await;
    for domain in ["shared.test", "deep.parent.test"] {
        add_domain(&admin, &first, json!({ "domain": domain })).await;
        verify(&admin, &first, domain, json!({ "method": "manual" })).await.expect(200);
    }
    // The same domain, a subdomain and a parent: listing is allowed, verifying is not, even with
    // the record published.
    for domain in ["shared.test", "eu.shared.test", "parent.test"] {
        let (name, value) = add_domain(&rival, &second, json!({ "domain": domain })).await;
        dns.publish_txt(&name, &value);
        let resp = verify(&rival, &second, domain, json!({ "method": "dns" })).await;
        assert_eq!(resp.problem(409), "DOMAIN_VERIFIED_ELSEWHERE", "{domain}");
    }
    // Not even an instance admin, who is also an admin of the second org, overrides the owner.
    let resp = verify(&admin, &second, "shared.test", json!({ "method": "manual" })).await;
    assert_eq!(resp.problem(409), "DOMAIN_VERIFIED_ELSEWHERE");
    // A name that only ends with the same letters is another domain.
    let (name, value) = add_domain(&rival, &second, json!({ "domain": "notshared.test" })).await;
    dns.publish_txt(&name, &value);
    verify(&rival, &second, "notshared.test", json!({})).await.expect(200);
    // Once the first org lets go, the domain is free.
    admin.delete(&format!("/api/v1/orgs/{first}/email-domains/shared.test")).await.expect(204);
    verify(&rival, &second, "shared.test", json!({})).await.expect(200);
}

#[tokio::test]
async fn unverified_auto_join_domain_pulls_in_no_strangers() {
    let server = TestServer::start().await;
    let (admin, body) = server.signup("admin@a.test").await;
    let org = org_of(&body);
    add_domain(&admin, &org, json!({ "domain": "victim.test", "auto_join": true })).await;
    assert_eq!(signup_verified(&server, "x@victim.test").await, json!([]));
    let stranger = server.login("x@victim.test", guildhall_tests::PASSWORD).await;
    let stranger = server.with_token(stranger.expect(200)["access_token"].as_str().unwrap());
    assert_eq!(stranger.get(&format!("/api/v1/orgs/{org}")).await.problem(404), "NOT_FOUND");
    let members = admin.get(&format!("/api/v1/orgs/{org}/members")).await;
    assert!(!members.text.contains("x@victim.test"), "{}", members.text);

    verify(&admin, &org, "victim.test", json!({ "method": "manual" })).await.expect(200);
    let joined = signup_verified(&server, "y@mail.victim.test").await;
    assert_eq!((&joined[0]["id"], &joined[0]["role"]), (&json!(org), &json!("member")));
}

#[tokio::test]
async fn verify_email_domain_rejects_bad_input_and_other_orgs_domains() {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@a.test").await;
    let org = org_of(&body);
    add_domain(&owner, &org, json!({ "domain": "a.test" })).await;
    for (case, req, field) in [
        ("method type", json!({ "method": 5 }), "method"),
        ("unknown method", json!({ "method": "carrier-pigeon" }), "method"),
        ("unknown field", json!({ "method": "dns", "proof": "trust me" }), "proof"),
        ("not an object", json!(["dns"]), "body"),
    ] {
        let resp = verify(&owner, &org, "a.test", req).await;
        assert_eq!((resp.problem(400).as_str(), resp.field()), ("VALIDATION_ERROR", Some(field)), "{case}");
    }
    let bad_name = verify(&owner, &org, "not a domain", json!({})).await;
    assert_eq!((bad_name.problem(400).as_str(), bad_name.field()), ("VALIDATION_ERROR", Some("domain")));
    assert_eq!(verify(&owner, &org, "unlisted.test", json!({})).await.problem(404), "NOT_FOUND");

    let (member, _) = server.member_of(&owner, &org, "m@a.test", "member").await;
    assert_eq!(verify(&member, &org, "a.test", json!({})).await.problem(403), "FORBIDDEN");

    // Another org's domain: through that org's path, and through one's own.
    let (stranger, body) = server.signup("s@b.test").await;
    let own = org_of(&body);
    for (via, domain) in [(&org, "a.test"), (&own, "a.test")] {
        assert_eq!(verify(&stranger, via, domain, json!({})).await.problem(404), "NOT_FOUND", "{via}");
    }
    assert_eq!(
        verify(&stranger, &org, "a.test", json!({ "method": "manual" })).await.problem(404),
        "NOT_FOUND"
    );
    let listed = owner.get(&format!("/api/v1/orgs/{org}/email-domains")).await;
    assert_eq!(listed.expect(200)["data"][0]["verified"], false);
}
