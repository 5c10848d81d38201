//! TEST FIXTURE, not an example. A webhook transform that returns invalid output on request,
//! chosen by `event-type`: `bad-json` (a payload that is not JSON), `crlf-header` (a header
//! value with CR/LF), `bad-header-name` (a header name with a space), `many-headers` (17
//! headers), `huge` (a payload larger than 64 KiB). Anything else echoes the payload.

wit_bindgen::generate!({ world: "webhook-transform", path: "../../wit" });

struct HostileTransform;

impl Guest for HostileTransform {
    fn transform(input: TransformInput) -> TransformOutput {
        let (payload, headers) = match input.event_type.as_str() {
            "bad-json" => ("{not json".to_string(), vec![]),
            "crlf-header" => (input.payload, vec![("X-Evil".into(), "a\r\nSet-Cookie: x=1".into())]),
            "bad-header-name" => (input.payload, vec![("X Evil".into(), "v".into())]),
            "many-headers" => (input.payload, (0..17).map(|i| (format!("X-H{i}"), "v".into())).collect()),
            "huge" => (serde_json::json!({ "blob": "b".repeat(70 * 1024) }).to_string(), vec![]),
            _ => (input.payload, vec![]),
        };
        TransformOutput::Replace(Replacement { payload, headers })
    }
}

export!(HostileTransform);
