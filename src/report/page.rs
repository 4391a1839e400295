//! The run's page (`summary.html`): one self-contained HTML file a security team opens
//! every morning, from S3, a laptop or an email attachment on a phone.
//!
//! A pure function: the summary and the analyses' rows in, a `String` out. Every value
//! goes through maud's escaping (names and emails come from external identity
//! providers); the only unescaped text is the page's own style sheet. Nothing is loaded:
//! no script, font, image or external style, and a Content-Security-Policy of
//! `default-src 'none'` makes the browser refuse anything that slipped in. Sections are
//! bounded at [`MAX_ROWS`] rows, the rest being in the CSV reports, so the page stays
//! small for an organization of thousands of accounts.

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::analysis::{DisabledAccess, DuplicateRow, InstanceRow};
use crate::model::{Account, ErrorCode, InstanceType};

use super::{ACCOUNT_ASSIGNMENTS, ACCOUNT_ERRORS, APPLICATION_ASSIGNMENTS, DUPLICATED_USERS, INSTANCES, RunSummary};

/// The most rows a section shows; the rest are counted and left to the CSV report.
pub const MAX_ROWS: usize = 100;

/// The name of the page in the summary's `reports` map.
pub const PAGE: &str = "summary_html";

/// The report of the changes since the last run, by name (see [`ChangeRow`]).
pub use super::changes::CHANGES;

pub use crate::analysis::ChangeRow;

/// What the page shows.
#[derive(Clone, Copy, Debug)]
pub struct PageData<'a> {
    pub summary: &'a RunSummary,
    /// The organization's accounts, to name the accounts of errors.
    pub accounts: &'a [Account],
    pub instances: &'a [InstanceRow<'a>],
    pub duplicates: &'a [DuplicateRow],
    pub disabled: &'a [DisabledAccess<'a>],
    /// The changes since the last run; `None` on a first run (the baseline). The run
    /// keeps only the first rows of a long `changes` report: `changes_not_held` counts
    /// the rest, which the page reports as left out.
    pub changes: Option<&'a [ChangeRow]>,
    pub changes_not_held: usize,
}

