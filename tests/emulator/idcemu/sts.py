"""sts: AssumeRole and GetCallerIdentity, answered directly (without moto).

moto lets any caller assume any role; AWS refuses a role that does not exist or an account
that is suspended or closed. The role check comes from the scenario (`World.role_check`).
A granted role gets fresh temporary credentials whose access key is remembered as the
role's session (`World.sessions`): that is how the gateway knows who calls with it later
and what GetCallerIdentity answers for it. A key `AKIAACCOUNT` + 12 digits of an account of
the scenario is that account's own (an IAM user `emulator` there). moto's own AssumeRole creates an IAM backend
per target account, about a millisecond each, which at a thousand accounts made it the
emulator's most expensive call.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import random
import string
from xml.sax.saxutils import escape

from . import direct
from .errors import STS_NS, request_id, sts_error
from .world import AssumedSession, World

log = logging.getLogger("emulator")

MAX_SESSION_NAME = 64
MIN_DURATION, MAX_DURATION = 900, 43200


KEY_ALPHABET = string.ascii_uppercase + string.digits
# For a key that AssumeRole did not issue (the management account's own), moto's answer.
DEFAULT_USER_ID = "AKIAIOSFODNN7EXAMPLE"
# The IAM user GetCallerIdentity names for an `AKIAACCOUNT` + 12 digits key.
OWN_KEY_USER = "emulator"


def _random(n: int, prefix: str = "") -> str:
    return prefix + "".join(random.choices(KEY_ALPHABET, k=n))


def assume_role_xml(session: AssumedSession) -> bytes:
    return (
        f'<AssumeRoleResponse xmlns="{STS_NS}"><AssumeRoleResult><Credentials>'
        f"<AccessKeyId>{escape(session.access_key_id)}</AccessKeyId>"
        f"<SecretAccessKey>{escape(session.secret_access_key)}</SecretAccessKey>"
        f"<SessionToken>{escape(session.session_token)}</SessionToken>"
        f"<Expiration>{session.expiration}</Expiration></Credentials>"
        f"<AssumedRoleUser><AssumedRoleId>{escape(session.user_id)}</AssumedRoleId>"
        f"<Arn>{escape(session.arn)}</Arn></AssumedRoleUser><PackedPolicySize>6</PackedPolicySize>"
        f"</AssumeRoleResult><ResponseMetadata><RequestId>{request_id()}</RequestId></ResponseMetadata>"
        f"</AssumeRoleResponse>"
    ).encode()


def caller_identity_xml(user_id: str, arn: str, account: str) -> bytes:
    return (
        f'<GetCallerIdentityResponse xmlns="{STS_NS}"><GetCallerIdentityResult>'
        f"<UserId>{escape(user_id)}</UserId><Account>{escape(account)}</Account><Arn>{escape(arn)}</Arn>"
        f"</GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id()}</RequestId>"
        f"</ResponseMetadata></GetCallerIdentityResponse>"
    ).encode()


def install(world: World) -> None:
    def assume_role(call: direct.Call) -> direct.Triple:
        role_arn = call.form_value("RoleArn") or ""
        session = call.form_value("RoleSessionName") or ""
        if not role_arn or not session:
            missing = "roleArn" if not role_arn else "roleSessionName"
            return sts_error("ValidationError", 400, f"1 validation error detected: Value null at '{missing}' "
                             "failed to satisfy constraint: Member must not be null")
        if len(session) > MAX_SESSION_NAME:
            return sts_error("ValidationError", 400, f"1 validation error detected: Value '{session}' at "
                             "'roleSessionName' failed to satisfy constraint: Member must have length less "
                             f"than or equal to {MAX_SESSION_NAME}")
        try:
            duration = int(call.form_value("DurationSeconds") or 3600)
        except ValueError:
            duration = -1
        if not MIN_DURATION <= duration <= MAX_DURATION:
            return sts_error("ValidationError", 400, "1 validation error detected: Value at 'durationSeconds' "
                             f"failed to satisfy constraint: Member must be within [{MIN_DURATION}, {MAX_DURATION}]")
        why = world.role_check(role_arn)
        if why == "invalid":
            return sts_error("ValidationError", 400, f"{role_arn} is invalid")
        if why is not None:
            log.info("AssumeRole into %s refused: %s", role_arn, why)
            return sts_error("AccessDenied", 403, f"User: arn:aws:iam::{call.current_account}:root is not "
                             f"authorized to perform: sts:AssumeRole on resource: {role_arn}")
        account, role_path = role_arn.split(":")[4], role_arn.split(":", 5)[5]
        partition = role_arn.split(":")[1]
        role_name = role_path.rsplit("/", 1)[-1]
        expiration = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=duration)
        granted = AssumedSession(
            account=account,
            access_key_id=_random(16, "ASIA"),
            secret_access_key=base64.b64encode(os.urandom(30)).decode(),
            session_token=base64.b64encode(os.urandom(200)).decode(),
            expiration=expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            user_id=f"{_random(17, 'AROA')}:{session}",
            arn=f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}")
        with world.lock:
            world.sessions[granted.access_key_id] = granted
        return 200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id())], assume_role_xml(granted)

    def get_caller_identity(call: direct.Call) -> direct.Triple:
        granted = world.sessions.get(call.access_key or "")
        if granted is not None:
            body = caller_identity_xml(granted.user_id, granted.arn, granted.account)
        elif call.current_account != world.management:
            # an `AKIAACCOUNT` + 12 digits key: an IAM user of that account
            partition = "aws-cn" if call.region.startswith("cn-") else "aws"
            body = caller_identity_xml(f"AIDA{call.current_account}EMULATOR",
                                       f"arn:{partition}:iam::{call.current_account}:user/{OWN_KEY_USER}",
                                       call.current_account)
        else:
            partition = "aws-cn" if call.region.startswith("cn-") else "aws"
            body = caller_identity_xml(DEFAULT_USER_ID, f"arn:{partition}:sts::{call.current_account}:user/moto",
                                       call.current_account)
        return 200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id())], body

    direct.register("sts", "AssumeRole", assume_role)
    direct.register("sts", "GetCallerIdentity", get_caller_identity)
