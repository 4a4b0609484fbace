//! Who is really making a change: the caller's AWS identity
//! (`sts:GetCallerIdentity`), recorded in the audit trail beside the actor
//! the admin describes themselves as (`--actor`), which anyone can type.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::error::DisplayErrorContext;

use crate::aws::{TrustRoots, https_client};

/// STS answers in milliseconds; past this the command stops rather than
/// record a change without its author.
const IDENTITY_TIMEOUT: Duration = Duration::from_secs(5);

/// The caller's identity could not be established.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "cannot establish your AWS identity for the audit trail (sts:GetCallerIdentity): {0}; check your credentials"
    )]
    Request(String),
    #[error(
        "cannot establish your AWS identity for the audit trail: sts:GetCallerIdentity did not answer within {} s",
        IDENTITY_TIMEOUT.as_secs()
    )]
    Timeout,
}

/// Whether to ask STS: always against AWS; against a local DynamoDB server
/// (an endpoint override) only when an STS endpoint is configured too
/// (`AWS_ENDPOINT_URL_STS`), since local servers have no identities.
pub fn wanted(dynamodb_endpoint: Option<&str>, sts_endpoint: Option<&str>) -> bool {
    dynamodb_endpoint.is_none() || sts_endpoint.is_some_and(|e| !e.trim().is_empty())
}

/// The ARN of the credentials in use, from STS (region and endpoint from
/// the usual SDK sources, `AWS_ENDPOINT_URL_STS` included).
pub async fn caller_arn(region: Option<&str>) -> Result<String, IdentityError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client(TrustRoots::System));
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let client = aws_sdk_sts::Client::new(&loader.load().await);
    let call = client.get_caller_identity().send();
    match tokio::time::timeout(IDENTITY_TIMEOUT, call).await {
        Err(_) => Err(IdentityError::Timeout),
        Ok(Err(e)) => Err(IdentityError::Request(DisplayErrorContext(&e).to_string())),
        Ok(Ok(out)) => out
            .arn
            .ok_or_else(|| IdentityError::Request("the answer has no ARN".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_sts_against_aws_and_locally_only_when_configured() {
        assert!(wanted(None, None));
        assert!(wanted(None, Some("http://127.0.0.1:18001")));
        assert!(!wanted(Some("http://127.0.0.1:18000"), None));
        assert!(!wanted(Some("http://127.0.0.1:18000"), Some(" ")));
        assert!(wanted(
            Some("http://127.0.0.1:18000"),
            Some("http://127.0.0.1:18001")
        ));
    }
}
