//! Configuration from the environment, validated before any AWS call.
//!
//! The upstream sample's variable names (`CurrentAccountId`, `reports_bucket`,
//! `CrossAccountRoleName`) are kept so its stacks can switch over. Every value is
//! checked here; an error names the variable and what was expected.

use std::time::Duration;

use crate::model::{AccountId, is_account_id};

/// Which Regions to look for instances in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegionSelection {
    /// ListInstances with `RegionScope=ALL_REGIONS`, falling back to a per-Region scan.
    All,
    /// Exactly these Regions, one ListInstances scan each.
    List(Vec<String>),
}

/// The validated configuration of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The account the function runs in; `None` on the command line until STS tells.
    pub current_account_id: Option<AccountId>,
    /// Where reports go; `None` only when nothing is uploaded.
    pub reports_bucket: Option<String>,
    pub cross_account_role_name: String,
    /// Key prefix in the bucket, without leading or trailing `/`.
    pub report_prefix: String,
    pub regions: RegionSelection,
    /// Accounts and stores worked on at once.
    pub max_concurrency: usize,
    /// Stop starting new work when the Lambda deadline is this close.
    pub deadline_margin: Duration,
    /// Client-side limit of Identity Center calls per second, per account and service
    /// (0 turns it off).
    pub api_rate_limit: f64,
    /// How often a resumable run saves a checkpoint besides the one at its deadline.
    pub checkpoint_interval: Duration,
}

/// Where the program runs: decides which settings are required.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    Lambda,
    /// The command; `upload` is false with `--no-upload`.
    Command {
        upload: bool,
    },
}

/// A setting that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

pub const DEFAULT_ROLE_NAME: &str = "idc-lambda-service-role";
pub const DEFAULT_REPORT_PREFIX: &str = "idc-reports";
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;
pub const MAX_MAX_CONCURRENCY: usize = 256;
pub const DEFAULT_DEADLINE_MARGIN_SECONDS: u64 = 60;
/// `CHECKPOINT_INTERVAL_SECONDS` when unset.
pub const DEFAULT_CHECKPOINT_INTERVAL_SECONDS: u64 = 60;
pub const DEFAULT_API_RATE_LIMIT: f64 = 20.0;

impl Config {
    /// Reads and validates every setting through `lookup` (the process environment in
    /// production, a map in tests). Empty values count as unset.
    pub fn from_lookup<F>(lookup: F, mode: RunMode) -> Result<Config, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let current_account_id = match get("CurrentAccountId") {
            Some(v) if is_account_id(&v) => Some(AccountId(v)),
            Some(v) => {
                return Err(invalid(
                    "CurrentAccountId",
                    format!("must be a 12-digit AWS account id, got {v:?}"),
                ));
            }
            None if mode == RunMode::Lambda => {
                return Err(invalid(
                    "CurrentAccountId",
                    "is required in Lambda: set it to the id of the account the function runs in",
                ));
            }
            None => None,
        };

        let upload = !matches!(mode, RunMode::Command { upload: false });
        let reports_bucket = match get("reports_bucket") {
            Some(v) => Some(validate_bucket(&v)?),
            None if upload => {
                return Err(invalid(
                    "reports_bucket",
                    "is required: set it to the S3 bucket for the reports (or pass --no-upload)",
                ));
            }
            None => None,
        };

        let cross_account_role_name = match get("CrossAccountRoleName") {
            Some(v) => validate_role_name(&v)?,
            None => DEFAULT_ROLE_NAME.to_owned(),
        };

        let report_prefix = match get("REPORT_PREFIX") {
            Some(v) => validate_prefix(&v)?,
            None => DEFAULT_REPORT_PREFIX.to_owned(),
        };

        let regions = match get("REGIONS") {
            None => RegionSelection::All,
            Some(v) if v.eq_ignore_ascii_case("ALL") => RegionSelection::All,
            Some(v) => RegionSelection::List(parse_region_list(&v).map_err(|p| invalid("REGIONS", p))?),
        };

