//! The previous run, read back for the `changes` report: its summary and the reports it
//! names, from the bucket (or the `--out-dir` folder) the reports go to.
//!
//! From S3: `{prefix}/latest/summary.json` names the previous run; its `reports` map gives
//! the run's **dated** objects, which are read rather than the `latest/` copies. The
//! dated objects of a run are all written before any `latest/` copy, and never written
//! again; the `latest/` copies are overwritten report by report, so a run that failed
//! while copying leaves `latest/` holding reports of two runs, while `latest/summary.json`
//! (written last) still names the older run: its dated objects are that run's, whole.
//! Each report is downloaded to the run's temporary folder (streamed, never in memory),
//! every request with `ExpectedBucketOwner`, retried as uploads are.
//!
//! From a folder: `DIR/summary.json` and `DIR/{report}.csv`, read before this run
//! overwrites them.
//!
//! Nothing here fails the run: no previous summary is a baseline (logged at INFO), an
//! unreadable one a baseline with a warning, and a report that cannot be read is left out
//! of the comparison with a warning and named in the summary.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::ScopeError;
use crate::collect::{Calls, Service};
use crate::model::AccountId;

/// What the previous run left to compare with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreviousRun {
    pub run_id: String,
    /// Its `account_errors`: what it could not read.
    pub errors: Vec<ScopeError>,
    /// Report name to a file holding the previous run's report.
    pub reports: BTreeMap<String, PathBuf>,
    /// Reports this run compares that the previous run does not give, and why.
    pub unavailable: BTreeMap<String, String>,
}

/// The part of a run summary read back.
#[derive(Debug, Deserialize)]
struct SummaryFile {
    run_id: String,
    #[serde(default)]
    reports: BTreeMap<String, String>,
    #[serde(default)]
    account_errors: Vec<ScopeError>,
}

fn parse_summary(body: &[u8], source: &str) -> Option<SummaryFile> {
    match serde_json::from_slice::<SummaryFile>(body) {
        Ok(summary) => Some(summary),
        Err(error) => {
            tracing::warn!(phase = "changes", source, %error, "the previous run's summary cannot be read: this run is a baseline");
            None
        }
    }
}

/// The previous run as written to `dir` by `--out-dir`.
pub fn from_dir(dir: &Path, wanted: &[&str]) -> Option<PreviousRun> {
    let path = dir.join("summary.json");
    let body = match std::fs::read(&path) {
        Ok(body) => body,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(phase = "changes", path = %path.display(), "no previous run in the folder: this run is a baseline");
            return None;
        }
        Err(error) => {
            tracing::warn!(phase = "changes", path = %path.display(), %error, "the previous run's summary cannot be read: this run is a baseline");
            return None;
        }
    };
    let summary = parse_summary(&body, &path.display().to_string())?;
    let mut previous = PreviousRun {
        run_id: summary.run_id,
        errors: summary.account_errors,
        ..PreviousRun::default()
    };
    for name in wanted {
        let file = dir.join(format!("{name}.csv"));
        if file.is_file() {
            previous.reports.insert((*name).to_owned(), file);
        } else {
            previous
                .unavailable
                .insert((*name).to_owned(), format!("the previous run wrote no {name} report"));
        }
    }
    Some(previous)
}

/// Where to read the previous run from S3.
pub struct Bucket<'a> {
    pub client: &'a aws_sdk_s3::Client,
    pub calls: &'a Calls,
    /// The calling account, and the one the bucket must belong to.
    pub owner: &'a AccountId,
    pub bucket: &'a str,
    pub prefix: &'a str,
}

