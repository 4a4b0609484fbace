//! The report function: an agent's "Report caller" quick connect invokes it
//! with the contact on the line, and it records the caller as a pending
//! entry (or an active one, with `REPORTS_BLOCK_IMMEDIATELY=true`). It has
//! its own role: it can read and write entries, never delete them, and
//! append audit records.

use aws_sdk_dynamodb::Client;
use serde::Serialize;
use serde_json::Value;

use crate::admin::{Admin, AdminError, Tables};
use crate::config::{Config, LogNumbers};
use crate::entry::Kind;
use crate::event::{CallToCheck, parameter};
use crate::phone::{Normalizer, mask};

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
    block_now: bool,
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
            block_now: config.reports_block_immediately,
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
        let raw = call.raw_number.clone().unwrap_or_default();
        let target = match admin.target(Kind::Block, &raw) {
            Ok(target) => target,
            Err(err) => {
                tracing::info!(contact_id = call.contact_id.as_deref().unwrap_or(""), agent, error = %err, "report refused");
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
                self.block_now,
            )
            .await;
        let shown = match self.log_numbers {
            LogNumbers::Masked => mask(&target.value),
            LogNumbers::Full => target.value.clone(),
        };
        let status = match &outcome {
            Ok(outcome) => outcome.status(),
            Err(_) => "error",
        };
        match &outcome {
            Ok(_) => {
                tracing::info!(contact_id = call.contact_id.as_deref().unwrap_or(""), agent, phone_number = %shown, status, "report")
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
    tracing::warn!(error = %err, phone_number = %number, "report could not be recorded");
}
