//! Discovery (RFC 7644 §4): what this service provider supports. Every flag says what is
//! implemented now; resources and features are switched on as they land. `/Schemas` and
//! `/ResourceTypes` are rendered from the one table in `schema`, so they cannot drift from what
//! the resources accept. Query parameters are ignored here, and a `filter` is refused (§4).

use poem::{Request, web::Data};
use poem_openapi::{
    Object, OpenApi,
    param::Path,
    types::{ParseFromJSON, ToJSON},
};
use serde_json::{Value, json};

use super::{
    auth::ScimAuth,
    json::ScimJson,
    schema::{
        self, Attr, LIST_RESPONSE_URN, RESOURCE_TYPE_URN, RESOURCE_TYPES, ResourceType, SCHEMA_URN, Schema,
    },
};
use crate::{
    AppState,
    app::Tag,
    error::{ApiError, ErrorKind, ScimError},
};

pub const SERVICE_PROVIDER_CONFIG_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// `body_limit` is the server's request body limit: bulk requests are held to the smaller of it
/// and the bulk limit.
pub fn service_provider_config(base_url: &str, body_limit: usize) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        "documentationUri": format!("{base_url}/docs"),
        "patch": { "supported": true },
        "bulk": {
            "supported": true,
            "maxOperations": super::bulk::MAX_OPERATIONS,
            "maxPayloadSize": super::bulk::max_payload_size(body_limit)
        },
        "filter": { "supported": true, "maxResults": super::list::MAX_COUNT },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A gh_scim_ token issued with POST /api/v1/orgs/{org}/scim/token",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/scim/v2/ServiceProviderConfig")
        }
    })
}

/// A SCIM list (RFC 7644 §3.4.2). Discovery lists are never paged: every item is in `Resources`.
#[derive(Debug, Object)]
#[oai(rename = "ScimDiscoveryList", rename_all = "camelCase")]
pub struct ScimDiscoveryList<T: ParseFromJSON + ToJSON> {
    /// Always `["urn:ietf:params:scim:api:messages:2.0:ListResponse"]`.
    pub schemas: Vec<String>,
    pub total_results: u64,
    /// 1-based index of the first item in `Resources`.
    pub start_index: u64,
    pub items_per_page: u64,
    #[oai(rename = "Resources")]
    pub resources: Vec<T>,
}

impl<T: ParseFromJSON + ToJSON> ScimDiscoveryList<T> {
    /// A list holding every item at once.
    pub fn complete(resources: Vec<T>) -> Self {
        let count = resources.len() as u64;
        Self {
            schemas: vec![LIST_RESPONSE_URN.into()],
            total_results: count,
            start_index: 1,
            items_per_page: count,
            resources,
        }
    }
}

/// Where a discovery resource lives (RFC 7643 §3.1 `meta`).
#[derive(Debug, Object)]
#[oai(rename = "ScimDiscoveryMeta", rename_all = "camelCase")]
pub struct ScimDiscoveryMeta {
    /// `Schema` or `ResourceType`.
    pub resource_type: String,
    pub location: String,
}

/// One attribute definition (RFC 7643 §7).
#[derive(Debug, Object)]
#[oai(rename = "ScimSchemaAttribute", rename_all = "camelCase")]
pub struct ScimSchemaAttribute {
    pub name: String,
    /// `string`, `boolean`, `decimal`, `integer`, `dateTime`, `reference`, `complex` or `binary`.
    #[oai(rename = "type")]
    pub type_: String,
    pub multi_valued: bool,
    pub description: String,
    pub required: bool,
    pub case_exact: bool,
    /// `readOnly`, `readWrite`, `immutable` or `writeOnly`.
    pub mutability: String,
    /// `always`, `never`, `default` or `request`.
    pub returned: String,
    /// `none`, `server` or `global`.
    pub uniqueness: String,
    /// The sub-attributes of a `complex` attribute.
    #[oai(skip_serializing_if_is_none)]
    pub sub_attributes: Option<Vec<ScimSchemaAttribute>>,
    /// The values a client should use, e.g. `work` or `home` for a `type`.
    #[oai(skip_serializing_if_is_none)]
    pub canonical_values: Option<Vec<String>>,
    /// What a `reference` attribute may point to: `User`, `Group`, `external` or `uri`.
    #[oai(skip_serializing_if_is_none)]
    pub reference_types: Option<Vec<String>>,
}