const STYLE: &str = r#"
:root{--bg:#f5f7fa;--card:#fff;--ink:#1b2430;--muted:#5d6b7c;--line:#dde3ea;--accent:#2457c5;
--ok:#1f7a4d;--ok-bg:#e5f5ec;--warn:#8a5a00;--warn-bg:#fff4d6;--bad:#b42318;--bad-bg:#fdecea;--hl:#fff8e1}
@media (prefers-color-scheme:dark){:root{--bg:#11161d;--card:#19212b;--ink:#e6ebf1;--muted:#9aa7b6;--line:#2b3643;
--accent:#7ea6ff;--ok:#6fd39e;--ok-bg:#163326;--warn:#f2c46d;--warn-bg:#3a2e12;--bad:#ff8a80;--bad-bg:#3d1a17;--hl:#2e2814}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:20px 16px 40px}
header h1{font-size:1.5rem;margin:0 0 4px}
.meta{color:var(--muted);font-size:.85rem;margin:0;display:flex;flex-wrap:wrap;gap:2px 16px}
.meta span{white-space:nowrap}
.status{margin:14px 0;padding:10px 14px;border-radius:8px;font-weight:600}
.status.ok{background:var(--ok-bg);color:var(--ok)}
.status.bad{background:var(--bad-bg);color:var(--bad)}
nav{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 8px}
nav a{color:var(--accent);text-decoration:none;border:1px solid var(--line);background:var(--card);border-radius:999px;padding:3px 10px;font-size:.85rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:12px 0 8px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 12px}
.card b{display:block;font-size:1.6rem;line-height:1.2;font-variant-numeric:tabular-nums}
.card small{color:var(--muted);font-size:.8rem}
.card.warn{border-color:var(--warn);background:var(--warn-bg)}
.card.warn b{color:var(--warn)}
.card.bad{border-color:var(--bad);background:var(--bad-bg)}
.card.bad b{color:var(--bad)}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin:16px 0}
section h2{font-size:1.1rem;margin:0 0 4px}
section h3{font-size:.95rem;margin:14px 0 4px}
.wide{overflow-x:auto}
section>p{margin:4px 0 10px;color:var(--muted);font-size:.9rem}
.empty{color:var(--ok);font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line);overflow-wrap:break-word}
th{color:var(--muted);font-weight:600;font-size:.78rem;text-transform:uppercase;letter-spacing:.03em}
tr.hl td{background:var(--hl)}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.nw{white-space:nowrap}
code,.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.82rem}
.more td{color:var(--muted);font-style:italic}
.tag{display:inline-block;border-radius:4px;padding:0 6px;font-size:.75rem;font-weight:700;letter-spacing:.02em}
.tag.org{background:var(--line);color:var(--ink)}
.tag.acct{background:var(--warn-bg);color:var(--warn);border:1px solid var(--warn)}
.tag.ADDED{background:var(--ok-bg);color:var(--ok)}
.tag.REMOVED{background:var(--bad-bg);color:var(--bad)}
.tag.CHANGED{background:var(--warn-bg);color:var(--warn)}
.inst{display:block;margin:2px 0}
.muted{color:var(--muted)}
ul.plain{margin:0;padding-left:18px}
footer{color:var(--muted);font-size:.8rem;text-align:center;margin-top:24px}
@media (max-width:640px){
main{padding:12px 10px 30px}
header h1{font-size:1.25rem}
.cards{grid-template-columns:repeat(2,1fr);gap:8px}
.card{padding:8px 10px;font-size:.88rem}
.card b{font-size:1.3rem}
section{padding:12px 10px}
.wide{overflow-x:visible}
table.stack thead{display:none}
table.stack tr{display:block;border-bottom:1px solid var(--line);padding:6px 0}
table.stack td{display:block;position:relative;border:0;padding:2px 4px 2px 6.6rem;min-height:1.5em;overflow-wrap:anywhere}
table.stack td::before{content:attr(data-label);position:absolute;left:4px;top:4px;width:6.2rem;color:var(--muted);font-size:.7rem;text-transform:uppercase;letter-spacing:.03em;line-height:1.2}
table.stack tr.more td{padding-left:4px}
}
"#;

/// Renders the page.
pub fn render(page: &PageData<'_>) -> String {
    let s = page.summary;
    let names: BTreeMap<&str, &str> = page.accounts.iter().map(|a| (a.id.as_str(), a.name.as_str())).collect();
    let errors = Errors::split(s);
    let title = format!("Identity Center audit {}", date_of(&s.started_at));
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    (header(page))
                    (counts(page))
                    (disabled_section(page))
                    (errors_section(&errors, s, &names))
                    (changes_section(page.changes, page.changes_not_held))
                    (duplicates_section(page.duplicates))
                    (instances_section(page.instances))
                    (reports_section(s))
                    footer {
                        "idc-report " (env!("CARGO_PKG_VERSION")) " · run " (s.run_id)
                    }
                }
            }
        }
    }
    .into_string()
}

/// `2026-11-29` from an RFC 3339 time.
fn date_of(rfc3339: &str) -> &str {
    rfc3339.get(..10).unwrap_or(rfc3339)
}

/// `2026-11-29 06:00:41 UTC` from an RFC 3339 UTC time (as the summary writes it);
/// anything else as given.
fn time_of(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(date), Some(time)) if rfc3339.ends_with('Z') => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// A count with thousands separators: `12,345`.
fn n(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{} {}", n(count), if count == 1 { one } else { many })
}

