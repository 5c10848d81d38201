//! The shapes of SCIM resources as the OpenAPI document shows them. Handlers read and write
//! JSON through the schema table (names are case-insensitive on input), so these types only
//! document; `schema.rs` is what is enforced.

use poem_openapi::Object;

use crate::error::ScimErrorBody;

#[derive(Object)]
#[oai(rename = "ScimMeta", rename_all = "camelCase")]
pub struct ScimMeta {
    pub resource_type: String,
    pub created: String,
    pub last_modified: String,
    pub location: String,
    /// A weak entity tag; also in the `ETag` header. Send it in `If-Match` to update safely.
    pub version: String,
}

#[derive(Object)]
#[oai(rename = "ScimName", rename_all = "camelCase")]
pub struct ScimName {
    pub formatted: Option<String>,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub honorific_prefix: Option<String>,
    pub honorific_suffix: Option<String>,
}

/// An email or phone number.
#[derive(Object)]
#[oai(rename = "ScimMultiValue")]
pub struct ScimMultiValue {
    pub value: Option<String>,
    pub display: Option<String>,
    #[oai(rename = "type")]
    pub type_: Option<String>,
    pub primary: Option<bool>,
}

#[derive(Object)]
#[oai(rename = "ScimAddress", rename_all = "camelCase")]
pub struct ScimAddress {
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    #[oai(rename = "type")]
    pub type_: Option<String>,
    pub primary: Option<bool>,
}

/// A reference to a resource: a group of a user, a member of a group, a manager.
#[derive(Object)]
#[oai(rename = "ScimReference")]
pub struct ScimReference {
    pub value: String,
    #[oai(rename = "$ref")]
    pub ref_: Option<String>,
    pub display: Option<String>,
    #[oai(rename = "type")]
    pub type_: Option<String>,
}

#[derive(Object)]
#[oai(rename = "ScimManager")]
pub struct ScimManager {
    pub value: Option<String>,
    #[oai(rename = "$ref")]
    pub ref_: Option<String>,
    #[oai(rename = "displayName")]
    pub display_name: Option<String>,
}

#[derive(Object)]
#[oai(rename = "ScimEnterpriseUser", rename_all = "camelCase")]
pub struct ScimEnterpriseUser {
    pub employee_number: Option<String>,
    pub cost_center: Option<String>,
    pub organization: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
    pub manager: Option<ScimManager>,
}

/// A SCIM User (RFC 7643 §4.1, with the enterprise extension of §4.3).
#[derive(Object)]
#[oai(rename = "ScimUser", rename_all = "camelCase")]
pub struct ScimUser {
    pub schemas: Vec<String>,
    #[oai(read_only)]
    pub id: Option<String>,
    pub external_id: Option<String>,
    pub user_name: String,
    pub name: Option<ScimName>,
    pub display_name: Option<String>,
    pub nick_name: Option<String>,
    pub profile_url: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub preferred_language: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    /// False suspends the membership: no sign-in to the org, its sessions revoked.
    pub active: Option<bool>,
    /// Accepted (Okta sends one) and discarded; never returned.
    #[oai(write_only)]
    pub password: Option<String>,
    pub emails: Option<Vec<ScimMultiValue>>,
    pub phone_numbers: Option<Vec<ScimMultiValue>>,
    pub addresses: Option<Vec<ScimAddress>>,
    #[oai(read_only)]
    pub groups: Option<Vec<ScimReference>>,
    #[oai(rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")]
    pub enterprise: Option<ScimEnterpriseUser>,
    #[oai(read_only)]
    pub meta: Option<ScimMeta>,
}

/// A SCIM Group (RFC 7643 §4.2): a team of the org.
#[derive(Object)]
#[oai(rename = "ScimGroup", rename_all = "camelCase")]
pub struct ScimGroup {
    pub schemas: Vec<String>,
    #[oai(read_only)]
    pub id: Option<String>,
    pub external_id: Option<String>,
    pub display_name: String,
    pub members: Option<Vec<ScimReference>>,
    #[oai(read_only)]
    pub meta: Option<ScimMeta>,
}

