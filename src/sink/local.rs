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

/// Writes each artifact through a temporary file and a rename, so a reader never sees
/// half a report.
pub fn write_all(dir: &Path, artifacts: &[Artifact]) -> Result<(), LocalWriteError> {
    std::fs::create_dir_all(dir).map_err(|source| LocalWriteError {
        path: dir.to_owned(),
        source,
    })?;
    for artifact in artifacts {
        let path = path_for(dir, artifact.name, artifact.extension);
        let tmp = dir.join(format!(".{}.{}.tmp", artifact.name, artifact.extension));
        std::fs::write(&tmp, &artifact.body).map_err(|source| LocalWriteError {
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