fn header(page: &PageData<'_>) -> Markup {
    let s = page.summary;
    let c = &s.counts;
    let mut problems = Vec::new();
    if c.read_failures > 0 {
        problems.push(plural(c.read_failures, "read failed", "reads failed"));
    }
    if c.accounts_not_reached > 0 {
        problems.push(plural(
            c.accounts_not_reached,
            "account not reached before the deadline",
            "accounts not reached before the deadline",
        ));
    }
    html! {
        header {
            h1 { "Identity Center audit " span.nw { (date_of(&s.started_at)) } }
            p.meta {
                span { "Run " code { (s.run_id) } }
                span { "Started " (time_of(&s.started_at)) }
                span { "Finished " (time_of(&s.finished_at)) }
                span { "Management account " code { (s.management_account_id) } }
                span { "Run from " code { (s.current_account_id) } }
            }
            @if s.complete {
                div.status.ok { "Complete: every read succeeded." }
            } @else if problems.is_empty() {
                div.status.bad { "Incomplete: some reads did not finish." }
            } @else {
                div.status.bad { "Incomplete: " (problems.join(", ")) "." }
            }
            nav {
                a href="#disabled" { "Disabled with access (" (n(c.disabled_users_with_access)) ")" }
                a href="#errors" { "Failed and unreached (" (n(c.accounts_failed + c.accounts_not_reached)) ")" }
                a href="#changes" { "Changes" }
                a href="#duplicates" { "Duplicated people (" (n(c.duplicated_users)) ")" }
                a href="#instances" { "Instances per account" }
                a href="#reports" { "Reports" }
            }
        }
    }
}

/// A count card: the value, its label, a detail line, and a tone when it needs a look.
fn card(value: usize, label: &str, detail: Option<String>, tone: Option<&str>) -> Markup {
    let class = match tone {
        Some(tone) => format!("card {tone}"),
        None => "card".to_owned(),
    };
    html! {
        div class=(class) {
            b { (n(value)) }
            (label)
            @if let Some(detail) = detail { br; small { (detail) } }
        }
    }
}

