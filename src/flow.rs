//! A validator for Amazon Connect flow-language documents (Version
//! 2019-10-30): the checks Connect applies on import that can be made
//! offline, plus this project's rule that every action that can fail
//! handles its errors.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::Value;

/// The only flow-language version.
pub const FLOW_VERSION: &str = "2019-10-30";
/// Most actions one flow may hold.
pub const MAX_ACTIONS: usize = 250;
/// Most characters of flow content.
pub const MAX_CONTENT_CHARS: usize = 256_000;
/// Longest action identifier.
pub const MAX_IDENTIFIER_CHARS: usize = 50;
/// Characters an identifier may not contain.
pub const FORBIDDEN_IDENTIFIER_CHARS: &[char] = &[
    '%', ':', '(', '\\', '/', ')', '=', '$', ',', ';', '[', ']', '{', '}',
];
/// Strings an identifier may not be.
pub const FORBIDDEN_IDENTIFIERS: &[&str] = &[
    "__proto__",
    "constructor",
    "__defineGetter__",
    "__defineSetter__",
    "toString",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "valueOf",
];
/// Operators of `Compare` conditions.
pub const COMPARE_OPERATORS: &[&str] = &[
    "Equals",
    "TextStartsWith",
    "TextEndsWith",
    "TextContains",
    "NumberGreaterThan",
    "NumberGreaterOrEqualTo",
    "NumberLessThan",
    "NumberLessOrEqualTo",
];
/// Actions that end the flow (or, `EndFlowModuleExecution`, a module's run:
/// the Return block): their `Transitions` must be empty.
pub const TERMINAL_ACTIONS: &[&str] = &[
    "DisconnectParticipant",
    "EndFlowExecution",
    "EndFlowModuleExecution",
];
/// Actions that have an error branch in the flow language, so must list
/// `Errors` in their transitions.
pub const ACTIONS_WITH_ERRORS: &[&str] = &[
    "InvokeLambdaFunction",
    "Compare",
    "UpdateContactAttributes",
    "MessageParticipant",
    "MessageParticipantIteratively",
    "GetParticipantInput",
    "ConnectParticipantWithLexBot",
    "UpdateContactTargetQueue",
    "TransferContactToQueue",
    "TransferToFlow",
    "TransferParticipantToThirdParty",
    "CheckHoursOfOperation",
    "CheckMetricData",
    "DistributeByPercentage",
    "CreateTask",
    "InvokeFlowModule",
];

/// One way a flow breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowProblem {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("content is {0} characters; a flow may have at most {MAX_CONTENT_CHARS}")]
    TooLong(usize),
    #[error("`Version` is {0:?}; it must be \"{FLOW_VERSION}\"")]
    WrongVersion(String),
    #[error("`Actions` is missing or not a list")]
    NoActions,
    #[error("{0} actions; a flow may have at most {MAX_ACTIONS}")]
    TooManyActions(usize),
    #[error("action #{0} has no string `Identifier`")]
    MissingIdentifier(usize),
    #[error("action {0:?} has no string `Type`")]
    MissingType(String),
    #[error("identifier {0:?} is used by more than one action")]
    DuplicateIdentifier(String),
    #[error("identifier {0:?} is longer than {MAX_IDENTIFIER_CHARS} characters")]
    IdentifierTooLong(String),
    #[error("identifier {0:?} contains a character not allowed: % : ( \\ / ) = $ , ; [ ] {{ }}")]
    IdentifierForbiddenChar(String),
    #[error("identifier {0:?} is a reserved word")]
    IdentifierReserved(String),
    #[error("`StartAction` {0:?} names no action")]
    UnknownStartAction(String),
    #[error("action {from:?} goes to {to:?}, which names no action")]
    UnknownNextAction { from: String, to: String },
    #[error("terminal action {0:?} must have empty `Transitions`")]
    TerminalWithTransitions(String),
    #[error("action {0:?} ({1}) can fail but has no `Errors` transitions")]
    MissingErrors(String, String),
    #[error("action {0:?} cannot be reached from `StartAction`")]
    Unreachable(String),
    #[error("action {0:?} uses compare operator {1:?}, which the flow language does not have")]
    UnknownOperator(String, String),
    #[error("action {0:?} ({1}) is not terminal but has no transitions")]
    DeadEnd(String, String),
}

