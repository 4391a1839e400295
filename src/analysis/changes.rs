//! Changes since the previous run: each report's rows compared by key, column by column.
//!
//! Pure: the two runs' CSV text comes in through any `Read + Seek` (files in the run's
//! temporary folder, or bytes in tests) and the change rows go out through a callback, in
//! a stable order: `ADDED` and `CHANGED` rows in the current report's row order, then
//! `REMOVED` rows in the previous report's. Neither report is ever held in memory: the
//! previous one is indexed (a hash of each row's key, a hash of its compared cells and
//! where the row starts: 40 bytes a row), the current one is read twice and looked up in
//! that index, and a changed row's previous cells are read back from where it starts.
//!
//! Cells are compared as written (neutralised CSV text), columns by header name: a
//! previous run written by an older version with other columns compares on the columns
//! both runs have. A key (see [`key_columns`]) normally names one row; where it names
//! several (a report of another shape, or an older version), the rows of that key are
//! matched as whole rows and the rest are `ADDED`/`REMOVED`, never `CHANGED`. Two keys
//! whose 64-bit hashes collide are compared that way too: a collision can turn a
//! `CHANGED` row into an `ADDED` and a `REMOVED` one, never hide a change (two different
//! rows of one key compare equal only if their 64-bit row hashes collide).
//!
//! What either run could not read is left out on both sides ([`Scope`]): a row of a
//! failed account, store, group, application or permission set is neither `ADDED`,
//! `REMOVED` nor `CHANGED`, and neither is any row of the same key in the other run.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Seek};

use serde::{Deserialize, Serialize};

pub const ADDED: &str = "ADDED";
pub const REMOVED: &str = "REMOVED";
pub const CHANGED: &str = "CHANGED";

/// Separates the key's values in the `Key` column.
pub const KEY_SEPARATOR: &str = " | ";

/// One row of the `changes` report: what differs from the previous run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeRow {
    /// The report the row belongs to (`idc_instances`, ...).
    pub report: String,
    /// `ADDED`, `REMOVED` or `CHANGED`.
    pub change: String,
    /// The row's key values, joined with `" | "` (see [`key_columns`]).
    pub key: String,
    /// The column that changed (`CHANGED` rows; empty otherwise).
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The columns that name a row of a report: one row per key. Other reports (but
/// `account_errors`, never compared) are keyed by all their columns, so a row is either
/// in both runs or `ADDED`/`REMOVED`.
pub fn key_columns(report: &str) -> Option<&'static [&'static str]> {
    match report {
        "idc_instances" => Some(&["AccountId", "InstanceArn"]),
        "duplicated_users" => Some(&["User_email"]),
        "application_assignments" => Some(&["ApplicationArn", "PrincipalType", "PrincipalId", "UserId"]),
        "account_assignments" => Some(&[
            "AccountId",
            "PermissionSetArn",
            "PrincipalType",
            "PrincipalId",
            "UserId",
        ]),
        _ => None,
    }
}

/// An `account_errors` entry of either run, as the run summary lists it. `resource` is
/// empty in summaries of versions that did not write it: it is then read from the message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ScopeError {
    pub account_id: String,
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub resource: String,
    #[serde(default)]
    pub message: String,
}

/// An (account, permission set) whose account assignments were not read; no permission
/// set: none of the account's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AccessPair {
    pub account_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub permission_set_arn: String,
}

/// What the comparison leaves out because either run could not read it (the summary's
/// `changes_scope`). Built from both runs' `account_errors`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Accounts not audited (role refused, instances not listed, not reached): their
    /// `idc_instances` rows, the application assignments of instances they own, and the
    /// duplicated users of their stores.
    pub excluded_accounts: BTreeSet<String>,
    /// Identity stores not (fully) read: every row naming them.
    pub excluded_stores: BTreeSet<String>,
    /// Groups whose members were not read (`store/group`): the assignment rows of the group.
    pub excluded_groups: BTreeSet<String>,
    /// Instances whose applications were not listed, and applications whose assignments
    /// were not read (ARNs): their `application_assignments` rows.
    pub excluded_applications: BTreeSet<String>,
    /// Instances whose permission sets were not read, and permission sets not described
    /// or whose accounts were not listed (ARNs): their `account_assignments` rows.
    pub excluded_permission_sets: BTreeSet<String>,
    /// Account assignments not read: their `account_assignments` rows.
    pub excluded_account_assignments: BTreeSet<AccessPair>,
    /// Which run's organization listing the deadline cut short (`previous`, `current`):
    /// the accounts it did not list are unknown, so no row is reported `ADDED` (previous)
    /// or `REMOVED` (current).
    pub listing_incomplete: BTreeSet<&'static str>,
}

