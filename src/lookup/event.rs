//! The Lambda event of the leaver check: `{"find_people": ["alice@example.com"]}`.
//!
//! An object with `find_people` (or `find_user_names`) asks for a lookup, not an audit;
//! in that mode only `find_people`, `find_user_names`, `scan` and `dry_run` are accepted,
//! so an audit option given by mistake is refused rather than ignored.

use serde_json::{Map, Value};

use crate::event::EventError;

/// What a lookup is asked to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonRequest {
    /// Emails, as given (normalised later).
    pub emails: Vec<String>,
    /// User names, for people without email.
    pub user_names: Vec<String>,
    /// List the stores where `GetUserId` found nobody, to match emails stored in any
    /// letter case (one call per 100 users of such a store).
    pub scan: bool,
    /// Return the answer; write nothing.
    pub dry_run: bool,
}

const FIELDS: [&str; 4] = ["find_people", "find_user_names", "scan", "dry_run"];

fn invalid(field: &str, problem: impl Into<String>) -> EventError {
    EventError {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

impl PersonRequest {
    /// `Some` when the event asks for a lookup (an object with `find_people` or
    /// `find_user_names`), parsed and checked; `None` for any other event.
    pub fn from_event(event: &Value) -> Option<Result<PersonRequest, EventError>> {
        let Value::Object(map) = event else {
            return None;
        };
        if !map.contains_key("find_people") && !map.contains_key("find_user_names") {
            return None;
        }
        Some(parse(map))
    }
}

fn strings(map: &Map<String, Value>, field: &str, what: &str) -> Result<Vec<String>, EventError> {
    let Some(value) = map.get(field).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        return Err(invalid(field, format!("must be a list of {what}")));
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let Some(text) = item.as_str() else {
            return Err(invalid(field, format!("must be a list of {what}; found {item}")));
        };
        if text.trim().is_empty() {
            return Err(invalid(field, format!("must be a list of {what}; found an empty one")));
        }
        if !out.iter().any(|o| o == text) {
            out.push(text.to_owned());
        }
    }
    Ok(out)
}

fn flag(map: &Map<String, Value>, field: &str) -> Result<bool, EventError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(field, "must be true or false")),
    }
}

fn parse(map: &Map<String, Value>) -> Result<PersonRequest, EventError> {
    if let Some(key) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            key,
            format!("is not an option of a lookup (expected {})", FIELDS.join(", ")),
        ));
    }
    let request = PersonRequest {
        emails: strings(map, "find_people", "emails such as alice@example.com")?,
        user_names: strings(map, "find_user_names", "user names")?,
        scan: flag(map, "scan")?,
        dry_run: flag(map, "dry_run")?,
    };
    if request.emails.is_empty() && request.user_names.is_empty() {
        return Err(invalid(
            "find_people",
            "must name at least one person, e.g. {\"find_people\": [\"alice@example.com\"]}",
        ));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookups_are_told_apart_from_audits() {
        assert!(PersonRequest::from_event(&json!({})).is_none());
        assert!(PersonRequest::from_event(&json!({"accounts": ["111122223333"]})).is_none());
        let r =
            PersonRequest::from_event(&json!({"find_people": [" A@x.com", "A@x.com", " A@x.com"], "dry_run": true}))
                .unwrap()
                .unwrap();
        assert_eq!(r.emails, vec![" A@x.com".to_owned(), "A@x.com".to_owned()]);
        assert!(r.dry_run && !r.scan);
    }

    #[test]
    fn malformed_lookups_name_the_field() {
        let cases = [
            (
                json!({"find_people": ["a@x.com"], "accounts": ["111122223333"]}),
                "accounts",
            ),
            (json!({"find_people": "a@x.com"}), "find_people"),
            (json!({"find_people": []}), "find_people"),
            (json!({"find_people": [1]}), "find_people"),
            (json!({"find_people": ["  "]}), "find_people"),
            (json!({"find_people": ["a@x.com"], "scan": "yes"}), "scan"),
            (json!({"find_user_names": [null]}), "find_user_names"),
        ];
        for (event, field) in cases {
            let e = PersonRequest::from_event(&event).unwrap().unwrap_err();
            assert_eq!(e.field, field, "{event}");
            assert!(e.to_string().starts_with("invalid event: "));
        }
    }
}