/// Validates flow content (the JSON text as it would be imported).
/// Returns every problem found; an empty list means the flow passes.
pub fn validate(content: &str) -> Vec<FlowProblem> {
    let mut problems = Vec::new();
    let Some(flow) = check_document(content, &mut problems) else {
        return problems;
    };
    let actions = flow
        .get("Actions")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let by_id = check_identifiers(actions, &mut problems);
    let edges = check_actions(&by_id, &mut problems);
    check_next_actions(&by_id, &edges, &mut problems);
    check_reachable(&flow, &by_id, &edges, &mut problems);
    problems
}

/// Actions by identifier, and the identifiers each one leads to.
type ById<'a> = HashMap<&'a str, &'a Value>;
type Edges<'a> = HashMap<&'a str, Vec<&'a str>>;

/// Length, JSON, `Version` and `Actions`: the document, when it has a list
/// of actions to check further.
fn check_document(content: &str, problems: &mut Vec<FlowProblem>) -> Option<Value> {
    let chars = content.chars().count();
    if chars > MAX_CONTENT_CHARS {
        problems.push(FlowProblem::TooLong(chars));
    }
    let flow: Value = match serde_json::from_str(content) {
        Ok(v) => v,
        Err(e) => {
            problems.push(FlowProblem::NotJson(e.to_string()));
            return None;
        }
    };
    let version = flow
        .get("Version")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if version != FLOW_VERSION {
        problems.push(FlowProblem::WrongVersion(version.to_owned()));
    }
    let Some(count) = flow.get("Actions").and_then(Value::as_array).map(Vec::len) else {
        problems.push(FlowProblem::NoActions);
        return None;
    };
    if count > MAX_ACTIONS {
        problems.push(FlowProblem::TooManyActions(count));
    }
    Some(flow)
}

/// Each action has an identifier that is unique, short enough and allowed.
fn check_identifiers<'a>(actions: &'a [Value], problems: &mut Vec<FlowProblem>) -> ById<'a> {
    let mut by_id = HashMap::new();
    for (i, action) in actions.iter().enumerate() {
        let Some(id) = action.get("Identifier").and_then(Value::as_str) else {
            problems.push(FlowProblem::MissingIdentifier(i));
            continue;
        };
        if by_id.insert(id, action).is_some() {
            problems.push(FlowProblem::DuplicateIdentifier(id.to_owned()));
        }
        if id.chars().count() > MAX_IDENTIFIER_CHARS {
            problems.push(FlowProblem::IdentifierTooLong(id.to_owned()));
        }
        if id.contains(FORBIDDEN_IDENTIFIER_CHARS) {
            problems.push(FlowProblem::IdentifierForbiddenChar(id.to_owned()));
        }
        if FORBIDDEN_IDENTIFIERS.contains(&id) {
            problems.push(FlowProblem::IdentifierReserved(id.to_owned()));
        }
    }
    by_id
}

/// The per-action rules (type, transitions, error branches, operators);
/// returns the graph of transitions.
fn check_actions<'a>(by_id: &ById<'a>, problems: &mut Vec<FlowProblem>) -> Edges<'a> {
    let mut edges: Edges<'a> = HashMap::new();
    for (&id, &action) in by_id {
        let Some(kind) = action.get("Type").and_then(Value::as_str) else {
            problems.push(FlowProblem::MissingType(id.to_owned()));
            continue;
        };
        let transitions = action.get("Transitions");
        let is_empty = transitions
            .and_then(Value::as_object)
            .is_none_or(|t| t.is_empty());
        if TERMINAL_ACTIONS.contains(&kind) {
            if !is_empty {
                problems.push(FlowProblem::TerminalWithTransitions(id.to_owned()));
            }
            continue;
        }
        if is_empty {
            problems.push(FlowProblem::DeadEnd(id.to_owned(), kind.to_owned()));
        }
        let errors = transitions
            .and_then(|t| t.get("Errors"))
            .and_then(Value::as_array);
        if ACTIONS_WITH_ERRORS.contains(&kind) && errors.is_none_or(|e| e.is_empty()) {
            problems.push(FlowProblem::MissingErrors(id.to_owned(), kind.to_owned()));
        }
        let conditions = transitions
            .and_then(|t| t.get("Conditions"))
            .and_then(Value::as_array);
        if kind == "Compare" {
            check_operators(id, conditions.into_iter().flatten(), problems);
        }
        let branches = conditions
            .into_iter()
            .flatten()
            .chain(errors.into_iter().flatten());
        let next_actions = transitions
            .into_iter()
            .chain(branches)
            .filter_map(|t| t.get("NextAction").and_then(Value::as_str));
        edges.entry(id).or_default().extend(next_actions);
    }
    edges
}

