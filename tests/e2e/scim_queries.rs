//! SCIM reads: the filter grammar against real rows, paging, sorting, `.search`, bad input
//! and tenant isolation.

use guildhall_tests::{Client, TestServer};
use serde_json::{Value, json};

use crate::scim_users::{USER, create_user, patch, scim_org, user_body};

fn enc(filter: &str) -> String {
    filter
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

async fn names(scim: &Client, query: &str) -> Vec<String> {
    let resp = scim.get(&format!("/scim/v2/Users?{query}")).await;
    let body = resp.expect(200);
    body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_string())
        .collect()
}

async fn seed(scim: &Client) {
    for (name, title, email_type) in [
        ("ann@example.com", Some("Engineer"), "work"),
        ("bob@example.org", None, "home"),
        ("cat@example.com", Some("Director"), "work"),
        ("dan@example.net", Some("engineer"), "other"),
    ] {
        let mut body = user_body(name);
        body["emails"] = json!([{ "value": name, "type": email_type, "primary": true }]);
        if let Some(title) = title {
            body["title"] = json!(title);
        }
        scim.post("/scim/v2/Users", &body).await.expect(201);
    }
}

#[tokio::test]
async fn filters_run_in_the_database_with_the_whole_grammar() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    seed(&scim).await;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("userName eq \"ANN@example.com\"", vec!["ann@example.com"]),
        ("userName ne \"ann@example.com\"", vec!["bob@example.org", "cat@example.com", "dan@example.net"]),
        ("userName co \"EXAMPLE.COM\"", vec!["ann@example.com", "cat@example.com"]),
        ("userName sw \"b\"", vec!["bob@example.org"]),
        ("userName ew \".net\"", vec!["dan@example.net"]),
        ("userName gt \"c\"", vec!["cat@example.com", "dan@example.net"]),
        ("userName le \"bob@example.org\"", vec!["ann@example.com", "bob@example.org"]),
        ("title pr", vec!["ann@example.com", "cat@example.com", "dan@example.net"]),
        ("title eq \"engineer\"", vec!["ann@example.com", "dan@example.net"]),
        ("not (title pr)", vec!["bob@example.org"]),
        ("title eq \"engineer\" and userName ew \".com\"", vec!["ann@example.com"]),
        ("(userName sw \"a\" or userName sw \"b\") and not (title pr)", vec!["bob@example.org"]),
        (
            "emails[type eq \"work\" and value co \"@example.com\"]",
            vec!["ann@example.com", "cat@example.com"],
        ),
        ("emails.type eq \"home\"", vec!["bob@example.org"]),
        ("emails co \"example.net\"", vec!["dan@example.net"]),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq \"jensen\"",
            vec!["ann@example.com", "bob@example.org", "cat@example.com", "dan@example.net"],
        ),
        (
            "meta.created gt \"2000-01-01T00:00:00Z\" and active eq true",
            vec!["ann@example.com", "bob@example.org", "cat@example.com", "dan@example.net"],
        ),
        ("USERNAME Eq \"cat@example.com\"", vec!["cat@example.com"]),
    ];
    for (filter, expected) in cases {
        let mut got = names(&scim, &format!("filter={}", enc(filter))).await;
        got.sort();
        assert_eq!(got, expected, "{filter}");
    }
    let invalid = [
        "nickName2 eq \"x\"",
        "userName eq",
        "userName zz \"x\"",
        "(userName eq \"x\"",
        "emails[nope eq \"x\"]",
        "password eq \"x\"",
        "userName eq 42",
        "title eq \"unterminated",
    ];
    for filter in invalid {
        let resp = scim.get(&format!("/scim/v2/Users?filter={}", enc(filter))).await;
        assert_eq!(resp.status, 400, "{filter}: {}", resp.text);
        assert_eq!(resp.body["scimType"], "invalidFilter", "{filter}");
    }
}

