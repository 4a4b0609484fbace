//! The flow validator, and every flow shipped in contact-flows/.

use connect_blocklist::flow::{FlowProblem, validate};
use serde_json::{Value, json};

/// A minimal valid inbound flow to break in each test.
fn good_flow() -> Value {
    json!({
        "Version": "2019-10-30",
        "StartAction": "invoke",
        "Actions": [
            {"Identifier": "invoke", "Type": "InvokeLambdaFunction",
             "Parameters": {"LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:f", "InvocationTimeLimitSeconds": "3", "ResponseValidation": {"ResponseType": "STRING_MAP"}},
             "Transitions": {"NextAction": "compare", "Errors": [{"NextAction": "end", "ErrorType": "NoMatchingError"}]}},
            {"Identifier": "compare", "Type": "Compare", "Parameters": {"ComparisonValue": "$.External.isBlocked"},
             "Transitions": {"NextAction": "end",
                             "Conditions": [{"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["true"]}}],
                             "Errors": [{"NextAction": "end", "ErrorType": "NoMatchingCondition"}]}},
            {"Identifier": "end", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}
        ]
    })
}

fn problems(flow: &Value) -> Vec<FlowProblem> {
    validate(&flow.to_string())
}

#[test]
fn a_good_flow_passes() {
    assert_eq!(problems(&good_flow()), vec![]);
}

#[test]
fn not_json_is_reported() {
    assert!(matches!(
        validate("{not json").as_slice(),
        [FlowProblem::NotJson(_)]
    ));
}

#[test]
fn wrong_version_is_reported() {
    let mut f = good_flow();
    f["Version"] = json!("2020-01-01");
    assert_eq!(
        problems(&f),
        vec![FlowProblem::WrongVersion("2020-01-01".into())]
    );
}

#[test]
fn unknown_start_and_next_actions_are_reported() {
    let mut f = good_flow();
    f["StartAction"] = json!("nowhere");
    assert!(problems(&f).contains(&FlowProblem::UnknownStartAction("nowhere".into())));

    let mut f = good_flow();
    f["Actions"][1]["Transitions"]["Conditions"][0]["NextAction"] = json!("ghost");
    assert_eq!(
        problems(&f),
        vec![FlowProblem::UnknownNextAction {
            from: "compare".into(),
            to: "ghost".into()
        }]
    );
}

#[test]
fn identifier_rules_are_enforced() {
    let mut f = good_flow();
    f["Actions"][2]["Identifier"] = json!("compare");
    assert!(problems(&f).contains(&FlowProblem::DuplicateIdentifier("compare".into())));

    for bad in [
        "a:b", "x(y)", "a/b", "a$b", "a,b", "a;b", "[a]", "{a}", "a=b", "a%b", "a\\b",
    ] {
        let mut f = good_flow();
        f["Actions"][2]["Identifier"] = json!(bad);
        f["Actions"][1]["Transitions"]["NextAction"] = json!(bad);
        f["Actions"][1]["Transitions"]["Conditions"][0]["NextAction"] = json!(bad);
        f["Actions"][1]["Transitions"]["Errors"][0]["NextAction"] = json!(bad);
        f["Actions"][0]["Transitions"]["Errors"][0]["NextAction"] = json!(bad);
        assert_eq!(
            problems(&f),
            vec![FlowProblem::IdentifierForbiddenChar(bad.into())],
            "{bad}"
        );
    }

    let long = "x".repeat(51);
    let mut f = good_flow();
    f["Actions"][0]["Identifier"] = json!(long);
    f["StartAction"] = json!(long);
    assert_eq!(problems(&f), vec![FlowProblem::IdentifierTooLong(long)]);

    let mut f = good_flow();
    f["Actions"][0]["Identifier"] = json!("constructor");
    f["StartAction"] = json!("constructor");
    assert_eq!(
        problems(&f),
        vec![FlowProblem::IdentifierReserved("constructor".into())]
    );
}

#[test]
fn action_and_size_limits_are_enforced() {
    let mut f = good_flow();
    let actions = f["Actions"].as_array_mut().unwrap();
    // A chain of 250 more messages between compare and end.
    for i in 0..250 {
        let next = if i == 249 {
            "end".to_string()
        } else {
            format!("m{}", i + 1)
        };
        actions.push(json!({"Identifier": format!("m{i}"), "Type": "MessageParticipant", "Parameters": {"Text": "hi"},
                            "Transitions": {"NextAction": next, "Errors": [{"NextAction": "end", "ErrorType": "NoMatchingError"}]}}));
    }
    f["Actions"][1]["Transitions"]["NextAction"] = json!("m0");
    assert_eq!(problems(&f), vec![FlowProblem::TooManyActions(253)]);

    let mut f = good_flow();
    f["Actions"][2]["Parameters"] = json!({"Padding": "p".repeat(256_000)});
    assert!(matches!(problems(&f).as_slice(), [FlowProblem::TooLong(n)] if *n > 256_000));
}

#[test]
fn terminal_actions_must_have_empty_transitions() {
    let mut f = good_flow();
    f["Actions"][2]["Transitions"] = json!({"NextAction": "invoke"});
    assert_eq!(
        problems(&f),
        vec![FlowProblem::TerminalWithTransitions("end".into())]
    );
}

#[test]
fn actions_that_can_fail_need_errors() {
    let mut f = good_flow();
    f["Actions"][0]["Transitions"]
        .as_object_mut()
        .unwrap()
        .remove("Errors");
    assert_eq!(
        problems(&f),
        vec![FlowProblem::MissingErrors(
            "invoke".into(),
            "InvokeLambdaFunction".into()
        )]
    );
}

#[test]
fn unreachable_actions_are_reported() {
    let mut f = good_flow();
    f["Actions"].as_array_mut().unwrap().push(
        json!({"Identifier": "orphan", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}),
    );
    assert_eq!(
        problems(&f),
        vec![FlowProblem::Unreachable("orphan".into())]
    );
}

#[test]
fn compare_operators_come_from_the_flow_language() {
    for op in [
        "Equals",
        "TextStartsWith",
        "TextEndsWith",
        "TextContains",
        "NumberGreaterThan",
        "NumberGreaterOrEqualTo",
        "NumberLessThan",
        "NumberLessOrEqualTo",
    ] {
        let mut f = good_flow();
        f["Actions"][1]["Transitions"]["Conditions"][0]["Condition"]["Operator"] = json!(op);
        assert_eq!(problems(&f), vec![], "{op}");
    }
    let mut f = good_flow();
    f["Actions"][1]["Transitions"]["Conditions"][0]["Condition"]["Operator"] = json!("Matches");
    assert_eq!(
        problems(&f),
        vec![FlowProblem::UnknownOperator(
            "compare".into(),
            "Matches".into()
        )]
    );
}

#[test]
fn every_shipped_flow_passes() {
    let mut count = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/contact-flows")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let content = std::fs::read_to_string(&path).unwrap();
            assert_eq!(validate(&content), vec![], "{}", path.display());
            count += 1;
        }
    }
    assert!(count >= 1, "contact-flows/ holds at least one flow");
}

