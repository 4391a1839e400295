//! The run's page (`summary.html`) in a real browser: the binary runs the `blog` and
//! `messy` organizations with `--no-upload --out-dir`, headless Chromium (Debian's
//! package, installed by the test command) loads the page from disk, and the test
//! checks the text it shows against the scenario's `expected` block, that the page
//! asked for nothing from any network, and keeps screenshots (desktop and phone) under
//! `target/test-artifacts/page/`.
//!
//! How "nothing loads" is checked, three ways: the HTML holds no external reference
//! (no script, link, image, frame, `url(` or `src=`, links only to its own sections);
//! Chromium runs with every host mapped to nowhere and writes a net log, in which no
//! request may belong to the page (a request the page makes carries the `file://`
//! top-frame site in its network isolation key; Chromium's own background requests,
//! which the flags do not all stop, carry none and never leave the machine); and a
//! control page with an image and a stylesheet from the web must show up in the same
//! net-log check, so the check is known to see what it looks for.
//!
//! Without Chromium the test fails, unless `IDC_SKIP_BROWSER=1` is set: then it says so
//! and checks the HTML text alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::emulator::{Emulator, expected, run};

/// Where the screenshots and pages are kept: `target/test-artifacts/page/`.
fn artifacts_dir() -> PathBuf {
    // The binary is target/<profile>/idc-report.
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_idc-report"));
    let target = bin
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| crate::emulator::root().join("target"));
    let dir = target.join("test-artifacts/page");
    std::fs::create_dir_all(&dir).expect("create the artefact folder");
    dir
}

