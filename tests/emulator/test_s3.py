"""S3's ExpectedBucketOwner, which moto ignores and the gateway enforces: a request whose
`x-amz-expected-bucket-owner` is not the bucket's owner is refused with 403 AccessDenied,
whatever the operation; a matching owner, or no header, goes to moto."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import error_code

MANAGEMENT = "111122223333"
MEMBER = "111122224444"


@pytest.fixture
def buckets(blog):
    """A bucket of the management account and one of a member account."""
    own, foreign = "owner-check-own", "owner-check-foreign"
    blog.client("s3").create_bucket(Bucket=own)
    blog.as_account(MEMBER, "s3").create_bucket(Bucket=foreign)
    return own, foreign


def test_matching_owner_or_no_header_is_served(blog, buckets):
    own, foreign = buckets
    s3 = blog.client("s3")
    s3.put_object(Bucket=own, Key="a.csv", Body=b"x", ExpectedBucketOwner=MANAGEMENT)
    assert s3.get_object(Bucket=own, Key="a.csv", ExpectedBucketOwner=MANAGEMENT)["Body"].read() == b"x"
    # Without the header moto lets any account write to any bucket: what the header guards.
    s3.put_object(Bucket=foreign, Key="b.csv", Body=b"y")


def test_another_owner_is_access_denied_for_every_upload_operation(blog, buckets):
    own, foreign = buckets
    s3 = blog.client("s3")
    calls = {
        "PutObject": lambda b: s3.put_object(Bucket=b, Key="k", Body=b"x", ExpectedBucketOwner=MANAGEMENT),
        "CreateMultipartUpload": lambda b: s3.create_multipart_upload(Bucket=b, Key="k",
                                                                      ExpectedBucketOwner=MANAGEMENT),
        "HeadObject": lambda b: s3.head_object(Bucket=b, Key="k", ExpectedBucketOwner=MANAGEMENT),
    }
    for name, call in calls.items():
        with pytest.raises(ClientError) as exc:
            call(foreign)
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, name
        if name != "HeadObject":  # a HEAD answer has no body, so no code
            assert error_code(exc.value) == "AccessDenied", name
    # The parts of an upload started by the owner are refused too when another owner is named.
    member = blog.as_account(MEMBER, "s3")
    upload = member.create_multipart_upload(Bucket=foreign, Key="m", ExpectedBucketOwner=MEMBER)["UploadId"]
    part_calls = {
        "UploadPart": lambda: s3.upload_part(Bucket=foreign, Key="m", UploadId=upload, PartNumber=1, Body=b"x",
                                             ExpectedBucketOwner=MANAGEMENT),
        "CompleteMultipartUpload": lambda: s3.complete_multipart_upload(
            Bucket=foreign, Key="m", UploadId=upload, ExpectedBucketOwner=MANAGEMENT,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]}),
        "AbortMultipartUpload": lambda: s3.abort_multipart_upload(Bucket=foreign, Key="m", UploadId=upload,
                                                                  ExpectedBucketOwner=MANAGEMENT),
    }
    for name, call in part_calls.items():
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc.value) == "AccessDenied", name
    member.abort_multipart_upload(Bucket=foreign, Key="m", UploadId=upload, ExpectedBucketOwner=MEMBER)
    # Nothing was written by the refused calls.
    keys = [o["Key"] for o in member.list_objects_v2(Bucket=foreign).get("Contents", [])]
    assert "k" not in keys and "m" not in keys
    assert blog.stats()["by_operation"]["s3:AbortMultipartUpload"] >= 2


def test_an_unknown_bucket_is_still_no_such_bucket(blog):
    with pytest.raises(ClientError) as exc:
        blog.client("s3").put_object(Bucket="owner-check-missing", Key="k", Body=b"x",
                                     ExpectedBucketOwner=MANAGEMENT)
    assert error_code(exc.value) == "NoSuchBucket"


def test_a_put_cut_off_mid_body_stores_nothing(blog, buckets):
    """A client that goes away before its body is sent whole (a process killed during an
    upload) leaves no object, as S3: the request is never acted on. Unsigned, so the
    request is not even authenticated: only the missing bytes matter here."""
    import socket
    from urllib.parse import urlparse

    own, _ = buckets
    s3 = blog.client("s3")
    url = urlparse(blog.endpoint)
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(
            f"PUT /{own}/cut.json HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
            "Content-Length: 1000\r\nContent-Type: application/json\r\n\r\n".encode()
            + b'{"half": "of a body'
        )
    # Let the server see the close, then look.
    import time
    time.sleep(0.3)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=own, Key="cut.json")
    assert error_code(exc.value) == "NoSuchKey"
    # The same request sent whole is served (the emulator does not refuse it for its shape).
    s3.put_object(Bucket=own, Key="cut.json", Body=b'{"whole": true}')
    assert s3.get_object(Bucket=own, Key="cut.json")["Body"].read() == b'{"whole": true}'
