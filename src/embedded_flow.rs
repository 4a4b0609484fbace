//! The "without DynamoDB" approach: an inbound flow that embeds the list as
//! Compare conditions on the caller's address: allow entries first (they go
//! to the normal path), then blocked numbers (`Equals`) and prefixes
//! (`TextStartsWith`). Its blocked and normal paths are taken from
//! contact-flows/block-unwanted-callers.json, so both flows set the same
//! contact attributes, play the same message and hand callers who are not
//! blocked to the team's own flow the same way.

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
    "transfer-to-next-flow",
    "set-next-flow-failed",
    "play-next-flow-failed",
    "disconnect-after-next-flow-failed",
];
const BLOCKED: &str = "set-blocked-call-attributes";
const NORMAL_PATH: &str = "transfer-to-next-flow";
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
    #[error(
        "{0:?} is not a contact flow ARN; give the ARN of the flow that takes the calls that are not blocked (arn:aws:connect:REGION:ACCOUNT:instance/ID/contact-flow/ID, shown in the flow designer under \"Show additional flow information\")"
    )]
    NotAFlowArn(String),
}

/// Renders the flow for `list`: each entry's kind and its E.164 number or
/// prefix (Connect presents the caller's address in E.164). Allow entries
/// are checked first, whatever their place in `list`. The result passes
/// [`flow::validate`]. Callers who are not blocked go on to `next_flow`
/// (a contact flow ARN).
pub fn render(list: &[(Kind, String)], next_flow: &str) -> Result<String, RenderError> {
    if list.is_empty() {
        return Err(RenderError::Empty);
    }
    if !is_flow_arn(next_flow) {
        return Err(RenderError::NotAFlowArn(next_flow.to_owned()));
    }
    let numbers: Vec<&(Kind, String)> = list
        .iter()
        .filter(|(k, _)| k.is_allow())
        .chain(list.iter().filter(|(k, _)| !k.is_allow()))
        .collect();
    let numbers = numbers.as_slice();
    let shared = shared_actions(next_flow)?;
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

/// `arn:<partition>:connect:<region>:<account>:instance/<id>/contact-flow/<id>`.
fn is_flow_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let resource: Vec<&str> = parts.get(5).map_or(vec![], |r| r.split('/').collect());
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "connect"
        && resource.len() == 4
        && resource[0] == "instance"
        && resource[2] == "contact-flow"
        && resource.iter().all(|p| !p.is_empty())
}

fn shared_actions(next_flow: &str) -> Result<Vec<Value>, RenderError> {
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
            if *id == NORMAL_PATH {
                action["Parameters"]["ContactFlowId"] = json!(next_flow);
            }
            Ok(action)
        })
        .collect()
}

/// Designer positions: the Compare blocks in a column on the left, the
/// shared actions where the blocking flow has them (its decision column is
/// where this flow's Compares are).
fn layout(compares: usize, id: &dyn Fn(usize) -> String) -> Value {
    let blocking: Value = serde_json::from_str(BLOCKING_FLOW).unwrap_or(Value::Null);
    let mut positions = serde_json::Map::new();
    for shared in SHARED_ACTIONS {
        if let Some(position) = blocking.pointer(&format!("/Metadata/ActionMetadata/{shared}")) {
            positions.insert((*shared).to_owned(), position.clone());
        }
    }
    for i in 0..compares {
        let y = 40 + 180 * i;
        positions.insert(id(i), json!({"position": {"x": 200, "y": y}}));
    }
    json!({"entryPointPosition": {"x": 40, "y": 40}, "ActionMetadata": positions})
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
        "Metadata": layout(chunks.len(), &id),
        "Actions": actions,
    });
    // Compact: the character limit is what bounds long lists.
    flow.to_string()
}