        let max_concurrency = match get("MAX_CONCURRENCY") {
            None => DEFAULT_MAX_CONCURRENCY,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_MAX_CONCURRENCY).contains(&n) => n,
                _ => {
                    return Err(invalid(
                        "MAX_CONCURRENCY",
                        format!("must be a whole number from 1 to {MAX_MAX_CONCURRENCY}, got {v:?}"),
                    ));
                }
            },
        };

        let deadline_margin = match get("DEADLINE_MARGIN_SECONDS") {
            None => Duration::from_secs(DEFAULT_DEADLINE_MARGIN_SECONDS),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n <= 900 => Duration::from_secs(n),
                _ => {
                    return Err(invalid(
                        "DEADLINE_MARGIN_SECONDS",
                        format!("must be a whole number of seconds from 0 to 900, got {v:?}"),
                    ));
                }
            },
        };

        let api_rate_limit = match get("API_RATE_LIMIT") {
            None => DEFAULT_API_RATE_LIMIT,
            Some(v) => match v.parse::<f64>() {
                Ok(n) if n.is_finite() && (0.0..=10_000.0).contains(&n) => n,
                _ => {
                    return Err(invalid(
                        "API_RATE_LIMIT",
                        format!("must be a number of requests per second from 0 (off) to 10000, got {v:?}"),
                    ));
                }
            },
        };

        let checkpoint_interval = match get("CHECKPOINT_INTERVAL_SECONDS") {
            None => Duration::from_secs(DEFAULT_CHECKPOINT_INTERVAL_SECONDS),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=900).contains(&n) => Duration::from_secs(n),
                _ => {
                    return Err(invalid(
                        "CHECKPOINT_INTERVAL_SECONDS",
                        format!("must be a whole number of seconds from 1 to 900, got {v:?}"),
                    ));
                }
            },
        };

        Ok(Config {
            current_account_id,
            reports_bucket,
            cross_account_role_name,
            report_prefix,
            regions,
            max_concurrency,
            deadline_margin,
            api_rate_limit,
            checkpoint_interval,
        })
    }
}

/// Whether a string looks like an AWS Region name (`us-east-1`, `us-gov-west-1`, `cn-north-1`).
pub fn is_region_name(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && value.len() <= 32
}

/// Parses a comma list of Regions; duplicates are dropped, order kept.
pub fn parse_region_list(value: &str) -> Result<Vec<String>, String> {
    let mut regions: Vec<String> = Vec::new();
    for part in value.split(',') {
        let region = part.trim();
        if !is_region_name(region) {
            return Err(format!(
                "must be ALL or a comma list of Region names such as us-east-1,eu-west-1; {region:?} is not a Region name"
            ));
        }
        if !regions.iter().any(|r| r == region) {
            regions.push(region.to_owned());
        }
    }
    Ok(regions)
}

fn validate_bucket(value: &str) -> Result<String, ConfigError> {
    let ok_chars = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let ok_ends = value
        .bytes()
        .next()
        .zip(value.bytes().last())
        .is_some_and(|(a, z)| a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric());
    if (3..=63).contains(&value.len()) && ok_chars && ok_ends && !value.contains("..") {
        Ok(value.to_owned())
    } else {
        Err(invalid(
            "reports_bucket",
            format!(
                "must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens; no s3:// prefix), got {value:?}"
            ),
        ))
    }
}

fn validate_role_name(value: &str) -> Result<String, ConfigError> {
    let ok = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(
            "CrossAccountRoleName",
            format!("must be an IAM role name (1-64 of letters, digits and +=,.@_-; no ARN, no path), got {value:?}"),
        ))
    }
}

