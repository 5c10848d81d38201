//! Example webhook transform: turns any Guildhall event into a Slack-style message
//! (`{"text": ..., "blocks": [...]}`) that names the event type and lists its key fields, and
//! marks the request with `X-Guildhall-Transform: slack`.
//!
//! Dropped: every `session.*` event (sign-ins and sign-outs are too frequent for a chat
//! channel). Everything else, `member.role_changed` included, is delivered.
//! Build with `cargo build --release --target wasm32-wasip2`.

use serde_json::{Map, Value, json};

wit_bindgen::generate!({ world: "webhook-transform", path: "../../wit" });

/// Event-type prefixes that are not delivered at all.
const DROPPED_PREFIXES: &[&str] = &["session."];

/// At most this many fields are listed in the message.
const MAX_FIELDS: usize = 8;

struct Slack;

impl Guest for Slack {
    fn transform(input: TransformInput) -> TransformOutput {
        if DROPPED_PREFIXES.iter().any(|p| input.event_type.starts_with(p)) {
            return TransformOutput::Drop;
        }
        let body: Value = serde_json::from_str(&input.payload).unwrap_or(Value::Null);
        let fields = key_fields(&body);
        let mut text = format!("Guildhall event `{}`", input.event_type);
        for (name, value) in &fields {
            text.push_str(&format!("\n• {name}: {value}"));
        }
        let mut blocks = vec![json!({
            "type": "header",
            "text": { "type": "plain_text", "text": format!("Guildhall: {}", input.event_type) }
        })];
        if !fields.is_empty() {
            let items: Vec<Value> = fields
                .iter()
                .map(|(name, value)| json!({ "type": "mrkdwn", "text": format!("*{name}*\n{value}") }))
                .collect();
            blocks.push(json!({ "type": "section", "fields": items }));
        }
        let message = json!({ "text": text, "blocks": blocks });
        TransformOutput::Replace(Replacement {
            payload: message.to_string(),
            headers: vec![("X-Guildhall-Transform".into(), "slack".into())],
        })
    }
}

/// The scalar fields of the event, top level first, then those of a `data` object.
fn key_fields(body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let empty = Map::new();
    let top = body.as_object().unwrap_or(&empty);
    let data = top.get("data").and_then(Value::as_object).unwrap_or(&empty);
    for (name, value) in top.iter().chain(data.iter()) {
        if out.len() == MAX_FIELDS {
            break;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        out.push((name.clone(), text));
    }
    out
}

export!(Slack);
