"""Identifiers derived from a scenario's names, as AWS shapes them.

Kept free of moto so that `expect.py` (and `scenarios/build.py` under any Python) computes
the very ids the loaded emulator answers with: the same names always give the same ids.
"""

from __future__ import annotations

import hashlib

PARTITION = "aws"


def _hex(*parts: str, n: int = 32) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:n]


def principal_id(kind: str, store: str, name: str) -> str:
    """An Identity Store id in AWS's shape: 10 hex, '-', then a UUID."""
    h = _hex(kind, store, name, n=42)
    return f"{h[:10]}-{h[10:18]}-{h[18:22]}-{h[22:26]}-{h[26:30]}-{h[30:42]}"


def instance_id(spec: dict) -> str:
    """The instance id of a scenario instance: its `instance_id`, or one from its store id."""
    return spec.get("instance_id") or f"ssoins-{_hex('ins', spec['identity_store_id'], n=16)}"


def instance_arn(instance_id: str) -> str:
    return f"arn:{PARTITION}:sso:::instance/{instance_id}"


def permission_set_id(instance_id: str, name: str) -> str:
    """`ps-` and 16 hex digits, as AWS forms them; derived from the name."""
    return f"ps-{_hex('ps', instance_id, name, n=16)}"


def permission_set_arn(instance_id: str, ps_id: str) -> str:
    return f"arn:{PARTITION}:sso:::permissionSet/{instance_id}/{ps_id}"


def user_id(spec: dict) -> str:
    return spec.get("user_id") or principal_id("user", spec["store"], spec["user_name"])


def group_id(spec: dict) -> str:
    return spec.get("group_id") or principal_id("group", spec["store"], spec["name"])