/// Each `Compare` condition uses an operator the flow language has.
fn check_operators<'a>(
    id: &str,
    conditions: impl Iterator<Item = &'a Value>,
    problems: &mut Vec<FlowProblem>,
) {
    for condition in conditions {
        let op = condition
            .pointer("/Condition/Operator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !COMPARE_OPERATORS.contains(&op) {
            problems.push(FlowProblem::UnknownOperator(id.to_owned(), op.to_owned()));
        }
    }
}

/// Every transition leads to an action that exists.
fn check_next_actions(by_id: &ById<'_>, edges: &Edges<'_>, problems: &mut Vec<FlowProblem>) {
    let mut unknown: Vec<FlowProblem> = edges
        .iter()
        .flat_map(|(&from, tos)| {
            tos.iter()
                .filter(|to| !by_id.contains_key(*to))
                .map(move |to| FlowProblem::UnknownNextAction {
                    from: from.to_owned(),
                    to: (*to).to_owned(),
                })
        })
        .collect();
    unknown.sort_by_key(|p| p.to_string());
    problems.extend(unknown);
}

/// `StartAction` exists and every action can be reached from it.
fn check_reachable(
    flow: &Value,
    by_id: &ById<'_>,
    edges: &Edges<'_>,
    problems: &mut Vec<FlowProblem>,
) {
    let start = flow
        .get("StartAction")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !by_id.contains_key(start) {
        problems.push(FlowProblem::UnknownStartAction(start.to_owned()));
        return;
    }
    let mut seen: HashSet<&str> = HashSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(id) = queue.pop_front() {
        for &next in edges.get(id).into_iter().flatten() {
            if by_id.contains_key(next) && seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    let mut unreachable: Vec<&str> = by_id
        .keys()
        .copied()
        .filter(|id| !seen.contains(id))
        .collect();
    unreachable.sort_unstable();
    problems.extend(
        unreachable
            .into_iter()
            .map(|id| FlowProblem::Unreachable(id.to_owned())),
    );
}

/// What a caller who is not blocked is assumed to bring to a walk of the
/// flow: the values of the flow data a `Compare` may test (`$.External.isBlocked`
/// = `false`, say). A `Compare` on any other value may take any branch.
pub type Known<'a> = &'a [(&'a str, &'a str)];

/// One way a caller can reach a disconnect: the identifiers of the actions
/// from `StartAction` to the `DisconnectParticipant`, and whether the path
/// left a `TransferToFlow` by its error branch (the next flow deleted or
/// unpublished: the only way out of a flow that no longer has anywhere to go).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisconnectPath {
    pub actions: Vec<String>,
    pub after_failed_transfer: bool,
}

/// Every path through `flow` that ends in a `DisconnectParticipant` for a
/// caller the `known` values describe. Every branch is followed (error
/// branches included: a Lambda block can always fail), except where a
/// `Compare` tests a value that is known, either from `known` or from an
/// `UpdateContactAttributes` with a static value earlier on the same path
/// (`$.Attributes.<name>`): there only the branch that value takes is
/// followed. A path visits an action at most once, so loops end.
pub fn disconnect_paths(flow: &Value, known: Known<'_>) -> Vec<DisconnectPath> {
    let actions = flow
        .get("Actions")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let by_id: ById<'_> = actions
        .iter()
        .filter_map(|a| Some((a.get("Identifier")?.as_str()?, a)))
        .collect();
    let mut walk = Walk {
        by_id,
        found: Vec::new(),
    };
    let values = known
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if let Some(start) = flow.get("StartAction").and_then(Value::as_str) {
        walk.visit(start, &mut Vec::new(), &values, false);
    }
    walk.found
}

struct Walk<'a> {
    by_id: ById<'a>,
    found: Vec<DisconnectPath>,
}

