//! The order of `account_errors`: by account, Region and stage, as the report shows them.
//!
//! Errors are gathered as work finishes, in an order that changes from run to run; the
//! report (and the summary's list) must not, so that two runs over the same organization
//! produce identical files. The rest of the row breaks ties, so the order is total.

use crate::model::AccountError;

/// Sorts errors by account, Region, stage, error code, resource and message: the
/// values written in the report, compared as text.
pub fn sort_errors(errors: &mut [AccountError]) {
    errors.sort_unstable_by(|a, b| {
        (
            a.account_id.as_str(),
            a.region.as_str(),
            a.stage.as_str(),
            a.code.as_str(),
            a.resource.as_str(),
            a.message.as_str(),
        )
            .cmp(&(
                b.account_id.as_str(),
                b.region.as_str(),
                b.stage.as_str(),
                b.code.as_str(),
                b.resource.as_str(),
                b.message.as_str(),
            ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountId, ErrorCode, Stage};

    fn error(
        account: &str,
        region: &str,
        stage: Stage,
        code: ErrorCode,
        resource: &str,
        message: &str,
    ) -> AccountError {
        AccountError {
            account_id: AccountId::from(account),
            region: region.into(),
            stage,
            code,
            resource: resource.into(),
            message: message.into(),
        }
    }

    #[test]
    fn errors_sort_by_account_region_stage_then_the_rest_of_the_row() {
        let want = vec![
            error(
                "111122221111",
                "",
                Stage::AssumeRole,
                ErrorCode::AssumeRoleDenied,
                "",
                "denied",
            ),
            error(
                "111122221111",
                "eu-west-1",
                Stage::Applications,
                ErrorCode::AccessDenied,
                "arn:b",
                "x",
            ),
            error(
                "111122221111",
                "eu-west-1",
                Stage::IdentityStore,
                ErrorCode::ThrottledRetriesExhausted,
                "d-1",
                "x",
            ),
            error(
                "111122221111",
                "us-east-1",
                Stage::Applications,
                ErrorCode::AccessDenied,
                "arn:a",
                "x",
            ),
            error(
                "111122221111",
                "us-east-1",
                Stage::Applications,
                ErrorCode::AccessDenied,
                "arn:b",
                "x",
            ),
            error(
                "111122221111",
                "us-east-1",
                Stage::Applications,
                ErrorCode::AccessDenied,
                "arn:b",
                "y",
            ),
            error(
                "111122221111",
                "us-east-1",
                Stage::Applications,
                ErrorCode::ServiceError,
                "arn:a",
                "x",
            ),
            error(
                "111122222222",
                "",
                Stage::Select,
                ErrorCode::AccountNotActive,
                "",
                "SUSPENDED",
            ),
        ];
        // Every rotation of the list sorts to the same order.
        for shift in 0..want.len() {
            let mut errors = want.clone();
            errors.rotate_left(shift);
            errors.reverse();
            sort_errors(&mut errors);
            assert_eq!(errors, want, "shift {shift}");
        }
    }
}
