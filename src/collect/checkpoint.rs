//! Checkpoints of a resumable collection: what it has read, what it has yet to do, and
//! where its limits stand, written to a file that the next invocation reads back.
//!
//! A snapshot is taken between two steps of the scheduler, so it is consistent: every
//! unit whose result is in the state is done, every other unit (queued, or running
//! and stopped) is saved to be run again from its start. A unit's result is folded
//! into the state whole or not at all, so a resumed run neither loses a row nor reads
//! one twice. Credentials are never saved (sessions are reopened, see `reopen.rs`).

use std::io::{BufReader, BufWriter, Write};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::model::AccountId;

use super::call::RateSlot;
use super::reopen::{self, Reopener};
use super::state::{StateRecord, StateRecordRef};
use super::work::Unit;

/// The version of the checkpoint format; a checkpoint of another version is not read.
pub const FORMAT: u32 = 1;

/// How a collection checkpoints.
#[derive(Clone, Debug)]
pub struct Checkpointing {
    /// A snapshot this often while the collection runs (besides the one at the deadline).
    pub interval: Duration,
    /// What the run layer keeps with the snapshot (its run id, times, options), opaque here.
    pub run: serde_json::Value,
}

/// One pending unit as saved: a queued unit, or a running one's spec (taken when it
/// started, since a running unit is consumed).
#[derive(Serialize)]
#[serde(untagged)]
pub enum PendingRef<'a> {
    Queued(&'a dyn Unit),
    Started(&'a RawValue),
}

/// A snapshot being written.
#[derive(Serialize)]
pub struct SnapshotRef<'a> {
    pub format: u32,
    pub run: &'a serde_json::Value,
    pub management_account_id: &'a AccountId,
    pub state: StateRecordRef<'a>,
    pub pending: Vec<PendingRef<'a>>,
    pub rate_slots: Vec<RateSlot>,
}

/// A snapshot read back.
#[derive(Deserialize)]
pub struct Snapshot {
    pub format: u32,
    pub run: serde_json::Value,
    pub management_account_id: AccountId,
    pub state: StateRecord,
    pub pending: Vec<Box<dyn Unit>>,
    pub rate_slots: Vec<RateSlot>,
}

/// Only the header of a checkpoint: read first, to tell whose it is without reading
/// (or reopening) the rest.
#[derive(Deserialize)]
pub struct Header {
    pub format: u32,
    pub run: serde_json::Value,
}

/// A snapshot written to a temporary file.
#[derive(Debug)]
pub struct SavedFile {
    pub file: tempfile::NamedTempFile,
    pub bytes: u64,
    pub write_time: Duration,
    pub pending_units: usize,
}

/// Why a checkpoint could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointFileError {
    #[error("cannot write the checkpoint to the temporary folder: {0}")]
    Write(#[source] std::io::Error),
    #[error("cannot encode the checkpoint: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("cannot read the checkpoint file: {0}")]
    Read(#[source] std::io::Error),
    #[error("the checkpoint is not one this version can read: {0}")]
    Decode(#[source] serde_json::Error),
    #[error("the checkpoint has format {found}, this version reads format {FORMAT}")]
    Format { found: u32 },
}

/// Writes `snapshot` to a new temporary file.
pub fn write(snapshot: &SnapshotRef<'_>) -> Result<SavedFile, CheckpointFileError> {
    let started = std::time::Instant::now();
    let file = tempfile::Builder::new()
        .prefix("idc-checkpoint-")
        .suffix(".json")
        .tempfile()
        .map_err(CheckpointFileError::Write)?;
    let mut out = BufWriter::new(file.as_file());
    serde_json::to_writer(&mut out, snapshot).map_err(CheckpointFileError::Encode)?;
    out.flush().map_err(CheckpointFileError::Write)?;
    drop(out);
    let bytes = file.as_file().metadata().map_err(CheckpointFileError::Write)?.len();
    Ok(SavedFile {
        file,
        bytes,
        write_time: started.elapsed(),
        pending_units: snapshot.pending.len(),
    })
}

/// Reads a checkpoint's header.
pub fn read_header(path: &std::path::Path) -> Result<Header, CheckpointFileError> {
    let file = std::fs::File::open(path).map_err(CheckpointFileError::Read)?;
    // The header's fields come first; the rest is skipped without being kept.
    let header: Header = serde_json::from_reader(BufReader::new(file)).map_err(CheckpointFileError::Decode)?;
    Ok(header)
}

/// Reads a whole checkpoint; its assumed sessions are reopened by `reopener`.
pub fn read(path: &std::path::Path, reopener: &Arc<Reopener>) -> Result<Snapshot, CheckpointFileError> {
    let file = std::fs::File::open(path).map_err(CheckpointFileError::Read)?;
    let snapshot: Snapshot = reopen::reading_with(reopener, || serde_json::from_reader(BufReader::new(file)))
        .map_err(CheckpointFileError::Decode)?;
    if snapshot.format != FORMAT {
        return Err(CheckpointFileError::Format { found: snapshot.format });
    }
    Ok(snapshot)
}
