use serde_json::json;

use guildhall_plugin_host::{TransformInput, TransformOutput};

use crate::support::{host, load};

fn input(event_type: &str, payload: serde_json::Value) -> TransformInput {
    TransformInput { event_type: event_type.into(), payload }
}

#[test]
fn the_slack_example_replaces_the_payload_and_adds_a_header() {
    let payload =
        json!({ "id": "evt_1", "org": "acme", "data": { "email": "ada@acme.test", "role": "admin" } });
    let run =
        load("slack-transform").transform(&input("member.role_changed", payload), host().limits()).unwrap();
    let TransformOutput::Replace { payload, headers } = run.output else { panic!("dropped") };
    assert_eq!(headers.get("X-Guildhall-Transform").map(String::as_str), Some("slack"));
    let text = payload["text"].as_str().unwrap();
    assert!(text.contains("member.role_changed") && text.contains("ada@acme.test"), "{text}");
    assert_eq!(payload["blocks"][0]["type"], "header");
    assert_eq!(payload["blocks"][1]["fields"].as_array().unwrap().len(), 4);
}

#[test]
fn the_slack_example_drops_session_events() {
    let run =
        load("slack-transform").transform(&input("session.created", json!({})), host().limits()).unwrap();
    assert_eq!(run.output, TransformOutput::Drop);
    assert_eq!(serde_json::to_value(&run.output).unwrap(), json!({ "action": "drop" }));
}

#[test]
fn invalid_transform_output_is_refused() {
    let plugin = load("hostile-transform");
    for (case, says) in [
        ("bad-json", "not valid JSON"),
        ("crlf-header", "not visible ASCII"),
        ("bad-header-name", "not an RFC 9110 token"),
        ("many-headers", "17 headers"),
        ("huge", "more than the limit of 65536"),
    ] {
        let error = plugin.transform(&input(case, json!({ "a": 1 })), host().limits()).unwrap_err();
        assert_eq!(error.code(), "PLUGIN_INVALID_OUTPUT", "{case}: {error}");
        assert!(error.to_string().contains(says), "{case}: {error}");
        assert!(error.is_plugin_fault());
    }
    let echo = plugin.transform(&input("echo", json!({ "a": 1 })), host().limits()).unwrap();
    assert_eq!(
        echo.output,
        TransformOutput::Replace { payload: json!({ "a": 1 }), headers: Default::default() }
    );
}