/// The browser to use, or `None` when the browser checks are skipped on request.
fn browser() -> Option<PathBuf> {
    if std::env::var("IDC_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("page test: IDC_SKIP_BROWSER=1: browser checks SKIPPED, the HTML text alone is checked");
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let candidates = std::env::var_os("IDC_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::split_paths(&path).map(|p| p.join("chromium")));
    for candidate in candidates {
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    panic!(
        "chromium is not installed: run scripts/setup-browser.sh (scripts/test does it; it needs root for apt-get), \
         or set IDC_SKIP_BROWSER=1 to skip the browser checks explicitly"
    );
}

/// Runs headless Chromium on a file with a fresh profile, stopped by its PID after 120 s.
fn chromium(browser: &Path, page: &Path, extra: &[String]) -> Output {
    let profile = tempfile::tempdir().expect("profile folder");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            // Every host resolves to nowhere: nothing can leave the machine.
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", browser.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("chromium output");
    assert!(
        output.status.success(),
        "chromium failed on {}: {}",
        page.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The page's DOM after loading, and the URLs the page itself requested (net log).
fn load(browser: &Path, page: &Path, net_log: &Path) -> (String, Vec<String>) {
    let output = chromium(
        browser,
        page,
        &["--dump-dom".to_owned(), format!("--log-net-log={}", net_log.display())],
    );
    let dom = String::from_utf8(output.stdout).expect("utf-8 DOM");
    (dom, page_requests(net_log))
}

/// URLs of requests whose network isolation key is the `file://` page's.
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).unwrap_or_else(|e| panic!("read {}: {e}", net_log.display()));
    let log: Value = serde_json::from_str(&text).expect("net log json");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("net log names URL_REQUEST_START_JOB");
    let events = log["events"].as_array().expect("net log events");
    assert!(!events.is_empty(), "the net log recorded nothing");
    events
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| {
            let params = &e["params"];
            let key = params["network_isolation_key"].as_str().unwrap_or("");
            let site = params["site_for_cookies"].as_str().unwrap_or("");
            key.contains("file://") || site.contains("site=file://")
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_owned))
        .collect()
}

/// A screenshot at a window size, checked to be a PNG.
fn screenshot(browser: &Path, page: &Path, size: &str, path: &Path) {
    let _ = std::fs::remove_file(path);
    chromium(
        browser,
        page,
        &[
            format!("--window-size={size}"),
            format!("--screenshot={}", path.display()),
        ],
    );
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot {}: {e}", path.display()));
    assert!(png.starts_with(b"\x89PNG"), "{} is not a PNG", path.display());
    assert!(
        png.len() > 20_000,
        "{} is nearly empty ({} bytes)",
        path.display(),
        png.len()
    );
    eprintln!("page test: screenshot {}", path.display());
}

/// The part of the page inside `<section id="ID">`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").expect("section end")]
}

/// What a reader sees: tags dropped, entities decoded, spaces collapsed; head left out.
fn text(html: &str) -> String {
    let body = html.split_once("<body").map_or(html, |(_, b)| b);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// No reference to anything outside the file.
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for needle in [
        "<script", "<link", "<img", "<iframe", "<object", "<embed", "<base", "@import", "url(", "src=",
    ] {
        assert!(!lower.contains(needle), "the page contains {needle}");
    }
    for href in lower.split("href=\"").skip(1) {
        assert!(
            href.starts_with('#'),
            "the page links outside itself: {}",
            &href[..href.len().min(60)]
        );
    }
    assert!(html.contains("<meta name=\"viewport\""), "no viewport for phones");
    assert!(html.contains("default-src 'none'"), "no Content-Security-Policy");
}

/// The page's text against the scenario's `expected` block and the run's summary.
fn check_text(scenario: &str, html: &str, summary: &Value) {
    let exp = expected(scenario);
    let all = text(html);
    let audited = exp["audited_accounts"].as_array().expect("audited_accounts").len();
    let total = exp["accounts_total"].as_u64().expect("accounts_total");
    let failed = exp["failed_accounts"].as_object().expect("failed_accounts");
    let skipped = exp["skipped_accounts"].as_object().expect("skipped_accounts");
    let duplicates = exp["duplicated_users"].as_object().expect("duplicated_users");
    let disabled: Vec<&str> = exp["disabled_users"]
        .as_object()
        .expect("disabled_users")
        .values()
        .flat_map(|names| names.as_array().expect("names").iter().filter_map(Value::as_str))
        .collect();
    let stores = exp["stores"].as_object().expect("stores");
    let users: u64 = stores.values().map(|s| s["users"].as_u64().unwrap_or(0)).sum();
    for want in [
        format!("{audited} accounts audited of {total}"),
        format!("{} accounts failed", failed.len()),
        format!("{} accounts skipped", skipped.len()),
        format!("{} identity stores read", stores.len()),
        format!("{users} users"),
        format!("{} duplicated people", duplicates.len()),
        format!("{} disabled users with access", disabled.len()),
        format!("{} permission sets", exp["permission_sets"]),
        format!("{} account assignments", exp["account_assignments"]),
    ] {
        assert!(
            all.contains(&want),
            "{scenario}: the page does not say {want:?}:\n{all}"
        );
    }
    let read_failures = summary["counts"]["read_failures"].as_u64().expect("read_failures");
    if summary["complete"] == true {
        assert!(
            all.contains("Complete: every read succeeded."),
            "{scenario}: not shown complete"
        );
    } else {
        let s = if read_failures == 1 {
            "read failed"
        } else {
            "reads failed"
        };
        assert!(
            all.contains(&format!("Incomplete: {read_failures} {s}")),
            "{scenario}: not shown incomplete with {read_failures} read failures"
        );
    }

    // Duplicated people: every email, with its stores.
    let dup = text(section(html, "duplicates"));
    for (email, stores) in duplicates {
        let stores: Vec<&str> = stores
            .as_array()
            .expect("stores")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let want = format!("{email} {}", stores.join(" , "));
        assert!(dup.contains(&want), "{scenario}: duplicates lack {want:?}:\n{dup}");
    }

    // Disabled users with access: every one by name.
    let dis = text(section(html, "disabled"));
    for name in &disabled {
        assert!(dis.contains(name), "{scenario}: disabled users lack {name}:\n{dis}");
    }
    if disabled.is_empty() {
        assert!(dis.contains("None."));
    }

    // Failed accounts with their reason; skipped accounts with their state.
    let errors = text(section(html, "errors"));
    for (account, reason) in failed {
        let row = errors
            .split(account.as_str())
            .nth(1)
            .unwrap_or_else(|| panic!("{scenario}: failed account {account} not shown:\n{errors}"));
        // "AssumeRole AccessDenied: ..." in the scenario: the AWS code is in the reason.
        let code = reason
            .as_str()
            .unwrap_or("")
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .trim_end_matches(':');
        assert!(row.contains(code), "{scenario}: {account} shown without {code}");
    }
    if failed.is_empty() {
        assert!(errors.contains("No read failed."));
    }
    for (account, state) in skipped {
        let state = state.as_str().unwrap_or("");
        assert!(
            errors.contains(account.as_str()) && errors.contains(&format!("the account is {state}")),
            "{scenario}: skipped {account} ({state}) not shown"
        );
    }

    // Instances per account: the accounts that see an account instance are highlighted.
    let account_stores: Vec<&str> = stores
        .iter()
        .filter(|(_, s)| s["organization_instance"] != true)
        .map(|(id, _)| id.as_str())
        .collect();
    let mut highlighted: Vec<&str> = exp["instances_by_account"]
        .as_object()
        .expect("instances_by_account")
        .iter()
        .filter(|(_, seen)| {
            seen.as_array()
                .expect("stores")
                .iter()
                .any(|s| account_stores.contains(&s.as_str().unwrap_or("")))
        })
        .map(|(account, _)| account.as_str())
        .collect();
    highlighted.sort_unstable();
    let instances = section(html, "instances");
    let mut shown: Vec<&str> = instances
        .split("<tr class=\"hl\">")
        .skip(1)
        .filter_map(|row| row.split("<span class=\"id nw\">").nth(1))
        .filter_map(|rest| rest.split('<').next())
        .collect();
    shown.sort_unstable();
    assert_eq!(shown, highlighted, "{scenario}: highlighted accounts");
    for store in &account_stores {
        assert!(
            text(instances).contains(store),
            "{scenario}: account instance {store} not shown"
        );
    }

    assert!(all.contains("Baseline: first run, nothing to compare."));
}

fn page_in_browser(scenario: &str) {
    let emu = Emulator::start(scenario);
    let dir = tempfile::tempdir().unwrap();
    let out = run(&emu, &["--no-upload", "--out-dir", dir.path().to_str().unwrap()], &[]);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    drop(emu);
    let page = dir.path().join("summary.html");
    assert_eq!(
        out.summary["reports"]["summary_html"].as_str(),
        Some(page.to_str().unwrap()),
        "the summary lists the page"
    );
    let html = std::fs::read_to_string(&page).expect("summary.html written");
    assert_self_contained(&html);
    let keep = artifacts_dir();
    std::fs::copy(&page, keep.join(format!("{scenario}.html"))).expect("keep the page");

    let Some(browser) = browser() else {
        check_text(scenario, &html, &out.summary);
        return;
    };
    let (dom, requests) = load(&browser, &page, &dir.path().join("net-log.json"));
    assert!(
        dom.contains("<section id=\"disabled\">"),
        "{scenario}: the DOM is not the page:\n{dom}"
    );
    assert_eq!(
        requests,
        Vec::<String>::new(),
        "{scenario}: the page requested something"
    );
    check_text(scenario, &dom, &out.summary);
    std::fs::write(keep.join(format!("{scenario}.dom.html")), &dom).expect("keep the DOM");

    // The net-log check sees a page's requests when there are some.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><body><p>control</p><img src=\"http://images.example.invalid/x.png\">\
         <link rel=\"stylesheet\" href=\"https://fonts.example.invalid/a.css\"></body></html>",
    )
    .unwrap();
    let (_, control_requests) = load(&browser, &control, &dir.path().join("control-net-log.json"));
    assert!(
        control_requests.iter().any(|u| u.contains("images.example.invalid"))
            && control_requests.iter().any(|u| u.contains("fonts.example.invalid")),
        "the net-log check missed the control page's requests: {control_requests:?}"
    );

    screenshot(
        &browser,
        &page,
        "1280,2000",
        &keep.join(format!("{scenario}-desktop.png")),
    );
    screenshot(&browser, &page, "390,1800", &keep.join(format!("{scenario}-phone.png")));
}

#[test]
fn blog_page_in_chromium() {
    page_in_browser("blog");
}

#[test]
fn messy_page_in_chromium() {
    page_in_browser("messy");
}

#[test]
fn page_text_helpers() {
    let html = "<html><head><title>x</title></head><body><p>a &amp; <b>b</b></p>\
                <section id=\"s\"><td>&lt;c&gt;</td></section></body></html>";
    assert_eq!(text(html), "a & b <c>");
    assert_eq!(text(section(html, "s")), "<c>");
}