impl From<&Attr> for ScimSchemaAttribute {
    fn from(attr: &Attr) -> Self {
        let strings = |values: &[&str]| -> Option<Vec<String>> {
            (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect())
        };
        Self {
            name: attr.name.into(),
            type_: attr.ty.as_str().into(),
            multi_valued: attr.multi,
            description: attr.description.into(),
            required: attr.required,
            case_exact: attr.case_exact,
            mutability: attr.mutability.as_str().into(),
            returned: attr.returned.as_str().into(),
            uniqueness: attr.uniqueness.as_str().into(),
            sub_attributes: (!attr.sub.is_empty()).then(|| attr.sub.iter().map(Into::into).collect()),
            canonical_values: strings(attr.canonical),
            reference_types: strings(attr.reference_types),
        }
    }
}

/// A schema this service provider serves (RFC 7643 §7).
#[derive(Debug, Object)]
#[oai(rename = "ScimSchema")]
pub struct ScimSchema {
    /// Always `["urn:ietf:params:scim:schemas:core:2.0:Schema"]`.
    pub schemas: Vec<String>,
    /// The schema's URN.
    pub id: String,
    pub name: String,
    pub description: String,
    pub attributes: Vec<ScimSchemaAttribute>,
    pub meta: ScimDiscoveryMeta,
}

impl ScimSchema {
    fn render(schema: &Schema, base_url: &str) -> Self {
        Self {
            schemas: vec![SCHEMA_URN.into()],
            id: schema.id.into(),
            name: schema.name.into(),
            description: schema.description.into(),
            attributes: schema.attrs.iter().map(Into::into).collect(),
            meta: ScimDiscoveryMeta {
                resource_type: "Schema".into(),
                location: format!("{base_url}/scim/v2/Schemas/{}", schema.id),
            },
        }
    }
}

/// A schema extension of a resource type.
#[derive(Debug, Object)]
#[oai(rename = "ScimSchemaExtension")]
pub struct ScimSchemaExtension {
    /// The extension's URN.
    pub schema: String,
    /// Whether every resource of the type carries it.
    pub required: bool,
}

/// A resource type this service provider serves (RFC 7643 §6).
#[derive(Debug, Object)]
#[oai(rename = "ScimResourceType", rename_all = "camelCase")]
pub struct ScimResourceType {
    /// Always `["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]`.
    pub schemas: Vec<String>,
    /// The type's name, e.g. `User`.
    pub id: String,
    pub name: String,
    /// Relative to the SCIM base URL, e.g. `/Users`.
    pub endpoint: String,
    pub description: String,
    /// The URN of the type's core schema.
    pub schema: String,
    pub schema_extensions: Vec<ScimSchemaExtension>,
    pub meta: ScimDiscoveryMeta,
}

impl ScimResourceType {
    fn render(ty: &ResourceType, base_url: &str) -> Self {
        Self {
            schemas: vec![RESOURCE_TYPE_URN.into()],
            id: ty.name.into(),
            name: ty.name.into(),
            endpoint: ty.endpoint.into(),
            description: ty.description.into(),
            schema: ty.schema.id.into(),
            schema_extensions: ty
                .extensions
                .iter()
                .map(|(ext, required)| ScimSchemaExtension { schema: ext.id.into(), required: *required })
                .collect(),
            meta: ScimDiscoveryMeta {
                resource_type: "ResourceType".into(),
                location: format!("{base_url}/scim/v2/ResourceTypes/{}", ty.name),
            },
        }
    }
}

/// RFC 7644 §4: discovery ignores query parameters, but a `filter` must not look as if it
/// had matched, so it is refused.
fn refuse_filter(req: &Request) -> Result<(), ScimError> {
    let filtered = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|pair| pair.split('=').next().is_some_and(is_filter)));
    if filtered {
        return Err(ScimError(ApiError::forbidden(
            ErrorKind::Forbidden.code(),
            "discovery endpoints do not support filter (RFC 7644 §4)",
        )));
    }
    Ok(())
}

