"""MaxResults/NextToken pagination shared by the emulator's list operations.

Tokens are opaque to clients (base64 of an offset and a fingerprint of the request they
belong to); a token replayed against another request or mangled is rejected the way the
service rejects it. `cap` is how many items the service puts in one page at most, which
can be lower than the MaxResults it accepts (AWS then returns fewer items plus a token).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class BadToken(Exception):
    pass


class BadMaxResults(Exception):
    def __init__(self, value: Any, maximum: int, minimum: int = 1):
        super().__init__(value)
        self.value = value
        self.maximum = maximum
        self.minimum = minimum


def _fingerprint(scope: Any) -> str:
    return hashlib.sha256(repr(scope).encode()).hexdigest()[:12]


def encode_token(offset: int, scope: Any) -> str:
    raw = json.dumps({"o": offset, "f": _fingerprint(scope)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_token(token: str, scope: Any) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["o"])
        fingerprint = data["f"]
    except Exception as exc:  # noqa: BLE001 - any malformed token is a bad token
        raise BadToken(token) from exc
    if fingerprint != _fingerprint(scope) or offset < 0:
        raise BadToken(token)
    return offset


def check_max_results(value: Any, maximum: int) -> int | None:
    if value is None:
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise BadMaxResults(value, maximum) from None
    if n < 1 or n > maximum:
        raise BadMaxResults(value, maximum)
    return n


def page(items: Sequence[T] | Iterable[T], token: str | None, max_results: Any, *,
         maximum: int, default: int, cap: int | None = None, scope: Any = None,
         total: int | None = None) -> tuple[list[T], str | None]:
    """One page of `items` and the token for the next one (None on the last page)."""
    n = check_max_results(max_results, maximum)
    size = min(n or default, cap or maximum)
    offset = decode_token(token, scope) if token else 0
    if isinstance(items, Sequence):
        chunk = list(items[offset:offset + size])
        count = len(items)
    else:
        chunk = list(itertools.islice(items, offset, offset + size))
        count = total if total is not None else offset + len(chunk)
    nxt = offset + len(chunk)
    return chunk, (encode_token(nxt, scope) if nxt < count else None)


def max_results_message(exc: BadMaxResults) -> str:
    if isinstance(exc.value, int) and exc.value > exc.maximum:
        constraint = f"Member must have value less than or equal to {exc.maximum}"
    else:
        constraint = f"Member must have value greater than or equal to {exc.minimum}"
    return f"1 validation error detected: Value '{exc.value}' at 'maxResults' failed to satisfy constraint: {constraint}"


def paged_handler(error_for: Callable[[Exception], Exception]):
    """Decorator turning BadToken/BadMaxResults into the service's own error."""
    def wrap(fn):
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (BadToken, BadMaxResults) as exc:
                raise error_for(exc) from None
        inner.__name__ = fn.__name__
        inner.__doc__ = fn.__doc__
        return inner
    return wrap
