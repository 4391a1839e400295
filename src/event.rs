//! The Lambda event: what one invocation is asked to do.
//!
//! Three shapes run a full audit: `{}` (a console test), an EventBridge Scheduler input
//! (our own JSON, passed verbatim), and the classic EventBridge "Scheduled Event"
//! envelope, whose options live in `detail`. Optional fields narrow a run. Unknown
//! fields are refused so that a typo does not silently run the wrong audit.

use serde_json::{Map, Value};

use crate::config::is_region_name;
use crate::model::{AccountId, is_account_id};

/// The options of one run, parsed from the event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunRequest {
    /// Audit only these accounts (and the stores they see).
    pub accounts: Option<Vec<AccountId>>,
    /// Look for instances only in these Regions (overrides `REGIONS`).
    pub regions: Option<Vec<String>>,
    /// Collect and return the summary; write nothing.
    pub dry_run: bool,
    /// One invocation of a run that goes on across invocations (Step Functions).
    pub continue_run: Option<Continuation>,
}

/// Which resumable run an invocation belongs to: the execution's name and start time.
/// Every invocation of the run sends the same; the first one's options are the run's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Continuation {
    /// Names the run's checkpoint: 1 to 80 of `A-Z a-z 0-9 - _`.
    pub name: String,
    /// Tells this run from an older one of the same name.
    pub started_at: String,
}

/// A malformed event, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event: {field}: {problem}")]
pub struct EventError {
    pub field: String,
    pub problem: String,
}

fn invalid(field: &str, problem: impl Into<String>) -> EventError {
    EventError {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

const OPTION_FIELDS: [&str; 4] = ["accounts", "regions", "dry_run", "continue_run"];
const ENVELOPE_FIELDS: [&str; 9] = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
];

impl RunRequest {
    /// Parses any of the accepted event shapes.
    pub fn from_event(event: &Value) -> Result<RunRequest, EventError> {
        match event {
            Value::Null => Ok(RunRequest::default()),
            Value::Object(map) if is_scheduled_event(map) => {
                if let Some(key) = map.keys().find(|k| !ENVELOPE_FIELDS.contains(&k.as_str())) {
                    return Err(invalid(
                        key,
                        format!(
                            "is not a field of an EventBridge Scheduled Event (expected {})",
                            ENVELOPE_FIELDS.join(", ")
                        ),
                    ));
                }
                match map.get("detail") {
                    None | Some(Value::Null) => Ok(RunRequest::default()),
                    Some(Value::Object(detail)) => parse_options(detail, "detail."),
                    Some(_) => Err(invalid("detail", "must be a JSON object")),
                }
            }
            Value::Object(map) => parse_options(map, ""),
            _ => Err(invalid(
                "(event)",
                "must be a JSON object such as {} or {\"accounts\": [\"111122223333\"], \"dry_run\": true}",
            )),
        }
    }
}

fn is_scheduled_event(map: &Map<String, Value>) -> bool {
    map.contains_key("detail-type") || (map.contains_key("source") && map.contains_key("detail"))
}

fn parse_options(map: &Map<String, Value>, path: &str) -> Result<RunRequest, EventError> {
    if let Some(key) = map.keys().find(|k| !OPTION_FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            &format!("{path}{key}"),
            format!("is not a known option (expected {})", OPTION_FIELDS.join(", ")),
        ));
    }
    let mut request = RunRequest::default();
    if let Some(value) = map.get("accounts").filter(|v| !v.is_null()) {
        let field = format!("{path}accounts");
        let items = non_empty_strings(value, &field, "12-digit account ids")?;
        let mut accounts: Vec<AccountId> = Vec::with_capacity(items.len());
        for item in items {
            if !is_account_id(item) {
                return Err(invalid(&field, format!("{item:?} is not a 12-digit account id")));
            }
            if !accounts.iter().any(|a| a.as_str() == item) {
                accounts.push(AccountId::from(item));
            }
        }
        request.accounts = Some(accounts);
    }
    if let Some(value) = map.get("regions").filter(|v| !v.is_null()) {
        let field = format!("{path}regions");
        let items = non_empty_strings(value, &field, "Region names such as us-east-1")?;
        let mut regions: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            if !is_region_name(item) {
                return Err(invalid(
                    &field,
                    format!("{item:?} is not a Region name such as us-east-1"),
                ));
            }
            if !regions.iter().any(|r| r == item) {
                regions.push(item.to_owned());
            }
        }
        request.regions = Some(regions);
    }
    match map.get("dry_run") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => request.dry_run = *b,
        Some(_) => return Err(invalid(&format!("{path}dry_run"), "must be true or false")),
    }
    if let Some(value) = map.get("continue_run").filter(|v| !v.is_null()) {
        request.continue_run = Some(parse_continuation(value, &format!("{path}continue_run"))?);
    }
    Ok(request)
}