/// Which run an error or a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Previous,
    Current,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Previous => "previous",
            Side::Current => "current",
        }
    }
}

impl Scope {
    /// Adds what one run's errors say it could not read. Skips (accounts not ACTIVE,
    /// accounts not in the organization) are no failure: their rows are compared.
    pub fn add_errors<'a>(&mut self, side: Side, errors: impl IntoIterator<Item = &'a ScopeError>) {
        for e in errors {
            if e.account_id.is_empty() || matches!(e.error_code.as_str(), "ACCOUNT_NOT_ACTIVE" | "NOT_IN_ORGANIZATION")
            {
                continue;
            }
            let resource = resource_of(e);
            let account = e.account_id.clone();
            match (e.stage.as_str(), resource.as_str()) {
                ("select", _) => {
                    if e.error_code == "DEADLINE_REACHED" {
                        self.listing_incomplete.insert(side.as_str());
                    }
                }
                ("assume_role" | "list_instances", _) | (_, "") => {
                    self.excluded_accounts.insert(account.clone());
                    if !matches!(e.stage.as_str(), "assume_role" | "list_instances") {
                        // A failure of unknown extent: the account's access too.
                        self.excluded_account_assignments.insert(AccessPair {
                            account_id: account,
                            permission_set_arn: String::new(),
                        });
                    }
                }
                ("identity_store", r) => match r.split_once('/') {
                    Some(_) => {
                        self.excluded_groups.insert(r.to_owned());
                    }
                    None => {
                        self.excluded_stores.insert(r.to_owned());
                    }
                },
                ("applications", r) => {
                    self.excluded_applications.insert(r.to_owned());
                }
                ("permission_sets", r) => {
                    self.excluded_permission_sets.insert(r.to_owned());
                }
                ("account_assignments", r) => {
                    let permission_set_arn = if r.contains(":permissionSet/") {
                        r.to_owned()
                    } else {
                        String::new()
                    };
                    self.excluded_account_assignments.insert(AccessPair {
                        account_id: account,
                        permission_set_arn,
                    });
                }
                _ => {
                    self.excluded_accounts.insert(account);
                }
            }
        }
    }

    /// Whether nothing is left out.
    pub fn is_empty(&self) -> bool {
        *self == Scope::default()
    }

    /// Whether a row of `report` is left out; `cell` gives a column's value ("" when the
    /// report has no such column).
    fn excludes<'a>(&self, report: &str, cell: impl Fn(&str) -> &'a str) -> bool {
        let account = |c: &str| has(&self.excluded_accounts, cell(c));
        let store = |c: &str| has(&self.excluded_stores, cell(c));
        let group = || {
            let (s, p) = (cell("IdentityStoreId"), cell("PrincipalId"));
            !s.is_empty() && !p.is_empty() && self.excluded_groups.contains(&format!("{s}/{p}"))
        };
        match report {
            "idc_instances" => account("AccountId"),
            "duplicated_users" => {
                split_list(cell("IdentityStoreId")).any(|s| has(&self.excluded_stores, s))
                    || split_list(cell("OwnerAccountIds")).any(|a| has(&self.excluded_accounts, a))
            }
            "application_assignments" => {
                account("OwnerAccountId")
                    || store("IdentityStoreId")
                    || group()
                    || has(&self.excluded_applications, cell("InstanceArn"))
                    || has(&self.excluded_applications, cell("ApplicationArn"))
            }
            "account_assignments" => {
                let (a, ps) = (cell("AccountId"), cell("PermissionSetArn"));
                store("IdentityStoreId")
                    || group()
                    || has(&self.excluded_permission_sets, cell("InstanceArn"))
                    || has(&self.excluded_permission_sets, ps)
                    || self
                        .excluded_account_assignments
                        .iter()
                        .any(|p| p.account_id == a && (p.permission_set_arn.is_empty() || p.permission_set_arn == ps))
            }
            _ => account("AccountId") || account("OwnerAccountId") || store("IdentityStoreId"),
        }
    }
}

