//! The S3 sink: dated objects first, then the `latest/` copies.

use aws_sdk_s3::primitives::ByteStream;
use futures_util::{StreamExt, stream};

use crate::collect::{CallError, Calls, Service};
use crate::model::AccountId;

use super::{Artifact, Keys};

/// An upload that failed for good.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot write s3://{bucket}/{key}: {source}. Check that the bucket exists and the function may s3:PutObject under the report prefix"
)]
pub struct UploadError {
    pub bucket: String,
    pub key: String,
    #[source]
    pub source: CallError,
}

async fn put(
    client: &aws_sdk_s3::Client,
    calls: &Calls,
    caller: &AccountId,
    bucket: &str,
    key: &str,
    artifact: &Artifact,
) -> Result<(), UploadError> {
    calls
        .run(caller, Service::S3, "PutObject", || {
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .content_type(artifact.content_type)
                .body(ByteStream::from(artifact.body.clone()))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|source| UploadError {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            source,
        })
}

/// Writes every artifact at its dated key; only when all are written, the `latest/`
/// copies of the reports; the `latest/` summary last, so that `latest/summary.json`
/// names a run whose reports are all in place. Within each of those three steps the
/// writes go side by side, at most `width` at once (the run's MAX_CONCURRENCY). A failure
/// stops before the next step: `latest/` keeps pointing at the previous run.
pub async fn write_all(
    client: &aws_sdk_s3::Client,
    calls: &Calls,
    caller: &AccountId,
    bucket: &str,
    artifacts: &[(Artifact, Keys)],
    width: usize,
) -> Result<(), UploadError> {
    let (summaries, reports): (Vec<_>, Vec<_>) = artifacts.iter().partition(|(a, _)| a.name == "summary");
    let dated = artifacts.iter().map(|(artifact, keys)| (artifact, &keys.dated));
    let latest_reports = reports.into_iter().map(|(artifact, keys)| (artifact, &keys.latest));
    let latest_summary = summaries.into_iter().map(|(artifact, keys)| (artifact, &keys.latest));
    let steps: [Vec<(&Artifact, &String)>; 3] = [dated.collect(), latest_reports.collect(), latest_summary.collect()];
    for step in steps {
        let mut puts = stream::iter(step)
            .map(|(artifact, key)| put(client, calls, caller, bucket, key, artifact))
            .buffer_unordered(width.max(1));
        while let Some(result) = puts.next().await {
            result?;
        }
    }
    Ok(())
}
