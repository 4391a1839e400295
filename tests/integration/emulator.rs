//! Starts the local AWS emulator for a test and stops it by PID when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub const REGION: &str = "us-east-1";
pub const BUCKET: &str = "idc-reports-test";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    match std::env::var_os("IDC_EMULATOR_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => root().join(".venv/emulator/bin/python"),
    }
}

/// A running emulator.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Emulator {
    /// Starts `serve --scenario SCENARIO` on a free loopback port and waits until ready.
    pub fn start(scenario: &str) -> Emulator {
        let python = python();
        assert!(
            python.exists(),
            "{} is missing: run scripts/setup-emulator.sh (the test command does it)",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(root().join("tests/emulator/emulator.py"))
            .args(["serve", "--scenario", scenario, "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the emulator");
        let stdout = child.stdout.take().expect("emulator stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(180)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("the emulator did not start within 180 s");
            }
        };
        let endpoint = line.trim().to_owned();
        assert!(
            endpoint.starts_with("http://127.0.0.1:"),
            "unexpected emulator banner {endpoint:?}"
        );
        Emulator { child, endpoint }
    }

    fn admin(&self, path: &str) -> String {
        format!("{}/_emulator/{path}", self.endpoint)
    }

    pub fn stats(&self) -> Value {
        ureq::get(&self.admin("stats"))
            .call()
            .expect("stats")
            .body_mut()
            .read_json()
            .expect("stats json")
    }

    pub fn reset_stats(&self) {
        ureq::post(&self.admin("stats/reset"))
            .send_empty()
            .expect("reset stats");
    }

    pub fn set_faults(&self, faults: Value) {
        ureq::post(&self.admin("faults")).send_json(faults).expect("set faults");
    }

    pub fn scenario(&self) -> Value {
        ureq::get(&self.admin("scenario"))
            .call()
            .expect("scenario")
            .body_mut()
            .read_json()
            .expect("scenario json")
    }

    /// Creates the reports bucket through the S3 API.
    pub async fn create_bucket(&self, bucket: &str) {
        let clients = self.clients().await;
        clients
            .s3()
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("create bucket");
    }

    /// Clients of the library pointed at this emulator with the management account's
    /// (default) credentials.
    pub async fn clients(&self) -> idc_report::collect::Clients {
        let credentials = aws_credential_types::Credentials::new("testing", "testing", None, None, "tests");
        idc_report::collect::Clients::for_endpoint(&self.endpoint, REGION, credentials)
            .await
            .expect("clients")
    }

    /// Reads an object from the emulator's S3.
    pub async fn get_object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let clients = self.clients().await;
        let output = clients.s3().get_object().bucket(bucket).key(key).send().await.ok()?;
        Some(output.body.collect().await.ok()?.into_bytes().to_vec())
    }

    /// Every key in a bucket.
    pub async fn list_keys(&self, bucket: &str) -> Vec<String> {
        let clients = self.clients().await;
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = clients
                .s3()
                .list_objects_v2()
                .bucket(bucket)
                .set_continuation_token(token)
                .send()
                .await
                .expect("list objects");
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
            match page.next_continuation_token() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
        keys
    }

    /// A command running the real binary against this emulator, with no other AWS
    /// configuration of the machine leaking in.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_idc-report"));
        for var in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_LAMBDA_RUNTIME_API",
            "CurrentAccountId",
            "reports_bucket",
            "REGIONS",
            "MAX_CONCURRENCY",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_LOG", "info");
        cmd
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Stopped by its PID, never by name.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the emulator on a shipped scenario (`blog`, `messy`) as `edit` changes it; the
/// changed scenario is written to `dir`.
pub fn start_edited(scenario: &str, dir: &Path, edit: impl FnOnce(&mut Value)) -> Emulator {
    let path = root().join(format!("tests/emulator/scenarios/{scenario}.json"));
    let text = std::fs::read_to_string(&path).expect("read scenario");
    let mut value: Value = serde_json::from_str(&text).expect("scenario json");
    edit(&mut value);
    let edited = dir.join(format!("{scenario}-edited.json"));
    std::fs::write(&edited, serde_json::to_vec(&value).expect("encode scenario")).expect("write scenario");
    Emulator::start(edited.to_str().expect("a UTF-8 path"))
}

/// The `expected` block a shipped scenario carries.
pub fn expected(scenario: &str) -> Value {
    let path = root().join(format!("tests/emulator/scenarios/{scenario}.json"));
    let text = std::fs::read_to_string(&path).expect("read scenario");
    let value: Value = serde_json::from_str(&text).expect("scenario json");
    value["expected"].clone()
}

/// Output of one run of the binary.
pub struct RunOutput {
    pub status: std::process::ExitStatus,
    pub summary: Value,
    pub stderr: String,
}

/// Runs `idc-report run` with extra arguments and environment.
pub fn run(emulator: &Emulator, args: &[&str], env: &[(&str, &str)]) -> RunOutput {
    let mut cmd = emulator.command();
    cmd.arg("run").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("run idc-report");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let summary = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    RunOutput {
        status: output.status,
        summary,
        stderr,
    }
}

/// A parsed CSV report: header and rows.
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    pub fn parse(bytes: &[u8]) -> Csv {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
        let header = reader.headers().expect("header").iter().map(str::to_owned).collect();
        let rows = reader
            .records()
            .map(|r| r.expect("csv record").iter().map(str::to_owned).collect())
            .collect();
        Csv { header, rows }
    }

    pub fn read(path: &Path) -> Csv {
        Csv::parse(&std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
    }

    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    /// The values of one column.
    pub fn column(&self, name: &str) -> Vec<&str> {
        let i = self.col(name);
        self.rows.iter().map(|r| r[i].as_str()).collect()
    }
}