#[tokio::test]
async fn pages_and_sorting_are_stable() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    seed(&scim).await;
    let page = scim.get("/scim/v2/Users?startIndex=2&count=2&sortBy=userName&sortOrder=descending").await;
    let page = page.expect(200).clone();
    assert_eq!(
        (page["totalResults"].as_u64(), page["startIndex"].as_u64(), page["itemsPerPage"].as_u64()),
        (Some(4), Some(2), Some(2))
    );
    let got: Vec<&str> =
        page["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap()).collect();
    assert_eq!(got, vec!["cat@example.com", "bob@example.org"]);
    assert_eq!(
        names(&scim, "sortBy=title").await,
        vec!["cat@example.com", "ann@example.com", "dan@example.net", "bob@example.org"]
    );
    let counted = scim.get("/scim/v2/Users?count=0").await;
    assert_eq!(counted.expect(200)["totalResults"], 4);
    assert_eq!(counted.body["Resources"], json!([]));
    let beyond = scim.get("/scim/v2/Users?startIndex=99").await;
    assert_eq!(beyond.expect(200)["Resources"], json!([]));
    let clamped = scim.get("/scim/v2/Users?startIndex=-5&count=-1").await;
    assert_eq!(clamped.expect(200)["startIndex"], 1);
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "title pr",
        "attributes": ["userName"],
        "sortBy": "userName",
        "count": 2,
    });
    let searched = scim.post("/scim/v2/Users/.search", &search).await;
    let searched = searched.expect(200).clone();
    assert_eq!(searched["totalResults"], 3);
    assert_eq!(
        searched["Resources"][0],
        json!({ "schemas": [USER], "id": searched["Resources"][0]["id"], "userName": "ann@example.com" })
    );
    let bad_sort = scim.get("/scim/v2/Users?sortBy=emails").await;
    assert_eq!(bad_sort.status, 400);
    let bad_order = scim.get("/scim/v2/Users?sortOrder=sideways").await;
    assert_eq!(bad_order.status, 400);
    let group_search = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName pr" });
    assert_eq!(scim.post("/scim/v2/Groups/.search", &group_search).await.expect(200)["totalResults"], 0);
}

#[tokio::test]
async fn bad_input_gets_a_scim_error_and_changes_nothing() {
    let server = TestServer::start_with(|c| c.max_body_bytes = 64 * 1024).await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let user = create_user(&scim, "keep@example.com").await;
    let path = format!("/scim/v2/Users/{}", user["id"].as_str().unwrap());
    let huge = "x".repeat(70 * 1024);
    let bodies: Vec<(&str, String, u16, Option<&str>)> = vec![
        ("/scim/v2/Users", "{not json".into(), 400, Some("invalidSyntax")),
        ("/scim/v2/Users", "[]".into(), 400, Some("invalidSyntax")),
        ("/scim/v2/Users", json!({ "userName": "x@example.com" }).to_string(), 400, Some("invalidSyntax")),
        (
            "/scim/v2/Users",
            json!({ "schemas": ["urn:wrong"], "userName": "x@example.com" }).to_string(),
            400,
            Some("invalidSyntax"),
        ),
        (
            "/scim/v2/Users",
            json!({ "schemas": [USER], "userName": 5 }).to_string(),
            400,
            Some("invalidValue"),
        ),
        (
            "/scim/v2/Users",
            json!({ "schemas": [USER], "userName": "x@example.com", "shoeSize": 9 }).to_string(),
            400,
            Some("invalidValue"),
        ),
        (
            "/scim/v2/Users",
            json!({ "schemas": [USER], "userName": "x@example.com", "active": "maybe" }).to_string(),
            400,
            Some("invalidValue"),
        ),
        ("/scim/v2/Users", json!({ "schemas": [USER], "userName": huge }).to_string(), 413, None),
        (
            "/scim/v2/Groups",
            json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"] }).to_string(),
            400,
            Some("invalidValue"),
        ),
        (
            "/scim/v2/Users/.search",
            json!({ "filter": "userName pr" }).to_string(),
            400,
            Some("invalidSyntax"),
        ),
    ];
    for (url, body, status, scim_type) in bodies {
        let resp = scim.post_raw(url, "application/scim+json", body.clone()).await;
        assert_eq!(resp.status.as_u16(), status, "{url} {}: {}", &body[..body.len().min(80)], resp.text);
        assert_eq!(resp.header("content-type"), Some("application/scim+json"));
        assert_eq!(resp.body["scimType"].as_str(), scim_type, "{}", resp.text);
    }
    let patches = vec![
        (json!({ "Operations": [] }), "invalidSyntax"),
        (patch(json!([{ "op": "jump", "path": "title", "value": "x" }])), "invalidSyntax"),
        (patch(json!([{ "op": "replace", "path": "title[", "value": "x" }])), "invalidPath"),
        (patch(json!([{ "op": "replace", "path": "shoeSize", "value": "x" }])), "invalidPath"),
        (patch(json!([{ "op": "remove" }])), "noTarget"),
        (patch(json!([{ "op": "replace", "path": "groups", "value": [] }])), "mutability"),
        (
            patch(json!([{ "op": "replace", "path": "emails[value co \"nowhere\"].display", "value": "x" }])),
            "noTarget",
        ),
    ];
    for (body, scim_type) in patches {
        let resp = scim.patch(&path, &body).await;
        assert_eq!(resp.status, 400, "{body}: {}", resp.text);
        assert_eq!(resp.body["scimType"], scim_type, "{body}: {}", resp.text);
    }
    for url in
        ["/scim/v2/Users/not-a-uuid", "/scim/v2/Users/0190a7e2-0000-7000-8000-000000000000", "/scim/v2/Nope"]
    {
        let resp = scim.get(url).await;
        assert_eq!((resp.status.as_u16(), resp.body["status"].as_str()), (404, Some("404")), "{url}");
    }
    let wrong_type = scim.get("/scim/v2/Users?count=many").await;
    assert_eq!((wrong_type.status.as_u16(), wrong_type.body["status"].as_str()), (400, Some("400")));
    assert_eq!(scim.get(&path).await.expect(200), &user);
    assert_eq!(scim.get("/scim/v2/Users").await.expect(200)["totalResults"], 1);
}

