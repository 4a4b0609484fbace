//! The Amazon Connect `ContactFlowEvent`, read tolerantly: unknown fields are
//! ignored, fields of the wrong type are treated as absent, a null or
//! missing `CustomerEndpoint` (chat, tasks) is normal, and JSON that
//! serde_json refuses as it is reads after [`crate::json_repair`].

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::{Map, Value};

use crate::json_repair;

/// Reads an invocation's payload as JSON. Valid JSON that serde_json
/// refuses as it is (nesting deeper than 128, `1e400`, a lone `\ud800`) is
/// read after [`json_repair::repair`], with a warning, so it gets the
/// answer map like any event; only a payload that is not JSON is an error.
pub fn read_event(payload: &[u8]) -> Result<Value, serde_json::Error> {
    let refused = match serde_json::from_slice(payload) {
        Ok(event) => return Ok(event),
        Err(refused) => refused,
    };
    let Ok(text) = std::str::from_utf8(payload) else {
        return Err(refused);
    };
    match serde_json::from_str(&json_repair::repair(text)) {
        Ok(event) => {
            tracing::warn!(
                error = %refused,
                "event read after replacing what serde_json refuses (deep nesting, huge numbers, lone surrogates)"
            );
            Ok(event)
        }
        Err(_) => Err(refused),
    }
}

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

impl NumberSource {
    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberSource::Parameters => "parameters",
            NumberSource::CustomerEndpoint => "customerEndpoint",
            NumberSource::Bare => "bare",
            NumberSource::None => "none",
        }
    }
}

/// What one invocation asks to be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallToCheck {
    pub contact_id: Option<String>,
    pub channel: Option<String>,
    /// The raw number, as the event carried it.
    pub raw_number: Option<String>,
    pub source: NumberSource,
    /// The number the caller dialled (`SystemEndpoint.Address`), which
    /// line-scoped entries match, as the event carried it.
    pub dialled_number: Option<String>,
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
            dialled_number: contact.system_endpoint.and_then(|e| e.address),
        }
    }
}

/// A non-blank string parameter the flow passed (`Details.Parameters.<name>`).
pub fn parameter(event: &Value, name: &str) -> Option<String> {
    event
        .pointer("/Details/Parameters")?
        .get(name)
        .and_then(string_value)
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

#[cfg(test)]
mod tests {
    use super::*;
    use blocklist_harness::connect_event::{CONTACT_ID, ContactFlowEvent, connect_event};
    use serde_json::json;

    #[test]
    fn voice_call_uses_customer_endpoint() {
        let call = CallToCheck::from_event(&connect_event(Some("+14155550123")));
        assert_eq!(call.raw_number.as_deref(), Some("+14155550123"));
        assert_eq!(call.source, NumberSource::CustomerEndpoint);
        assert_eq!(call.channel.as_deref(), Some("VOICE"));
        assert_eq!(call.contact_id.as_deref(), Some(CONTACT_ID));
        assert!(
            call.dialled_number.is_some(),
            "the SystemEndpoint's address"
        );
    }

    #[test]
    fn parameters_phone_number_overrides_endpoint() {
        let event =
            ContactFlowEvent::voice("+14155550123").parameter("phoneNumber", "+442079460958");
        let call = CallToCheck::from_event(&event.build());
        assert_eq!(call.raw_number.as_deref(), Some("+442079460958"));
        assert_eq!(call.source, NumberSource::Parameters);
    }

    #[test]
    fn blank_parameter_falls_back_to_endpoint() {
        let event = ContactFlowEvent::voice("+14155550123").parameter("phoneNumber", "  ");
        let call = CallToCheck::from_event(&event.build());
        assert_eq!(call.source, NumberSource::CustomerEndpoint);
    }

    #[test]
    fn chat_without_customer_endpoint_has_no_number() {
        let call = CallToCheck::from_event(&ContactFlowEvent::chat().build());
        assert_eq!(call.raw_number, None);
        assert_eq!(call.source, NumberSource::None);
        assert_eq!(call.channel.as_deref(), Some("CHAT"));
    }

    #[test]
    fn null_customer_endpoint_has_no_number() {
        let call = CallToCheck::from_event(&connect_event(None));
        assert_eq!(call.raw_number, None);
        assert_eq!(call.contact_id.as_deref(), Some(CONTACT_ID));
    }

    #[test]
    fn empty_address_is_kept_as_empty_for_the_anonymous_check() {
        let call = CallToCheck::from_event(&connect_event(Some("")));
        assert_eq!(call.raw_number.as_deref(), Some(""));
        assert_eq!(call.source, NumberSource::CustomerEndpoint);
    }

    #[test]
    fn bare_phone_number_event_is_accepted() {
        let call = CallToCheck::from_event(&json!({"phoneNumber": "+14155550123"}));
        assert_eq!(call.raw_number.as_deref(), Some("+14155550123"));
        assert_eq!(call.source, NumberSource::Bare);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let mut event = connect_event(Some("+14155550123"));
        event["Details"]["ContactData"]["SomethingNew"] = json!({"deep": [1, 2, 3]});
        event["Unexpected"] = json!(true);
        let call = CallToCheck::from_event(&event);
        assert_eq!(call.raw_number.as_deref(), Some("+14155550123"));
    }

    #[test]
    fn wrong_types_are_treated_as_absent() {
        // Address as an object, ContactId as a number, Parameters as a list.
        let event = json!({
            "Name": 7,
            "Details": {
                "ContactData": {
                    "ContactId": 12345,
                    "Channel": ["VOICE"],
                    "CustomerEndpoint": { "Address": {"x": 1} }
                },
                "Parameters": ["phoneNumber"]
            }
        });
        let call = CallToCheck::from_event(&event);
        assert_eq!(call.raw_number, None);
        assert_eq!(call.contact_id, None);
        assert_eq!(call.channel, None);

        // CustomerEndpoint as a string, Details as a number.
        for event in [
            json!({"Details": {"ContactData": {"CustomerEndpoint": "+14155550123"}}}),
            json!({"Details": 42}),
            json!("just a string"),
            json!([1, 2, 3]),
            json!(null),
        ] {
            let call = CallToCheck::from_event(&event);
            assert_eq!(call.raw_number, None, "{event}");
        }
    }

    #[test]
    fn numeric_address_is_read_as_digits() {
        let call = CallToCheck::from_event(&json!({"phoneNumber": 14155550123u64}));
        assert_eq!(call.raw_number.as_deref(), Some("14155550123"));
    }
}