fn is_filter(name: &str) -> bool {
    name.eq_ignore_ascii_case("filter")
}

fn not_found(what: &str) -> ScimError {
    ScimError(ApiError::new(ErrorKind::NotFound, ErrorKind::NotFound.code(), format!("no such {what}")))
}

pub struct ScimDiscoveryApi;

#[OpenApi]
impl ScimDiscoveryApi {
    /// What this SCIM service provider supports (RFC 7644 §5).
    #[oai(
        path = "/scim/v2/ServiceProviderConfig",
        method = "get",
        tag = "Tag::Scim",
        operation_id = "scim_service_provider_config"
    )]
    async fn scim_service_provider_config(
        &self,
        state: Data<&AppState>,
        _auth: ScimAuth,
        req: &Request,
    ) -> Result<ScimJson<serde_json::Value>, ScimError> {
        refuse_filter(req)?;
        Ok(ScimJson(service_provider_config(&state.config.public_base_url, state.config.max_body_bytes)))
    }

    /// Every schema this service provider serves, with its attribute definitions (RFC 7643 §7).
    /// A `filter` is refused with 403 (RFC 7644 §4).
    #[oai(path = "/scim/v2/Schemas", method = "get", tag = "Tag::Scim", operation_id = "scim_list_schemas")]
    async fn scim_list_schemas(
        &self,
        state: Data<&AppState>,
        _auth: ScimAuth,
        req: &Request,
    ) -> Result<ScimJson<ScimDiscoveryList<ScimSchema>>, ScimError> {
        refuse_filter(req)?;
        let base = &state.config.public_base_url;
        let schemas = schema::all_schemas().into_iter().map(|s| ScimSchema::render(s, base)).collect();
        Ok(ScimJson(ScimDiscoveryList::complete(schemas)))
    }

    /// One schema, by its URN (any case).
    #[oai(path = "/scim/v2/Schemas/:id", method = "get", tag = "Tag::Scim", operation_id = "scim_get_schema")]
    async fn scim_get_schema(
        &self,
        state: Data<&AppState>,
        _auth: ScimAuth,
        req: &Request,
        /// The schema's URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
        id: Path<String>,
    ) -> Result<ScimJson<ScimSchema>, ScimError> {
        refuse_filter(req)?;
        let found = schema::all_schemas().into_iter().find(|s| s.id.eq_ignore_ascii_case(&id.0));
        let found = found.ok_or_else(|| not_found("schema"))?;
        Ok(ScimJson(ScimSchema::render(found, &state.config.public_base_url)))
    }

    /// Every resource type this service provider serves (RFC 7643 §6). A `filter` is refused
    /// with 403 (RFC 7644 §4).
    #[oai(
        path = "/scim/v2/ResourceTypes",
        method = "get",
        tag = "Tag::Scim",
        operation_id = "scim_list_resource_types"
    )]
    async fn scim_list_resource_types(
        &self,
        state: Data<&AppState>,
        _auth: ScimAuth,
        req: &Request,
    ) -> Result<ScimJson<ScimDiscoveryList<ScimResourceType>>, ScimError> {
        refuse_filter(req)?;
        let base = &state.config.public_base_url;
        let types = RESOURCE_TYPES.iter().map(|t| ScimResourceType::render(t, base)).collect();
        Ok(ScimJson(ScimDiscoveryList::complete(types)))
    }

    /// One resource type, by its name (`User` or `Group`, any case).
    #[oai(
        path = "/scim/v2/ResourceTypes/:name",
        method = "get",
        tag = "Tag::Scim",
        operation_id = "scim_get_resource_type"
    )]
    async fn scim_get_resource_type(
        &self,
        state: Data<&AppState>,
        _auth: ScimAuth,
        req: &Request,
        /// The resource type's name, e.g. `User`.
        name: Path<String>,
    ) -> Result<ScimJson<ScimResourceType>, ScimError> {
        refuse_filter(req)?;
        let found = RESOURCE_TYPES.iter().find(|t| t.name.eq_ignore_ascii_case(&name.0));
        let found = found.ok_or_else(|| not_found("resource type"))?;
        Ok(ScimJson(ScimResourceType::render(found, &state.config.public_base_url)))
    }
}
