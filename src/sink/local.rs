//! The local-folder sink: `DIR/{report}.csv` and `DIR/summary.json`.

use std::path::{Path, PathBuf};

use super::Artifact;

/// A file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source} (check that the --out-dir folder is writable)")]
pub struct LocalWriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The path a file of the run is written to.
pub fn path_for(dir: &Path, name: &str, extension: &str) -> PathBuf {
    dir.join(format!("{name}.{extension}"))
}

/// Copies each artifact from the run's temporary folder through a temporary file and a
/// rename, so a reader never sees half a report. The copy goes file to file (the
/// kernel's copy where it has one), never through a buffer holding the whole report.
pub fn write_all(dir: &Path, artifacts: &[Artifact]) -> Result<(), LocalWriteError> {
    std::fs::create_dir_all(dir).map_err(|source| LocalWriteError {
        path: dir.to_owned(),
        source,
    })?;
    for artifact in artifacts {
        let path = path_for(dir, artifact.name, artifact.extension);
        let tmp = dir.join(format!(".{}.{}.tmp", artifact.name, artifact.extension));
        std::fs::copy(&artifact.path, &tmp).map_err(|source| LocalWriteError {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, &path).map_err(|source| LocalWriteError {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::staging::{JSON_CONTENT_TYPE, Staging};

    #[test]
    fn files_are_copied_whole_and_no_temporary_file_is_left() {
        let staging = Staging::new_in(&std::env::temp_dir()).unwrap();
        let body: Vec<u8> = (0..300_000u32).flat_map(|n| n.to_le_bytes()).collect();
        let artifact = staging.bytes("summary", "json", JSON_CONTENT_TYPE, &body).unwrap();
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("reports");
        write_all(&dir, std::slice::from_ref(&artifact)).unwrap();
        assert_eq!(std::fs::read(dir.join("summary.json")).unwrap(), body);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("summary.json")]);
        // The staged file stays for the S3 sink.
        assert!(artifact.path.exists());
    }
}