impl<'a> Walk<'a> {
    fn visit(
        &mut self,
        id: &'a str,
        path: &mut Vec<&'a str>,
        values: &HashMap<String, String>,
        after_failed_transfer: bool,
    ) {
        let Some(&action) = self.by_id.get(id) else {
            return;
        };
        if path.contains(&id) {
            return;
        }
        path.push(id);
        let kind = action
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if kind == "DisconnectParticipant" {
            self.found.push(DisconnectPath {
                actions: path.iter().map(|s| (*s).to_owned()).collect(),
                after_failed_transfer,
            });
        }
        let mut values = values.clone();
        if kind == "UpdateContactAttributes" {
            record_static_attributes(action, &mut values);
        }
        let mut next_actions = branches(action, kind, &values);
        // A default and a no-match branch often lead to the same action: one path.
        next_actions.sort_unstable();
        next_actions.dedup();
        for (next, is_transfer_error) in next_actions {
            self.visit(
                next,
                path,
                &values,
                after_failed_transfer || is_transfer_error,
            );
        }
        path.pop();
    }
}

/// Attributes an `UpdateContactAttributes` sets to static text become known
/// as `$.Attributes.<name>`; one set from flow data becomes unknown again.
fn record_static_attributes(action: &Value, values: &mut HashMap<String, String>) {
    let attributes = action
        .pointer("/Parameters/Attributes")
        .and_then(Value::as_object);
    for (name, value) in attributes.into_iter().flatten() {
        let key = format!("$.Attributes.{name}");
        match value.as_str() {
            Some(text) if !text.starts_with("$.") => values.insert(key, text.to_owned()),
            _ => values.remove(&key),
        };
    }
}

/// The branches a walk follows out of `action`, each with whether it is a
/// `TransferToFlow`'s error branch.
fn branches<'a>(
    action: &'a Value,
    kind: &str,
    values: &HashMap<String, String>,
) -> Vec<(&'a str, bool)> {
    let transitions = action.get("Transitions");
    let list = |key: &str| {
        transitions
            .and_then(|t| t.get(key))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let target = |v: &'a Value| v.get("NextAction").and_then(Value::as_str);
    let default = transitions.and_then(target);
    let tested = action
        .pointer("/Parameters/ComparisonValue")
        .and_then(Value::as_str)
        .and_then(|path| values.get(path));
    if let (true, Some(value)) = (kind == "Compare", tested) {
        // The first condition the value meets, else the no-match branches.
        if let Some(hit) = list("Conditions")
            .iter()
            .find(|c| condition_holds(c, value))
        {
            return target(hit).map(|n| (n, false)).into_iter().collect();
        }
        let no_match = list("Errors").iter().filter_map(target);
        return default
            .into_iter()
            .chain(no_match)
            .map(|n| (n, false))
            .collect();
    }
    let is_transfer = kind == "TransferToFlow";
    // A transfer that succeeds leaves the flow: what follows it is its failure.
    let conditions = list("Conditions")
        .iter()
        .filter_map(target)
        .map(|n| (n, false));
    let errors = list("Errors")
        .iter()
        .filter_map(target)
        .map(|n| (n, is_transfer));
    default
        .map(|n| (n, is_transfer))
        .into_iter()
        .chain(conditions)
        .chain(errors)
        .collect()
}

/// Whether a `Compare` condition holds for `value`; numeric operators are
/// taken to hold (the walk then follows that branch too, erring towards
/// more paths).
fn condition_holds(condition: &Value, value: &str) -> bool {
    let operand = condition
        .pointer("/Condition/Operands/0")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match condition
        .pointer("/Condition/Operator")
        .and_then(Value::as_str)
    {
        Some("Equals") => value == operand,
        Some("TextStartsWith") => value.starts_with(operand),
        Some("TextEndsWith") => value.ends_with(operand),
        Some("TextContains") => value.contains(operand),
        _ => true,
    }
}

/// Identifiers of the actions that have no designer position
/// (`Metadata.ActionMetadata.<id>.position`): the flow designer piles those
/// up in one corner of an imported flow.
pub fn actions_without_position(flow: &Value) -> Vec<String> {
    let positions = flow.pointer("/Metadata/ActionMetadata");
    flow.get("Actions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("Identifier").and_then(Value::as_str))
        .filter(|id| {
            positions
                .and_then(|p| p.get(*id))
                .and_then(|m| m.get("position"))
                .is_none_or(|p| !(p["x"].is_number() && p["y"].is_number()))
        })
        .map(str::to_owned)
        .collect()
}