fn validate_prefix(value: &str) -> Result<String, ConfigError> {
    let trimmed = value.trim_matches('/');
    let ok = !trimmed.is_empty()
        && trimmed.len() <= 512
        && trimmed
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!-_.*'()/=".contains(c));
    if ok {
        Ok(trimmed.to_owned())
    } else {
        Err(invalid(
            "REPORT_PREFIX",
            format!(
                "must be an S3 key prefix of letters, digits, / and !-_.*'()= without empty or ./.. segments, got {value:?}"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)], mode: RunMode) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|k| map.get(k).cloned(), mode)
    }

    const LAMBDA_OK: [(&str, &str); 2] = [("CurrentAccountId", "111122223333"), ("reports_bucket", "my-reports")];

    #[test]
    fn defaults_apply() {
        let c = config(&LAMBDA_OK, RunMode::Lambda).unwrap();
        assert_eq!(c.current_account_id, Some(AccountId::from("111122223333")));
        assert_eq!(c.reports_bucket.as_deref(), Some("my-reports"));
        assert_eq!(c.cross_account_role_name, "idc-lambda-service-role");
        assert_eq!(c.report_prefix, "idc-reports");
        assert_eq!(c.regions, RegionSelection::All);
        assert_eq!(c.max_concurrency, 16);
        assert_eq!(c.deadline_margin, Duration::from_secs(60));
        assert_eq!(c.api_rate_limit, 20.0);
    }

    #[test]
    fn lambda_requires_account_and_bucket() {
        let e = config(&[("reports_bucket", "b-1")], RunMode::Lambda).unwrap_err();
        assert_eq!(e.variable, "CurrentAccountId");
        let e = config(&[("CurrentAccountId", "111122223333")], RunMode::Lambda).unwrap_err();
        assert_eq!(e.variable, "reports_bucket");
        assert!(e.to_string().contains("reports_bucket"));
    }

    #[test]
    fn command_without_upload_needs_neither() {
        let c = config(&[], RunMode::Command { upload: false }).unwrap();
        assert_eq!(c.current_account_id, None);
        assert_eq!(c.reports_bucket, None);
        let e = config(&[], RunMode::Command { upload: true }).unwrap_err();
        assert_eq!(e.variable, "reports_bucket");
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let cases: &[(&str, &str)] = &[
            ("CurrentAccountId", "12345"),
            ("CurrentAccountId", "11112222333a"),
            ("reports_bucket", "s3://bucket"),
            ("reports_bucket", "Upper"),
            ("CrossAccountRoleName", "arn:aws:iam::1:role/x"),
            ("REPORT_PREFIX", "a/../b"),
            ("REGIONS", "us-east-1,moon"),
            ("MAX_CONCURRENCY", "0"),
            ("MAX_CONCURRENCY", "ten"),
            ("MAX_CONCURRENCY", "100000"),
            ("DEADLINE_MARGIN_SECONDS", "-1"),
            ("API_RATE_LIMIT", "NaN"),
        ];
        for (name, value) in cases {
            let mut vars = LAMBDA_OK.to_vec();
            vars.retain(|(k, _)| k != name);
            vars.push((name, value));
            let e = config(&vars, RunMode::Lambda).unwrap_err();
            assert_eq!(&e.variable, name, "{name}={value}");
            assert!(e.to_string().contains(name), "{e}");
        }
    }

    #[test]
    fn regions_list_is_parsed_and_deduplicated() {
        let mut vars = LAMBDA_OK.to_vec();
        vars.push(("REGIONS", " us-east-1, eu-west-1,us-east-1 "));
        let c = config(&vars, RunMode::Lambda).unwrap();
        assert_eq!(
            c.regions,
            RegionSelection::List(vec!["us-east-1".into(), "eu-west-1".into()])
        );
        assert!(is_region_name("us-gov-west-1"));
        assert!(is_region_name("cn-northwest-1"));
        assert!(!is_region_name("us-east"));
        assert!(!is_region_name("US-EAST-1"));
    }

    #[test]
    fn prefix_slashes_are_trimmed() {
        let mut vars = LAMBDA_OK.to_vec();
        vars.push(("REPORT_PREFIX", "/audits/idc/"));
        assert_eq!(config(&vars, RunMode::Lambda).unwrap().report_prefix, "audits/idc");
    }
}
