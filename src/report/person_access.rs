//! The leaver check's outputs: the `person_access` CSV, the JSON result (the Lambda's
//! answer, `find-person --json`) and the readable answer for a terminal. No I/O here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::person_access::{PersonAccessRow, tally, tally_line};
use crate::model::AccountId;
use crate::model::person::{PersonKey, PersonLookup, StoreMatch, Via};

use std::io::Write;

use super::{EncodeError, ErrorEntry, ReportWriter};

pub const PERSON_ACCESS: &str = "person_access";

pub const HEADER: [&str; 17] = [
    "Email",
    "IdentityStoreId",
    "InstanceArn",
    "InstanceType",
    "OwnerAccountId",
    "UserId",
    "UserName",
    "UserStatus",
    "AccessType",
    "Via",
    "GroupName",
    "TargetArn",
    "TargetName",
    "AccountId",
    "AccountName",
    "PermissionSetArn",
    "PermissionSetName",
];

/// `person_access`: one row per access path (see the README).
pub fn write_person_access<W: Write>(rows: &[PersonAccessRow<'_>], out: W) -> Result<W, EncodeError> {
    let mut writer = ReportWriter::new(PERSON_ACCESS, &HEADER, out)?;
    for r in rows {
        let s = r.store;
        writer.row([
            r.email.as_str(),
            s.map_or("", |m| m.instance.identity_store_id.as_str()),
            s.map_or("", |m| m.instance.arn.as_str()),
            s.map_or("", |m| m.instance.instance_type.as_str()),
            s.map_or("", |m| m.instance.owner_account_id.as_str()),
            s.map_or("", |m| m.user.user_id.as_str()),
            s.map_or("", |m| m.user.user_name.as_str()),
            s.and_then(|m| m.user.status.as_ref()).map_or("", |st| st.as_str()),
            r.access_type.as_str(),
            r.via,
            r.group_name,
            r.target_arn,
            r.target_name,
            r.account_id,
            r.account_name,
            r.permission_set_arn,
            r.permission_set_name,
        ])?;
    }
    writer.finish()
}

/// An application the person reaches, by one path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApplicationEntry {
    pub application_arn: String,
    pub application_name: String,
    pub via: &'static str,
    pub group_name: String,
}

/// An AWS account the person reaches, by one path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountEntry {
    pub account_id: String,
    pub account_name: String,
    pub permission_set_arn: String,
    pub permission_set_name: String,
    pub via: &'static str,
    pub group_name: String,
}

/// The person in one store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoreEntry {
    pub identity_store_id: String,
    pub instance_arn: String,
    pub instance_type: &'static str,
    pub instance_name: String,
    pub owner_account_id: String,
    pub region: String,
    pub user_id: String,
    pub user_name: String,
    pub user_status: String,
    pub emails: Vec<String>,
    pub groups: Vec<String>,
    pub applications: Vec<ApplicationEntry>,
    pub aws_accounts: Vec<AccountEntry>,
}

/// One person asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonEntry {
    /// As given.
    pub query: String,
    /// `email` or `user_name`.
    pub key: &'static str,
    /// The normalised email, or the trimmed user name.
    pub value: String,
    pub found: bool,
    pub summary: String,
    pub stores: Vec<StoreEntry>,
}

/// Counts of one lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LookupCounts {
    pub accounts: usize,
    pub stores_searched: usize,
    pub stores_failed: usize,
    pub people: usize,
    pub people_found: usize,
    pub aws_calls: u64,
}

/// The JSON result of a lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LookupResult {
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    /// False when a store, account or read failed: someone may hold access the answer
    /// does not show (see `account_errors`).
    pub complete: bool,
    pub dry_run: bool,
    pub current_account_id: AccountId,
    pub management_account_id: AccountId,
    /// `exact_or_lower_case` (GetUserId with the email as given and lower-cased) or
    /// `scan` (stores where that found nobody were listed in full).
    pub matching: &'static str,
    pub counts: LookupCounts,
    pub people: Vec<PersonEntry>,
    /// Report name to where it was written.
    pub reports: BTreeMap<String, String>,
    pub account_errors: Vec<ErrorEntry>,
}

fn via_cells(m: &StoreMatch, via: &Via) -> (&'static str, String) {
    match via {
        Via::Direct => ("DIRECT", String::new()),
        Via::Group(id) => (
            "GROUP",
            m.groups
                .iter()
                .find(|g| &g.group_id == id)
                .map_or_else(|| id.to_string(), |g| g.display_name.clone()),
        ),
    }
}

/// Whether the errors leave the answer incomplete (skipped inactive accounts do not).
pub fn is_complete(lookup: &PersonLookup) -> bool {
    lookup.errors.iter().all(|e| e.code.is_skip())
}

