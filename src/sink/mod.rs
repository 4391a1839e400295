//! Sinks: where finished reports are written (an S3 bucket, a local folder).
//!
//! Every file of a run is first written to the run's temporary folder ([`staging`]);
//! the sinks read those files, never a copy of them in memory. Keys follow
//! `{prefix}/{report}/date={YYYY-MM-DD}/{run_id}.csv`; the `latest/` copies are written
//! only after every dated object of the run is in place.

pub mod checkpoints;
pub mod local;
pub mod previous;
pub mod s3;
pub mod staging;

use std::path::PathBuf;

/// One file of a run's output, written in full to the run's temporary folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// `idc_instances`, ..., or `summary`.
    pub name: &'static str,
    /// `csv` or `json`.
    pub extension: &'static str,
    pub content_type: &'static str,
    /// The file in the run's temporary folder; gone when the run's [`staging::Staging`]
    /// is dropped.
    pub path: PathBuf,
    /// Its size in bytes.
    pub len: u64,
}

/// The S3 keys of one run's artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    pub dated: String,
    pub latest: String,
}

/// Where an artifact goes under `prefix`: the dated key of the run and its `latest/` copy.
pub fn keys(prefix: &str, name: &str, extension: &str, date: &str, run_id: &str) -> Keys {
    Keys {
        dated: format!("{prefix}/{name}/date={date}/{run_id}.{extension}"),
        latest: format!("{prefix}/latest/{name}.{extension}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_layout() {
        let k = keys(
            "idc-reports",
            "idc_instances",
            "csv",
            "2026-11-29",
            "20261129T060000Z-ab12cd34",
        );
        assert_eq!(
            k.dated,
            "idc-reports/idc_instances/date=2026-11-29/20261129T060000Z-ab12cd34.csv"
        );
        assert_eq!(k.latest, "idc-reports/latest/idc_instances.csv");
        let k = keys("a/b", "summary", "json", "2026-11-29", "r");
        assert_eq!(k.dated, "a/b/summary/date=2026-11-29/r.json");
    }
}
