//! SCIM discovery (RFC 7644 §4): /Schemas and /ResourceTypes render the schema table exactly,
//! in application/scim+json, behind a SCIM token; unknown ids and every refusal are SCIM errors.

use guildhall_tests::{
    Client, Resp, TestServer,
    guildhall_server::scim::schema::{self, Attr, RESOURCE_TYPES},
};
use serde_json::{Value, json};

const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SCIM_JSON: &str = "application/scim+json";
const ENDPOINTS: [&str; 5] = [
    "/scim/v2/ServiceProviderConfig",
    "/scim/v2/Schemas",
    "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
    "/scim/v2/ResourceTypes",
    "/scim/v2/ResourceTypes/User",
];

/// A server, its owner's session client and a SCIM client of the owner's org.
async fn scim_of_new_org() -> (TestServer, Client, Client) {
    let server = TestServer::start().await;
    let (owner, body) = server.signup("owner@example.com").await;
    let org = body["org"]["id"].as_str().expect("org id").to_string();
    let issued = owner.post_empty(&format!("/api/v1/orgs/{org}/scim/token")).await;
    let token = issued.expect(201)["token"].as_str().expect("token").to_string();
    let scim = server.with_token(&token);
    (server, owner, scim)
}

/// Asserts a 200 application/scim+json response and returns its body.
fn scim_ok(resp: &Resp) -> &Value {
    assert_eq!(resp.header("content-type"), Some(SCIM_JSON), "{}", resp.text);
    resp.expect(200)
}

/// Asserts a SCIM Error (RFC 7644 §3.12) with `status`.
fn scim_error(resp: &Resp, status: u16, case: &str) {
    assert_eq!(resp.status.as_u16(), status, "{case}: {}", resp.text);
    assert_eq!(resp.header("content-type"), Some(SCIM_JSON), "{case}: {}", resp.text);
    assert_eq!(resp.body["schemas"], json!([ERROR_URN]), "{case}: {}", resp.text);
    assert_eq!(resp.body["status"], json!(status.to_string()), "{case}: {}", resp.text);
}

fn list_of(body: &Value) -> &Vec<Value> {
    assert_eq!(body["schemas"], json!([LIST_URN]), "{body}");
    assert_eq!(body["startIndex"], 1, "{body}");
    let resources = body["Resources"].as_array().expect("Resources");
    assert_eq!(body["totalResults"], json!(resources.len()), "{body}");
    assert_eq!(body["itemsPerPage"], json!(resources.len()), "{body}");
    resources
}

/// The attribute's JSON says exactly what the table says (RFC 7643 §7), recursively.
fn assert_attribute(json: &Value, attr: &Attr, path: &str) {
    let optional = |values: &[&str]| (!values.is_empty()).then(|| json!(values));
    let mut expected = json!({
        "name": attr.name,
        "type": attr.ty.as_str(),
        "multiValued": attr.multi,
        "description": attr.description,
        "required": attr.required,
        "caseExact": attr.case_exact,
        "mutability": attr.mutability.as_str(),
        "returned": attr.returned.as_str(),
        "uniqueness": attr.uniqueness.as_str(),
    });
    if let Some(values) = optional(attr.canonical) {
        expected["canonicalValues"] = values;
    }
    if let Some(values) = optional(attr.reference_types) {
        expected["referenceTypes"] = values;
    }
    let mut actual = json.clone();
    let subs = actual.as_object_mut().and_then(|o| o.remove("subAttributes"));
    assert_eq!(actual, expected, "{path}");
    match subs {
        None => assert!(attr.sub.is_empty(), "{path} lacks subAttributes"),
        Some(subs) => {
            let subs = subs.as_array().expect("subAttributes is a list");
            assert_eq!(subs.len(), attr.sub.len(), "{path}.subAttributes");
            for (json, sub) in subs.iter().zip(attr.sub) {
                assert_attribute(json, sub, &format!("{path}.{}", sub.name));
            }
        }
    }
}