fn tone_if(nonzero: usize, tone: &'static str) -> Option<&'static str> {
    (nonzero > 0).then_some(tone)
}

fn counts(page: &PageData<'_>) -> Markup {
    let c = &page.summary.counts;
    let account_instances = page
        .instances
        .iter()
        .filter_map(|r| r.instance)
        .filter(|i| i.instance_type == InstanceType::Account)
        .map(|i| &i.arn)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let by_stage = c
        .read_failures_by_stage
        .iter()
        .map(|(stage, count)| format!("{stage}: {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        div.cards {
            (card(c.accounts_audited, "accounts audited", Some(format!("of {}", n(c.accounts_total))), None))
            (card(c.accounts_failed, "accounts failed", None, tone_if(c.accounts_failed, "bad")))
            (card(c.accounts_not_reached, "accounts not reached", None, tone_if(c.accounts_not_reached, "bad")))
            (card(c.accounts_skipped, "accounts skipped", Some("not ACTIVE".to_owned()), None))
            (card(c.instances, "instances", Some(plural(account_instances, "account instance", "account instances")), tone_if(account_instances, "warn")))
            (card(c.identity_stores, "identity stores read", (c.identity_stores_failed > 0).then(|| format!("{} failed", n(c.identity_stores_failed))), tone_if(c.identity_stores_failed, "bad")))
            (card(c.users, "users", (c.users_without_email > 0).then(|| format!("{} without email", n(c.users_without_email))), None))
            (card(c.groups, "groups", None, None))
            (card(c.duplicated_users, "duplicated people", Some("same email, several stores".to_owned()), tone_if(c.duplicated_users, "warn")))
            (card(c.disabled_users_with_access, "disabled users with access", None, tone_if(c.disabled_users_with_access, "bad")))
            (card(c.applications, "applications", Some(plural(c.application_assignments, "assignment", "assignments")), None))
            (card(c.permission_sets, "permission sets", None, None))
            (card(c.account_assignments, "account assignments", Some(format!("{} report rows", n(c.account_assignment_rows))), None))
            (card(c.read_failures, "read failures", (!by_stage.is_empty()).then_some(by_stage), tone_if(c.read_failures, "bad")))
        }
    }
}

/// At most [`MAX_ROWS`] of `rows`, and how many are left out.
fn bounded<T>(rows: &[T]) -> (&[T], usize) {
    let shown = rows.len().min(MAX_ROWS);
    (&rows[..shown], rows.len() - shown)
}

/// The row saying what was left out, spanning the table.
fn more_row(left_out: usize, columns: usize, report: &str) -> Markup {
    html! {
        @if left_out > 0 {
            tr.more { td colspan=(columns) { "and " (n(left_out)) " more: see the " code { (report) } " report" } }
        }
    }
}

fn disabled_section(page: &PageData<'_>) -> Markup {
    let (rows, left_out) = bounded(page.disabled);
    html! {
        section #disabled {
            h2 { "Disabled users with access" }
            p { "Users their identity store marks DISABLED who still hold an application or account assignment, directly or through a group. Remove the assignments or the user." }
            @if rows.is_empty() {
                p.empty { "None." }
            } @else {
                div.wide { table.stack {
                    thead { tr { th { "Store" } th { "User" } th { "Emails" } th { "Applications" } th { "Accounts" } } }
                    tbody {
                        @for d in rows {
                            tr {
                                td data-label="Store" { span.id.nw { (d.store_id) } }
                                td data-label="User" { b { (d.user.user_name) } br; span.id.muted { (d.user.user_id) } }
                                td data-label="Emails" { (d.user.emails.join(", ")) }
                                td data-label="Applications" {
                                    (plural(d.application_rows, "row", "rows"))
                                    @if !d.applications.is_empty() { br; span.muted { (d.applications.join(", ")) } }
                                }
                                td data-label="Accounts" {
                                    (plural(d.account_rows, "row", "rows"))
                                    @if !d.accounts.is_empty() {
                                        br;
                                        span.muted {
                                            @for (i, (account, permission_set)) in d.accounts.iter().enumerate() {
                                                @if i > 0 { ", " }
                                                (account) " (" (permission_set) ")"
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        (more_row(left_out, 5, APPLICATION_ASSIGNMENTS))
                    }
                } }
                p { "Rows are in the " code { (APPLICATION_ASSIGNMENTS) } " and " code { (ACCOUNT_ASSIGNMENTS) } " reports (UserStatus DISABLED)." }
            }
        }
    }
}

/// The summary's error rows, by what they mean for the run.
struct Errors<'a> {
    failed: Vec<&'a super::ErrorEntry>,
    not_reached: Vec<&'a super::ErrorEntry>,
    skipped: Vec<&'a super::ErrorEntry>,
}

impl<'a> Errors<'a> {
    fn split(summary: &'a RunSummary) -> Self {
        let mut errors = Errors {
            failed: Vec::new(),
            not_reached: Vec::new(),
            skipped: Vec::new(),
        };
        for e in &summary.account_errors {
            let code = e.error_code;
            if code == ErrorCode::AccountNotActive.as_str() || code == ErrorCode::NotInOrganization.as_str() {
                errors.skipped.push(e);
            } else if code == ErrorCode::DeadlineReached.as_str() {
                errors.not_reached.push(e);
            } else {
                errors.failed.push(e);
            }
        }
        errors
    }
}

fn error_table(rows: &[&super::ErrorEntry], names: &BTreeMap<&str, &str>) -> Markup {
    let (rows, left_out) = bounded(rows);
    html! {
        div.wide { table.stack {
            thead { tr { th { "Account" } th { "Stage" } th { "Code" } th { "Region" } th { "Reason" } } }
            tbody {
                @for e in rows {
                    tr {
                        td data-label="Account" {
                            span.id.nw { (e.account_id) }
                            @if let Some(name) = names.get(e.account_id.as_str()) { br; (name) }
                        }
                        td data-label="Stage" { span.nw { (e.stage) } }
                        td data-label="Code" { code.nw { (e.error_code) } }
                        td data-label="Region" { (e.region) }
                        td data-label="Reason" { (e.message) }
                    }
                }
                (more_row(left_out, 5, ACCOUNT_ERRORS))
            }
        } }
    }
}

fn errors_section(errors: &Errors<'_>, s: &RunSummary, names: &BTreeMap<&str, &str>) -> Markup {
    // Accounts the deadline stopped, with no row of their own.
    let unlisted: Vec<&str> = s
        .accounts_not_reached
        .iter()
        .map(|a| a.as_str())
        .filter(|a| !errors.not_reached.iter().any(|e| e.account_id == *a))
        .collect();
    let (unlisted_shown, unlisted_left) = bounded(&unlisted);
    html! {
        section #errors {
            h2 { "Failed and unreached accounts" }
            p { "Reads that failed (an account, a store, an application, a permission set), with the reason AWS gave. Everything else was still reported." }
            @if errors.failed.is_empty() {
                p.empty { "No read failed." }
            } @else {
                (error_table(&errors.failed, names))
            }
            @if !errors.not_reached.is_empty() || !unlisted.is_empty() {
                h3 { "Not reached before the deadline" }
                @if !errors.not_reached.is_empty() { (error_table(&errors.not_reached, names)) }
                @if !unlisted_shown.is_empty() {
                    p {
                        @for (i, account) in unlisted_shown.iter().enumerate() {
                            @if i > 0 { ", " }
                            span.id.nw { (account) }
                        }
                        @if unlisted_left > 0 { " and " (n(unlisted_left)) " more: see the summary's accounts_not_reached" }
                    }
                }
            }
            @if !errors.skipped.is_empty() {
                h3 { "Skipped on purpose" }
                p { "Accounts that are not ACTIVE, or that the event named but the organization does not hold." }
                (error_table(&errors.skipped, names))
            }
        }
    }
}

fn changes_section(changes: Option<&[ChangeRow]>, not_held: usize) -> Markup {
    html! {
        section #changes {
            h2 { "Changes since the last run" }
            @match changes {
                None => p.empty { "Baseline: first run, nothing to compare." },
                Some([]) => p.empty { "No change since the last run." },
                Some(rows) => {
                    @let (shown, left_out) = bounded(rows);
                    div.wide { table.stack {
                        thead { tr { th { "Report" } th { "Change" } th { "Key" } th { "Field" } th { "Before" } th { "After" } } }
                        tbody {
                            @for c in shown {
                                tr {
                                    td data-label="Report" { code { (c.report) } }
                                    td data-label="Change" { span class=(format!("tag {}", tag_class(&c.change))) { (c.change) } }
                                    td data-label="Key" { (c.key) }
                                    td data-label="Field" { (c.field) }
                                    td data-label="Before" { (c.before) }
                                    td data-label="After" { (c.after) }
                                }
                            }
                            (more_row(left_out + not_held, 6, CHANGES))
                        }
                    } }
                }
            }
        }
    }
}

/// A change kind as a CSS class: only the three known kinds get their colour.
fn tag_class(change: &str) -> &'static str {
    match change {
        "ADDED" => "ADDED",
        "REMOVED" => "REMOVED",
        "CHANGED" => "CHANGED",
        _ => "org",
    }
}

fn duplicates_section(rows: &[DuplicateRow]) -> Markup {
    let (shown, left_out) = bounded(rows);
    html! {
        section #duplicates {
            h2 { "Duplicated people" }
            p { "The same email (trimmed, lower-cased) in two or more identity stores: one person with several identities to keep in step." }
            @if shown.is_empty() {
                p.empty { "None." }
            } @else {
                div.wide { table.stack {
                    thead { tr { th { "Email" } th { "Stores" } th { "User names" } th { "Owner accounts" } } }
                    tbody {
                        @for d in shown {
                            tr {
                                td data-label="Email" { b { (d.email) } }
                                td data-label="Stores" {
                                    @for (i, store) in d.store_ids.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        span.id.nw { (store) }
                                    }
                                }
                                td data-label="User names" { (d.user_names.join(", ")) }
                                td data-label="Owner accounts" {
                                    @for (i, owner) in d.owner_account_ids.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        span.id.nw { (owner) }
                                    }
                                }
                            }
                        }
                        (more_row(left_out, 4, DUPLICATED_USERS))
                    }
                } }
            }
        }
    }
}

