//! Amazon Connect "Invoke AWS Lambda function" events, as the flow sends them.

use serde_json::{Value, json};

/// A voice contact's event from the caller `address`; `None` leaves the
/// CustomerEndpoint null, as for a withheld or absent caller ID.
pub fn connect_event(address: Option<&str>) -> Value {
    let customer = address.map(|a| json!({"Address": a, "Type": "TELEPHONE_NUMBER"}));
    json!({
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": {},
                "Channel": "VOICE",
                "ContactId": "5ca32fbd-8f92-46af-92a5-6b0f970f0efe",
                "CustomerEndpoint": customer,
                "InitiationMethod": "INBOUND",
                "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555",
                "Queue": null,
                "SystemEndpoint": {"Address": "+18005550100", "Type": "TELEPHONE_NUMBER"}
            },
            "Parameters": {}
        }
    })
}