/// The people part of the result.
pub fn people(lookup: &PersonLookup) -> Vec<PersonEntry> {
    let account_names: BTreeMap<&AccountId, &str> = lookup.accounts.iter().map(|a| (&a.id, a.name.as_str())).collect();
    lookup
        .queries
        .iter()
        .enumerate()
        .map(|(index, query)| {
            let stores: Vec<StoreEntry> = lookup
                .matches
                .iter()
                .filter(|m| m.query == index)
                .map(|m| StoreEntry {
                    identity_store_id: m.instance.identity_store_id.to_string(),
                    instance_arn: m.instance.arn.to_string(),
                    instance_type: m.instance.instance_type.as_str(),
                    instance_name: m.instance.name.clone(),
                    owner_account_id: m.instance.owner_account_id.to_string(),
                    region: m.instance.region.clone(),
                    user_id: m.user.user_id.to_string(),
                    user_name: m.user.user_name.clone(),
                    user_status: m.user.status.as_ref().map_or("", |s| s.as_str()).to_owned(),
                    emails: m.user.emails.clone(),
                    groups: m.groups.iter().map(|g| g.display_name.clone()).collect(),
                    applications: m
                        .applications
                        .iter()
                        .map(|g| {
                            let (via, group_name) = via_cells(m, &g.via);
                            ApplicationEntry {
                                application_arn: g.application_arn.to_string(),
                                application_name: lookup
                                    .application_names
                                    .get(&g.application_arn)
                                    .cloned()
                                    .unwrap_or_default(),
                                via,
                                group_name,
                            }
                        })
                        .collect(),
                    aws_accounts: m
                        .accounts
                        .iter()
                        .map(|g| {
                            let (via, group_name) = via_cells(m, &g.via);
                            AccountEntry {
                                account_id: g.account_id.to_string(),
                                account_name: account_names.get(&g.account_id).copied().unwrap_or("").to_owned(),
                                permission_set_arn: g.permission_set_arn.to_string(),
                                permission_set_name: lookup
                                    .permission_set_names
                                    .get(&g.permission_set_arn)
                                    .cloned()
                                    .unwrap_or_default(),
                                via,
                                group_name,
                            }
                        })
                        .collect(),
                })
                .collect();
            PersonEntry {
                query: query.given.clone(),
                key: match query.key {
                    PersonKey::Email => "email",
                    PersonKey::UserName => "user_name",
                },
                value: query.value.clone(),
                found: !stores.is_empty(),
                summary: tally_line(&query.value, &tally(lookup, index)),
                stores,
            }
        })
        .collect()
}

fn through(via: &str, group: &str) -> String {
    if via == "GROUP" {
        format!(" (through {group})")
    } else {
        String::new()
    }
}

/// The readable answer: per person, each store (instance, owner account, status), then
/// what they can reach, grouped, and the person's last line; then what could not be
/// searched.
pub fn text(result: &LookupResult) -> String {
    let mut out = String::new();
    for person in &result.people {
        let _ = writeln!(out, "{}", person.value);
        if person.stores.is_empty() {
            let _ = writeln!(
                out,
                "  not found in any of the {} stores searched",
                result.counts.stores_searched
            );
        }
        for s in &person.stores {
            let status = if s.user_status.is_empty() {
                "status unknown"
            } else {
                &s.user_status
            };
            let _ = writeln!(
                out,
                "  {} {} instance {} ({}), owner {}: user {} {}",
                s.identity_store_id,
                s.instance_type,
                if s.instance_name.is_empty() {
                    &s.instance_arn
                } else {
                    &s.instance_name
                },
                s.region,
                s.owner_account_id,
                s.user_name,
                status
            );
            if !s.groups.is_empty() {
                let _ = writeln!(out, "    groups        {}", s.groups.join(", "));
            }
            for (i, a) in s.applications.iter().enumerate() {
                let label = if i == 0 { "applications" } else { "" };
                let _ = writeln!(
                    out,
                    "    {label:<13} {}{}",
                    if a.application_name.is_empty() {
                        &a.application_arn
                    } else {
                        &a.application_name
                    },
                    through(a.via, &a.group_name)
                );
            }
            for (i, a) in s.aws_accounts.iter().enumerate() {
                let label = if i == 0 { "AWS accounts" } else { "" };
                let permission_set = if a.permission_set_name.is_empty() {
                    &a.permission_set_arn
                } else {
                    &a.permission_set_name
                };
                let _ = writeln!(
                    out,
                    "    {label:<13} {} ({}) as {}{}",
                    a.account_name,
                    a.account_id,
                    permission_set,
                    through(a.via, &a.group_name)
                );
            }
        }
        let _ = writeln!(out, "{}", person.summary);
        let _ = writeln!(out);
    }
    let failures: Vec<&ErrorEntry> = result
        .account_errors
        .iter()
        .filter(|e| e.error_code != "ACCOUNT_NOT_ACTIVE")
        .collect();
    if !result.complete {
        let _ = writeln!(
            out,
            "INCOMPLETE: {} account(s), store(s) or read(s) failed; access held there is not shown:",
            failures.len()
        );
        for e in failures {
            let _ = writeln!(out, "  {} {} {}: {}", e.account_id, e.stage, e.error_code, e.message);
        }
    }
    out
}