/// The instance rows of one account.
struct AccountInstances<'a> {
    account_id: &'a str,
    account_name: &'a str,
    rows: Vec<&'a InstanceRow<'a>>,
    has_account_instance: bool,
}

fn group_by_account<'a>(rows: &'a [InstanceRow<'a>]) -> Vec<AccountInstances<'a>> {
    let mut groups: Vec<AccountInstances<'a>> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some(g) if g.account_id == row.account_id => g.rows.push(row),
            _ => groups.push(AccountInstances {
                account_id: row.account_id,
                account_name: row.account_name,
                rows: vec![row],
                has_account_instance: false,
            }),
        }
    }
    for g in &mut groups {
        g.has_account_instance = g
            .rows
            .iter()
            .any(|r| r.instance.is_some_and(|i| i.instance_type == InstanceType::Account));
    }
    // Accounts with an account instance first (what needs a look), each part in
    // Organizations' order.
    groups.sort_by_key(|g| !g.has_account_instance);
    groups
}

fn instances_section(rows: &[InstanceRow<'_>]) -> Markup {
    let groups = group_by_account(rows);
    let with_account_instance = groups.iter().filter(|g| g.has_account_instance).count();
    let (shown, left_out) = bounded(&groups);
    html! {
        section #instances {
            h2 { "Instances per account" }
            p {
                "Each audited account and the Identity Center instances it can see. "
                (plural(with_account_instance, "account sees", "accounts see"))
                " an account instance (highlighted, listed first): its users sign in outside the organization instance."
            }
            div.wide { table.stack {
                thead { tr { th { "Account" } th { "Name" } th { "Instances" } } }
                tbody {
                    @for g in shown {
                        tr.hl[g.has_account_instance] {
                            td data-label="Account" { span.id.nw { (g.account_id) } }
                            td data-label="Name" { (g.account_name) }
                            td data-label="Instances" {
                                @for r in &g.rows {
                                    @match r.instance {
                                        None => span.inst.muted { "none" },
                                        Some(i) => span.inst {
                                            @if i.instance_type == InstanceType::Account {
                                                span.tag.acct { "ACCOUNT" }
                                            } @else {
                                                span.tag.org { "ORGANIZATION" }
                                            }
                                            " " span.id.nw { (i.identity_store_id) }
                                            " " span.muted { (i.region) }
                                            @if !i.name.is_empty() { " " (i.name) }
                                            @if i.instance_type == InstanceType::Account && i.owner_account_id.as_str() != g.account_id {
                                                " " span.muted { "owner " span.id.nw { (i.owner_account_id) } }
                                            }
                                        },
                                    }
                                }
                            }
                        }
                    }
                    (more_row(left_out, 3, INSTANCES))
                }
            } }
        }
    }
}

