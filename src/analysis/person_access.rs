//! The leaver check's answer, from what the lookup found: the people asked for (emails
//! normalised as the duplicates analysis does), one `person_access` row per access path,
//! and per person what they can reach, counted.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::person::{PersonKey, PersonLookup, PersonQuery, StoreMatch, Via};
use crate::model::{Account, AccountId, GroupId, User};

use super::duplicates::normalize_email;

/// A person to look up by email; `None` when nothing is left after trimming.
pub fn email_query(given: &str) -> Option<PersonQuery> {
    let normal = normalize_email(given)?.into_owned();
    let trimmed = given.trim().to_owned();
    let mut forms = vec![trimmed];
    if forms[0] != normal {
        forms.push(normal.clone());
    }
    Some(PersonQuery {
        given: given.to_owned(),
        key: PersonKey::Email,
        value: normal,
        forms,
    })
}

/// A person to look up by user name (exact, trimmed); `None` when empty.
pub fn user_name_query(given: &str) -> Option<PersonQuery> {
    let trimmed = given.trim();
    (!trimmed.is_empty()).then(|| PersonQuery {
        given: given.to_owned(),
        key: PersonKey::UserName,
        value: trimmed.to_owned(),
        forms: vec![trimmed.to_owned()],
    })
}

/// Whether a listed user is the person asked for: any of their emails equal after
/// normalisation, or the user name equal ignoring case and surrounding spaces.
pub fn user_matches(query: &PersonQuery, user: &User) -> bool {
    match query.key {
        PersonKey::Email => user
            .emails
            .iter()
            .any(|e| normalize_email(e).is_some_and(|n| n == query.value)),
        PersonKey::UserName => user.user_name.trim().to_lowercase() == query.value.to_lowercase(),
    }
}

/// What a row says the person has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessType {
    /// Not found in any store searched (the row's store and user columns are empty).
    NotFound,
    StoreMembership,
    Group,
    Application,
    AwsAccount,
}

impl AccessType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::NotFound => "",
            AccessType::StoreMembership => "STORE_MEMBERSHIP",
            AccessType::Group => "GROUP",
            AccessType::Application => "APPLICATION",
            AccessType::AwsAccount => "AWS_ACCOUNT",
        }
    }
}

/// One row of `person_access`; cells borrowed from the lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonAccessRow<'a> {
    /// The normalised email asked for (for a user-name query: the user's emails).
    pub email: String,
    pub store: Option<&'a StoreMatch>,
    pub access_type: AccessType,
    /// `DIRECT` or `GROUP`; empty for store rows.
    pub via: &'static str,
    pub group_name: &'a str,
    pub target_arn: &'a str,
    pub target_name: &'a str,
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub permission_set_arn: &'a str,
    pub permission_set_name: &'a str,
}

/// The email cell of a match.
fn email_cell(lookup: &PersonLookup, query: usize, user: Option<&User>) -> String {
    let q = &lookup.queries[query];
    match (q.key, user) {
        (PersonKey::Email, _) => q.value.clone(),
        (PersonKey::UserName, Some(user)) => user.emails.join(", "),
        (PersonKey::UserName, None) => String::new(),
    }
}

fn group_name<'a>(m: &'a StoreMatch, id: &'a GroupId) -> &'a str {
    m.groups
        .iter()
        .find(|g| &g.group_id == id)
        .map_or(id.as_str(), |g| g.display_name.as_str())
}

fn via<'a>(m: &'a StoreMatch, via: &'a Via) -> (&'static str, &'a str) {
    match via {
        Via::Direct => ("DIRECT", ""),
        Via::Group(id) => ("GROUP", group_name(m, id)),
    }
}

/// Every row: per query, per store found (sorted by store), the store row, its groups,
/// its applications, its accounts; a query found nowhere gets one empty row.
pub fn person_access_rows(lookup: &PersonLookup) -> Vec<PersonAccessRow<'_>> {
    let account_names: BTreeMap<&AccountId, &str> = lookup
        .accounts
        .iter()
        .map(|a: &Account| (&a.id, a.name.as_str()))
        .collect();
    fn blank<'a>(email: String, store: Option<&'a StoreMatch>, access_type: AccessType) -> PersonAccessRow<'a> {
        PersonAccessRow {
            email,
            store,
            access_type,
            via: "",
            group_name: "",
            target_arn: "",
            target_name: "",
            account_id: "",
            account_name: "",
            permission_set_arn: "",
            permission_set_name: "",
        }
    }
    let mut rows = Vec::new();
    for index in 0..lookup.queries.len() {
        let matches: Vec<&StoreMatch> = lookup.matches.iter().filter(|m| m.query == index).collect();
        if matches.is_empty() {
            rows.push(blank(email_cell(lookup, index, None), None, AccessType::NotFound));
            continue;
        }
        for m in matches {
            let email = email_cell(lookup, index, Some(&m.user));
            rows.push(blank(email.clone(), Some(m), AccessType::StoreMembership));
            for group in &m.groups {
                rows.push(PersonAccessRow {
                    via: "DIRECT",
                    group_name: &group.display_name,
                    target_name: &group.display_name,
                    ..blank(email.clone(), Some(m), AccessType::Group)
                });
            }
            let mut applications: Vec<_> = m.applications.iter().collect();
            applications.sort_by_key(|g| {
                let name = lookup
                    .application_names
                    .get(&g.application_arn)
                    .map_or("", String::as_str);
                (name, &g.application_arn, via(m, &g.via))
            });
            for grant in applications {
                let (via, group) = via(m, &grant.via);
                rows.push(PersonAccessRow {
                    via,
                    group_name: group,
                    target_arn: grant.application_arn.as_str(),
                    target_name: lookup
                        .application_names
                        .get(&grant.application_arn)
                        .map_or("", String::as_str),
                    ..blank(email.clone(), Some(m), AccessType::Application)
                });
            }
            for grant in &m.accounts {
                let (via, group) = via(m, &grant.via);
                let account_name = account_names.get(&grant.account_id).copied().unwrap_or("");
                rows.push(PersonAccessRow {
                    via,
                    group_name: group,
                    target_name: account_name,
                    account_id: grant.account_id.as_str(),
                    account_name,
                    permission_set_arn: grant.permission_set_arn.as_str(),
                    permission_set_name: lookup
                        .permission_set_names
                        .get(&grant.permission_set_arn)
                        .map_or("", String::as_str),
                    ..blank(email.clone(), Some(m), AccessType::AwsAccount)
                });
            }
        }
    }
    rows
}

