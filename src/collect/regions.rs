//! Regions to scan when `RegionScope=ALL_REGIONS` is refused, and how to read the
//! answers of a per-Region scan.

use super::call::{CallError, FailureKind};

/// Regions where IAM Identity Center can run, per partition. Used only for the
/// fallback scan (when an endpoint refuses `RegionScope=ALL_REGIONS`, which lists every
/// Region in one call and needs no list); `REGIONS` or the event override it.
///
/// Where it comes from: the Regions of AWS's "IAM Identity Center Regional availability"
/// page and the SDK's endpoint partitions, as of 2026-11. How it stays current: a Region
/// AWS adds later is not scanned until this list gains it (name it in `REGIONS` until
/// then); a Region listed here that an account has not enabled (opt-in) answers at once
/// and is skipped. Opt-in Regions are part of the list on purpose: an account that
/// enabled one may hold its instance there.
pub fn partition_regions(partition: &str) -> &'static [&'static str] {
    match partition {
        "aws-us-gov" => &["us-gov-west-1", "us-gov-east-1"],
        "aws-cn" => &["cn-north-1", "cn-northwest-1"],
        _ => &[
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "af-south-1",
            "ap-east-1",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-7",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "eu-south-1",
            "eu-south-2",
            "eu-north-1",
            "il-central-1",
            "me-south-1",
            "me-central-1",
            "mx-central-1",
            "sa-east-1",
        ],
    }
}

/// Whether ListInstances refused the `RegionScope` parameter (an endpoint that does not
/// know it), so that a per-Region scan should be tried.
pub fn scope_refused(err: &CallError) -> bool {
    err.kind == FailureKind::Rejected
        && matches!(
            err.code.as_str(),
            "ValidationException"
                | "InvalidParameterException"
                | "SerializationException"
                | "UnknownOperationException"
        )
}

/// Whether a Region answered as one the account has not enabled (opt-in Regions).
pub fn region_not_enabled(err: &CallError) -> bool {
    matches!(
        err.code.as_str(),
        "UnrecognizedClientException" | "InvalidClientTokenId" | "AuthFailure" | "DispatchFailure"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: FailureKind, code: &str) -> CallError {
        CallError {
            service: "sso-admin",
            operation: "ListInstances",
            kind,
            code: code.into(),
            message: String::new(),
            attempts: 1,
        }
    }

    #[test]
    fn fallback_triggers() {
        assert!(scope_refused(&err(FailureKind::Rejected, "ValidationException")));
        assert!(!scope_refused(&err(FailureKind::AccessDenied, "AccessDeniedException")));
        assert!(region_not_enabled(&err(
            FailureKind::Rejected,
            "UnrecognizedClientException"
        )));
        assert!(!region_not_enabled(&err(FailureKind::Throttled, "ThrottlingException")));
        assert_eq!(partition_regions("aws-cn"), &["cn-north-1", "cn-northwest-1"]);
        assert!(partition_regions("aws").contains(&"us-east-1"));
    }
}