fn reports_section(s: &RunSummary) -> Markup {
    html! {
        section #reports {
            h2 { "Reports" }
            p { "The full reports of this run (CSV, one row per item, for a spreadsheet or Athena)." }
            @if s.reports.is_empty() {
                p { "None written." }
            } @else {
                div.wide { table.stack {
                    thead { tr { th { "Report" } th { "Where" } } }
                    tbody {
                        @for (name, location) in &s.reports {
                            tr { td data-label="Report" { code { (name) } } td data-label="Where" { span.id { (location) } } }
                        }
                    }
                } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Counts;
    use crate::model::{AccountId, IdentityStoreId, Instance, InstanceArn, User, UserId, UserStatus};
    use crate::report::ErrorEntry;

    const HOSTILE: &str = "<script>alert(\"x\")</script> O'Brien & Søn";
    const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";

    fn summary() -> RunSummary {
        RunSummary {
            run_id: "20261129T060000Z-3f9a1c2e".into(),
            started_at: "2026-11-29T06:00:00Z".into(),
            finished_at: "2026-11-29T06:00:41Z".into(),
            complete: false,
            dry_run: false,
            current_account_id: AccountId::from("111122223333"),
            management_account_id: AccountId::from("111122223333"),
            counts: Counts {
                accounts_total: 4,
                accounts_audited: 3,
                accounts_failed: 1,
                duplicated_users: 1,
                disabled_users_with_access: 1,
                read_failures: 1,
                read_failures_by_stage: [("assume_role", 1)].into_iter().collect(),
                ..Default::default()
            },
            reports: [("idc_instances".to_owned(), "s3://b/idc-reports/x.csv".to_owned())]
                .into_iter()
                .collect(),
            account_errors: vec![ErrorEntry {
                account_id: "111122224444".into(),
                region: String::new(),
                stage: "assume_role",
                error_code: "ASSUME_ROLE_DENIED",
                resource: String::new(),
                message: format!("AccessDenied: {HOSTILE}"),
            }],
            accounts_not_reached: vec![AccountId::from("111122229999")],
            baseline: false,
            changes: Default::default(),
            changes_scope: Default::default(),
            changes_headline: Default::default(),
        }
    }

    fn instance(kind: InstanceType, name: &str) -> Instance {
        Instance {
            arn: InstanceArn::from(format!("arn:aws:sso:::instance/ssoins-{}", kind.as_str()).as_str()),
            identity_store_id: IdentityStoreId::from("d-111111111111"),
            owner_account_id: AccountId::from("111122221111"),
            instance_type: kind,
            region: "eu-west-1".into(),
            name: name.into(),
            status: "ACTIVE".into(),
            replicas: Vec::new(),
        }
    }

    fn user() -> User {
        User {
            user_id: UserId::from("u-1"),
            user_name: "李雷 (Лена) محمد".into(),
            emails: vec!["li@x.cn".into(), "a&b@x.com".into()],
            status: Some(UserStatus::Disabled),
        }
    }

    /// Renders a page whose every value is hostile somewhere.
    fn hostile_page(changes: Option<&[ChangeRow]>) -> String {
        let s = summary();
        let accounts = vec![Account {
            id: AccountId::from("111122224444"),
            name: HOSTILE.into(),
            state: "ACTIVE".into(),
        }];
        let org = instance(InstanceType::Organization, "");
        let acct = instance(InstanceType::Account, FORMULA);
        let instances = vec![
            InstanceRow {
                account_id: "111122223333",
                account_name: "Management",
                instance: Some(&org),
            },
            InstanceRow {
                account_id: "111122221111",
                account_name: FORMULA,
                instance: Some(&org),
            },
            InstanceRow {
                account_id: "111122221111",
                account_name: FORMULA,
                instance: Some(&acct),
            },
        ];
        let duplicates = vec![DuplicateRow {
            email: "\"quoted\"@x.com".into(),
            store_ids: vec!["d-1".into(), "d-2".into()],
            user_names: vec![HOSTILE.into(), "ユーザー".into()],
            owner_account_ids: vec!["111122221111".into()],
        }];
        let u = user();
        let store = IdentityStoreId::from("d-1");
        let disabled = vec![DisabledAccess {
            store_id: &store,
            user: &u,
            application_rows: 2,
            account_rows: 1,
            applications: vec![HOSTILE],
            accounts: vec![("Dev", "Admin")],
        }];
        render(&PageData {
            summary: &s,
            accounts: &accounts,
            instances: &instances,
            duplicates: &duplicates,
            disabled: &disabled,
            changes,
            changes_not_held: 0,
        })
    }

    /// The name of every tag in the page, the style sheet left out.
    fn tags(html: &str) -> Vec<String> {
        let (before, rest) = html.split_once("<style>").unwrap();
        let (_, after) = rest.split_once("</style>").unwrap();
        format!("{before}{after}")
            .split('<')
            .skip(1)
            .map(|t| {
                t.trim_start_matches(['/', '!'])
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase()
            })
            .collect()
    }

    #[test]
    fn every_value_is_escaped() {
        let page = hostile_page(None);
        // The only script-like text is escaped; no tag but the page's own.
        assert!(!page.contains("<script"), "unescaped script tag");
        assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O'Brien &amp; Søn"));
        // Ampersands in emails, quotes in an email.
        assert!(page.contains("a&amp;b@x.com"));
        assert!(page.contains("&quot;quoted&quot;@x.com"));
        // A formula-like name is shown as written (a page runs no formula), escaped.
        assert!(page.contains("=HYPERLINK(&quot;http://evil.example&quot;,&quot;click&quot;)"));
        // Non-Latin scripts pass through as UTF-8 text.
        assert!(page.contains("李雷 (Лена) محمد"));
        assert!(page.contains("ユーザー"));
        // Every tag is one the page itself writes: no value opened a tag.
        let known = [
            "doctype", "html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3", "p",
            "span", "code", "div", "nav", "a", "b", "br", "small", "section", "table", "thead", "tbody", "tr", "th",
            "td", "footer",
        ];
        for tag in tags(&page) {
            assert!(known.contains(&tag.as_str()), "unexpected tag <{tag}>");
        }
    }

    #[test]
    fn nothing_is_loaded_from_anywhere() {
        let page = hostile_page(Some(&[ChangeRow {
            report: "idc_instances".into(),
            change: "ADDED".into(),
            key: "https://evil.example/x.png".into(),
            ..Default::default()
        }]));
        let lower = page.to_lowercase();
        for needle in [
            "<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(", "src=", "<base",
        ] {
            assert!(!lower.contains(needle), "the page contains {needle}");
        }
        // Links only to the page's own sections.
        for href in lower.split("href=\"").skip(1) {
            assert!(href.starts_with('#'), "external link {}", &href[..href.len().min(40)]);
        }
        // The browser refuses any load all the same.
        assert!(page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    }

    #[test]
    fn phones_get_a_viewport_and_a_reflowing_layout() {
        let page = hostile_page(None);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
        assert!(page.contains("@media (max-width:640px)"));
        assert!(page.contains("repeat(auto-fill,minmax(150px,1fr))"));
        // Inline styles only: one style element, no style attribute, no external sheet.
        assert_eq!(page.matches("<style>").count(), 1);
        assert!(!page.contains("style=\""));
    }

    #[test]
    fn sections_show_the_run() {
        let page = hostile_page(None);
        assert!(page.contains("Incomplete: 1 read failed."));
        assert!(page.contains("ASSUME_ROLE_DENIED"));
        // The failed account is named.
        assert!(page.contains("111122224444</span><br>&lt;script&gt;"));
        // The unreached account with no row of its own is listed.
        assert!(page.contains("111122229999"));
        assert!(page.contains("Baseline: first run, nothing to compare."));
        // Account instances are highlighted and first.
        let first_row = page.split("<tr class=\"hl\">").nth(1).unwrap();
        assert!(first_row.contains("111122221111"));
        assert!(first_row.contains("ACCOUNT"));
        assert!(page.find("111122221111").unwrap() < page.find("Management</td>").unwrap());
        assert!(page.contains("2 rows"));
        assert!(page.contains("Dev (Admin)"));
        assert!(page.contains("assume_role: 1"));
    }

    #[test]
    fn changes_show_as_given_and_none_says_so() {
        let empty = hostile_page(Some(&[]));
        assert!(empty.contains("No change since the last run."));
        let rows = [ChangeRow {
            report: "duplicated_users".into(),
            change: "REMOVED".into(),
            key: "a@x.com".into(),
            field: String::new(),
            before: "d-1, d-2".into(),
            after: String::new(),
        }];
        let page = hostile_page(Some(&rows));
        assert!(page.contains("<span class=\"tag REMOVED\">REMOVED</span>"));
        assert!(page.contains("a@x.com"));
        assert!(!page.contains("Baseline"));
        // An unknown kind gets no class of its own from the value.
        let odd = [ChangeRow {
            change: "\" onclick=\"x".into(),
            ..Default::default()
        }];
        let page = hostile_page(Some(&odd));
        assert!(page.contains("<span class=\"tag org\">&quot; onclick=&quot;x</span>"));
    }

    #[test]
    fn sections_are_bounded() {
        let rows: Vec<DuplicateRow> = (0..MAX_ROWS + 42)
            .map(|i| DuplicateRow {
                email: format!("user{i}@x.com"),
                store_ids: vec!["d-1".into(), "d-2".into()],
                user_names: vec![],
                owner_account_ids: vec![],
            })
            .collect();
        let html = duplicates_section(&rows).into_string();
        assert_eq!(html.matches("<tr>").count(), MAX_ROWS + 1); // header + rows
        assert!(html.contains("and 42 more: see the <code>duplicated_users</code> report"));
        assert!(!html.contains(&format!("user{}@", MAX_ROWS)));
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(n(0), "0");
        assert_eq!(n(999), "999");
        assert_eq!(n(1000), "1,000");
        assert_eq!(n(1234567), "1,234,567");
        assert_eq!(time_of("2026-11-29T06:00:41.9Z"), "2026-11-29 06:00:41 UTC");
        assert_eq!(time_of("2026-11-29T06:00:41+01:00"), "2026-11-29T06:00:41+01:00");
    }
}
