//! The Amazon Connect `ContactFlowEvent`, read tolerantly: unknown fields are
//! ignored, fields of the wrong type are treated as absent, and a null or
//! missing `CustomerEndpoint` (chat, tasks) is normal.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The parts of a Connect Lambda event the blocklist uses.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectEvent {
    /// `ContactFlowEvent` for flow invocations.
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub details: Option<Details>,
}

/// `Details` of a Connect event.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Details {
    #[serde(default, deserialize_with = "lenient")]
    pub contact_data: Option<ContactData>,
    /// Values the flow passes in the Invoke block's parameters.
    #[serde(default, deserialize_with = "lenient")]
    pub parameters: Option<Map<String, Value>>,
}

/// `Details.ContactData` of a Connect event.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContactData {
    #[serde(default, deserialize_with = "lenient")]
    pub contact_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub initial_contact_id: Option<String>,
    /// `VOICE`, `CHAT`, `TASK`, ...
    #[serde(default, deserialize_with = "lenient")]
    pub channel: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub instance_arn: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub customer_endpoint: Option<Endpoint>,
    #[serde(default, deserialize_with = "lenient")]
    pub system_endpoint: Option<Endpoint>,
}

/// A `CustomerEndpoint` or `SystemEndpoint`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    #[serde(default, deserialize_with = "lenient")]
    pub address: Option<String>,
    /// `TELEPHONE_NUMBER` for calls.
    #[serde(default, deserialize_with = "lenient")]
    pub r#type: Option<String>,
}

/// Where the number to check came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberSource {
    /// `Details.Parameters.phoneNumber`, set by the flow.
    Parameters,
    /// `Details.ContactData.CustomerEndpoint.Address`.
    CustomerEndpoint,
    /// A bare `{"phoneNumber": "..."}` test event.
    Bare,
    /// The event carried no number.
    None,
}

/// What one invocation asks to be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallToCheck {
    pub contact_id: Option<String>,
    pub channel: Option<String>,
    /// The raw number, as the event carried it.
    pub raw_number: Option<String>,
    pub source: NumberSource,
}

/// The parameter a flow sets to check a number other than the caller's.
pub const PHONE_NUMBER_PARAMETER: &str = "phoneNumber";

impl CallToCheck {
    /// Reads any JSON value as a call to check; never fails.
    pub fn from_event(event: &Value) -> CallToCheck {
        let parsed = ConnectEvent::deserialize(event).unwrap_or_default();
        let details = parsed.details.unwrap_or_default();
        let contact = details.contact_data.unwrap_or_default();

        let from_parameters = details
            .parameters
            .as_ref()
            .and_then(|p| p.get(PHONE_NUMBER_PARAMETER))
            .and_then(string_value);
        let from_endpoint = contact.customer_endpoint.and_then(|e| e.address);
        let bare = event.get(PHONE_NUMBER_PARAMETER).and_then(string_value);

        let (raw_number, source) = if let Some(n) = from_parameters {
            (Some(n), NumberSource::Parameters)
        } else if let Some(n) = from_endpoint {
            (Some(n), NumberSource::CustomerEndpoint)
        } else if let Some(n) = bare {
            (Some(n), NumberSource::Bare)
        } else {
            (None, NumberSource::None)
        };

        CallToCheck {
            contact_id: contact.contact_id,
            channel: contact.channel,
            raw_number,
            source,
        }
    }
}

/// A parameter counts when it is a non-blank string (or a number, which some
/// test tools send); a blank value means the flow had nothing to pass.
fn string_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Deserializes a field, treating a value of the wrong type as absent.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}
