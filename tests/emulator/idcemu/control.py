"""Faults, the per-(account, service) rate limit and the request statistics.

Everything here is switched while the server runs through the /_emulator/ admin API.
A fault matches on service, operation and calling account ("*" matches all) and, with
`when`, on request members (`{"GroupId": "..."}`: each named top-level member of the JSON
body, or query-protocol parameter, equals the value given), fires with
`probability`, at most `count` times when set, and is one of: throttle, access_denied,
http500 (answered in the service's own error shape) or latency (sleep before handling).
`retry_after_seconds` sets the `RetryAfterSeconds` that Identity Store's throttle and
http500 answers carry (1 when not given).
The rate limit is a token bucket per (calling account, service): `rps` tokens a second,
`burst` at most; an empty bucket answers the service's throttling error. The statistics
count requests by operation, account and (account, service), and time each (account,
service) lane: first and last arrival, last answer, throttling answers.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any, Callable

# The request's top-level members, computed only when a fault with `when` needs them.
Members = Callable[[], dict[str, Any]]

from . import errors

SERVICES = ("sso-admin", "identitystore", "organizations", "sts", "s3")
KINDS = ("throttle", "access_denied", "http500", "latency")


class ConfigError(ValueError):
    pass


class Fault:
    def __init__(self, spec: dict[str, Any]):
        unknown = set(spec) - {"service", "operation", "account", "kind", "probability", "latency_ms", "count", "fired",
                               "when", "retry_after_seconds"}
        if unknown:
            raise ConfigError(f"unknown fault fields: {sorted(unknown)}")
        self.service = spec.get("service", "*")
        if self.service != "*" and self.service not in SERVICES:
            raise ConfigError(f"fault service must be one of {SERVICES} or '*'")
        self.operation = spec.get("operation", "*")
        self.account = str(spec.get("account", "*"))
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise ConfigError(f"fault kind must be one of {KINDS}")
        self.probability = float(spec.get("probability", 1.0))
        if not 0.0 <= self.probability <= 1.0:
            raise ConfigError("probability must be within [0, 1]")
        self.latency_ms = float(spec.get("latency_ms", 0) or 0)
        if self.kind == "latency" and self.latency_ms <= 0:
            raise ConfigError("a latency fault needs latency_ms > 0")
        count = spec.get("count")
        self.count = None if count is None else int(count)
        when = spec.get("when")
        if when is not None and (not isinstance(when, dict) or not when):
            raise ConfigError("a fault's when is an object of request members and their values")
        self.when: dict[str, Any] | None = when
        retry_after = spec.get("retry_after_seconds", errors.RETRY_AFTER_SECONDS)
        # An integer in Identity Store's model; any size is accepted, as a client must
        # survive whatever a service sends.
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise ConfigError("retry_after_seconds must be a whole number >= 0")
        self.retry_after_seconds = retry_after
        self.fired = 0

    def matches(self, service: str, operation: str, account: str, members: Members | None = None) -> bool:
        if not ((self.service == "*" or self.service == service)
                and (self.operation == "*" or self.operation == operation)
                and (self.account == "*" or self.account == account)
                and (self.count is None or self.fired < self.count)):
            return False
        if self.when:
            got = members() if members is not None else {}
            return all(k in got and got[k] == v for k, v in self.when.items())
        return True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"service": self.service, "operation": self.operation, "account": self.account,
                               "kind": self.kind, "probability": self.probability, "count": self.count,
                               "fired": self.fired, "retry_after_seconds": self.retry_after_seconds}
        if self.kind == "latency":
            out["latency_ms"] = self.latency_ms
        if self.when:
            out["when"] = self.when
        return out


class RateLimit:
    def __init__(self, spec: dict[str, Any]):
        self.rps = float(spec.get("rps", 0))
        if self.rps <= 0:
            raise ConfigError("rate_limit.rps must be > 0")
        self.burst = float(spec.get("burst", self.rps))
        if self.burst < 1:
            raise ConfigError("rate_limit.burst must be >= 1")
        services = spec.get("services")
        self.services = None if services is None else list(services)
        for s in self.services or []:
            if s not in SERVICES:
                raise ConfigError(f"rate_limit.services: unknown service {s!r}")
        self.buckets: dict[tuple[str, str], list[float]] = {}

    def take(self, account: str, service: str) -> bool:
        """Take a token; False when the bucket is empty (the call is throttled)."""
        if self.services is not None and service not in self.services:
            return True
        now = time.monotonic()
        bucket = self.buckets.get((account, service))
        if bucket is None:
            bucket = self.buckets[(account, service)] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rps)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return True
        bucket[0] = tokens
        return False

    def to_json(self) -> dict[str, Any]:
        return {"rps": self.rps, "burst": self.burst, "services": self.services}


class Control:
    """Current fault set, rate limit and statistics; all methods are thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rng = random.Random(0)
        self.faults: list[Fault] = []
        self.rate_limit: RateLimit | None = None
        self.region_scope_supported = True
        self.reset_stats()

    # ---- configuration ----------------------------------------------------------------
    def configure(self, body: dict[str, Any] | None) -> None:
        body = body or {}
        if not isinstance(body, dict):
            raise ConfigError("the faults body is a JSON object")
        unknown = set(body) - {"faults", "rate_limit", "region_scope_supported", "seed"}
        if unknown:
            raise ConfigError(f"unknown fields: {sorted(unknown)}")
        faults = [Fault(f) for f in body.get("faults") or []]
        rl = body.get("rate_limit")
        rate_limit = RateLimit(rl) if rl else None
        with self.lock:
            self.faults = faults
            self.rate_limit = rate_limit
            self.region_scope_supported = bool(body.get("region_scope_supported", True))
            if body.get("seed") is not None:
                self.rng = random.Random(body["seed"])

    def clear(self) -> None:
        self.configure({})

    def config_json(self) -> dict[str, Any]:
        with self.lock:
            return {"faults": [f.to_json() for f in self.faults],
                    "rate_limit": self.rate_limit.to_json() if self.rate_limit else None,
                    "region_scope_supported": self.region_scope_supported}

    # ---- decisions --------------------------------------------------------------------
    def latency_ms(self, service: str, operation: str, account: str, members: Members | None = None) -> float:
        total = 0.0
        with self.lock:
            for f in self.faults:
                if f.kind == "latency" and f.matches(service, operation, account, members) and self.rng.random() < f.probability:
                    f.fired += 1
                    total += f.latency_ms
            if total:
                self.faults_injected["latency"] += 1
        return total

    def error_fault(self, service: str, operation: str, account: str,
                    members: Members | None = None) -> Fault | None:
        """The error fault that fires for this request, if any."""
        with self.lock:
            for f in self.faults:
                if f.kind != "latency" and f.matches(service, operation, account, members) and self.rng.random() < f.probability:
                    f.fired += 1
                    self.faults_injected[f.kind] += 1
                    if f.kind == "throttle":
                        self.throttled += 1
                        self._lane_throttled(account, service)
                    return f
        return None

    def rate_limited(self, service: str, account: str) -> bool:
        with self.lock:
            if self.rate_limit is None or self.rate_limit.take(account, service):
                return False
            self.throttled += 1
            self.rate_limited_total += 1
            self._lane_throttled(account, service)
            return True

    def _lane_throttled(self, account: str, service: str) -> None:
        lane = self.lane_times.get(f"{account}:{service}")
        if lane is not None:
            lane[3] += 1

    # ---- statistics -------------------------------------------------------------------
    def reset_stats(self) -> None:
        with getattr(self, "lock", threading.Lock()):
            self.requests_total = 0
            self.by_operation: dict[str, int] = {}
            self.by_account: dict[str, int] = {}
            self.by_account_service: dict[str, int] = {}
            # Per "account:service": [first arrival, last arrival, last answer, throttled]
            # (monotonic; answers as reported by `end`), for when each lane was busy.
            self.lane_times: dict[str, list[Any]] = {}
            self.by_status: dict[str, int] = {}
            self.throttled = 0
            self.rate_limited_total = 0
            self.faults_injected = {k: 0 for k in KINDS}
            # Requests already in flight stay counted so that their end() balances.
            self.in_flight = getattr(self, "in_flight", 0)
            self.peak_in_flight = self.in_flight
            self.accounts_in_flight: dict[str, int] = getattr(self, "accounts_in_flight", {})
            self.peak_accounts_in_flight = len(self.accounts_in_flight)
            # Time: the sum of request durations (arrival to answer, injected latency
            # included), the integral of in_flight over time and the span it covers.
            self.request_seconds = 0.0
            self.in_flight_seconds = 0.0
            self.first_begin: float | None = None
            self.last_end: float | None = None
            self.last_change = time.monotonic()

    def _advance(self, now: float) -> None:
        self.in_flight_seconds += self.in_flight * (now - self.last_change)
        self.last_change = now

    def begin(self, service: str, operation: str, account: str) -> float:
        """Counts a request; returns its start time, for `end`."""
        now = time.monotonic()
        with self.lock:
            self._advance(now)
            if self.first_begin is None:
                self.first_begin = now
            self.requests_total += 1
            op = f"{service}:{operation}"
            self.by_operation[op] = self.by_operation.get(op, 0) + 1
            self.by_account[account] = self.by_account.get(account, 0) + 1
            key = f"{account}:{service}"
            self.by_account_service[key] = self.by_account_service.get(key, 0) + 1
            lane = self.lane_times.get(key)
            if lane is None:
                self.lane_times[key] = [now, now, None, 0]
            else:
                lane[1] = now
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self.accounts_in_flight[account] = self.accounts_in_flight.get(account, 0) + 1
            self.peak_accounts_in_flight = max(self.peak_accounts_in_flight, len(self.accounts_in_flight))
        return now

    def end(self, account: str, status: int, started: float, service: str | None = None) -> None:
        """Counts a request answered; with `service`, also its lane's last answer."""
        now = time.monotonic()
        with self.lock:
            self._advance(now)
            lane = self.lane_times.get(f"{account}:{service}") if service is not None else None
            if lane is not None and started >= lane[0]:  # not one admitted before a reset
                lane[2] = now
            self.request_seconds += now - started
            self.last_end = now
            self.in_flight -= 1
            n = self.accounts_in_flight.get(account, 0) - 1
            if n > 0:
                self.accounts_in_flight[account] = n
            else:
                self.accounts_in_flight.pop(account, None)
            key = str(status)
            self.by_status[key] = self.by_status.get(key, 0) + 1

    def stats_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests_total": self.requests_total,
                "by_operation": dict(self.by_operation),
                "by_account": dict(self.by_account),
                "by_account_service": dict(self.by_account_service),
                "by_status": dict(self.by_status),
                "throttled": self.throttled,
                "rate_limited": self.rate_limited_total,
                "faults_injected": dict(self.faults_injected),
                "in_flight": self.in_flight,
                "peak_in_flight": self.peak_in_flight,
                "peak_accounts_in_flight": self.peak_accounts_in_flight,
                "request_seconds": round(self.request_seconds, 4),
                "in_flight_seconds": round(self.in_flight_seconds, 4),
                "active_seconds": round((self.last_end or 0.0) - (self.first_begin or 0.0), 4)
                if self.first_begin is not None and self.last_end is not None else 0.0,
                "by_account_service_times": self._lane_times_json(),
            }

    def _lane_times_json(self) -> dict[str, dict[str, Any]]:
        """Per "account:service": seconds from the first request counted (since the last
        reset) to the lane's first arrival, last arrival and last answer (None while none
        is answered), and its throttling answers."""
        t0 = self.first_begin
        if t0 is None:
            return {}

        def rel(t: float | None) -> float | None:
            return None if t is None else round(t - t0, 4)

        return {key: {"first_arrival": rel(v[0]), "last_arrival": rel(v[1]), "last_answer": rel(v[2]),
                      "throttled": v[3]} for key, v in self.lane_times.items()}