#[test]
fn blocking_flow_branches_as_documented() {
    let content = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contact-flows/block-unwanted-callers.json"
    ))
    .unwrap();
    let flow: Value = serde_json::from_str(&content).unwrap();
    let actions = flow["Actions"].as_array().unwrap();
    let by_id = |id: &str| actions.iter().find(|a| a["Identifier"] == id).unwrap();
    let start = by_id(flow["StartAction"].as_str().unwrap());
    assert_eq!(start["Type"], "InvokeLambdaFunction");
    assert_eq!(
        start["Parameters"]["ResponseValidation"]["ResponseType"],
        "STRING_MAP"
    );
    assert_eq!(start["Parameters"]["InvocationTimeLimitSeconds"], "3");

    // Lambda error: the call continues, with CallBlockReport=LookupFailed recorded.
    let on_error = by_id(
        start["Transitions"]["Errors"][0]["NextAction"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        on_error["Parameters"]["Attributes"]["CallBlockReport"],
        "LookupFailed"
    );

    let compare = by_id(start["Transitions"]["NextAction"].as_str().unwrap());
    assert_eq!(compare["Type"], "Compare");
    assert_eq!(
        compare["Parameters"]["ComparisonValue"],
        "$.External.isBlocked"
    );
    let cond = &compare["Transitions"]["Conditions"][0];
    assert_eq!(cond["Condition"]["Operator"], "Equals");
    assert_eq!(cond["Condition"]["Operands"][0], "true");

    // Blocked: record why, tell the caller, disconnect.
    let set = by_id(cond["NextAction"].as_str().unwrap());
    let attrs = &set["Parameters"]["Attributes"];
    assert_eq!(attrs["CallBlockReport"], "BlockedCall");
    for key in ["blockedReason", "matchType", "lookupStatus"] {
        assert_eq!(attrs[key], format!("$.External.{key}"));
    }
    let message = by_id(set["Transitions"]["NextAction"].as_str().unwrap());
    assert_eq!(
        message["Parameters"]["Text"],
        "We are unable to process your call at this time."
    );
    let end = by_id(message["Transitions"]["NextAction"].as_str().unwrap());
    assert_eq!(end["Type"], "DisconnectParticipant");

    // Not blocked and lookup failure both reach the marked normal-path placeholder.
    assert_eq!(
        compare["Transitions"]["NextAction"],
        "normal-path-placeholder"
    );
    assert_eq!(
        on_error["Transitions"]["NextAction"],
        "normal-path-placeholder"
    );
    // Inbound flows end by disconnecting, never with EndFlowExecution.
    assert!(actions.iter().all(|a| a["Type"] != "EndFlowExecution"));
}