#[tokio::test]
async fn one_orgs_token_never_reaches_another_org() {
    let server = TestServer::start().await;
    let (_, _, scim_a) = scim_org(&server, "a@example.com").await;
    let (_, org_b, scim_b) = scim_org(&server, "b@example.com").await;
    let user_b = create_user(&scim_b, "shared@example.com").await;
    let group_b = scim_b
        .post(
            "/scim/v2/Groups",
            &json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "B" }),
        )
        .await
        .expect(201)
        .clone();
    let user_path = format!("/scim/v2/Users/{}", user_b["id"].as_str().unwrap());
    let group_path = format!("/scim/v2/Groups/{}", group_b["id"].as_str().unwrap());
    assert_eq!(scim_a.get(&user_path).await.status, 404);
    assert_eq!(scim_a.get(&group_path).await.status, 404);
    assert_eq!(scim_a.put(&user_path, &user_body("shared@example.com")).await.status, 404);
    assert_eq!(
        scim_a
            .patch(&user_path, &patch(json!([{ "op": "replace", "path": "active", "value": false }])))
            .await
            .status,
        404
    );
    assert_eq!(
        scim_a
            .patch(&group_path, &patch(json!([{ "op": "replace", "path": "displayName", "value": "A" }])))
            .await
            .status,
        404
    );
    assert_eq!(scim_a.delete(&user_path).await.status, 404);
    assert_eq!(scim_a.delete(&group_path).await.status, 404);
    let listed = scim_a.get("/scim/v2/Users?filter=userName%20eq%20%22shared@example.com%22").await;
    assert_eq!(listed.expect(200)["totalResults"], 0);
    // Org A cannot put org B's user into its group either.
    let group_a = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "A", "members": [{ "value": user_b["id"] }] });
    assert_eq!(scim_a.post("/scim/v2/Groups", &group_a).await.status, 400);
    let still: Value = scim_b.get(&user_path).await.expect(200).clone();
    assert_eq!(still["active"], true);
    let _ = org_b;
}

#[tokio::test]
async fn a_root_search_pages_users_then_groups() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    seed(&scim).await;
    for name in ["Alpha", "Beta"] {
        let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name });
        scim.post("/scim/v2/Groups", &body).await.expect(201);
    }
    let search = |filter: Option<&str>, start: u64, count: u64| {
        let mut body = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "startIndex": start, "count": count });
        if let Some(filter) = filter {
            body["filter"] = json!(filter);
        }
        body
    };
    let page = scim.post("/scim/v2/.search", &search(None, 4, 2)).await;
    let page = page.expect(200).clone();
    assert_eq!(page["totalResults"], 6);
    let kinds: Vec<&str> = page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["User", "Group"]);
    // displayName exists on both types; userName only on users.
    let named = scim.post("/scim/v2/.search", &search(Some("userName sw \"a\""), 1, 10)).await;
    assert_eq!(named.expect(200)["totalResults"], 1);
    let groups = scim.post("/scim/v2/.search", &search(Some("displayName eq \"beta\""), 1, 10)).await;
    assert_eq!(groups.expect(200)["totalResults"], 1);
    let unknown = scim.post("/scim/v2/.search", &search(Some("shoeSize eq \"9\""), 1, 10)).await;
    assert_eq!((unknown.status.as_u16(), unknown.body["scimType"].as_str()), (400, Some("invalidFilter")));
}
