//! Amazon Connect "Invoke AWS Lambda function" events, as the flow sends them:
//! the one builder of them for the tests, the benchmarks and the harness.

use serde_json::{Map, Value, json};

/// The `ContactId` of an event unless [`ContactFlowEvent::contact_id`] sets another.
pub const CONTACT_ID: &str = "5ca32fbd-8f92-46af-92a5-6b0f970f0efe";

/// The Connect instance every event comes from.
pub const INSTANCE_ARN: &str =
    "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555";

/// The number every voice event was dialled on (`SystemEndpoint`).
pub const SYSTEM_NUMBER: &str = "+18005550100";

/// A voice contact's event from the caller `address`; `None` leaves the
/// CustomerEndpoint null, as for a withheld or absent caller ID.
pub fn connect_event(address: Option<&str>) -> Value {
    match address {
        Some(address) => ContactFlowEvent::voice(address),
        None => ContactFlowEvent::withheld(),
    }
    .build()
}

/// A `ContactFlowEvent` to build: a voice call or a chat, with the
/// variations the tests need (contact id, flow parameters, a null or absent
/// `CustomerEndpoint`, an `Address` of any JSON type).
#[derive(Debug, Clone)]
pub struct ContactFlowEvent {
    channel: String,
    contact_id: String,
    customer: Customer,
    system_endpoint: Value,
    parameters: Map<String, Value>,
}

#[derive(Debug, Clone)]
enum Customer {
    /// `{"Address": address, "Type": "TELEPHONE_NUMBER"}`.
    Address(Value),
    /// `"CustomerEndpoint": null`.
    Null,
    /// No `CustomerEndpoint` key at all.
    Absent,
}

impl ContactFlowEvent {
    /// A voice call whose `CustomerEndpoint.Address` is `address`: a string
    /// as Connect sends it, or any other JSON value to test odd shapes.
    pub fn voice(address: impl Into<Value>) -> ContactFlowEvent {
        ContactFlowEvent {
            channel: "VOICE".into(),
            contact_id: CONTACT_ID.into(),
            customer: Customer::Address(address.into()),
            system_endpoint: json!({"Address": SYSTEM_NUMBER, "Type": "TELEPHONE_NUMBER"}),
            parameters: Map::new(),
        }
    }

    /// A voice call with a null `CustomerEndpoint` (no caller ID at all).
    pub fn withheld() -> ContactFlowEvent {
        ContactFlowEvent {
            customer: Customer::Null,
            ..ContactFlowEvent::voice(Value::Null)
        }
    }

    /// A chat contact: no `CustomerEndpoint` key, a null `SystemEndpoint`.
    pub fn chat() -> ContactFlowEvent {
        ContactFlowEvent {
            channel: "CHAT".into(),
            customer: Customer::Absent,
            system_endpoint: Value::Null,
            ..ContactFlowEvent::voice(Value::Null)
        }
    }

    /// Sets `ContactData.ContactId` (default [`CONTACT_ID`]).
    pub fn contact_id(mut self, contact_id: &str) -> ContactFlowEvent {
        self.contact_id = contact_id.into();
        self
    }

    /// Sets the dialled number, `SystemEndpoint.Address` (default
    /// [`SYSTEM_NUMBER`]): the line the call came in on.
    pub fn dialled(mut self, number: &str) -> ContactFlowEvent {
        self.system_endpoint = json!({"Address": number, "Type": "TELEPHONE_NUMBER"});
        self
    }

    /// Adds `Details.Parameters.<name>`, as the Invoke block passes it.
    pub fn parameter(mut self, name: &str, value: impl Into<Value>) -> ContactFlowEvent {
        self.parameters.insert(name.into(), value.into());
        self
    }

    /// The event as the Lambda receives it.
    pub fn build(self) -> Value {
        let mut contact = json!({
            "Attributes": {},
            "Channel": self.channel,
            "ContactId": self.contact_id,
            "InitiationMethod": "INBOUND",
            "InstanceARN": INSTANCE_ARN,
            "Queue": null,
            "SystemEndpoint": self.system_endpoint
        });
        match self.customer {
            Customer::Address(address) => {
                contact["CustomerEndpoint"] =
                    json!({"Address": address, "Type": "TELEPHONE_NUMBER"});
            }
            Customer::Null => contact["CustomerEndpoint"] = Value::Null,
            Customer::Absent => {}
        }
        json!({
            "Name": "ContactFlowEvent",
            "Details": {"ContactData": contact, "Parameters": self.parameters}
        })
    }
}

impl From<ContactFlowEvent> for Value {
    fn from(event: ContactFlowEvent) -> Value {
        event.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shapes() {
        let call = connect_event(Some("+14155550123"));
        let contact = &call["Details"]["ContactData"];
        assert_eq!(call["Name"], "ContactFlowEvent");
        assert_eq!(contact["Channel"], "VOICE");
        assert_eq!(contact["ContactId"], CONTACT_ID);
        assert_eq!(
            contact["CustomerEndpoint"],
            json!({"Address": "+14155550123", "Type": "TELEPHONE_NUMBER"})
        );
        assert_eq!(contact["SystemEndpoint"]["Address"], SYSTEM_NUMBER);
        assert_eq!(call["Details"]["Parameters"], json!({}));

        let withheld = connect_event(None);
        assert_eq!(
            withheld["Details"]["ContactData"]["CustomerEndpoint"],
            Value::Null
        );
        assert!(
            withheld["Details"]["ContactData"]
                .as_object()
                .unwrap()
                .contains_key("CustomerEndpoint")
        );

        let chat = ContactFlowEvent::chat().contact_id("x").build();
        let contact = chat["Details"]["ContactData"].as_object().unwrap();
        assert!(!contact.contains_key("CustomerEndpoint"));
        assert_eq!(contact["Channel"], "CHAT");
        assert_eq!(contact["ContactId"], "x");
        assert_eq!(contact["SystemEndpoint"], Value::Null);

        let odd = ContactFlowEvent::voice(14155550123u64)
            .parameter("agent", "jdoe")
            .build();
        assert_eq!(
            odd["Details"]["ContactData"]["CustomerEndpoint"]["Address"],
            14155550123u64
        );
        assert_eq!(odd["Details"]["Parameters"], json!({"agent": "jdoe"}));
    }
}