/// `{"name": ..., "started_at": ...}`, as the state machine sends them.
fn parse_continuation(value: &Value, field: &str) -> Result<Continuation, EventError> {
    let example = "an object such as {\"name\": \"<execution name>\", \"started_at\": \"<execution start time>\"}";
    let Value::Object(map) = value else {
        return Err(invalid(field, format!("must be {example}")));
    };
    if let Some(key) = map.keys().find(|k| !["name", "started_at"].contains(&k.as_str())) {
        return Err(invalid(
            &format!("{field}.{key}"),
            "is not a field (expected name, started_at)",
        ));
    }
    let text = |key: &str| match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 80 => Ok(s.trim().to_owned()),
        _ => Err(invalid(
            &format!("{field}.{key}"),
            "must be a string of 1 to 80 characters",
        )),
    };
    let name = text("name")?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(invalid(
            &format!("{field}.name"),
            format!(
                "{name:?} has characters other than A-Z, a-z, 0-9, - and _ (it names the run's checkpoint in S3); start the execution with such a name"
            ),
        ));
    }
    Ok(Continuation {
        name,
        started_at: text("started_at")?,
    })
}

fn non_empty_strings<'a>(value: &'a Value, field: &str, what: &str) -> Result<Vec<&'a str>, EventError> {
    let Value::Array(items) = value else {
        return Err(invalid(field, format!("must be a list of {what}")));
    };
    if items.is_empty() {
        return Err(invalid(
            field,
            format!("must not be empty: leave it out to audit everything ({what})"),
        ));
    }
    items
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| invalid(field, format!("must be a list of {what}; found {v}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn empty_and_null_run_everything() {
        assert_eq!(RunRequest::from_event(&json!({})).unwrap(), RunRequest::default());
        assert_eq!(RunRequest::from_event(&Value::Null).unwrap(), RunRequest::default());
    }

    #[test]
    fn classic_scheduled_event_reads_detail() {
        let event = json!({
            "version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
            "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "111122223333", "time": "2026-11-29T06:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:111122223333:rule/daily"], "detail": {}
        });
        assert_eq!(RunRequest::from_event(&event).unwrap(), RunRequest::default());
        let mut with_detail = event.clone();
        with_detail["detail"] = json!({"dry_run": true});
        assert!(RunRequest::from_event(&with_detail).unwrap().dry_run);
    }

    #[test]
    fn overrides_are_parsed() {
        let r = RunRequest::from_event(&json!({
            "accounts": ["111122221111", "111122225555", "111122221111"],
            "regions": ["us-east-1"], "dry_run": true
        }))
        .unwrap();
        assert_eq!(
            r.accounts,
            Some(vec![AccountId::from("111122221111"), AccountId::from("111122225555")])
        );
        assert_eq!(r.regions, Some(vec!["us-east-1".to_owned()]));
        assert!(r.dry_run);
    }

    #[test]
    fn malformed_fields_are_named() {
        let cases = [
            (json!({"acounts": ["111122223333"]}), "acounts"),
            (json!({"accounts": "111122223333"}), "accounts"),
            (json!({"accounts": []}), "accounts"),
            (json!({"accounts": [111122223333u64]}), "accounts"),
            (json!({"accounts": ["1234"]}), "accounts"),
            (json!({"regions": ["mars-1"]}), "regions"),
            (json!({"dry_run": "yes"}), "dry_run"),
            (
                json!({"detail-type": "Scheduled Event", "detail": {"bogus": 1}}),
                "detail.bogus",
            ),
            (json!({"detail-type": "Scheduled Event", "detail": []}), "detail"),
            (json!([1, 2]), "(event)"),
            (json!("run"), "(event)"),
        ];
        for (event, field) in cases {
            let e = RunRequest::from_event(&event).unwrap_err();
            assert_eq!(e.field, field, "{event}");
            assert!(e.to_string().starts_with("invalid event: "));
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[0-9]{0,14}".prop_map(Value::String),
            "\\PC{0,12}".prop_map(Value::String),
            prop_oneof![Just("us-east-1"), Just("eu-west-3"), Just("x")].prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            let key = prop_oneof![
                Just("accounts".to_owned()),
                Just("regions".to_owned()),
                Just("dry_run".to_owned()),
                Just("detail".to_owned()),
                Just("detail-type".to_owned()),
                Just("source".to_owned()),
                "\\PC{0,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(key, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The parser never panics, and whatever it accepts is well-formed.
        #[test]
        fn parser_never_panics(event in arb_json()) {
            if let Ok(request) = RunRequest::from_event(&event) {
                if let Some(accounts) = request.accounts {
                    prop_assert!(!accounts.is_empty());
                    prop_assert!(accounts.iter().all(|a| is_account_id(a.as_str())));
                }
                if let Some(regions) = request.regions {
                    prop_assert!(regions.iter().all(|r| is_region_name(r)));
                }
            }
        }

        /// Arbitrary bytes that happen to be JSON never make it panic either.
        #[test]
        fn raw_text_never_panics(text in "\\PC{0,64}") {
            if let Ok(value) = serde_json::from_str::<Value>(&text) {
                let _ = RunRequest::from_event(&value);
            }
        }
    }
}