fn has(set: &BTreeSet<String>, value: &str) -> bool {
    !value.is_empty() && set.contains(value)
}

/// The values of a `", "`-joined cell.
fn split_list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(',').map(str::trim).filter(|v| !v.is_empty())
}

/// What an error could not read: its `resource`, or, for summaries written before the
/// field existed, the identifier its message names.
fn resource_of(e: &ScopeError) -> String {
    if !e.resource.is_empty() {
        return e.resource.clone();
    }
    let looks_like_id = |s: &str| (s.starts_with("d-") || s.starts_with("arn:")) && !s.contains(' ');
    let m = e.message.as_str();
    if let Some((first, _)) = m.split_once(": ")
        && looks_like_id(first)
    {
        return first.to_owned();
    }
    for (before, after) in [("before ", " was reached"), ("identity store ", " of account instance")] {
        if let Some(rest) = m.split_once(before).map(|(_, r)| r)
            && let Some((what, _)) = rest.split_once(after)
            && looks_like_id(what)
        {
            return what.to_owned();
        }
    }
    String::new()
}

/// What comparing one report found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportDiff {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    /// Rows of either run left out by the scope.
    pub excluded_rows: usize,
    /// `idc_instances` only: account instances (distinct ARNs of `InstanceType`
    /// `ACCOUNT`) in added rows that no row of the previous run named.
    pub new_account_instances: usize,
    /// `idc_instances` only: instances in removed rows that no row of this run names.
    pub removed_instances: usize,
}

/// Why a report could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError<E> {
    #[error("cannot read the previous run's report: {0}")]
    Previous(#[source] csv::Error),
    #[error("cannot read this run's report: {0}")]
    Current(#[source] csv::Error),
    /// The callback refused a row (the changes report could not be written).
    #[error(transparent)]
    Emit(E),
}

/// A report's header: column name to position.
struct Header {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Header {
    fn new(record: &csv::StringRecord) -> Header {
        let names: Vec<String> = record.iter().map(str::to_owned).collect();
        let mut index = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            index.entry(n.clone()).or_insert(i);
        }
        Header { names, index }
    }

    fn cell<'r>(&self, row: &'r csv::StringRecord, column: &str) -> &'r str {
        self.index.get(column).and_then(|&i| row.get(i)).unwrap_or("")
    }
}

/// One previous row in the index.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    row: u64,
    offset: u64,
    /// Rows of this run with the same key (kept on the group's first entry).
    current_rows: u32,
    /// The previous row is left out by the scope.
    excluded: bool,
    /// A row of this run with the same key is left out by the scope.
    current_excluded: bool,
    /// Matched by a row of this run.
    consumed: bool,
}

/// How the two runs' columns line up.
struct Columns {
    /// Compared columns: (name, position in previous, position in current), in the
    /// current report's order.
    shared: Vec<(String, usize, usize)>,
    /// Key columns: (position in previous, position in current).
    key: Vec<(usize, usize)>,
}

impl Columns {
    fn new(report: &str, previous: &Header, current: &Header) -> Columns {
        let shared: Vec<(String, usize, usize)> = current
            .names
            .iter()
            .enumerate()
            .filter_map(|(c, name)| previous.index.get(name).map(|&p| (name.clone(), p, c)))
            .collect();
        let key = match key_columns(report) {
            Some(cols)
                if cols
                    .iter()
                    .all(|c| previous.index.contains_key(*c) && current.index.contains_key(*c)) =>
            {
                cols.iter().map(|c| (previous.index[*c], current.index[*c])).collect()
            }
            _ => shared.iter().map(|(_, p, c)| (*p, *c)).collect(),
        };
        Columns { shared, key }
    }
}

/// Hashes of a row's key and compared cells, and its key text.
struct Hashing<S: BuildHasher> {
    state: S,
}

impl<S: BuildHasher> Hashing<S> {
    fn hash<'r>(&self, cells: impl Iterator<Item = &'r str>) -> u64 {
        let mut h = self.state.build_hasher();
        for cell in cells {
            h.write(cell.as_bytes());
            // A byte no UTF-8 text holds: ("a", "bc") and ("ab", "c") differ.
            h.write_u8(0xff);
        }
        h.finish()
    }
}

