//! The S3 sink: dated objects first, then the `latest/` copies, each uploaded from its
//! file in the run's temporary folder.
//!
//! A file of at most [`PART_SIZE`] goes up in one PutObject; a larger one in a multipart
//! upload of parts read from their ranges of the file, aborted if it fails so no parts
//! are left behind. A retry reads the file (or the part's range) again: no body is ever
//! held in memory. Every request carries `ExpectedBucketOwner` = the account the run
//! calls from, so reports never land in a bucket of the same name owned by someone else.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::{ByteStream, ByteStreamError, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use futures_util::{StreamExt, stream};
use tokio::sync::Semaphore;

use crate::collect::call::FailureKind;
use crate::collect::{CallError, Calls, Service};
use crate::model::AccountId;

use super::{Artifact, Keys};

/// The size of each part of a multipart upload (S3 takes at least 5 MiB for every part
/// but the last); files up to this size go up in one PutObject.
pub const PART_SIZE: u64 = 8 * 1024 * 1024;
const _: () = assert!(PART_SIZE >= 5 * 1024 * 1024, "S3 refuses parts under 5 MiB");

/// S3's limit on the parts of one upload: past `PART_SIZE * MAX_PARTS` (80 GiB) the parts
/// grow instead.
const MAX_PARTS: u64 = 10_000;

/// How much of the file is read at a time while a body is sent.
const READ_BUFFER: usize = 64 * 1024;

/// An upload that failed for good.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot write s3://{bucket}/{key}: {source}. Check that the bucket exists, belongs to account {owner} (the account the function runs in), and that the function may s3:PutObject under the report prefix"
)]
pub struct UploadError {
    pub bucket: String,
    pub key: String,
    /// The account the bucket must belong to (sent as `ExpectedBucketOwner`).
    pub owner: AccountId,
    #[source]
    pub source: CallError,
}

/// One part of a multipart upload: its number (from 1) and its range of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub number: i32,
    pub offset: u64,
    pub length: u64,
}

/// The parts of a file of `len` bytes, or `None` when it goes up in one PutObject (at
/// most `part_size` bytes). Every part is `part_size` long (more when the file would need
/// over 10,000 parts) except the last, which holds the rest.
pub fn plan_parts(len: u64, part_size: u64) -> Option<Vec<Part>> {
    let part_size = part_size.max(1);
    if len <= part_size {
        return None;
    }
    let size = part_size.max(len.div_ceil(MAX_PARTS));
    let parts = (0..len.div_ceil(size))
        .zip(1..)
        .map(|(n, number)| {
            let offset = n * size;
            Part {
                number,
                offset,
                length: size.min(len - offset),
            }
        })
        .collect();
    Some(parts)
}

/// What every request of one `write_all` shares.
struct Target<'a> {
    client: &'a aws_sdk_s3::Client,
    calls: &'a Calls,
    /// The calling account, and the one the bucket must belong to.
    caller: &'a AccountId,
    bucket: &'a str,
    /// One permit per request carrying a body: at most `width` at once in all.
    permits: Semaphore,
    width: usize,
}

