//! The binary: the Lambda runtime when `AWS_LAMBDA_RUNTIME_API` is set, otherwise the
//! command `idc-report run`. Both only wire configuration to the library's handler.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use idc_report::collect::Clients;
use idc_report::config::{Config, RunMode};
use idc_report::event::RunRequest;
use idc_report::handler::{self, App};
use idc_report::logging;
use idc_report::lookup::{LookupOptions, PersonRequest, run_lookup};
use idc_report::report::person_access;
use idc_report::run::{RunOptions, run_audit};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[derive(Parser)]
#[command(
    name = "idc-report",
    version,
    about = "Audit AWS IAM Identity Center across an AWS Organization"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one audit with the configuration in the environment; print the summary JSON.
    Run {
        /// Also write the reports and summary.json to this folder.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// Do not upload to S3 (reports_bucket is then not needed).
        #[arg(long)]
        no_upload: bool,
        /// A Lambda event (JSON file) giving accounts, regions or dry_run, or
        /// continue_run (one invocation of a resumable run; prints its answer).
        #[arg(long, value_name = "FILE")]
        event: Option<PathBuf>,
        /// Act as an invocation with this many seconds before its deadline
        /// (DEADLINE_MARGIN_SECONDS applies as in Lambda).
        #[arg(long, value_name = "SECONDS")]
        stop_after: Option<f64>,
    },
    /// The leaver check: everything these people can reach, in every Identity Center
    /// instance of the organization. Prints a readable answer (the JSON with --json).
    FindPerson {
        /// Emails to look up (any letter case; surrounding spaces ignored).
        #[arg(value_name = "EMAIL")]
        emails: Vec<String>,
        /// A user name to look up (people without email); may be repeated.
        #[arg(long = "user-name", value_name = "NAME")]
        user_names: Vec<String>,
        /// Print the JSON result on stdout (the readable answer goes to stderr).
        #[arg(long)]
        json: bool,
        /// Also write person_access.csv and account_errors.csv to this folder.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// Do not upload to S3 (nothing is uploaded anyway unless reports_bucket is set).
        #[arg(long)]
        no_upload: bool,
        /// Where GetUserId finds nobody, list the store's users to match emails stored in
        /// another letter case (one call per 100 users of each such store).
        #[arg(long)]
        scan: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return Box::pin(lambda_main()).await;
    }
    let cli = Cli::parse();
    logging::init(false);
    match cli.command {
        Command::Run {
            out_dir,
            no_upload,
            event,
            stop_after,
        } => Box::pin(command_run(out_dir, !no_upload, event, stop_after)).await,
        Command::FindPerson {
            emails,
            user_names,
            json,
            out_dir,
            no_upload,
            scan,
        } => {
            let request = PersonRequest {
                emails,
                user_names,
                scan,
                dry_run: false,
            };
            Box::pin(command_find_person(request, json, out_dir, !no_upload)).await
        }
    }
}

