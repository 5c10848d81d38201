//! Shapes several payloads share.

use poem_openapi::Object;
use serde_json::Value;
use uuid::Uuid;

/// A field's value before and after a change (`null` where it was or became unset).
#[derive(Clone, Debug, Object)]
pub struct ValueChange {
    pub from: Value,
    pub to: Value,
}

impl ValueChange {
    pub fn new(from: impl serde::Serialize, to: impl serde::Serialize) -> Self {
        Self {
            from: serde_json::to_value(from).unwrap_or(Value::Null),
            to: serde_json::to_value(to).unwrap_or(Value::Null),
        }
    }
}

/// A text field before and after a change.
#[derive(Clone, Debug, Object)]
pub struct TextChange {
    pub from: String,
    pub to: String,
}

/// A list of names before and after a change.
#[derive(Clone, Debug, Object)]
pub struct ListChange {
    pub from: Vec<String>,
    pub to: Vec<String>,
}

/// A member whose role a group-to-role mapping changed.
#[derive(Clone, Debug, Object)]
pub struct RoleChange {
    pub user_id: Uuid,
    pub from: String,
    pub to: String,
}
