//! The flow validator, and every flow shipped in contact-flows/.

use connect_blocklist::entry::{BlockAction, Entry};
use connect_blocklist::flow::{FlowProblem, actions_without_position, disconnect_paths, validate};
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
    /// The flow a `TransferToFlow` handed the call to.
    next_flow: Option<String>,
    /// The module returned to the flow that invoked it.
    returned: bool,
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
    let mut run = Run::default();
    let resolve = |v: &Value, attributes: &serde_json::Map<String, Value>| -> String {
        let s = v.as_str().unwrap_or_default();
        if let Some(key) = s.strip_prefix("$.External.") {
            external[key].as_str().unwrap_or_default().to_owned()
        } else if let Some(key) = s.strip_prefix("$.Attributes.") {
            attributes[key].as_str().unwrap_or_default().to_owned()
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
                let value = resolve(&a["Parameters"]["ComparisonValue"], &run.attributes);
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
                    let value = resolve(v, &run.attributes);
                    run.attributes.insert(k.clone(), Value::String(value));
                }
                next()
            }
            "MessageParticipant" => {
                let text = resolve(&a["Parameters"]["Text"], &run.attributes);
                if text.is_empty() {
                    error_branch(a, "NoMatchingError")
                } else {
                    run.said.push(text);
                    next()
                }
            }
            "UpdateContactTargetQueue" => {
                let queue = resolve(&a["Parameters"]["QueueId"], &run.attributes);
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
            "TransferToFlow" => {
                run.next_flow = Some(resolve(&a["Parameters"]["ContactFlowId"], &run.attributes));
                return run;
            }
            "EndFlowModuleExecution" => {
                run.returned = true;
                return run;
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

fn shipped(file: &str) -> Value {
    let path = format!("{}/contact-flows/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn blocking_flow() -> Value {
    shipped("block-unwanted-callers.json")
}

fn module() -> Value {
    shipped("blocklist-module.json")
}

/// `flow` as the stack deploys it with `FailMode=closed`: the one value the
/// template substitutes on the lookup-error path (scripts/sync-template-flow.py).
fn fail_closed(flow: &Value) -> Value {
    let text = flow.to_string().replace(
        r#""blocklistFailMode":"open""#,
        r#""blocklistFailMode":"closed""#,
    );
    assert_ne!(text, flow.to_string(), "the flow sets blocklistFailMode");
    serde_json::from_str(&text).unwrap()
}

/// A real flow ARN, for render-flow.
const NEXT_FLOW_ARN: &str = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/contact-flow/66666666-7777-8888-9999-000000000000";

/// The placeholder of the team's own flow in contact-flows/block-unwanted-callers.json.
const NEXT_FLOW: &str =
    "arn:aws:connect:REGION:ACCOUNT_ID:instance/INSTANCE_ID/contact-flow/NEXT_FLOW_ID";

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
fn allowed_calls_and_lookup_failures_go_on_to_the_teams_flow() {
    let flow = blocking_flow();
    let allowed = json!({"isBlocked": "false", "matchType": "none", "lookupStatus": "ok"});
    let run = simulate(&flow, Some(&allowed), "+14155550199");
    assert_eq!(run.next_flow.as_deref(), Some(NEXT_FLOW));
    assert!(run.said.is_empty());
    assert!(!run.attributes.contains_key("CallBlockReport"));
    let run = simulate(&flow, None, "+14155550199");
    assert_eq!(run.attributes["CallBlockReport"], "LookupFailed");
    assert_eq!(run.next_flow.as_deref(), Some(NEXT_FLOW), "FAIL_MODE=open");
    let invoke = &flow["Actions"][0];
    assert_eq!(
        invoke["Parameters"]["ResponseValidation"]["ResponseType"],
        "STRING_MAP"
    );
    assert_eq!(invoke["Parameters"]["InvocationTimeLimitSeconds"], "3");
    assert_eq!(invoke["Parameters"]["InvocationType"], "SYNCHRONOUS");
    // Inbound flows end by disconnecting or transferring, never with EndFlowExecution.
    assert!(
        flow["Actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["Type"] != "EndFlowExecution")
    );
}

/// With FailMode=closed, a Connect-side failure of the Lambda block (timeout,
/// throttle, invalid response: no answer at all) blocks the call, in the flow
/// and in the module, and says why.
#[test]
fn fail_closed_holds_on_the_lambda_blocks_error_branch() {
    for flow in [blocking_flow(), module()] {
        let run = simulate(&fail_closed(&flow), None, "+14155550199");
        assert_eq!(run.attributes["CallBlockReport"], "BlockedLookupFailed");
        assert_eq!(run.attributes["matchType"], "failClosed");
        assert_eq!(run.said, [STANDARD]);
        assert_eq!(run.visited.last().unwrap(), "disconnect-blocked-caller");
        assert_eq!(run.next_flow, None);
        assert!(!run.returned);
        // A caller the Lambda answered is unaffected by the fail mode.
        let allowed = json!({"isBlocked": "false"});
        let run = simulate(&fail_closed(&flow), Some(&allowed), "+14155550199");
        assert!(run.returned || run.next_flow.is_some());
    }
}

/// The module: the same decision, then a blocked caller is handled inside
/// it and every other caller returns to the flow that invoked it.
#[test]
fn the_module_handles_blocked_callers_and_returns_for_everyone_else() {
    let module = module();
    let run = simulate(
        &module,
        Some(&lambda_answer(None, None, None)),
        "+14155550123",
    );
    assert_eq!(run.said, [STANDARD]);
    assert_eq!(run.attributes["CallBlockReport"], "BlockedCall");
    assert!(!run.returned);
    let run = simulate(
        &module,
        Some(&lambda_answer(Some(BlockAction::Queue), None, Some(QUEUE))),
        "+14155550123",
    );
    assert!(run.transferred && run.queue.as_deref() == Some(QUEUE));
    let run = simulate(
        &module,
        Some(&json!({"isBlocked": "false"})),
        "+14155550199",
    );
    assert!(run.returned && run.said.is_empty());
    let run = simulate(&module, None, "+14155550199");
    assert!(run.returned, "FAIL_MODE=open: a failed lookup returns");
    assert_eq!(run.attributes["CallBlockReport"], "LookupFailed");
    assert_eq!(
        module["Actions"][0]["Parameters"]["InvocationType"],
        "SYNCHRONOUS"
    );
}

/// The module and the inbound flow decide and block identically: every
/// action but the normal path is the same in both.
#[test]
fn the_module_and_the_flow_share_every_action_but_the_normal_path() {
    let actions = |flow: &Value| -> Vec<Value> { flow["Actions"].as_array().unwrap().clone() };
    let (flow, module) = (actions(&blocking_flow()), actions(&module()));
    let normal = |v: &Value| {
        v.to_string()
            .replace("transfer-to-next-flow", "NORMAL")
            .replace("return-to-calling-flow", "NORMAL")
    };
    for action in &module {
        if action["Type"] == "EndFlowModuleExecution" {
            continue;
        }
        let twin = flow
            .iter()
            .find(|a| a["Identifier"] == action["Identifier"])
            .unwrap();
        assert_eq!(normal(twin), normal(action), "{}", action["Identifier"]);
    }
}

/// Walking every branch: a caller who is not blocked (the Lambda answered
/// isBlocked=false, or under FAIL_MODE=open the lookup failed) never reaches
/// a disconnect, except after the transfer to the team's flow itself failed.
#[test]
fn no_path_for_a_caller_who_is_not_blocked_ends_in_a_disconnect() {
    let not_blocked = [("$.External.isBlocked", "false")];
    let flow = blocking_flow();
    let paths = disconnect_paths(&flow, &not_blocked);
    assert!(
        !paths.is_empty(),
        "the failed transfer's own disconnect is found"
    );
    for path in &paths {
        assert!(
            path.after_failed_transfer,
            "a caller who is not blocked is disconnected: {path:?}"
        );
        assert_eq!(
            path.actions.last().unwrap(),
            "disconnect-after-next-flow-failed"
        );
    }
    assert_eq!(disconnect_paths(&module(), &not_blocked), vec![]);
    // Under FAIL_MODE=closed the failed lookup is a block, and the walk finds it.
    let closed = disconnect_paths(&fail_closed(&module()), &not_blocked);
    assert!(closed.iter().all(|p| {
        p.actions
            .contains(&"set-failed-closed-attributes".to_owned())
    }));
    assert!(!closed.is_empty());
    // Without the knowledge that the caller is not blocked, the walk reaches
    // the blocked path too: it follows every branch it cannot decide.
    assert!(disconnect_paths(&module(), &[]).iter().any(|p| {
        p.actions
            .contains(&"set-blocked-call-attributes".to_owned())
    }));
}

/// The walk catches a flow whose not-blocked branch hangs up.
#[test]
fn the_walk_catches_a_not_blocked_branch_that_disconnects() {
    let mut f = good_flow();
    let paths = disconnect_paths(&f, &[("$.External.isBlocked", "false")]);
    assert_eq!(
        paths.len(),
        2,
        "the no-match branch and the Lambda's error branch: {paths:?}"
    );
    assert!(paths.iter().all(|p| !p.after_failed_transfer));
    f["Actions"][1]["Transitions"]["NextAction"] = json!("invoke");
    f["Actions"][1]["Transitions"]["Errors"][0]["NextAction"] = json!("invoke");
    f["Actions"][0]["Transitions"]["Errors"][0]["NextAction"] = json!("compare");
    assert_eq!(
        disconnect_paths(&f, &[("$.External.isBlocked", "false")]),
        vec![],
        "loops end; the only disconnect is behind isBlocked=true"
    );
}

/// Every action of every shipped flow has a place in the flow designer.
#[test]
fn every_shipped_flow_is_laid_out_for_the_designer() {
    for file in [
        "block-unwanted-callers.json",
        "blocklist-module.json",
        "report-caller.json",
    ] {
        assert_eq!(
            actions_without_position(&shipped(file)),
            Vec::<String>::new(),
            "{file}"
        );
    }
    let mut f = blocking_flow();
    f["Metadata"]["ActionMetadata"]
        .as_object_mut()
        .unwrap()
        .remove("check-is-blocked");
    assert_eq!(actions_without_position(&f), ["check-is-blocked"]);
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
        let content = render(&list, super::NEXT_FLOW_ARN).unwrap();
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
        // The last compare's no-match goes on to the team's flow.
        assert_eq!(
            compares.last().unwrap()["Transitions"]["NextAction"],
            "transfer-to-next-flow"
        );
    }

    #[test]
    fn a_list_too_large_is_refused_with_the_count_that_fits() {
        let list = numbers(30_000);
        let Err(RenderError::TooLarge {
            numbers: n,
            fit,
            limit,
        }) = render(&list, super::NEXT_FLOW_ARN)
        else {
            panic!("30,000 numbers cannot fit one flow");
        };
        assert_eq!(n, 30_000);
        assert!(limit.contains("256000 characters"), "{limit}");
        assert!(fit > 1_000 && fit < 30_000, "{fit}");
        assert!(
            render(&list[..fit], super::NEXT_FLOW_ARN).is_ok(),
            "exactly `fit` numbers render"
        );
        assert!(matches!(
            render(&list[..fit + 1], super::NEXT_FLOW_ARN),
            Err(RenderError::TooLarge { .. })
        ));
    }

    /// The embedded flow blocks listed callers the same way, and lets others through.
    #[test]
    fn the_embedded_flow_runs_like_the_blocking_flow() {
        let content = render(&numbers(150), super::NEXT_FLOW_ARN).unwrap();
        let flow: Value = serde_json::from_str(&content).unwrap();
        let listed = super::simulate(&flow, None, "+14152000140");
        assert_eq!(listed.said, [super::STANDARD]);
        assert_eq!(listed.attributes["CallBlockReport"], "BlockedCall");
        let other = super::simulate(&flow, None, "+14155550199");
        assert_eq!(other.next_flow.as_deref(), Some(super::NEXT_FLOW_ARN));
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
        let content = render(&list, super::NEXT_FLOW_ARN).unwrap();
        assert_eq!(validate(&content), vec![]);
        let flow: Value = serde_json::from_str(&content).unwrap();
        let run = |caller: &str| super::simulate_with_prefixes(&flow, caller);
        assert_eq!(run("+19007771234").said, [super::STANDARD], "prefix blocks");
        assert!(
            run("+19007770100").next_flow.is_some(),
            "allow beats the prefix"
        );
        assert!(
            run("+14155550123").next_flow.is_some(),
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

    /// The rendered flow is laid out for the designer like the shipped one.
    #[test]
    fn the_embedded_flow_is_laid_out_for_the_designer() {
        let content = render(&numbers(250), super::NEXT_FLOW_ARN).unwrap();
        let flow: Value = serde_json::from_str(&content).unwrap();
        assert_eq!(super::actions_without_position(&flow), Vec::<String>::new());
        let blocking = super::blocking_flow();
        let position =
            |f: &Value, id: &str| f["Metadata"]["ActionMetadata"][id]["position"].clone();
        assert_eq!(
            position(&flow, "play-blocked-message"),
            position(&blocking, "play-blocked-message")
        );
        assert_ne!(
            position(&flow, "check-caller-1"),
            position(&flow, "check-caller-2")
        );
    }

    #[test]
    fn the_next_flow_must_be_a_flow_arn() {
        let list = numbers(1);
        for bad in [
            "",
            "my-flow",
            "arn:aws:connect:us-east-1:123456789012:instance/i",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
        ] {
            assert_eq!(
                render(&list, bad),
                Err(RenderError::NotAFlowArn(bad.into())),
                "{bad}"
            );
        }
        let content = render(&list, super::NEXT_FLOW_ARN).unwrap();
        assert_eq!(
            super::disconnect_paths(&serde_json::from_str(&content).unwrap(), &[])
                .iter()
                .filter(|p| !p.after_failed_transfer
                    && !p
                        .actions
                        .contains(&"set-blocked-call-attributes".to_owned()))
                .count(),
            0
        );
    }

    #[test]
    fn an_empty_list_is_refused() {
        assert_eq!(render(&[], super::NEXT_FLOW_ARN), Err(RenderError::Empty));
    }
}
