//! The binary in Lambda mode: a minimal Lambda runtime API on 127.0.0.1 hands it events,
//! as the Lambda service would, and records what it answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::emulator::{BUCKET, Emulator};

/// What the function posted back for one invocation.
#[derive(Debug)]
struct Answer {
    path: String,
    body: Value,
}

/// Reads one HTTP/1.1 request (request line, headers, body) from a kept-alive connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

/// What the Lambda service sets for a function whose runtime API is at `api`.
fn lambda_env(api: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_RUNTIME_API", api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", "idc-report".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/idc-report".to_owned()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "test".to_owned()),
    ]
}

/// Serves `events` one by one, then holds the next poll open; sends every answer back.
fn serve_runtime_api(listener: TcpListener, events: Vec<Value>, answers: mpsc::Sender<Answer>) {
    let mut events = events.into_iter().enumerate();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { return };
        let mut writer = stream.try_clone().expect("clone stream");
        let mut reader = BufReader::new(stream);
        while let Some((method, path, body)) = read_request(&mut reader) {
            if method == "GET" && path.ends_with("/runtime/invocation/next") {
                let Some((i, event)) = events.next() else {
                    // No more events: keep the function waiting, as Lambda does.
                    std::thread::sleep(Duration::from_secs(600));
                    return;
                };
                let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(900);
                let body = event.to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-{i}\r\nLambda-Runtime-Deadline-Ms: {}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:111122223333:function:idc-report\r\nContent-Length: {}\r\n\r\n{body}",
                    deadline.as_millis(),
                    body.len()
                );
                writer.write_all(response.as_bytes()).expect("write event");
            } else {
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let _ = answers.send(Answer { path, body });
                writer
                    .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n")
                    .expect("write ack");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_serves_lambda_invocations() {
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    let events = vec![json!({}), json!({"accounts": ["12"]})];
    std::thread::spawn(move || serve_runtime_api(listener, events, tx));

    let mut child = emu
        .command()
        .envs(lambda_env(&api))
        .env("CurrentAccountId", "111122223333")
        .env("reports_bucket", BUCKET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the function");

    let ok = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("an answer to the first event");
    let bad = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("an answer to the second event");
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert_eq!(ok.path, "/2018-06-01/runtime/invocation/req-0/response");
    assert_eq!(ok.body["complete"], true);
    assert_eq!(ok.body["counts"]["accounts_audited"], 4);
    assert_eq!(ok.body["counts"]["duplicated_users"], 3);
    assert_eq!(ok.body["reports"].as_object().unwrap().len(), 8);

    assert_eq!(bad.path, "/2018-06-01/runtime/invocation/req-1/error");
    assert_eq!(bad.body["errorType"], "InvalidEvent");
    assert!(
        bad.body["errorMessage"].as_str().unwrap().contains("accounts"),
        "{}",
        bad.body
    );

    // Logs are JSON lines, and one embedded-metric-format line reports the run.
    let lines: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(lines.iter().any(|l| l["message"] == "audit started"), "{stdout}");
    let metric = lines.iter().find(|l| l.get("_aws").is_some()).expect("an EMF line");
    assert_eq!(metric["AccountsFailed"], 0);
    assert_eq!(metric["ReadFailures"], 0);
    assert_eq!(metric["_aws"]["CloudWatchMetrics"][0]["Namespace"], "IdcReport");
    assert_eq!(metric["FunctionName"], "idc-report");
    assert_eq!(emu.list_keys(BUCKET).await.len(), 16);
    // A first run: a baseline, and no change published.
    assert_eq!(ok.body["baseline"], true);
    for name in [
        "NewAccountInstances",
        "RemovedInstances",
        "AccessAdded",
        "AccessRemoved",
    ] {
        assert_eq!(metric[name], 0, "{name}");
    }
}

#[test]
fn a_bad_configuration_fails_every_invocation_naming_the_variable() {
    // Not the init phase: Lambda reports a process that exits there as Runtime.ExitError,
    // which the Step Functions workflow retries; InvalidConfiguration it does not.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    let events = vec![
        json!({}),
        json!({"continue_run": {"name": "exec-1", "started_at": "2026-11-30T00:00:00Z"}}),
    ];
    std::thread::spawn(move || serve_runtime_api(listener, events, tx));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_idc-report"))
        .envs(lambda_env(&api))
        .env("AWS_REGION", "us-east-1")
        .env("CurrentAccountId", "not-an-account")
        .env("reports_bucket", BUCKET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the function");
    let answers: Vec<Answer> = (0..2)
        .map(|_| rx.recv_timeout(Duration::from_secs(60)).expect("an answer"))
        .collect();
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.path, format!("/2018-06-01/runtime/invocation/req-{i}/error"));
        assert_eq!(answer.body["errorType"], "InvalidConfiguration", "{}", answer.body);
        assert!(
            answer.body["errorMessage"]
                .as_str()
                .unwrap()
                .contains("CurrentAccountId must be a 12-digit AWS account id"),
            "{}",
            answer.body
        );
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CurrentAccountId must be a 12-digit AWS account id"),
        "logged at start: {stderr}"
    );
}
