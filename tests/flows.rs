//! The flow validator, and every flow shipped in contact-flows/.

use connect_blocklist::entry::{BlockAction, Entry};
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

/// What a call did in a flow, as far as the blocklist cares.
#[derive(Debug, Default)]
struct Run {
    attributes: serde_json::Map<String, Value>,
    said: Vec<String>,
    queue: Option<String>,
    transferred: bool,
    visited: Vec<String>,
}

/// Walks a flow for one call: `lambda` is the function's answer (`None`: the
/// invocation failed); `caller` is `$.CustomerEndpoint.Address`. Actions that
/// would fail in Connect (empty message text, empty queue) take their error
/// branch.
fn simulate(flow: &Value, lambda: Option<&Value>, caller: &str) -> Run {
    let actions = flow["Actions"].as_array().unwrap();
    let by_id = |id: &str| {
        actions
            .iter()
            .find(|a| a["Identifier"] == id)
            .unwrap_or_else(|| panic!("no action {id}"))
    };
    let external = lambda.cloned().unwrap_or(Value::Null);
    let resolve = |v: &Value| -> String {
        let s = v.as_str().unwrap_or_default();
        if let Some(key) = s.strip_prefix("$.External.") {
            external[key].as_str().unwrap_or_default().to_owned()
        } else if s == "$.CustomerEndpoint.Address" {
            caller.to_owned()
        } else {
            s.to_owned()
        }
    };
    let error_branch = |a: &Value, kind: &str| -> String {
        let errors = a["Transitions"]["Errors"].as_array().unwrap();
        let e = errors
            .iter()
            .find(|e| e["ErrorType"] == kind)
            .or(errors.first())
            .unwrap();
        e["NextAction"].as_str().unwrap().to_owned()
    };
    let mut run = Run::default();
    let mut id = flow["StartAction"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        run.visited.push(id.clone());
        let a = by_id(&id);
        let next = || {
            a["Transitions"]["NextAction"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        id = match a["Type"].as_str().unwrap() {
            "InvokeLambdaFunction" if lambda.is_none() => error_branch(a, "NoMatchingError"),
            "InvokeLambdaFunction" => next(),
            "Compare" => {
                let value = resolve(&a["Parameters"]["ComparisonValue"]);
                let matched = a["Transitions"]["Conditions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| {
                        let operand = c["Condition"]["Operands"][0].as_str().unwrap_or_default();
                        match c["Condition"]["Operator"].as_str() {
                            Some("Equals") => value == operand,
                            Some("TextStartsWith") => value.starts_with(operand),
                            other => panic!("the simulator does not know {other:?}"),
                        }
                    });
                match matched {
                    Some(c) => c["NextAction"].as_str().unwrap().to_owned(),
                    None => error_branch(a, "NoMatchingCondition"),
                }
            }
            "UpdateContactAttributes" => {
                for (k, v) in a["Parameters"]["Attributes"].as_object().unwrap() {
                    run.attributes.insert(k.clone(), Value::String(resolve(v)));
                }
                next()
            }
            "MessageParticipant" => {
                let text = resolve(&a["Parameters"]["Text"]);
                if text.is_empty() {
                    error_branch(a, "NoMatchingError")
                } else {
                    run.said.push(text);
                    next()
                }
            }
            "UpdateContactTargetQueue" => {
                let queue = resolve(&a["Parameters"]["QueueId"]);
                if queue.is_empty() {
                    error_branch(a, "NoMatchingError")
                } else {
                    run.queue = Some(queue);
                    next()
                }
            }
            "TransferContactToQueue" => {
                run.transferred = true;
                next()
            }
            "DisconnectParticipant" => return run,
            other => panic!("the simulator does not know {other}"),
        };
    }
    panic!("the flow did not end within 100 actions: {:?}", run.visited);
}

/// The simulator on a flow without a Lambda (the embedded one).
fn simulate_with_prefixes(flow: &Value, caller: &str) -> Run {
    simulate(flow, None, caller)
}

fn blocking_flow() -> Value {
    let content = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contact-flows/block-unwanted-callers.json"
    ))
    .unwrap();
    serde_json::from_str(&content).unwrap()
}