/// `find-person`: the same configuration, credentials and exit codes as `run`.
async fn command_find_person(request: PersonRequest, json: bool, out_dir: Option<PathBuf>, upload: bool) -> ExitCode {
    if request
        .emails
        .iter()
        .chain(&request.user_names)
        .all(|p| p.trim().is_empty())
    {
        return fail(
            "find-person needs at least one email or --user-name, e.g. idc-report find-person alice@example.com",
            2,
        );
    }
    // reports_bucket is optional here: without it nothing is uploaded.
    let config = match Config::from_lookup(|k| std::env::var(k).ok(), RunMode::Command { upload: false }) {
        Ok(config) => config,
        Err(err) => return fail(err, 2),
    };
    let clients = match Clients::load().await {
        Ok(clients) => clients,
        Err(err) => return fail(err, 2),
    };
    let options = LookupOptions {
        out_dir,
        upload,
        stop_at: None,
    };
    match run_lookup(&clients, &config, &request, &options).await {
        Ok(result) => {
            let answer = person_access::text(&result);
            if json {
                match serde_json::to_string_pretty(&result) {
                    Ok(text) => println!("{text}"),
                    Err(err) => return fail(err, 1),
                }
                eprint!("{answer}");
            } else {
                print!("{answer}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => fail(err, 1),
    }
}

fn fail(message: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("idc-report: {message}");
    ExitCode::from(code)
}

async fn command_run(
    out_dir: Option<PathBuf>,
    upload: bool,
    event: Option<PathBuf>,
    stop_after: Option<f64>,
) -> ExitCode {
    let deadline = match stop_after {
        None => None,
        Some(seconds) if seconds.is_finite() && (0.0..=86_400.0).contains(&seconds) => {
            Some(std::time::SystemTime::now() + std::time::Duration::from_secs_f64(seconds))
        }
        Some(seconds) => {
            return fail(
                format!("--stop-after must be a number of seconds from 0 to 86400, got {seconds}"),
                2,
            );
        }
    };
    let config = match Config::from_lookup(|k| std::env::var(k).ok(), RunMode::Command { upload }) {
        Ok(config) => config,
        Err(err) => return fail(err, 2),
    };
    let request = match event {
        None => RunRequest::default(),
        Some(path) => {
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read --event {}: {e}", path.display()))
                .and_then(|text| {
                    serde_json::from_str::<Value>(&text)
                        .map_err(|e| format!("--event {} is not JSON: {e}", path.display()))
                })
                .and_then(|value| RunRequest::from_event(&value).map_err(|e| e.to_string()));
            match parsed {
                Ok(request) => request,
                Err(message) => return fail(message, 2),
            }
        }
    };
    let clients = match Clients::load().await {
        Ok(clients) => clients,
        Err(err) => return fail(err, 2),
    };
    let options = RunOptions {
        out_dir,
        upload,
        stop_at: deadline.map(|d| idc_report::handler::stop_instant(d, config.deadline_margin)),
    };
    if let Some(continuation) = &request.continue_run {
        let answered = Box::pin(idc_report::continuation::continue_run(
            &clients,
            &config,
            &request,
            continuation,
            &options,
        ))
        .await;
        return match answered.map(|answer| serde_json::to_string_pretty(&answer)) {
            Ok(Ok(json)) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Ok(Err(err)) => fail(err, 1),
            Err(err) => fail(err, 1),
        };
    }
    match run_audit(&clients, &config, &request, &options).await {
        Ok(summary) => match serde_json::to_string_pretty(&summary) {
            Ok(json) => {
                println!("{json}");
                let c = &summary.counts;
                eprintln!(
                    "idc-report: {} accounts audited, {} skipped, {} failed; {} instances, {} stores, {} users, {} duplicated; {} applications",
                    c.accounts_audited,
                    c.accounts_skipped,
                    c.accounts_failed,
                    c.instances,
                    c.identity_stores,
                    c.users,
                    c.duplicated_users,
                    c.applications
                );
                ExitCode::SUCCESS
            }
            Err(err) => fail(err, 1),
        },
        Err(err) => fail(err, 1),
    }
}

async fn lambda_main() -> ExitCode {
    logging::init(true);
    // A bad configuration is logged at once and fails every invocation with errorType
    // InvalidConfiguration and the same message (rather than the init phase, which
    // Lambda reports as Runtime.ExitError: a workflow would retry that).
    let app = match Config::from_lookup(|k| std::env::var(k).ok(), RunMode::Lambda) {
        Ok(config) => match Clients::load().await {
            Ok(clients) => Ok(App { clients, config }),
            Err(err) => Err(err.to_string()),
        },
        Err(err) => Err(err.to_string()),
    };
    if let Err(message) = &app {
        eprintln!("idc-report: {message}");
    }
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let app_ref = &app;
    let function_name_ref = function_name.as_str();
    let result = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let app = app_ref
            .as_ref()
            .map_err(|message| handler::HandlerError::Configuration(message.clone()))?;
        let deadline = event.context.deadline();
        let answer = handler::invoke(app, &event.payload, Some(deadline)).await?;
        let ended = match &answer {
            handler::Answer::Audit(summary) => Some(summary.as_ref()),
            // A resumable run's metrics, once: by the invocation that ended it.
            handler::Answer::Continued(continued) => continued.ended.as_deref(),
            handler::Answer::Lookup(_) => None,
        };
        if let Some(summary) = ended {
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            println!("{}", handler::metrics_line(summary, function_name_ref, now_ms));
        }
        Ok::<_, handler::HandlerError>(answer)
    }))
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(err, 1),
    }
}
