//! The report function: an agent's "Report caller" quick connect invokes it
//! with the contact on the line, and it records the caller as a pending
//! entry (or an active one, with `REPORTS_BLOCK_IMMEDIATELY=true`). It has
//! its own role: it can read and write entries, never delete them, and
//! append audit records.

use aws_sdk_dynamodb::Client;
use serde::Serialize;
use serde_json::Value;

use crate::admin::plan::ReportPolicy;
use crate::admin::{Admin, AdminError, Tables, parse_target};
use crate::config::{Config, LogNumbers};
use crate::entry::Kind;
use crate::event::{CallToCheck, parameter};
use crate::logging::capped;
use crate::phone::Normalizer;

/// Parameter naming the reporting agent (the flow passes `$.Agent.UserName`).
pub const AGENT_PARAMETER: &str = "agent";
/// Optional parameter with the agent's reason.
pub const REASON_PARAMETER: &str = "reason";

/// The report function's answer: a flat map of strings, like the lookup's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportAnswer {
    /// `pending`, `blocked`, `alreadyBlocked`, `alreadyPending`,
    /// `notANumber` (withheld, missing or invalid) or `error`.
    pub report_status: String,
    /// The E.164 number reported, or `""`.
    pub phone_number: String,
}

/// Records agent reports.
#[derive(Debug, Clone)]
pub struct Reporter {
    client: Client,
    tables: Tables,
    normalizer: Normalizer,
    policy: ReportPolicy,
    log_numbers: LogNumbers,
}

impl Reporter {
    pub fn new(client: Client, config: &Config) -> Self {
        Reporter {
            client,
            tables: Tables {
                blocklist: config.table_name.clone(),
                rules: config.rules_table_name.clone(),
                audit: config.audit_table_name.clone(),
            },
            normalizer: Normalizer::new(config.default_country),
            policy: config.reports,
            log_numbers: config.log_numbers,
        }
    }

    /// Handles one invocation from the "Report caller" flow.
    pub async fn handle(&self, event: &Value) -> ReportAnswer {
        let call = CallToCheck::from_event(event);
        let agent = parameter(event, AGENT_PARAMETER).unwrap_or_else(|| "unknown".to_owned());
        let reason = parameter(event, REASON_PARAMETER);
        let admin = Admin::new(
            self.client.clone(),
            self.tables.clone(),
            &format!("agent:{agent}"),
            self.normalizer,
        );
        // Event fields are as long as the event made them: logged cut short.
        let contact_id = capped(call.contact_id.as_deref().unwrap_or(""));
        let logged_agent = capped(&agent);
        let raw = call.raw_number.clone().unwrap_or_default();
        let target = match parse_target(&self.normalizer, Kind::Block, &raw) {
            Ok(target) => target,
            Err(err) => {
                let shown = self.log_numbers.show(&raw);
                tracing::info!(%contact_id, agent = %logged_agent, phone_number = %shown, error = %err.showing(&shown), "report refused");
                return ReportAnswer {
                    report_status: "notANumber".into(),
                    phone_number: String::new(),
                };
            }
        };
        let outcome = admin
            .report(
                &target,
                call.contact_id.as_deref(),
                reason.as_deref(),
                &self.policy,
            )
            .await;
        let shown = self.log_numbers.show(&target.value);
        let status = match &outcome {
            Ok(outcome) => outcome.status(),
            Err(_) => "error",
        };
        match &outcome {
            Ok(_) => {
                tracing::info!(%contact_id, agent = %logged_agent, phone_number = %shown, status, "report")
            }
            Err(err) => report_failed(err, &shown),
        }
        ReportAnswer {
            report_status: status.to_owned(),
            phone_number: if outcome.is_ok() {
                target.value
            } else {
                String::new()
            },
        }
    }
}

fn report_failed(err: &AdminError, number: &str) {
    tracing::warn!(error = %capped(&err.to_string()), phone_number = %number, "report could not be recorded");
}