/// The Lambda's real answer for an exact entry with this action.
fn lambda_answer(action: Option<BlockAction>, message: Option<&str>, queue: Option<&str>) -> Value {
    use connect_blocklist::decision::{Facts, Lookup, Policy, decide};
    use connect_blocklist::phone::{CallerId, E164};
    use connect_blocklist::rules::RuleSet;
    let entry = Entry {
        value: "+14155550123".into(),
        reason: Some("fraud".into()),
        action,
        message: message.map(str::to_owned),
        queue_arn: queue.map(str::to_owned),
        ..Entry::default()
    };
    let caller = CallerId::Valid(E164::from_canonical("+14155550123").unwrap());
    let lookup = Lookup::Found(Some(Box::new(entry)));
    let rules = RuleSet::default();
    let facts = Facts {
        caller: &caller,
        rule_key: Some("+14155550123"),
        rules: Some(&rules),
        lookup: Some(&lookup),
        line: None,
        calls_in_window: None,
    };
    serde_json::to_value(decide(&facts, &Policy::default(), 0)).unwrap()
}

const STANDARD: &str = "We are unable to process your call at this time.";
const QUEUE: &str = "arn:aws:connect:us-east-1:123456789012:instance/i/queue/fraud";

#[test]
fn blocked_calls_take_their_entry_action() {
    let flow = blocking_flow();
    let run = simulate(
        &flow,
        Some(&lambda_answer(None, None, None)),
        "+14155550123",
    );
    assert_eq!(run.said, [STANDARD]);
    assert_eq!(run.attributes["CallBlockReport"], "BlockedCall");
    for (key, want) in [
        ("blockedReason", "fraud"),
        ("matchType", "exact"),
        ("lookupStatus", "ok"),
        ("blockAction", "disconnect"),
        ("matchedRule", "+14155550123"),
    ] {
        assert_eq!(run.attributes[key], want, "{key}");
    }
    assert!(!run.transferred);

    let run = simulate(
        &flow,
        Some(&lambda_answer(
            Some(BlockAction::Message),
            Some("Please write to us."),
            None,
        )),
        "+14155550123",
    );
    assert_eq!(run.said, ["Please write to us."]);
    assert!(
        run.visited
            .last()
            .is_some_and(|a| a == "disconnect-blocked-caller")
    );

    let run = simulate(
        &flow,
        Some(&lambda_answer(Some(BlockAction::Queue), None, Some(QUEUE))),
        "+14155550123",
    );
    assert_eq!(run.queue.as_deref(), Some(QUEUE));
    assert!(run.transferred);
    assert!(run.said.is_empty(), "routed to the fraud team, no message");
}

/// An answer without the action keys (an older function) or with them empty
/// still blocks with the standard message.
#[test]
fn blocked_calls_work_when_action_keys_are_empty() {
    let flow = blocking_flow();
    let older = json!({"isBlocked": "true", "blockedReason": "spam", "matchType": "exact", "lookupStatus": "ok"});
    let run = simulate(&flow, Some(&older), "+14155550123");
    assert_eq!(run.said, [STANDARD]);
    assert_eq!(run.attributes["CallBlockReport"], "BlockedCall");
    for broken in [
        json!({"isBlocked": "true", "blockAction": "message", "blockMessage": ""}),
        json!({"isBlocked": "true", "blockAction": "queue", "blockQueueArn": ""}),
        json!({"isBlocked": "true", "blockAction": "something-new"}),
    ] {
        let run = simulate(&flow, Some(&broken), "+14155550123");
        assert_eq!(run.said, [STANDARD], "{broken}");
        assert!(!run.transferred);
    }
}

