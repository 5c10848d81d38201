use serde_json::{Value, json};

use crate::support::{host, load, role_input};

fn decide(groups: &[&str]) -> Value {
    let run = load("role-mapper-example").map_role(&role_input("acme", groups), host().limits()).unwrap();
    serde_json::to_value(run.output).unwrap()
}

#[test]
fn the_example_maps_groups_to_roles_and_teams() {
    for (case, groups, expected) in [
        ("no groups", vec![], json!({ "decision": "assign", "role": null, "teams": [] })),
        ("no match", vec!["everyone"], json!({ "decision": "assign", "role": null, "teams": [] })),
        ("admins", vec!["platform-admins"], json!({ "decision": "assign", "role": "admin", "teams": [] })),
        (
            "admins and teams",
            vec!["Engineering-Backend", "SALES-emea", "it-admins"],
            json!({ "decision": "assign", "role": "admin", "teams": ["engineering", "sales"] }),
        ),
        (
            "one team from two groups",
            vec!["engineering", "engineering-web"],
            json!({ "decision": "assign", "role": null, "teams": ["engineering"] }),
        ),
        (
            "first role rule wins",
            vec!["owners", "x-admins"],
            json!({ "decision": "assign", "role": "admin", "teams": [] }),
        ),
        (
            "contractors are denied",
            vec!["engineering", "contractors"],
            json!({ "decision": "deny", "reason": "Contractors sign in through the partner portal, not this org." }),
        ),
    ] {
        assert_eq!(decide(&groups), expected, "{case}");
    }
}

#[test]
fn the_same_input_costs_the_same_fuel() {
    let plugin = load("role-mapper-example");
    let input = role_input("acme", &["engineering", "sales", "x-admins"]);
    let first = plugin.map_role(&input, host().limits()).unwrap();
    let second = plugin.map_role(&input, host().limits()).unwrap();
    assert_eq!(first.output, second.output);
    assert_eq!(first.fuel_used, second.fuel_used);
    assert!(first.fuel_used > 0 && first.fuel_used < host().limits().fuel / 10, "{}", first.fuel_used);
}

#[test]
fn eight_threads_share_one_plugin() {
    let plugin = load("role-mapper-example");
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let plugin = plugin.clone();
            std::thread::spawn(move || {
                let group = if i % 2 == 0 { "eng-admins" } else { "sales" };
                for _ in 0..25 {
                    let run = plugin.map_role(&role_input("acme", &[group]), host().limits()).unwrap();
                    let expected = if i % 2 == 0 {
                        json!({ "decision": "assign", "role": "admin", "teams": [] })
                    } else {
                        json!({ "decision": "assign", "role": null, "teams": ["sales"] })
                    };
                    assert_eq!(serde_json::to_value(run.output).unwrap(), expected);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
