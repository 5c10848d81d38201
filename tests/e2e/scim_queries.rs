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

// ---- filter forms identity providers send ----

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

async fn sorted_names(scim: &Client, filter: &str) -> Vec<String> {
    let mut got = names(scim, &format!("filter={}&count=1000", enc(filter))).await;
    got.sort();
    got
}

async fn group_names(scim: &Client, filter: &str) -> Vec<String> {
    let resp = scim.get(&format!("/scim/v2/Groups?filter={}&excludedAttributes=members", enc(filter))).await;
    let mut got: Vec<String> = resp.expect(200)["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["displayName"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    got
}

async fn create_group(scim: &Client, name: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
    let body = json!({ "schemas": [GROUP], "displayName": name, "members": members });
    scim.post("/scim/v2/Groups", &body).await.expect(201)["id"].as_str().unwrap().to_string()
}

async fn user_id(scim: &Client, user_name: &str) -> String {
    create_user(scim, user_name).await["id"].as_str().unwrap().to_string()
}

/// A 400 `invalidFilter` in SCIM's error shape (RFC 7644 §3.12); returns the detail.
fn invalid_filter(resp: &guildhall_tests::Resp, case: &str) -> String {
    assert_eq!(resp.status, 400, "{case}: {}", resp.text);
    assert_eq!(resp.header("content-type"), Some("application/scim+json"), "{case}");
    assert_eq!(resp.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{case}");
    assert_eq!(resp.body["status"], "400", "{case}");
    assert_eq!(resp.body["scimType"], "invalidFilter", "{case}: {}", resp.text);
    resp.body["detail"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn entra_email_value_path_filter_with_trailing_sub_attribute() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    seed(&scim).await;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // What Entra sends to match a user on an email.
        ("emails[type eq \"work\"].value eq \"ann@example.com\"", vec!["ann@example.com"]),
        ("emails[type eq \"work\"].value eq \"ANN@EXAMPLE.COM\"", vec!["ann@example.com"]),
        ("emails[type eq \"home\"].value eq \"ann@example.com\"", vec![]),
        ("emails[type eq \"home\"].value eq \"bob@example.org\"", vec!["bob@example.org"]),
        ("emails[type eq \"work\"].value ne \"ann@example.com\"", vec!["cat@example.com"]),
        ("emails[type eq \"work\"].value co \"T@EXAMPLE\"", vec!["cat@example.com"]),
        ("emails[type eq \"work\"].value sw \"a\"", vec!["ann@example.com"]),
        ("emails[type eq \"other\"].value ew \".net\"", vec!["dan@example.net"]),
        ("emails[type eq \"work\"].value gt \"b\"", vec!["cat@example.com"]),
        ("emails[type eq \"work\"].value le \"ann@example.com\"", vec!["ann@example.com"]),
        ("emails[type eq \"work\"].value pr", vec!["ann@example.com", "cat@example.com"]),
        ("emails[type eq \"work\"].display pr", vec![]),
        (
            "emails[type eq \"work\" or type eq \"home\"].primary eq true",
            vec!["ann@example.com", "bob@example.org", "cat@example.com"],
        ),
        (
            "emails[type eq \"work\"].value eq \"cat@example.com\" or userName eq \"dan@example.net\"",
            vec!["cat@example.com", "dan@example.net"],
        ),
        ("not (emails[type eq \"work\"].value pr)", vec!["bob@example.org", "dan@example.net"]),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\"].value eq \"ann@example.com\"",
            vec!["ann@example.com"],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(sorted_names(&scim, filter).await, expected, "{filter}");
    }
    // The same through POST .search, and the same as the RFC's form with one bracket.
    let search =
        json!({ "schemas": [SEARCH], "filter": "emails[type eq \"work\"].value eq \"cat@example.com\"" });
    let found = scim.post("/scim/v2/Users/.search", &search).await;
    assert_eq!(found.expect(200)["Resources"][0]["userName"], "cat@example.com");
    assert_eq!(
        sorted_names(&scim, "emails[type eq \"work\" and value eq \"cat@example.com\"]").await,
        vec!["cat@example.com"]
    );
}

#[tokio::test]
async fn entra_hundred_term_or_filter() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let mut ids = Vec::new();
    for n in [7, 42, 99] {
        ids.push(user_id(&scim, &format!("some.person.name{n:02}@example.com")).await);
    }
    user_id(&scim, "not.asked@example.com").await;

    // 100 × userName, 3 of them present: one query, no 32-term limit.
    let filter = (0..100)
        .map(|n| format!("userName eq \"some.person.name{n:02}@example.com\""))
        .collect::<Vec<_>>()
        .join(" or ");
    assert_eq!(
        sorted_names(&scim, &filter).await,
        vec![
            "some.person.name07@example.com",
            "some.person.name42@example.com",
            "some.person.name99@example.com"
        ]
    );

    // 100 × id, as Entra checks which of its users exist; unknown and malformed ids match nothing.
    let mut terms: Vec<String> =
        (0..97).map(|n| format!("id eq \"0190a7e2-0000-7000-8000-{n:012}\"")).collect();
    terms[50] = "id eq \"not-a-uuid\"".into();
    terms.extend(ids.iter().map(|id| format!("id eq \"{id}\"")));
    assert_eq!(terms.len(), 100);
    let filter = terms.join(" or ");
    let search = json!({ "schemas": [SEARCH], "filter": filter, "attributes": ["id"] });
    let found = scim.post("/scim/v2/Users/.search", &search).await;
    let found = found.expect(200);
    assert_eq!(found["totalResults"], 3, "{found}");
    let mut got: Vec<&str> =
        found["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    got.sort();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(got, want);

    // Mixed with other attributes and an `and`, and on Groups.
    let mixed = format!("({filter} or externalId eq \"ext-not.asked@example.com\") and active eq true");
    assert_eq!(sorted_names(&scim, &mixed).await.len(), 4);
    let group = create_group(&scim, "Hundred", &[]).await;
    let group_filter =
        (0..99).map(|n| format!("id eq \"0190a7e2-0000-7000-8000-{n:012}\" or ")).collect::<String>()
            + &format!("id eq \"{group}\"");
    assert_eq!(group_names(&scim, &group_filter).await, vec!["Hundred"]);
}

#[tokio::test]
async fn rfc_members_filters_with_ne_pr_and_combinations() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let ann = user_id(&scim, "ann@example.com").await;
    let bob = user_id(&scim, "bob@example.com").await;
    let cat = user_id(&scim, "cat@example.com").await;
    create_group(&scim, "Eng", &[&ann, &bob]).await;
    create_group(&scim, "Ops", &[&cat]).await;
    create_group(&scim, "Empty", &[]).await;
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("members pr".into(), vec!["Eng", "Ops"]),
        ("not (members pr)".into(), vec!["Empty"]),
        ("members[value pr]".into(), vec!["Eng", "Ops"]),
        (format!("members[value eq \"{ann}\"]"), vec!["Eng"]),
        (format!("members[value eq \"{ann}\" or value eq \"{cat}\"]"), vec!["Eng", "Ops"]),
        (format!("members.value eq \"{cat}\""), vec!["Ops"]),
        (format!("members eq \"{bob}\""), vec!["Eng"]),
        (format!("MEMBERS.VALUE EQ \"{}\"", bob.to_uppercase()), vec!["Eng"]),
        // Some member is not ann.
        (format!("members.value ne \"{ann}\""), vec!["Eng", "Ops"]),
        (format!("members[not (value eq \"{ann}\")]"), vec!["Eng", "Ops"]),
        (format!("not (members.value eq \"{ann}\")"), vec!["Empty", "Ops"]),
        (format!("members[value eq \"{ann}\"] and members[value eq \"{bob}\"]"), vec!["Eng"]),
        (format!("members[value eq \"{ann}\" and value eq \"{bob}\"]"), vec![]),
        (format!("members[value eq \"{cat}\"] or displayName eq \"empty\""), vec!["Empty", "Ops"]),
        (format!("members pr and not (members[value eq \"{cat}\"])"), vec!["Eng"]),
        (format!("members[value eq \"{ann}\"].value pr"), vec!["Eng"]),
        (format!("members[value ne \"{ann}\"].value eq \"{bob}\""), vec!["Eng"]),
        (format!("urn:ietf:params:scim:schemas:core:2.0:Group:members[value eq \"{ann}\"]"), vec!["Eng"]),
        ("members[value eq \"not-a-uuid\"]".into(), vec![]),
        ("members.value ne \"not-a-uuid\"".into(), vec!["Eng", "Ops"]),
        ("members eq null".into(), vec!["Empty"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(group_names(&scim, &filter).await, expected, "{filter}");
    }
    for filter in [
        "members.display eq \"Ann\"",
        "members[type eq \"User\"]",
        "members[$ref pr]",
        "members.nope pr",
        "members.value co \"x\"",
        "members[value eq \"x\"].nope eq \"y\"",
    ] {
        let resp = scim.get(&format!("/scim/v2/Groups?filter={}", enc(filter))).await;
        invalid_filter(&resp, filter);
    }
}

#[tokio::test]
async fn rfc_groups_filter_on_users() {
    let server = TestServer::start().await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    let ann = user_id(&scim, "ann@example.com").await;
    let bob = user_id(&scim, "bob@example.com").await;
    let cat = user_id(&scim, "cat@example.com").await;
    user_id(&scim, "dan@example.com").await;
    let eng = create_group(&scim, "Engineering", &[&ann, &bob]).await;
    let ops = create_group(&scim, "Operations", &[&cat, &ann]).await;
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("groups pr".into(), vec!["ann@example.com", "bob@example.com", "cat@example.com"]),
        ("not (groups pr)".into(), vec!["dan@example.com"]),
        (format!("groups[value eq \"{eng}\"]"), vec!["ann@example.com", "bob@example.com"]),
        (
            format!("groups[value eq \"{eng}\" or value eq \"{ops}\"]"),
            vec!["ann@example.com", "bob@example.com", "cat@example.com"],
        ),
        (format!("groups.value eq \"{ops}\""), vec!["ann@example.com", "cat@example.com"]),
        (format!("groups eq \"{ops}\""), vec!["ann@example.com", "cat@example.com"]),
        // In some group other than Engineering.
        (format!("groups.value ne \"{eng}\""), vec!["ann@example.com", "cat@example.com"]),
        (format!("not (groups.value eq \"{eng}\")"), vec!["cat@example.com", "dan@example.com"]),
        (format!("groups[value eq \"{eng}\"] and groups[value eq \"{ops}\"]"), vec!["ann@example.com"]),
        ("groups.display eq \"ENGINEERING\"".into(), vec!["ann@example.com", "bob@example.com"]),
        ("groups[display sw \"oper\"]".into(), vec!["ann@example.com", "cat@example.com"]),
        (
            "groups[display co \"ing\" and not (display co \"oper\")]".into(),
            vec!["ann@example.com", "bob@example.com"],
        ),
        (format!("groups[value eq \"{eng}\"].display pr"), vec!["ann@example.com", "bob@example.com"]),
        (
            format!("groups[value eq \"{ops}\"] or userName eq \"dan@example.com\""),
            vec!["ann@example.com", "cat@example.com", "dan@example.com"],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(sorted_names(&scim, &filter).await, expected, "{filter}");
    }
    for filter in
        ["groups.type eq \"direct\"", "groups[nope eq \"x\"]", "groups.value gt \"x\"", "groups[$ref pr]"]
    {
        let resp = scim.get(&format!("/scim/v2/Users?filter={}", enc(filter))).await;
        invalid_filter(&resp, filter);
    }
}

#[tokio::test]
async fn bad_value_path_and_overlong_filters_are_invalid_filters() {
    // The production default (1 MiB), so a filter past its own limit fits in a search body.
    let server = TestServer::start_with(|c| c.max_body_bytes = 1 << 20).await;
    let (_, _, scim) = scim_org(&server, "owner@example.com").await;
    create_user(&scim, "keep@example.com").await;
    let too_long = format!("userName eq \"{}\"", "x".repeat(64 * 1024));
    let too_many = vec!["title pr"; 513].join(" or ");
    for (case, filter, detail) in [
        (
            "unknown sub-attribute after ]",
            "emails[type eq \"work\"].nope eq \"x\"",
            "has no sub-attribute `nope`",
        ),
        ("]. with nothing after", "emails[type eq \"work\"].", "invalid sub-attribute name \"\""),
        ("]. then an operator", "emails[type eq \"work\"]. eq \"x\"", "invalid sub-attribute name \"\""),
        ("no operator after the sub-attribute", "emails[type eq \"work\"].value", "expected an operator"),
        ("sub-attribute of a singular attribute", "name[givenName pr].familyName pr", "is complex"),
        ("a boolean ordered", "emails[type eq \"work\"].primary gt true", "only eq and ne"),
        ("over-long", too_long.as_str(), "longer than 65536 bytes"),
        ("too many terms", too_many.as_str(), "more than 512 comparisons"),
    ] {
        let search = json!({ "schemas": [SEARCH], "filter": filter });
        let detail_got = invalid_filter(&scim.post("/scim/v2/Users/.search", &search).await, case);
        assert!(detail_got.contains(detail), "{case}: {detail_got}");
        if filter.len() < 8 * 1024 {
            let resp = scim.get(&format!("/scim/v2/Users?filter={}", enc(filter))).await;
            assert_eq!(invalid_filter(&resp, case), detail_got, "{case}");
        }
    }
    let resp =
        scim.get(&format!("/scim/v2/Users?filter={}", enc("emails[type eq \"work\"].nope eq \"x\""))).await;
    assert_eq!(
        resp.body,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400",
            "scimType": "invalidFilter",
            "detail": resp.body["detail"],
        })
    );
    assert_eq!(scim.get("/scim/v2/Users").await.expect(200)["totalResults"], 1);
}