#[tokio::test]
async fn schemas_render_the_schema_table() {
    let (server, _, scim) = scim_of_new_org().await;
    let listed = scim.get("/scim/v2/Schemas").await;
    let resources = list_of(scim_ok(&listed));
    let table = schema::all_schemas();
    assert_eq!(resources.len(), table.len());
    for (listed, schema) in resources.iter().zip(table) {
        let location = format!("{}/scim/v2/Schemas/{}", server.base, schema.id);
        assert_eq!(listed["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"]));
        assert_eq!((listed["id"].as_str(), listed["name"].as_str()), (Some(schema.id), Some(schema.name)));
        assert_eq!(listed["description"], schema.description);
        assert_eq!(listed["meta"], json!({ "resourceType": "Schema", "location": location }));
        let attributes = listed["attributes"].as_array().expect("attributes");
        assert_eq!(attributes.len(), schema.attrs.len(), "{}", schema.id);
        for (json, attr) in attributes.iter().zip(schema.attrs) {
            assert_attribute(json, attr, &format!("{}:{}", schema.id, attr.name));
        }
        // The single schema is the same document as the listed one.
        let single = scim.get(&format!("/scim/v2/Schemas/{}", schema.id)).await;
        assert_eq!(scim_ok(&single), listed, "{}", schema.id);
    }
}

#[tokio::test]
async fn a_few_attributes_read_as_rfc_7643_shows_them() {
    let (_server, _, scim) = scim_of_new_org().await;
    let user = scim.get("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").await;
    let user = scim_ok(&user).clone();
    let attr = |name: &str| {
        user["attributes"].as_array().and_then(|a| a.iter().find(|a| a["name"] == name)).cloned()
    };
    let user_name = attr("userName").expect("userName");
    assert_eq!(
        user_name,
        json!({
            "name": "userName",
            "type": "string",
            "multiValued": false,
            "description": "Unique identifier for the user in the org, case-insensitive.",
            "required": true,
            "caseExact": false,
            "mutability": "readWrite",
            "returned": "default",
            "uniqueness": "server"
        })
    );
    let password = attr("password").expect("password");
    assert_eq!(
        (password["mutability"].as_str(), password["returned"].as_str()),
        (Some("writeOnly"), Some("never"))
    );
    let emails = attr("emails").expect("emails");
    assert_eq!((emails["type"].as_str(), emails["multiValued"].as_bool()), (Some("complex"), Some(true)));
    let email_type = emails["subAttributes"].as_array().and_then(|s| s.iter().find(|a| a["name"] == "type"));
    assert_eq!(email_type.map(|t| &t["canonicalValues"]), Some(&json!(["work", "home", "other"])));
    let groups = attr("groups").expect("groups");
    let group_ref = groups["subAttributes"].as_array().and_then(|s| s.iter().find(|a| a["name"] == "$ref"));
    assert_eq!(group_ref.map(|r| &r["referenceTypes"]), Some(&json!(["Group"])));
    assert_eq!(groups["mutability"], "readOnly");
    assert!(attr("id").is_none(), "common attributes are not part of a schema (RFC 7643 §3.1)");
}

