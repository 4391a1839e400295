//! Logs: JSON lines under Lambda, readable text on a terminal (stderr).
//!
//! INFO lines carry counts and durations only; no email, user name or credential is
//! ever logged at INFO.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is not set: INFO, except the SDK credential chain's
/// warning for each source that had no credentials (a dump of the SDK's error types).
/// A run without credentials says what was tried in its one error line instead;
/// `RUST_LOG=debug` shows every source's answer.
const DEFAULT_FILTER: &str = "info,aws_config::meta::credentials::chain=error";

/// Installs the global subscriber. `RUST_LOG` overrides [`DEFAULT_FILTER`].
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        // Lambda adds its own timestamps and request ids around each line.
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .without_time()
            .try_init()
            .ok();
    } else {
        builder
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .try_init()
            .ok();
    }
}