#[test]
fn allowed_calls_and_lookup_failures_take_the_normal_path() {
    let flow = blocking_flow();
    let allowed = json!({"isBlocked": "false", "matchType": "none", "lookupStatus": "ok"});
    let run = simulate(&flow, Some(&allowed), "+14155550199");
    assert!(run.visited.contains(&"normal-path-placeholder".to_owned()));
    assert!(!run.attributes.contains_key("CallBlockReport"));
    let run = simulate(&flow, None, "+14155550199");
    assert_eq!(run.attributes["CallBlockReport"], "LookupFailed");
    assert!(run.visited.contains(&"normal-path-placeholder".to_owned()));
    assert_eq!(
        flow["Actions"][0]["Parameters"]["ResponseValidation"]["ResponseType"],
        "STRING_MAP"
    );
    assert_eq!(
        flow["Actions"][0]["Parameters"]["InvocationTimeLimitSeconds"],
        "3"
    );
    // Inbound flows end by disconnecting, never with EndFlowExecution.
    assert!(
        flow["Actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["Type"] != "EndFlowExecution")
    );
}

#[test]
fn report_flow_tells_the_agent_what_happened() {
    let content = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contact-flows/report-caller.json"
    ))
    .unwrap();
    let flow: Value = serde_json::from_str(&content).unwrap();
    let invoke = &flow["Actions"][0];
    assert_eq!(invoke["Type"], "InvokeLambdaFunction");
    assert_eq!(
        invoke["Parameters"]["LambdaInvocationAttributes"]["agent"],
        "$.Agent.UserName"
    );
    let mut said = std::collections::BTreeSet::new();
    for status in [
        "pending",
        "blocked",
        "alreadyBlocked",
        "alreadyPending",
        "notANumber",
        "error",
    ] {
        let run = simulate(
            &flow,
            Some(&json!({"reportStatus": status, "phoneNumber": "+14155550177"})),
            "+14155550177",
        );
        assert_eq!(run.said.len(), 1, "{status}");
        said.insert(run.said[0].clone());
    }
    assert_eq!(said.len(), 6, "a different message for each outcome");
    let failed = simulate(&flow, None, "+14155550177");
    assert!(failed.said[0].contains("could not be recorded"));
}

mod embedded {
    use connect_blocklist::embedded_flow::{MAX_CONDITIONS_PER_COMPARE, RenderError, render};
    use connect_blocklist::entry::Kind;
    use connect_blocklist::flow::validate;
    use serde_json::Value;

    fn numbers(n: usize) -> Vec<(Kind, String)> {
        (0..n)
            .map(|i| (Kind::Block, format!("+1415{:07}", 2_000_000 + i)))
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
            list.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>()
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

    /// The embedded flow blocks listed callers the same way, and lets others through.
    #[test]
    fn the_embedded_flow_runs_like_the_blocking_flow() {
        let content = render(&numbers(150)).unwrap();
        let flow: Value = serde_json::from_str(&content).unwrap();
        let listed = super::simulate(&flow, None, "+14152000140");
        assert_eq!(listed.said, [super::STANDARD]);
        assert_eq!(listed.attributes["CallBlockReport"], "BlockedCall");
        let other = super::simulate(&flow, None, "+14155550199");
        assert!(
            other
                .visited
                .contains(&"normal-path-placeholder".to_owned())
        );
        assert!(!other.attributes.contains_key("CallBlockReport"));
    }

    /// Prefixes block by TextStartsWith; allow entries win over both, as in the Lambda.
    #[test]
    fn prefixes_and_allow_entries_are_embedded_with_allow_first() {
        let list = vec![
            (Kind::Block, "+14155550123".to_owned()),
            (Kind::Prefix, "+1900".to_owned()),
            (Kind::Allow, "+19007770100".to_owned()),
            (Kind::AllowPrefix, "+1415555".to_owned()),
        ];
        let content = render(&list).unwrap();
        assert_eq!(validate(&content), vec![]);
        let flow: Value = serde_json::from_str(&content).unwrap();
        let run = |caller: &str| super::simulate_with_prefixes(&flow, caller);
        assert_eq!(run("+19007771234").said, [super::STANDARD], "prefix blocks");
        assert!(
            run("+19007770100")
                .visited
                .contains(&"normal-path-placeholder".to_owned()),
            "allow beats the prefix"
        );
        assert!(
            run("+14155550123")
                .visited
                .contains(&"normal-path-placeholder".to_owned()),
            "allow prefix beats the exact block"
        );
        assert_eq!(run("+14155550124").attributes.get("CallBlockReport"), None);
        let first_conditions = &flow["Actions"][0]["Transitions"]["Conditions"];
        assert_eq!(
            first_conditions[0]["Condition"]["Operands"][0], "+19007770100",
            "allow entries come first"
        );
        assert_eq!(
            first_conditions[1]["Condition"]["Operator"],
            "TextStartsWith"
        );
    }

    #[test]
    fn an_empty_list_is_refused() {
        assert_eq!(render(&[]), Err(RenderError::Empty));
    }
}