#[tokio::test]
async fn resource_types_render_the_table() {
    let (server, _, scim) = scim_of_new_org().await;
    let listed = scim.get("/scim/v2/ResourceTypes").await;
    let resources = list_of(scim_ok(&listed)).clone();
    let names: Vec<&str> = resources.iter().filter_map(|r| r["id"].as_str()).collect();
    let table: Vec<&str> = RESOURCE_TYPES.iter().map(|t| t.name).collect();
    assert_eq!(names, table);
    let user = resources.iter().find(|r| r["id"] == "User").expect("User");
    assert_eq!(
        user,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
            "schemaExtensions": [
                { "schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false }
            ],
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{}/scim/v2/ResourceTypes/User", server.base)
            }
        })
    );
    for (listed, ty) in resources.iter().zip(RESOURCE_TYPES) {
        assert_eq!(listed["endpoint"], ty.endpoint);
        assert_eq!(listed["schema"], ty.schema.id);
        assert_eq!(listed["schemaExtensions"].as_array().map(Vec::len), Some(ty.extensions.len()));
        let single = scim.get(&format!("/scim/v2/ResourceTypes/{}", ty.name)).await;
        assert_eq!(scim_ok(&single), listed, "{}", ty.name);
        // Every schema a resource type names is served at /Schemas.
        for urn in std::iter::once(&listed["schema"])
            .chain(listed["schemaExtensions"].as_array().into_iter().flatten().map(|e| &e["schema"]))
        {
            let urn = urn.as_str().expect("urn");
            scim_ok(&scim.get(&format!("/scim/v2/Schemas/{urn}")).await);
        }
    }
}

#[tokio::test]
async fn lookups_ignore_case_and_unknown_ids_are_scim_404s() {
    let (_server, _, scim) = scim_of_new_org().await;
    for (path, id) in [
        (
            "/scim/v2/Schemas/URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:GROUP",
            "urn:ietf:params:scim:schemas:core:2.0:Group",
        ),
        (
            "/scim/v2/Schemas/urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Aextension%3Aenterprise%3A2.0%3AUser",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ),
        ("/scim/v2/ResourceTypes/group", "Group"),
        ("/scim/v2/ResourceTypes/USER", "User"),
    ] {
        assert_eq!(scim_ok(&scim.get(path).await)["id"], id, "{path}");
    }
    for path in [
        "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Nobody",
        "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User:userName",
        "/scim/v2/Schemas/8a1e4c4e-2b7e-4b43-9d55-1b7d0f1f7f4a",
        "/scim/v2/ResourceTypes/Users",
        "/scim/v2/ResourceTypes/Device",
        "/scim/v2/ResourceTypes/User/extra",
    ] {
        scim_error(&scim.get(path).await, 404, path);
    }
    // A path parameter that does not decode is still a SCIM error.
    scim_error(&scim.get("/scim/v2/Schemas/%E0%A4%A").await, 400, "bad percent-encoding");
}

#[tokio::test]
async fn discovery_needs_a_scim_token() {
    let (server, owner, scim) = scim_of_new_org().await;
    for path in ENDPOINTS {
        scim_ok(&scim.get(path).await);
        for (case, client) in [
            ("no token", server.anon()),
            ("unknown SCIM token", server.with_token("gh_scim_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
            ("garbage", server.with_token("not-a-token")),
            ("the owner's session token", owner.clone()),
        ] {
            let denied = client.get(path).await;
            scim_error(&denied, 401, &format!("{path} with {case}"));
            assert_eq!(denied.header("www-authenticate"), Some("Bearer"), "{path} with {case}");
        }
    }
}

#[tokio::test]
async fn discovery_is_read_only_and_refuses_filters() {
    let (_server, _, scim) = scim_of_new_org().await;
    for path in ENDPOINTS {
        // RFC 7644 §4: a filter would look as if it had matched, so it is refused.
        for query in ["filter=id%20eq%20%22User%22", "FILTER=x"] {
            scim_error(&scim.get(&format!("{path}?{query}")).await, 403, &format!("{path}?{query}"));
        }
        // Other query parameters are ignored.
        scim_ok(&scim.get(&format!("{path}?startIndex=2&count=1&sortBy=name")).await);
        for method in
            [reqwest::Method::POST, reqwest::Method::PUT, reqwest::Method::PATCH, reqwest::Method::DELETE]
        {
            let resp = scim.send(method.clone(), path, Some((SCIM_JSON, b"{}".to_vec()))).await;
            scim_error(&resp, 405, &format!("{method} {path}"));
        }
    }
}
