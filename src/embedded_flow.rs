//! The "without DynamoDB" approach: an inbound flow that embeds the list as
//! Compare conditions on the caller's address: allow entries first (they go
//! to the normal path), then blocked numbers (`Equals`) and prefixes
//! (`TextStartsWith`). Its blocked and normal paths are taken from
//! contact-flows/block-unwanted-callers.json, so both flows set the same
//! contact attributes and play the same message.

use serde_json::{Value, json};

use crate::entry::Kind;
use crate::flow::{self, FlowProblem};

/// The shipped Lambda-based flow, whose shared actions this flow reuses.
pub const BLOCKING_FLOW: &str = include_str!("../contact-flows/block-unwanted-callers.json");
/// Conditions per Compare block. Connect documents no limit; 100 keeps each
/// block editable in the flow designer. Longer lists chain more blocks.
pub const MAX_CONDITIONS_PER_COMPARE: usize = 100;
/// The blocking flow's actions reused here, by identifier.
const SHARED_ACTIONS: &[&str] = &[
    "set-blocked-call-attributes",
    "play-blocked-message",
    "disconnect-blocked-caller",
    "normal-path-placeholder",
    "normal-path-placeholder-end",
];
const BLOCKED: &str = "set-blocked-call-attributes";
const NORMAL_PATH: &str = "normal-path-placeholder";
const STANDARD_MESSAGE: &str = "play-blocked-message";

/// The numbers cannot become a flow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("there are no numbers to embed")]
    Empty,
    #[error(
        "{numbers} numbers do not fit in one flow ({limit}); at most {fit} fit (allow entries first, then blocks, in list order). Use the DynamoDB lookup (contact-flows/block-unwanted-callers.json) for lists this long"
    )]
    TooLarge {
        numbers: usize,
        fit: usize,
        limit: String,
    },
    #[error("contact-flows/block-unwanted-callers.json lacks action `{0}`, which this flow reuses")]
    MissingSharedAction(String),
}

/// Renders the flow for `list`: each entry's kind and its E.164 number or
/// prefix (Connect presents the caller's address in E.164). Allow entries
/// are checked first, whatever their place in `list`. The result passes
/// [`flow::validate`].
pub fn render(list: &[(Kind, String)]) -> Result<String, RenderError> {
    if list.is_empty() {
        return Err(RenderError::Empty);
    }
    let numbers: Vec<&(Kind, String)> = list
        .iter()
        .filter(|(k, _)| k.is_allow())
        .chain(list.iter().filter(|(k, _)| !k.is_allow()))
        .collect();
    let numbers = numbers.as_slice();
    let shared = shared_actions()?;
    let content = build(numbers, &shared);
    let problems = flow::validate(&content);
    if problems.is_empty() {
        return Ok(content);
    }
    let limit = problems
        .iter()
        .map(|p| match p {
            FlowProblem::TooManyActions(_) => format!("at most {} actions", flow::MAX_ACTIONS),
            FlowProblem::TooLong(_) => format!("at most {} characters", flow::MAX_CONTENT_CHARS),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    // The largest prefix that renders valid: validity only falls as numbers grow.
    let (mut fits, mut fails) = (0, numbers.len());
    while fails - fits > 1 {
        let mid = (fits + fails) / 2;
        if flow::validate(&build(&numbers[..mid], &shared)).is_empty() {
            fits = mid;
        } else {
            fails = mid;
        }
    }
    Err(RenderError::TooLarge {
        numbers: numbers.len(),
        fit: fits,
        limit,
    })
}

fn shared_actions() -> Result<Vec<Value>, RenderError> {
    let blocking: Value = serde_json::from_str(BLOCKING_FLOW).unwrap_or(Value::Null);
    let actions = blocking["Actions"].as_array().cloned().unwrap_or_default();
    SHARED_ACTIONS
        .iter()
        .map(|id| {
            let mut action = actions
                .iter()
                .find(|a| a["Identifier"] == *id)
                .cloned()
                .ok_or_else(|| RenderError::MissingSharedAction((*id).to_owned()))?;
            if *id == BLOCKED {
                // No Lambda answer to copy from: the flow itself matched, and
                // every embedded number takes the standard message.
                action["Parameters"]["Attributes"] = json!({
                    "CallBlockReport": "BlockedCall",
                    "blockedReason": "listed in the flow",
                    "matchType": "exact",
                    "lookupStatus": "skipped",
                });
                action["Transitions"] = json!({
                    "NextAction": STANDARD_MESSAGE,
                    "Errors": [{"NextAction": STANDARD_MESSAGE, "ErrorType": "NoMatchingError"}],
                });
            }
            Ok(action)
        })
        .collect()
}

fn build(numbers: &[&(Kind, String)], shared: &[Value]) -> String {
    let chunks: Vec<&[&(Kind, String)]> = numbers.chunks(MAX_CONDITIONS_PER_COMPARE).collect();
    let id = |i: usize| format!("check-caller-{}", i + 1);
    let mut actions: Vec<Value> = chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let next = if i + 1 < chunks.len() { id(i + 1) } else { NORMAL_PATH.to_owned() };
            let conditions: Vec<Value> = chunk
                .iter()
                .map(|(kind, value)| {
                    let operator = if kind.is_prefix() { "TextStartsWith" } else { "Equals" };
                    let next = if kind.is_allow() { NORMAL_PATH } else { BLOCKED };
                    json!({"NextAction": next, "Condition": {"Operator": operator, "Operands": [value]}})
                })
                .collect();
            json!({
                "Identifier": id(i),
                "Type": "Compare",
                "Parameters": {"ComparisonValue": "$.CustomerEndpoint.Address"},
                "Transitions": {
                    "NextAction": next,
                    "Conditions": conditions,
                    "Errors": [{"NextAction": next, "ErrorType": "NoMatchingCondition"}],
                },
            })
        })
        .collect();
    actions.extend(shared.iter().cloned());
    let flow = json!({
        "Version": flow::FLOW_VERSION,
        "StartAction": id(0),
        "Actions": actions,
    });
    // Compact: the character limit is what bounds long lists.
    flow.to_string()
}
