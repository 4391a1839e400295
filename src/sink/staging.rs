//! The run's temporary folder: each file of the run is written there in full before a
//! sink uploads or copies it.
//!
//! The folder is made under the system's temporary folder (`TMPDIR`, `/tmp` in Lambda)
//! and removed when the [`Staging`] is dropped, so when the run ends whether it
//! succeeded or failed. Nothing of a run is left for the next one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::report::EncodeError;

use super::Artifact;

pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";
pub const JSON_CONTENT_TYPE: &str = "application/json";
pub const HTML_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// A file of the run that could not be written to the temporary folder.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(
        "cannot create the run's temporary folder in {dir}: {source}; set TMPDIR to a writable folder with room for the reports"
    )]
    Folder {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{source} (to {path}); reports are written to the temporary folder before they are uploaded: give it room for the largest report (in Lambda, the function's ephemeral storage)"
    )]
    Encode {
        path: PathBuf,
        #[source]
        source: EncodeError,
    },
    #[error(
        "cannot write {path}: {source}; reports are written to the temporary folder before they are uploaded: give it room for the largest report (in Lambda, the function's ephemeral storage)"
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The run's temporary folder. Dropping it removes the folder and every file in it.
#[derive(Debug)]
pub struct Staging {
    dir: tempfile::TempDir,
}

impl Staging {
    /// Makes a new, private folder under the system's temporary folder.
    pub fn new() -> Result<Self, StageError> {
        Self::new_in(&std::env::temp_dir())
    }

    /// Makes a new, private folder under `parent`.
    pub fn new_in(parent: &Path) -> Result<Self, StageError> {
        let dir = tempfile::Builder::new()
            .prefix("idc-report-run-")
            .tempdir_in(parent)
            .map_err(|source| StageError::Folder {
                dir: parent.to_owned(),
                source,
            })?;
        Ok(Staging { dir })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a CSV report to `{name}.csv` through `write`, which gets the open file and
    /// hands it back when done: pass a report function, e.g.
    /// `staging.csv(report::INSTANCES, |out| report::write_instances(&rows, out))`.
    pub fn csv<F>(&self, name: &'static str, write: F) -> Result<Artifact, StageError>
    where
        F: FnOnce(File) -> Result<File, EncodeError>,
    {
        let path = self.file_path(name, "csv");
        let file = create(&path)?;
        let file = write(file).map_err(|source| StageError::Encode {
            path: path.clone(),
            source,
        })?;
        finish(file, name, "csv", CSV_CONTENT_TYPE, path)
    }

    /// Writes a small body held in memory (the run summary) to `{name}.{extension}`.
    pub fn bytes(
        &self,
        name: &'static str,
        extension: &'static str,
        content_type: &'static str,
        body: &[u8],
    ) -> Result<Artifact, StageError> {
        let path = self.file_path(name, extension);
        let mut file = create(&path)?;
        file.write_all(body).map_err(|source| StageError::Write {
            path: path.clone(),
            source,
        })?;
        finish(file, name, extension, content_type, path)
    }

    fn file_path(&self, name: &str, extension: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.{extension}"))
    }
}

fn create(path: &Path) -> Result<File, StageError> {
    File::create(path).map_err(|source| StageError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Flushes the file and describes it.
fn finish(
    mut file: File,
    name: &'static str,
    extension: &'static str,
    content_type: &'static str,
    path: PathBuf,
) -> Result<Artifact, StageError> {
    let len = file
        .flush()
        .and_then(|()| file.metadata())
        .map_err(|source| StageError::Write {
            path: path.clone(),
            source,
        })?
        .len();
    Ok(Artifact {
        name,
        extension,
        content_type,
        path,
        len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report;

    #[test]
    fn files_land_in_a_private_folder_that_goes_with_the_staging() {
        let parent = tempfile::tempdir().unwrap();
        let staging = Staging::new_in(parent.path()).unwrap();
        let folder = staging.path().to_owned();
        assert!(folder.starts_with(parent.path()));
        let csv = staging
            .csv(report::ACCOUNT_ERRORS, |out| {
                report::write_account_errors(Vec::<crate::model::AccountError>::new(), out)
            })
            .unwrap();
        assert_eq!(csv.path, folder.join("account_errors.csv"));
        assert_eq!(csv.content_type, CSV_CONTENT_TYPE);
        let body = std::fs::read(&csv.path).unwrap();
        assert_eq!(body, b"AccountId,Region,Stage,ErrorCode,Message\r\n");
        assert_eq!(csv.len, body.len() as u64);
        let json = staging.bytes("summary", "json", JSON_CONTENT_TYPE, b"{}").unwrap();
        assert_eq!((json.len, json.extension), (2, "json"));
        drop(staging);
        assert!(!folder.exists(), "the folder is removed with the staging");
    }

    #[test]
    fn a_failing_writer_names_the_file_and_leaves_nothing_behind() {
        let parent = tempfile::tempdir().unwrap();
        let staging = Staging::new_in(parent.path()).unwrap();
        let folder = staging.path().to_owned();
        let err = staging
            .csv(report::INSTANCES, |_out| {
                Err(EncodeError {
                    report: report::INSTANCES,
                    source: csv::Error::from(std::io::Error::other("No space left on device")),
                })
            })
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("idc_instances.csv"), "{message}");
        assert!(message.contains("No space left on device"), "{message}");
        assert!(message.contains("ephemeral storage"), "{message}");
        drop(staging);
        assert!(!folder.exists());
    }

    #[test]
    fn an_unwritable_parent_is_a_clear_error() {
        let err = Staging::new_in(Path::new("/nonexistent/idc-report")).unwrap_err();
        assert!(err.to_string().contains("TMPDIR"), "{err}");
    }
}
