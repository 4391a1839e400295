//! The benchmark's trivial HTTP client (and a null server to check it), std only, so
//! that measuring what the emulator can serve is not limited by the client itself.
//! Built by scripts/bench.py with `rustc -O`; not part of the crate.
//!
//!   bench_client hammer PORT REQUEST_FILE CONCURRENCY SECONDS
//!       CONCURRENCY threads send the raw request in REQUEST_FILE back to back to
//!       127.0.0.1:PORT for SECONDS (keep-alive when the server allows it) and print
//!       {"calls":N,"errors":E,"rate":R,"keep_alive":B} (calls completed in time, 200 only).
//!   bench_client null-server LATENCY_MS
//!       Serves every request with 200 `{}` after LATENCY_MS on 127.0.0.1 (a thread per
//!       connection, keep-alive); prints the port on the first line.
//!   bench_client rss OUT_FILE CMD [ARGS...]
//!       Runs CMD (inherited stdio and environment), waits for it, writes
//!       `exit_code max_rss_kb user_s system_s` to OUT_FILE and exits with its code. The
//!       peak RSS comes from getrusage(RUSAGE_CHILDREN): Linux carries the high-water mark
//!       of the spawning process's memory across exec, so a small launcher is needed for
//!       the figure to be the audit's own (a Python parent would add its own size).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one response; returns (status, keep the connection).
fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<(u16, bool)> {
    buf.clear();
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("closed before the headers"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0usize;
    let mut keep = !status_line.starts_with("HTTP/1.0");
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
            if k == "content-length" {
                length = v.parse().unwrap_or(0);
            } else if k == "connection" {
                keep = v != "close";
            }
        }
    }
    let mut have = buf.len() - head_end - 4;
    while have < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("closed before the body"));
        }
        have += n;
    }
    Ok((status, keep))
}

fn hammer(port: u16, request: Vec<u8>, concurrency: usize, seconds: f64) {
    let request = Arc::new(request);
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let reused = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let stop = start + Duration::from_secs_f64(seconds);
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let (request, calls, errors, reused) = (request.clone(), calls.clone(), errors.clone(), reused.clone());
        handles.push(thread::spawn(move || {
            let mut conn: Option<TcpStream> = None;
            let mut buf = Vec::with_capacity(1 << 16);
            while Instant::now() < stop {
                let stream = match conn.as_mut() {
                    Some(s) => {
                        reused.store(true, Ordering::Relaxed);
                        s
                    }
                    None => match TcpStream::connect(("127.0.0.1", port)) {
                        Ok(s) => {
                            let _ = s.set_nodelay(true);
                            let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                            conn.insert(s)
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            thread::sleep(Duration::from_millis(1));
                            continue;
                        }
                    },
                };
                let result = stream.write_all(&request).and_then(|_| read_response(stream, &mut buf));
                match result {
                    Ok((status, keep)) => {
                        if Instant::now() <= stop {
                            if status == 200 {
                                calls.fetch_add(1, Ordering::Relaxed);
                            } else {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        if !keep {
                            conn = None;
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        conn = None;
                    }
                }
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    let n = calls.load(Ordering::Relaxed);
    println!(
        "{{\"calls\":{n},\"errors\":{},\"rate\":{:.3},\"keep_alive\":{}}}",
        errors.load(Ordering::Relaxed),
        n as f64 / seconds,
        reused.load(Ordering::Relaxed)
    );
}

fn serve_connection(stream: TcpStream, latency: Duration) {
    let _ = stream.set_nodelay(true);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((k, v)) = trimmed.split_once(':') {
                if k.trim().eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        if writer
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
            .is_err()
        {
            return;
        }
    }
}

fn null_server(latency_ms: f64) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1");
    println!("{}", listener.local_addr().expect("local addr").port());
    let _ = std::io::stdout().flush();
    let latency = Duration::from_secs_f64(latency_ms / 1000.0);
    for stream in listener.incoming().flatten() {
        thread::spawn(move || serve_connection(stream, latency));
    }
}

/// `struct rusage` on 64-bit Linux: two timevals, then 14 longs (ru_maxrss first).
#[repr(C)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    rest: [i64; 14],
}

unsafe extern "C" {
    fn getrusage(who: i32, usage: *mut Rusage) -> i32;
}

fn rss(out: &str, cmd: &[String]) {
    let status = std::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .status()
        .expect("spawn the command");
    let mut usage = Rusage {
        utime: [0; 2],
        stime: [0; 2],
        rest: [0; 14],
    };
    // SAFETY: getrusage fills the struct it is given; RUSAGE_CHILDREN is -1.
    let rc = unsafe { getrusage(-1, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    let secs = |t: [i64; 2]| t[0] as f64 + t[1] as f64 / 1e6;
    let code = status.code().unwrap_or(128);
    std::fs::write(
        out,
        format!("{code} {} {:.3} {:.3}\n", usage.rest[0], secs(usage.utime), secs(usage.stime)),
    )
    .expect("write OUT_FILE");
    std::process::exit(code);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench_client hammer PORT REQUEST_FILE CONCURRENCY SECONDS | null-server LATENCY_MS | rss OUT_FILE CMD [ARGS...]";
    match args.get(1).map(String::as_str) {
        Some("hammer") if args.len() == 6 => {
            let port = args[2].parse().expect("PORT");
            let request = std::fs::read(&args[3]).expect("REQUEST_FILE");
            let concurrency = args[4].parse().expect("CONCURRENCY");
            let seconds = args[5].parse().expect("SECONDS");
            hammer(port, request, concurrency, seconds);
        }
        Some("rss") if args.len() >= 4 => rss(&args[2], &args[3..]),
        Some("null-server") if args.len() == 3 => null_server(args[2].parse().expect("LATENCY_MS")),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