impl Target<'_> {
    fn error(&self, key: &str, source: CallError) -> UploadError {
        UploadError {
            bucket: self.bucket.to_owned(),
            key: key.to_owned(),
            owner: self.caller.clone(),
            source,
        }
    }

    async fn upload(&self, key: &str, artifact: &Artifact) -> Result<(), UploadError> {
        match plan_parts(artifact.len, PART_SIZE) {
            None => self.put(key, artifact).await,
            Some(parts) => self.multipart(key, artifact, parts).await,
        }
    }

    async fn put(&self, key: &str, artifact: &Artifact) -> Result<(), UploadError> {
        let _permit = self.permits.acquire().await.ok();
        let owner = self.caller.as_str();
        self.calls
            .run(self.caller, Service::S3, "PutObject", || async move {
                let body = match read(artifact, 0, artifact.len).await {
                    Ok(body) => body,
                    Err(error) => return Err(SdkError::construction_failure(error)),
                };
                self.client
                    .put_object()
                    .bucket(self.bucket)
                    .key(key)
                    .expected_bucket_owner(owner)
                    .content_type(artifact.content_type)
                    .body(body)
                    .send()
                    .await
            })
            .await
            .map(|_| ())
            .map_err(|source| self.error(key, source))
    }

    /// CreateMultipartUpload, the parts side by side, CompleteMultipartUpload; on any
    /// failure after the creation, AbortMultipartUpload.
    async fn multipart(&self, key: &str, artifact: &Artifact, parts: Vec<Part>) -> Result<(), UploadError> {
        let owner = self.caller.as_str();
        let created = self
            .calls
            .run(self.caller, Service::S3, "CreateMultipartUpload", || {
                self.client
                    .create_multipart_upload()
                    .bucket(self.bucket)
                    .key(key)
                    .expected_bucket_owner(owner)
                    .content_type(artifact.content_type)
                    .checksum_algorithm(ChecksumAlgorithm::Crc32)
                    .send()
            })
            .await
            .map_err(|source| self.error(key, source))?;
        let Some(upload_id) = created.upload_id() else {
            return Err(self.error(key, malformed("CreateMultipartUpload", "no UploadId in the answer")));
        };
        let result = self.parts_and_complete(key, artifact, upload_id, parts).await;
        if result.is_err() {
            let aborted = self
                .calls
                .run(self.caller, Service::S3, "AbortMultipartUpload", || {
                    self.client
                        .abort_multipart_upload()
                        .bucket(self.bucket)
                        .key(key)
                        .upload_id(upload_id)
                        .expected_bucket_owner(owner)
                        .send()
                })
                .await;
            if let Err(error) = aborted {
                // The bucket's lifecycle rule (AbortIncompleteMultipartUpload) removes the
                // parts later; the upload's own failure is the one to report.
                tracing::warn!(bucket = self.bucket, key, upload_id, %error, "could not abort the failed multipart upload");
            }
        }
        result
    }

    async fn parts_and_complete(
        &self,
        key: &str,
        artifact: &Artifact,
        upload_id: &str,
        parts: Vec<Part>,
    ) -> Result<(), UploadError> {
        // After a part fails for good no new part starts; those in flight finish before
        // the upload is aborted, so none lands after the abort.
        let failed = std::sync::atomic::AtomicBool::new(false);
        let failed = &failed;
        let pending = parts
            .into_iter()
            .take_while(|_| !failed.load(std::sync::atomic::Ordering::Relaxed));
        let results: Vec<Result<CompletedPart, UploadError>> = stream::iter(pending)
            .map(|part| async move {
                let done = self.upload_part(key, artifact, upload_id, part).await;
                if done.is_err() {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                done
            })
            .buffer_unordered(self.width)
            .collect()
            .await;
        let mut completed = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        completed.sort_by_key(|p| p.part_number());
        let owner = self.caller.as_str();
        let upload = CompletedMultipartUpload::builder().set_parts(Some(completed)).build();
        self.calls
            .run(self.caller, Service::S3, "CompleteMultipartUpload", || {
                self.client
                    .complete_multipart_upload()
                    .bucket(self.bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .expected_bucket_owner(owner)
                    .multipart_upload(upload.clone())
                    .send()
            })
            .await
            .map(|_| ())
            .map_err(|source| self.error(key, source))
    }

    async fn upload_part(
        &self,
        key: &str,
        artifact: &Artifact,
        upload_id: &str,
        part: Part,
    ) -> Result<CompletedPart, UploadError> {
        let _permit = self.permits.acquire().await.ok();
        let owner = self.caller.as_str();
        let output = self
            .calls
            .run(self.caller, Service::S3, "UploadPart", || async move {
                let body = match read(artifact, part.offset, part.length).await {
                    Ok(body) => body,
                    Err(error) => return Err(SdkError::construction_failure(error)),
                };
                self.client
                    .upload_part()
                    .bucket(self.bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(part.number)
                    .expected_bucket_owner(owner)
                    .checksum_algorithm(ChecksumAlgorithm::Crc32)
                    .body(body)
                    .send()
                    .await
            })
            .await
            .map_err(|source| self.error(key, source))?;
        let Some(e_tag) = output.e_tag() else {
            return Err(self.error(key, malformed("UploadPart", "no ETag in the answer")));
        };
        Ok(CompletedPart::builder()
            .part_number(part.number)
            .e_tag(e_tag)
            .set_checksum_crc32(output.checksum_crc32().map(str::to_owned))
            .build())
    }
}

/// A body read from `length` bytes of the file at `offset`, as the request is sent.
async fn read(artifact: &Artifact, offset: u64, length: u64) -> Result<ByteStream, ByteStreamError> {
    ByteStream::read_from()
        .path(&artifact.path)
        .offset(offset)
        .length(Length::Exact(length))
        .buffer_size(READ_BUFFER)
        .build()
        .await
}

/// A successful answer without what the next request needs.
fn malformed(operation: &'static str, message: &str) -> CallError {
    CallError {
        service: Service::S3.as_str(),
        operation,
        kind: FailureKind::Rejected,
        code: "MalformedAnswer".into(),
        message: message.into(),
        attempts: 1,
    }
}

/// Writes every artifact at its dated key; only when all are written, the `latest/`
/// copies of the reports; the `latest/` summary last, so that `latest/summary.json`
/// names a run whose reports are all in place. Within each of those three steps the
/// writes go side by side, and at most `width` (the run's MAX_CONCURRENCY) requests
/// carrying a body are in flight at once, parts of multipart uploads included. A failure
/// stops before the next step (the step's other uploads finish or are aborted first):
/// `latest/` keeps pointing at the previous run. The bucket must belong to `caller`.
pub async fn write_all(
    client: &aws_sdk_s3::Client,
    calls: &Calls,
    caller: &AccountId,
    bucket: &str,
    artifacts: &[(Artifact, Keys)],
    width: usize,
) -> Result<(), UploadError> {
    let width = width.max(1);
    let target = Target {
        client,
        calls,
        caller,
        bucket,
        permits: Semaphore::new(width),
        width,
    };
    let (summaries, reports): (Vec<_>, Vec<_>) = artifacts.iter().partition(|(a, _)| a.name == "summary");
    let dated = artifacts.iter().map(|(artifact, keys)| (artifact, &keys.dated));
    let latest_reports = reports.into_iter().map(|(artifact, keys)| (artifact, &keys.latest));
    let latest_summary = summaries.into_iter().map(|(artifact, keys)| (artifact, &keys.latest));
    let steps: [Vec<(&Artifact, &String)>; 3] = [dated.collect(), latest_reports.collect(), latest_summary.collect()];
    for step in steps {
        let results: Vec<Result<(), UploadError>> = stream::iter(step)
            .map(|(artifact, key)| target.upload(key, artifact))
            .buffer_unordered(width)
            .collect()
            .await;
        results.into_iter().collect::<Result<Vec<()>, _>>()?;
    }
    Ok(())
}

/// Writes one file at `key`: one PutObject, or a multipart upload for a large one.
pub async fn write_one(
    client: &aws_sdk_s3::Client,
    calls: &Calls,
    caller: &AccountId,
    bucket: &str,
    key: &str,
    artifact: &Artifact,
) -> Result<(), UploadError> {
    let target = Target {
        client,
        calls,
        caller,
        bucket,
        permits: Semaphore::new(4),
        width: 4,
    };
    target.upload(key, artifact).await
}

/// Deletes the object at `key` (absent already is not an error in S3).
pub async fn delete(
    client: &aws_sdk_s3::Client,
    calls: &Calls,
    caller: &AccountId,
    bucket: &str,
    key: &str,
) -> Result<(), UploadError> {
    calls
        .run(caller, Service::S3, "DeleteObject", || {
            client
                .delete_object()
                .bucket(bucket)
                .key(key)
                .expected_bucket_owner(caller.as_str())
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|source| UploadError {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            owner: caller.clone(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn small_files_go_in_one_put() {
        assert_eq!(plan_parts(0, PART_SIZE), None);
        assert_eq!(plan_parts(1, PART_SIZE), None);
        assert_eq!(plan_parts(PART_SIZE, PART_SIZE), None);
    }

    #[test]
    fn parts_cover_the_file_in_order_and_the_last_holds_the_rest() {
        let len = 2 * PART_SIZE + 3 * MIB + 7;
        let parts = plan_parts(len, PART_SIZE).unwrap();
        assert_eq!(
            parts,
            vec![
                Part {
                    number: 1,
                    offset: 0,
                    length: PART_SIZE
                },
                Part {
                    number: 2,
                    offset: PART_SIZE,
                    length: PART_SIZE
                },
                Part {
                    number: 3,
                    offset: 2 * PART_SIZE,
                    length: 3 * MIB + 7
                },
            ]
        );
        // One byte over a part: two parts, the last of one byte.
        let parts = plan_parts(PART_SIZE + 1, PART_SIZE).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].length, 1);
        // An exact multiple: no empty last part.
        let parts = plan_parts(3 * PART_SIZE, PART_SIZE).unwrap();
        assert_eq!(parts.iter().map(|p| p.length).collect::<Vec<_>>(), vec![PART_SIZE; 3]);
    }

    #[test]
    fn parts_are_at_least_the_s3_minimum_and_never_over_ten_thousand() {
        for len in [
            PART_SIZE + 1,
            10 * 1024 * MIB,
            80 * 1024 * MIB + 1,
            200 * 1024 * MIB + 12_345,
        ] {
            let parts = plan_parts(len, PART_SIZE).unwrap();
            assert!(parts.len() as u64 <= MAX_PARTS, "{len}: {} parts", parts.len());
            let (last, rest) = parts.split_last().unwrap();
            assert!(rest.iter().all(|p| p.length >= 5 * MIB && p.length == rest[0].length));
            assert!(last.length >= 1 && last.length <= parts[0].length);
            assert_eq!(parts.iter().map(|p| p.length).sum::<u64>(), len);
            for pair in parts.windows(2) {
                assert_eq!(pair[0].offset + pair[0].length, pair[1].offset);
                assert_eq!(pair[0].number + 1, pair[1].number);
            }
        }
    }
}