/// A page of results (RFC 7644 §3.4.2).
#[derive(Object)]
#[oai(rename = "ScimListResponse", rename_all = "camelCase")]
pub struct ScimListResponse {
    pub schemas: Vec<String>,
    pub total_results: u64,
    pub start_index: u64,
    pub items_per_page: u64,
    #[oai(rename = "Resources")]
    pub resources: Vec<serde_json::Value>,
}

#[derive(Object)]
#[oai(rename = "ScimPatchOperation")]
pub struct ScimPatchOperation {
    /// `add`, `remove` or `replace` (any case).
    pub op: String,
    pub path: Option<String>,
    pub value: Option<serde_json::Value>,
}

/// RFC 7644 §3.5.2.
#[derive(Object)]
#[oai(rename = "ScimPatchRequest")]
pub struct ScimPatchRequest {
    pub schemas: Vec<String>,
    #[oai(rename = "Operations")]
    pub operations: Vec<ScimPatchOperation>,
}

/// RFC 7644 §3.4.3.
#[derive(Object)]
#[oai(rename = "ScimSearchRequest", rename_all = "camelCase")]
pub struct ScimSearchRequest {
    pub schemas: Vec<String>,
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub attributes: Option<Vec<String>>,
    pub excluded_attributes: Option<Vec<String>>,
}

/// One operation of a bulk request (RFC 7644 §3.7).
#[derive(Object)]
#[oai(rename = "ScimBulkOperation", rename_all = "camelCase")]
pub struct ScimBulkOperation {
    /// `POST`, `PUT`, `PATCH` or `DELETE` (any case).
    pub method: String,
    /// The client's name for the resource a `POST` creates (required with `POST`); later
    /// operations refer to it as `bulkId:<bulkId>` in their `path` or `data`.
    pub bulk_id: Option<String>,
    /// The version the resource must have, as `If-Match` would name it.
    pub version: Option<String>,
    /// `/Users` or `/Groups` for `POST`; `/Users/{id}` or `/Groups/{id}` otherwise.
    pub path: String,
    /// The body the single request would carry: a User, a Group or a PatchOp message.
    pub data: Option<serde_json::Value>,
}

/// RFC 7644 §3.7. Operations run in order, each on its own as if sent alone.
#[derive(Object)]
#[oai(rename = "ScimBulkRequest", rename_all = "camelCase")]
pub struct ScimBulkRequest {
    /// Must contain `urn:ietf:params:scim:api:messages:2.0:BulkRequest`.
    pub schemas: Vec<String>,
    /// Stop after this many operations have failed (by default, run them all).
    pub fail_on_errors: Option<i64>,
    #[oai(rename = "Operations")]
    pub operations: Vec<ScimBulkOperation>,
}

/// What one operation of a bulk request did.
#[derive(Object)]
#[oai(rename = "ScimBulkOperationResult", rename_all = "camelCase")]
pub struct ScimBulkOperationResult {
    pub method: String,
    #[oai(skip_serializing_if_is_none)]
    pub bulk_id: Option<String>,
    /// The resource's URL; absent only when a `POST` failed.
    #[oai(skip_serializing_if_is_none)]
    pub location: Option<String>,
    /// The resource's version after the operation (not after a `DELETE`).
    #[oai(skip_serializing_if_is_none)]
    pub version: Option<String>,
    /// The HTTP status the single request would have had, as a string.
    pub status: String,
    /// The SCIM Error, when the operation failed.
    #[oai(skip_serializing_if_is_none)]
    pub response: Option<ScimErrorBody>,
}

/// RFC 7644 §3.7: one result per operation run, in request order.
#[derive(Object)]
#[oai(rename = "ScimBulkResponse")]
pub struct ScimBulkResponse {
    /// Always `["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]`.
    pub schemas: Vec<String>,
    #[oai(rename = "Operations")]
    pub operations: Vec<ScimBulkOperationResult>,
}