#[tokio::test]
async fn membership_and_id_filters_never_reach_another_org() {
    let server = TestServer::start().await;
    let (_, _, scim_a) = scim_org(&server, "a@example.com").await;
    let (_, _, scim_b) = scim_org(&server, "b@example.com").await;
    let ann_a = user_id(&scim_a, "ann@example.com").await;
    let team_a = create_group(&scim_a, "Team", &[&ann_a]).await;
    let bob_b = user_id(&scim_b, "bob@example.com").await;
    let team_b = create_group(&scim_b, "Team", &[&bob_b]).await;

    for filter in [
        format!("id eq \"{bob_b}\""),
        format!("groups[value eq \"{team_b}\"]"),
        format!("groups.value eq \"{team_b}\" or id eq \"{bob_b}\" or userName eq \"bob@example.com\""),
        (0..99).map(|n| format!("id eq \"0190a7e2-0000-7000-8000-{n:012}\" or ")).collect::<String>()
            + &format!("id eq \"{bob_b}\""),
    ] {
        assert_eq!(sorted_names(&scim_a, &filter).await, Vec::<String>::new(), "{filter}");
    }
    for filter in [
        format!("id eq \"{team_b}\""),
        format!("members[value eq \"{bob_b}\"]"),
        format!("members.value eq \"{bob_b}\" or id eq \"{team_b}\""),
    ] {
        assert_eq!(group_names(&scim_a, &filter).await, Vec::<String>::new(), "{filter}");
    }
    // Each org sees its own rows only.
    assert_eq!(sorted_names(&scim_a, "groups pr").await, vec!["ann@example.com"]);
    assert_eq!(group_names(&scim_a, "members pr").await, vec!["Team"]);
    assert_eq!(group_names(&scim_a, &format!("members[value eq \"{ann_a}\"]")).await, vec!["Team"]);
    assert_eq!(
        sorted_names(&scim_a, &format!("groups.value eq \"{team_a}\"")).await,
        vec!["ann@example.com"]
    );
}