mod embedded {
    use connect_blocklist::embedded_flow::{MAX_CONDITIONS_PER_COMPARE, RenderError, render};
    use connect_blocklist::flow::validate;
    use serde_json::Value;

    fn numbers(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("+1415{:07}", 2_000_000 + i))
            .collect()
    }

    #[test]
    fn a_small_list_renders_a_valid_flow_with_the_shared_paths() {
        let list = numbers(250);
        let content = render(&list).unwrap();
        assert_eq!(validate(&content), vec![]);
        let flow: Value = serde_json::from_str(&content).unwrap();
        let actions = flow["Actions"].as_array().unwrap();
        let compares: Vec<_> = actions.iter().filter(|a| a["Type"] == "Compare").collect();
        assert_eq!(
            compares.len(),
            250usize.div_ceil(MAX_CONDITIONS_PER_COMPARE)
        );
        let operands: Vec<&str> = compares
            .iter()
            .flat_map(|c| c["Transitions"]["Conditions"].as_array().unwrap())
            .map(|c| c["Condition"]["Operands"][0].as_str().unwrap())
            .collect();
        assert_eq!(
            operands,
            list.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert!(
            compares
                .iter()
                .all(|c| c["Parameters"]["ComparisonValue"] == "$.CustomerEndpoint.Address")
        );
        let set = actions
            .iter()
            .find(|a| a["Identifier"] == "set-blocked-call-attributes")
            .unwrap();
        assert_eq!(
            set["Parameters"]["Attributes"]["CallBlockReport"],
            "BlockedCall"
        );
        let message = actions
            .iter()
            .find(|a| a["Identifier"] == "play-blocked-message")
            .unwrap();
        assert_eq!(
            message["Parameters"]["Text"],
            "We are unable to process your call at this time."
        );
        // The last compare's no-match goes to the normal path.
        assert_eq!(
            compares.last().unwrap()["Transitions"]["NextAction"],
            "normal-path-placeholder"
        );
    }

    #[test]
    fn a_list_too_large_is_refused_with_the_count_that_fits() {
        let list = numbers(30_000);
        let Err(RenderError::TooLarge {
            numbers: n,
            fit,
            limit,
        }) = render(&list)
        else {
            panic!("30,000 numbers cannot fit one flow");
        };
        assert_eq!(n, 30_000);
        assert!(limit.contains("256000 characters"), "{limit}");
        assert!(fit > 1_000 && fit < 30_000, "{fit}");
        assert!(render(&list[..fit]).is_ok(), "exactly `fit` numbers render");
        assert!(matches!(
            render(&list[..fit + 1]),
            Err(RenderError::TooLarge { .. })
        ));
    }

    #[test]
    fn an_empty_list_is_refused() {
        assert_eq!(render(&[]), Err(RenderError::Empty));
    }
}