fn side_cells<'r>(
    row: &'r csv::StringRecord,
    positions: impl Iterator<Item = usize> + 'r,
) -> impl Iterator<Item = &'r str> {
    positions.map(move |i| row.get(i).unwrap_or(""))
}

fn key_text(row: &csv::StringRecord, positions: impl Iterator<Item = usize>) -> String {
    positions
        .map(|i| row.get(i).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(KEY_SEPARATOR)
}

fn reader<R: Read>(source: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(source)
}

/// Reads the header row (empty when the report is empty).
fn header<R: Read>(reader: &mut csv::Reader<R>) -> Result<Header, csv::Error> {
    let mut record = csv::StringRecord::new();
    reader.read_record(&mut record)?;
    Ok(Header::new(&record))
}

fn rewind<R: Read + Seek>(reader: &mut csv::Reader<R>) -> Result<(), csv::Error> {
    reader.seek(csv::Position::new())
}

/// The range of index entries with `key`.
fn group(index: &[Entry], key: u64) -> std::ops::Range<usize> {
    let start = index.partition_point(|e| e.key < key);
    let end = start + index[start..].partition_point(|e| e.key == key);
    start..end
}

/// Compares one report of the previous run with this run's, calling `emit` for each
/// change row in order (see the module).
pub fn diff_report<P, C, E>(
    report: &str,
    previous: P,
    current: C,
    scope: &Scope,
    emit: &mut dyn FnMut(ChangeRow) -> Result<(), E>,
) -> Result<ReportDiff, DiffError<E>>
where
    P: Read + Seek,
    C: Read + Seek,
{
    let hashing = Hashing {
        state: foldhash::quality::RandomState::default(),
    };
    let prev_error = DiffError::Previous;
    let cur_error = DiffError::Current;
    let mut prev = reader(previous);
    let mut cur = reader(current);
    let prev_header = header(&mut prev).map_err(prev_error)?;
    let cur_header = header(&mut cur).map_err(cur_error)?;
    let columns = Columns::new(report, &prev_header, &cur_header);
    let report_additions = !scope.listing_incomplete.contains("previous");
    let report_removals = !scope.listing_incomplete.contains("current");
    let instances = report == "idc_instances";
    let mut diff = ReportDiff::default();
    let mut prev_instances: BTreeSet<String> = BTreeSet::new();
    let mut cur_instances: BTreeSet<String> = BTreeSet::new();
    let mut added_account_instances: BTreeSet<String> = BTreeSet::new();
    let mut removed_instances: BTreeSet<String> = BTreeSet::new();

    // The previous run's index.
    let mut index: Vec<Entry> = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        let offset = prev.position().byte();
        if !prev.read_record(&mut row).map_err(prev_error)? {
            break;
        }
        let excluded = scope.excludes(report, |c| prev_header.cell(&row, c));
        if instances && !excluded {
            let arn = prev_header.cell(&row, "InstanceArn");
            if !arn.is_empty() {
                prev_instances.insert(arn.to_owned());
            }
        }
        index.push(Entry {
            key: hashing.hash(side_cells(&row, columns.key.iter().map(|k| k.0))),
            row: hashing.hash(side_cells(&row, columns.shared.iter().map(|s| s.1))),
            offset,
            current_rows: 0,
            excluded,
            current_excluded: false,
            consumed: false,
        });
    }
    index.sort_unstable_by_key(|e| (e.key, e.offset));

    // This run, first pass: how many rows each previous key has here, and which keys
    // this run leaves out.
    while cur.read_record(&mut row).map_err(cur_error)? {
        let key = hashing.hash(side_cells(&row, columns.key.iter().map(|k| k.1)));
        let range = group(&index, key);
        if range.is_empty() {
            continue;
        }
        if scope.excludes(report, |c| cur_header.cell(&row, c)) {
            for e in &mut index[range] {
                e.current_excluded = true;
            }
        } else {
            index[range.start].current_rows += 1;
        }
    }

    // Second pass: added and changed rows, in this run's order.
    rewind(&mut cur).map_err(cur_error)?;
    cur.read_record(&mut row).map_err(cur_error)?;
    let mut before = csv::StringRecord::new();
    while cur.read_record(&mut row).map_err(cur_error)? {
        if scope.excludes(report, |c| cur_header.cell(&row, c)) {
            diff.excluded_rows += 1;
            continue;
        }
        if instances {
            let arn = cur_header.cell(&row, "InstanceArn");
            if !arn.is_empty() {
                cur_instances.insert(arn.to_owned());
            }
        }
        let key = hashing.hash(side_cells(&row, columns.key.iter().map(|k| k.1)));
        let row_hash = hashing.hash(side_cells(&row, columns.shared.iter().map(|s| s.2)));
        let range = group(&index, key);
        let entries = &mut index[range.clone()];
        if entries.iter().any(|e| e.excluded || e.current_excluded) {
            diff.excluded_rows += 1;
            continue;
        }
        let single = entries.len() == 1 && entries[0].current_rows == 1;
        if let Some(same) = entries.iter_mut().find(|e| !e.consumed && e.row == row_hash) {
            same.consumed = true;
            continue;
        }
        let key_text = || key_text(&row, columns.key.iter().map(|k| k.1));
        if single {
            entries[0].consumed = true;
            let mut position = csv::Position::new();
            position.set_byte(entries[0].offset);
            prev.seek(position).map_err(prev_error)?;
            prev.read_record(&mut before).map_err(prev_error)?;
            for (name, p, c) in &columns.shared {
                let (was, is) = (before.get(*p).unwrap_or(""), row.get(*c).unwrap_or(""));
                if was != is {
                    diff.changed += 1;
                    emit(ChangeRow {
                        report: report.to_owned(),
                        change: CHANGED.to_owned(),
                        key: key_text(),
                        field: name.clone(),
                        before: was.to_owned(),
                        after: is.to_owned(),
                    })
                    .map_err(DiffError::Emit)?;
                }
            }
            continue;
        }
        if !report_additions {
            continue;
        }
        diff.added += 1;
        if instances && cur_header.cell(&row, "InstanceType") == "ACCOUNT" {
            added_account_instances.insert(cur_header.cell(&row, "InstanceArn").to_owned());
        }
        emit(ChangeRow {
            report: report.to_owned(),
            change: ADDED.to_owned(),
            key: key_text(),
            ..ChangeRow::default()
        })
        .map_err(DiffError::Emit)?;
    }

    // Removed rows, in the previous run's order.
    rewind(&mut prev).map_err(prev_error)?;
    prev.read_record(&mut row).map_err(prev_error)?;
    loop {
        let offset = prev.position().byte();
        if !prev.read_record(&mut row).map_err(prev_error)? {
            break;
        }
        let key = hashing.hash(side_cells(&row, columns.key.iter().map(|k| k.0)));
        let entries = &index[group(&index, key)];
        if entries.iter().any(|e| e.excluded || e.current_excluded) {
            diff.excluded_rows += 1;
            continue;
        }
        if entries.iter().any(|e| e.offset == offset && e.consumed) || !report_removals {
            continue;
        }
        diff.removed += 1;
        if instances {
            let arn = prev_header.cell(&row, "InstanceArn");
            if !arn.is_empty() {
                removed_instances.insert(arn.to_owned());
            }
        }
        emit(ChangeRow {
            report: report.to_owned(),
            change: REMOVED.to_owned(),
            key: key_text(&row, columns.key.iter().map(|k| k.0)),
            ..ChangeRow::default()
        })
        .map_err(DiffError::Emit)?;
    }
    diff.new_account_instances = added_account_instances.difference(&prev_instances).count();
    diff.removed_instances = removed_instances.difference(&cur_instances).count();
    Ok(diff)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn csv(lines: &[&str]) -> Cursor<Vec<u8>> {
        Cursor::new(
            lines
                .iter()
                .map(|l| format!("{l}\r\n"))
                .collect::<String>()
                .into_bytes(),
        )
    }

    /// The change rows as `CHANGE key [field before -> after]` lines, and the counts.
    fn diff(report: &str, previous: &[&str], current: &[&str], scope: &Scope) -> (Vec<String>, ReportDiff) {
        let mut rows = Vec::new();
        let mut emit = |r: ChangeRow| -> Result<(), std::convert::Infallible> {
            assert_eq!(r.report, report);
            rows.push(if r.field.is_empty() {
                format!("{} {}", r.change, r.key)
            } else {
                format!("{} {} [{} {} -> {}]", r.change, r.key, r.field, r.before, r.after)
            });
            Ok(())
        };
        let counts = diff_report(report, csv(previous), csv(current), scope, &mut emit).unwrap();
        (rows, counts)
    }

    const INSTANCES_HEADER: &str = "AccountId,IdentityCenterInstance,InstanceArn,InstanceType,OwnerAccountId,Region,InstanceName,InstanceStatus,AccountName";

    #[test]
    fn added_removed_and_changed_rows_in_order() {
        let previous = [
            INSTANCES_HEADER,
            "111122223333,d-1,arn:org,ORGANIZATION,111122223333,us-east-1,org,ACTIVE,Management",
            "111122221111,d-2,arn:acct-1,ACCOUNT,111122221111,us-east-1,one,ACTIVE,Sandbox",
            "111122225555,d-5,arn:acct-5,ACCOUNT,111122225555,us-east-1,five,ACTIVE,Five",
        ];
        let current = [
            INSTANCES_HEADER,
            "111122224444,d-4,arn:acct-4,ACCOUNT,111122224444,us-east-1,four,ACTIVE,Workloads",
            "111122223333,d-1,arn:org,ORGANIZATION,111122223333,us-east-1,org,ACTIVE,Management",
            "111122221111,d-2,arn:acct-1,ACCOUNT,111122221111,us-east-1,\"one, renamed\",ACTIVE,'=Sandbox",
        ];
        let (rows, counts) = diff("idc_instances", &previous, &current, &Scope::default());
        assert_eq!(
            rows,
            vec![
                "ADDED 111122224444 | arn:acct-4",
                "CHANGED 111122221111 | arn:acct-1 [InstanceName one -> one, renamed]",
                "CHANGED 111122221111 | arn:acct-1 [AccountName Sandbox -> '=Sandbox]",
                "REMOVED 111122225555 | arn:acct-5",
            ]
        );
        assert_eq!((counts.added, counts.removed, counts.changed), (1, 1, 2));
        assert_eq!((counts.new_account_instances, counts.removed_instances), (1, 1));
    }

    #[test]
    fn identical_reports_have_no_change() {
        let report = [
            INSTANCES_HEADER,
            "111122223333,d-1,arn:org,ORGANIZATION,111122223333,us-east-1,org,ACTIVE,M",
        ];
        let (rows, counts) = diff("idc_instances", &report, &report, &Scope::default());
        assert!(rows.is_empty());
        assert_eq!(counts, ReportDiff::default());
        let (rows, _) = diff(
            "idc_instances",
            &[INSTANCES_HEADER],
            &[INSTANCES_HEADER],
            &Scope::default(),
        );
        assert!(rows.is_empty());
    }

    #[test]
    fn instances_seen_elsewhere_are_neither_new_nor_removed() {
        // An account joins and sees the organization instance; another leaves: rows, not
        // instances, were added and removed.
        let previous = [
            INSTANCES_HEADER,
            "111122223333,d-1,arn:org,ORGANIZATION,111122223333,us-east-1,org,ACTIVE,M",
            "111122225555,d-1,arn:org,ORGANIZATION,111122223333,us-east-1,org,ACTIVE,Five",
        ];
        let current = [
            INSTANCES_HEADER,
            "111122223333,d-1,arn:org,ORGANIZATION,111122223333,us-east-1,org,ACTIVE,M",
            "111122226666,d-1,arn:org,ORGANIZATION,111122223333,us-east-1,org,ACTIVE,Six",
        ];
        let (rows, counts) = diff("idc_instances", &previous, &current, &Scope::default());
        assert_eq!(
            rows,
            vec!["ADDED 111122226666 | arn:org", "REMOVED 111122225555 | arn:org"]
        );
        assert_eq!((counts.new_account_instances, counts.removed_instances), (0, 0));
    }

    #[test]
    fn an_older_version_compares_on_the_columns_both_have() {
        // The older version wrote no UserStatus and had a column since dropped.
        let previous = [
            "ApplicationArn,PrincipalType,PrincipalId,UserId,UserName,Legacy",
            "arn:app,USER,u-1,u-1,alice,x",
            "arn:app,USER,u-2,u-2,bob,y",
        ];
        let current = [
            "InstanceArn,ApplicationArn,PrincipalType,PrincipalId,UserId,UserName,UserStatus",
            "arn:ins,arn:app,USER,u-1,u-1,alice,DISABLED",
            "arn:ins,arn:app,USER,u-2,u-2,robert,ENABLED",
        ];
        let (rows, _) = diff("application_assignments", &previous, &current, &Scope::default());
        assert_eq!(
            rows,
            vec!["CHANGED arn:app | USER | u-2 | u-2 [UserName bob -> robert]"]
        );
        // Without the key columns in both, rows are keyed by the shared columns.
        let previous = ["AccountId,Name", "1,a", "2,b"];
        let current = ["AccountId,Name,Extra", "1,a,z", "2,c,z"];
        let (rows, _) = diff("idc_instances", &previous, &current, &Scope::default());
        assert_eq!(rows, vec!["ADDED 2 | c", "REMOVED 2 | b"]);
    }

    #[test]
    fn rows_sharing_a_key_are_matched_whole() {
        let header = "User_email,IdentityStoreId";
        let previous = [header, "a@x,d-1", "a@x,d-2", "b@x,d-1"];
        let current = [header, "a@x,d-2", "a@x,d-3", "b@x,d-1", "b@x,d-4"];
        let (rows, counts) = diff("duplicated_users", &previous, &current, &Scope::default());
        assert_eq!(rows, vec!["ADDED a@x", "ADDED b@x", "REMOVED a@x"]);
        assert_eq!((counts.added, counts.removed, counts.changed), (2, 1, 0));
    }

    #[test]
    fn excluded_scopes_are_left_out_on_both_sides() {
        let mut scope = Scope::default();
        scope.add_errors(
            Side::Current,
            &[
                ScopeError {
                    account_id: "111122221111".into(),
                    stage: "assume_role".into(),
                    error_code: "ASSUME_ROLE_DENIED".into(),
                    ..ScopeError::default()
                },
                ScopeError {
                    account_id: "111122229999".into(),
                    stage: "select".into(),
                    error_code: "ACCOUNT_NOT_ACTIVE".into(),
                    ..ScopeError::default()
                },
            ],
        );
        scope.add_errors(
            Side::Previous,
            &[ScopeError {
                account_id: "111122223333".into(),
                stage: "identity_store".into(),
                error_code: "THROTTLED".into(),
                // Written before `resource` existed: read from the message.
                message: "d-3: identitystore:ListUsers failed after 10 attempt(s)".into(),
                ..ScopeError::default()
            }],
        );
        assert_eq!(scope.excluded_accounts, BTreeSet::from(["111122221111".to_owned()]));
        assert_eq!(scope.excluded_stores, BTreeSet::from(["d-3".to_owned()]));
        let previous = [
            INSTANCES_HEADER,
            "111122221111,d-2,arn:acct-1,ACCOUNT,111122221111,us-east-1,one,ACTIVE,Sandbox",
            "111122229999,d-1,arn:org,ORGANIZATION,111122223333,us-east-1,org,ACTIVE,Suspended",
        ];
        let current = [INSTANCES_HEADER];
        let (rows, counts) = diff("idc_instances", &previous, &current, &scope);
        // The failed account is not removed; the skipped one is.
        assert_eq!(rows, vec!["REMOVED 111122229999 | arn:org"]);
        assert_eq!(counts.excluded_rows, 1);
        // A duplicate naming the unread store in one run only: its key is left out in both.
        let header = "User_email,IdentityStoreId,StoreCount,UserNames,OwnerAccountIds";
        let previous = [header, "a@x,\"d-1, d-2\",2,a,\"1, 2\""];
        let current = [
            header,
            "a@x,\"d-1, d-2, d-3\",3,a,\"1, 2, 3\"",
            "b@x,\"d-1, d-2\",2,b,\"1, 2\"",
        ];
        let (rows, _) = diff("duplicated_users", &previous, &current, &scope);
        assert_eq!(rows, vec!["ADDED b@x"]);
    }

    #[test]
    fn access_exclusions_follow_the_failed_read() {
        let mut scope = Scope::default();
        let error = |stage: &str, account: &str, resource: &str| ScopeError {
            account_id: account.into(),
            stage: stage.into(),
            error_code: "ACCESS_DENIED".into(),
            resource: resource.into(),
            message: String::new(),
        };
        scope.add_errors(
            Side::Current,
            &[
                error(
                    "account_assignments",
                    "111122224444",
                    "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
                ),
                error("identity_store", "111122223333", "d-1/g-2"),
                error("applications", "111122223333", "arn:app-2"),
            ],
        );
        let header =
            "InstanceArn,IdentityStoreId,AccountId,PermissionSetArn,PrincipalType,PrincipalId,UserId,UserStatus";
        let previous = [
            header,
            "arn:ins,d-1,111122224444,arn:aws:sso:::permissionSet/ssoins-1/ps-1,USER,u-1,u-1,ENABLED",
            "arn:ins,d-1,111122224444,arn:aws:sso:::permissionSet/ssoins-1/ps-2,USER,u-1,u-1,ENABLED",
            "arn:ins,d-1,111122225555,arn:aws:sso:::permissionSet/ssoins-1/ps-1,GROUP,g-2,u-1,ENABLED",
        ];
        let current = [header];
        let (rows, _) = diff("account_assignments", &previous, &current, &scope);
        assert_eq!(
            rows,
            vec!["REMOVED 111122224444 | arn:aws:sso:::permissionSet/ssoins-1/ps-2 | USER | u-1 | u-1"]
        );
        let header = "InstanceArn,IdentityStoreId,OwnerAccountId,ApplicationArn,PrincipalType,PrincipalId,UserId";
        let previous = [
            header,
            "arn:ins,d-1,111122223333,arn:app-1,USER,u-1,u-1",
            "arn:ins,d-1,111122223333,arn:app-2,USER,u-1,u-1",
        ];
        let (rows, _) = diff("application_assignments", &previous, &[header], &scope);
        assert_eq!(rows, vec!["REMOVED arn:app-1 | USER | u-1 | u-1"]);
    }

    #[test]
    fn an_incomplete_listing_reports_no_removal_or_addition_from_that_side() {
        let mut scope = Scope::default();
        scope.add_errors(
            Side::Current,
            &[ScopeError {
                account_id: "111122223333".into(),
                stage: "select".into(),
                error_code: "DEADLINE_REACHED".into(),
                ..ScopeError::default()
            }],
        );
        let previous = [INSTANCES_HEADER, "1,d-1,arn:a,ACCOUNT,1,r,n,ACTIVE,A"];
        let current = [INSTANCES_HEADER, "2,d-2,arn:b,ACCOUNT,2,r,n,ACTIVE,B"];
        let (rows, _) = diff("idc_instances", &previous, &current, &scope);
        assert_eq!(rows, vec!["ADDED 2 | arn:b"]);
        let mut scope = Scope::default();
        scope.listing_incomplete.insert("previous");
        let (rows, _) = diff("idc_instances", &previous, &current, &scope);
        assert_eq!(rows, vec!["REMOVED 1 | arn:a"]);
    }

    #[test]
    fn a_previous_report_that_is_not_csv_is_an_error_before_any_row() {
        let mut emitted = 0;
        let mut emit = |_: ChangeRow| -> Result<(), std::convert::Infallible> {
            emitted += 1;
            Ok(())
        };
        let previous = Cursor::new(b"AccountId\r\n\"unterminated".to_vec());
        let result = diff_report(
            "idc_instances",
            previous,
            csv(&["AccountId", "1"]),
            &Scope::default(),
            &mut emit,
        );
        // The csv reader accepts an unterminated quote at the end as a field; what it
        // refuses is invalid UTF-8.
        assert!(result.is_ok());
        let previous = Cursor::new(b"AccountId\r\n\xff\xfe\r\n".to_vec());
        let result = diff_report(
            "idc_instances",
            previous,
            csv(&["AccountId", "1"]),
            &Scope::default(),
            &mut emit,
        );
        assert!(matches!(result, Err(DiffError::Previous(_))), "{result:?}");
        assert_eq!(emitted, 2, "nothing emitted for the unreadable report");
    }
}