/// What one person can reach, counted for the answer's last line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonTally {
    pub stores: usize,
    pub disabled_in: usize,
    pub groups: usize,
    pub applications: usize,
    pub applications_through_groups: usize,
    pub aws_accounts: usize,
    pub aws_accounts_through_groups: usize,
}

/// Counts what the person of query `index` reaches: distinct applications and accounts,
/// and how many of them some group grants.
pub fn tally(lookup: &PersonLookup, index: usize) -> PersonTally {
    let matches: Vec<&StoreMatch> = lookup.matches.iter().filter(|m| m.query == index).collect();
    let stores: BTreeSet<&str> = matches.iter().map(|m| m.instance.identity_store_id.as_str()).collect();
    let disabled: BTreeSet<&str> = matches
        .iter()
        .filter(|m| m.user.is_disabled())
        .map(|m| m.instance.identity_store_id.as_str())
        .collect();
    let mut applications: BTreeMap<&str, bool> = BTreeMap::new();
    let mut accounts: BTreeMap<&str, bool> = BTreeMap::new();
    for m in &matches {
        for g in &m.applications {
            *applications.entry(g.application_arn.as_str()).or_default() |= g.via != Via::Direct;
        }
        for g in &m.accounts {
            *accounts.entry(g.account_id.as_str()).or_default() |= g.via != Via::Direct;
        }
    }
    PersonTally {
        stores: stores.len(),
        disabled_in: disabled.len(),
        groups: matches.iter().map(|m| m.groups.len()).sum(),
        applications: applications.len(),
        applications_through_groups: applications.values().filter(|g| **g).count(),
        aws_accounts: accounts.len(),
        aws_accounts_through_groups: accounts.values().filter(|g| **g).count(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The answer's last line for a person, e.g.
/// `alice@example.com: 3 stores, 2 applications, 7 AWS accounts (2 through groups); disabled in 1 store`.
pub fn tally_line(label: &str, t: &PersonTally) -> String {
    if t.stores == 0 {
        return format!("{label}: not found in any store searched");
    }
    let mut line = format!(
        "{label}: {}, {}, {}",
        plural(t.stores, "store", "stores"),
        plural(t.applications, "application", "applications"),
        plural(t.aws_accounts, "AWS account", "AWS accounts"),
    );
    if t.aws_accounts_through_groups > 0 {
        line.push_str(&format!(" ({} through groups)", t.aws_accounts_through_groups));
    }
    if t.disabled_in > 0 {
        line.push_str(&format!("; disabled in {}", plural(t.disabled_in, "store", "stores")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_queries_try_the_given_form_then_the_normal_one() {
        let q = email_query("  Alice@Example.COM ").unwrap();
        assert_eq!(q.value, "alice@example.com");
        assert_eq!(
            q.forms,
            vec!["Alice@Example.COM".to_owned(), "alice@example.com".to_owned()]
        );
        assert_eq!(email_query("bob@x.com").unwrap().forms, vec!["bob@x.com".to_owned()]);
        assert!(email_query("   ").is_none());
        assert!(user_name_query(" ").is_none());
        assert_eq!(user_name_query(" li.wei ").unwrap().forms, vec!["li.wei".to_owned()]);
    }

    #[test]
    fn listed_users_match_after_normalisation() {
        let q = email_query("dup.case@example.com").unwrap();
        let user = User {
            user_id: "u".into(),
            user_name: "x".into(),
            emails: vec!["other@x.com".into(), " Dup.Case@Example.com ".into()],
            status: None,
        };
        assert!(user_matches(&q, &user));
        assert!(!user_matches(&email_query("dup@example.com").unwrap(), &user));
        assert!(user_matches(&user_name_query("X").unwrap(), &user));
    }

    #[test]
    fn the_last_line_reads_without_ids() {
        let t = PersonTally {
            stores: 3,
            disabled_in: 1,
            groups: 2,
            applications: 2,
            applications_through_groups: 1,
            aws_accounts: 7,
            aws_accounts_through_groups: 2,
        };
        assert_eq!(
            tally_line("alice@example.com", &t),
            "alice@example.com: 3 stores, 2 applications, 7 AWS accounts (2 through groups); disabled in 1 store"
        );
        let one = PersonTally {
            stores: 1,
            applications: 1,
            ..Default::default()
        };
        assert_eq!(tally_line("bob", &one), "bob: 1 store, 1 application, 0 AWS accounts");
        assert_eq!(
            tally_line("nobody", &PersonTally::default()),
            "nobody: not found in any store searched"
        );
    }
}