/// Why an object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Call(#[from] crate::collect::CallError),
    #[error("the object's body broke off: {0}")]
    Body(#[from] aws_sdk_s3::primitives::ByteStreamError),
    #[error("cannot write {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Bucket<'_> {
    pub(crate) async fn get(
        &self,
        key: &str,
    ) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, crate::collect::CallError> {
        self.calls
            .run(self.owner, Service::S3, "GetObject", || {
                self.client
                    .get_object()
                    .bucket(self.bucket)
                    .key(key)
                    .expected_bucket_owner(self.owner.as_str())
                    .send()
            })
            .await
    }

    /// Streams an object into a file.
    pub(crate) async fn download(&self, key: &str, path: &Path) -> Result<(), ReadError> {
        let mut body = self.get(key).await?.body;
        let file_error = |source| ReadError::File {
            path: path.to_owned(),
            source,
        };
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(file_error)?);
        while let Some(chunk) = body.try_next().await? {
            file.write_all(&chunk).map_err(file_error)?;
        }
        file.flush().map_err(file_error)?;
        Ok(())
    }

    /// The previous run named by `{prefix}/latest/summary.json`, its reports downloaded
    /// into `folder`.
    pub async fn previous(&self, wanted: &[&str], folder: &Path) -> Option<PreviousRun> {
        self.previous_at(&format!("{}/latest/summary.json", self.prefix), wanted, folder)
            .await
    }

    /// Where the latest run's own (dated) summary is: what a resumed run compares with
    /// when it ends, whatever `latest/` holds by then. `None` without a previous run.
    pub async fn latest_summary_key(&self) -> Option<String> {
        let key = format!("{}/latest/summary.json", self.prefix);
        let body = self.get(&key).await.ok()?.body.collect().await.ok()?.into_bytes();
        let summary = parse_summary(&body, &format!("s3://{}/{key}", self.bucket))?;
        let dated = summary.reports.get("summary")?;
        dated.strip_prefix(&format!("s3://{}/", self.bucket)).map(str::to_owned)
    }

    /// The previous run whose summary is at `key`, its reports downloaded into `folder`.
    pub async fn previous_at(&self, key: &str, wanted: &[&str], folder: &Path) -> Option<PreviousRun> {
        let key = key.to_owned();
        let body = match self.get(&key).await {
            Ok(output) => match output.body.collect().await {
                Ok(body) => body.into_bytes(),
                Err(error) => {
                    tracing::warn!(phase = "changes", bucket = self.bucket, key, %error, "the previous run's summary cannot be read: this run is a baseline");
                    return None;
                }
            },
            Err(error) if error.code == "NoSuchKey" => {
                tracing::info!(
                    phase = "changes",
                    bucket = self.bucket,
                    key,
                    "no previous run in the bucket: this run is a baseline"
                );
                return None;
            }
            Err(error) => {
                tracing::warn!(phase = "changes", bucket = self.bucket, key, %error, "the previous run's summary cannot be read (the function needs s3:GetObject on the report prefix): this run is a baseline");
                return None;
            }
        };
        let summary = parse_summary(&body, &format!("s3://{}/{key}", self.bucket))?;
        let mut previous = PreviousRun {
            run_id: summary.run_id,
            errors: summary.account_errors,
            ..PreviousRun::default()
        };
        let in_bucket = format!("s3://{}/", self.bucket);
        let mut downloads = Vec::new();
        for name in wanted {
            let key = match summary.reports.get(*name) {
                None => Err(format!("the previous run wrote no {name} report")),
                Some(location) => location
                    .strip_prefix(&in_bucket)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("the previous run wrote {name} elsewhere ({location})")),
            };
            match key {
                Ok(key) => downloads.push((*name, key, folder.join(format!("previous-{name}.csv")))),
                Err(why) => {
                    previous.unavailable.insert((*name).to_owned(), why);
                }
            }
        }
        let results =
            futures_util::future::join_all(downloads.iter().map(|(_, key, path)| self.download(key, path))).await;
        for ((name, key, path), result) in downloads.into_iter().zip(results) {
            match result {
                Ok(()) => {
                    previous.reports.insert(name.to_owned(), path);
                }
                Err(error) => {
                    tracing::warn!(phase = "changes", report = name, bucket = self.bucket, key, %error, "the previous run's report cannot be read: it is not compared");
                    previous.unavailable.insert(
                        name.to_owned(),
                        format!("cannot read s3://{}/{key}: {error}", self.bucket),
                    );
                }
            }
        }
        Some(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_a_summary_is_a_baseline_and_missing_reports_are_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(from_dir(dir.path(), &["idc_instances"]), None);
        std::fs::write(dir.path().join("summary.json"), b"{not json").unwrap();
        assert_eq!(from_dir(dir.path(), &["idc_instances"]), None);
        std::fs::write(
            dir.path().join("summary.json"),
            br#"{"run_id": "r1", "account_errors": [{"account_id": "111122221111", "stage": "assume_role",
                 "error_code": "ASSUME_ROLE_DENIED", "message": "denied"}], "counts": {}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("idc_instances.csv"), b"AccountId\r\n").unwrap();
        let previous = from_dir(dir.path(), &["idc_instances", "account_assignments"]).unwrap();
        assert_eq!(previous.run_id, "r1");
        assert_eq!(previous.errors.len(), 1);
        assert_eq!(previous.errors[0].resource, "");
        assert_eq!(
            previous.reports,
            BTreeMap::from([("idc_instances".to_owned(), dir.path().join("idc_instances.csv"))])
        );
        assert_eq!(
            previous.unavailable.get("account_assignments").map(String::as_str),
            Some("the previous run wrote no account_assignments report")
        );
    }
}
