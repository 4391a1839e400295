//! Where a resumable run keeps its state between invocations: under
//! `{prefix}/checkpoints/{name}/` in the reports bucket, `checkpoint.json` (the last
//! snapshot, replaced whole by each save: S3 never shows half an object) and, once the
//! run has written its reports, `done.json` (its answer, for an invocation retried
//! after the end). A lifecycle rule on the prefix expires what an abandoned run left.

use std::collections::BTreeSet;
use std::path::Path;

use crate::collect::{CallError, Calls, Service};
use crate::model::AccountId;

use super::Artifact;
use super::previous::{Bucket, ReadError};
use super::s3::{self, UploadError};

pub const CHECKPOINT: &str = "checkpoint.json";
pub const DONE: &str = "done.json";

/// Why the run's state could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot read s3://{bucket}/{key}: {source}; the run goes on from it when it can be read (the function needs s3:ListBucket and s3:GetObject on the checkpoint prefix)"
    )]
    Read {
        bucket: String,
        key: String,
        #[source]
        source: Box<ReadError>,
    },
    #[error(transparent)]
    Write(Box<UploadError>),
    #[error("cannot use the temporary folder for the checkpoint: {0}")]
    File(#[source] std::io::Error),
}

impl From<UploadError> for StoreError {
    fn from(err: UploadError) -> Self {
        StoreError::Write(Box::new(err))
    }
}

/// The run's place in the bucket.
pub struct CheckpointStore<'a> {
    pub client: &'a aws_sdk_s3::Client,
    pub calls: &'a Calls,
    pub owner: &'a AccountId,
    pub bucket: &'a str,
    /// `{report prefix}/checkpoints/{name}`.
    pub folder: String,
}

impl CheckpointStore<'_> {
    pub fn key(&self, object: &str) -> String {
        format!("{}/{object}", self.folder)
    }

    pub fn location(&self, object: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(object))
    }

    fn reader(&self) -> Bucket<'_> {
        Bucket {
            client: self.client,
            calls: self.calls,
            owner: self.owner,
            bucket: self.bucket,
            prefix: &self.folder,
        }
    }

    fn read_error(&self, object: &str, source: ReadError) -> StoreError {
        StoreError::Read {
            bucket: self.bucket.to_owned(),
            key: self.key(object),
            source: Box::new(source),
        }
    }

    /// The run's objects there are (`checkpoint.json`, `done.json`), by name. Listed, not
    /// probed with GetObject: S3 answers a GetObject of a missing key with 403 unless the
    /// caller may list the whole bucket, while the function may list only this prefix (an
    /// `s3:prefix` condition, which a ListObjectsV2 of the prefix meets).
    pub async fn present(&self) -> Result<BTreeSet<String>, StoreError> {
        let prefix = format!("{}/", self.folder);
        let mut present = BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .calls
                .run(self.owner, Service::S3, "ListObjectsV2", || {
                    self.client
                        .list_objects_v2()
                        .bucket(self.bucket)
                        .prefix(&prefix)
                        .set_continuation_token(token.clone())
                        .expected_bucket_owner(self.owner.as_str())
                        .send()
                })
                .await
                .map_err(|err| self.read_error("", ReadError::Call(err)))?;
            present.extend(
                output
                    .contents()
                    .iter()
                    .filter_map(|o| o.key()?.strip_prefix(&prefix).map(str::to_owned)),
            );
            match output.next_continuation_token() {
                Some(next) if output.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => return Ok(present),
            }
        }
    }

    /// A small object's bytes; `None` when there is none.
    pub async fn get_bytes(&self, object: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let output = match self.reader().get(&self.key(object)).await {
            Ok(output) => output,
            Err(err) if is_missing(&err) => return Ok(None),
            Err(err) => return Err(self.read_error(object, ReadError::Call(err))),
        };
        let body = output
            .body
            .collect()
            .await
            .map_err(|err| self.read_error(object, ReadError::Body(err)))?;
        Ok(Some(body.into_bytes().to_vec()))
    }

    /// An object streamed into a new temporary file; `None` when there is none.
    pub async fn get_file(&self, object: &str) -> Result<Option<tempfile::NamedTempFile>, StoreError> {
        let file = tempfile::Builder::new()
            .prefix("idc-checkpoint-read-")
            .tempfile()
            .map_err(StoreError::File)?;
        match self.reader().download(&self.key(object), file.path()).await {
            Ok(()) => Ok(Some(file)),
            Err(ReadError::Call(err)) if is_missing(&err) => Ok(None),
            Err(err) => Err(self.read_error(object, err)),
        }
    }

    /// Writes a file as `object`.
    pub async fn put_file(&self, object: &str, path: &Path, len: u64) -> Result<(), StoreError> {
        let artifact = Artifact {
            name: "checkpoint",
            extension: "json",
            content_type: super::staging::JSON_CONTENT_TYPE,
            path: path.to_owned(),
            len,
        };
        s3::write_one(
            self.client,
            self.calls,
            self.owner,
            self.bucket,
            &self.key(object),
            &artifact,
        )
        .await?;
        Ok(())
    }

    /// Writes bytes as `object`.
    pub async fn put_bytes(&self, object: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let mut file = tempfile::NamedTempFile::new().map_err(StoreError::File)?;
        std::io::Write::write_all(&mut file, bytes).map_err(StoreError::File)?;
        self.put_file(object, file.path(), bytes.len() as u64).await
    }

    pub async fn delete(&self, object: &str) -> Result<(), StoreError> {
        s3::delete(self.client, self.calls, self.owner, self.bucket, &self.key(object)).await?;
        Ok(())
    }
}

fn is_missing(err: &CallError) -> bool {
    err.code == "NoSuchKey" || err.code == "NotFound"
}
