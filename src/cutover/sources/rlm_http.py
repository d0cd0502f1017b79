"""HTTP source for the RLM service: health and the v1 deprecation headers. Reads, never decides."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cutover.errors import ConfigError, SourceUnavailable
from cutover.redact import redact_url
from cutover.sources.http import Answer, fetch

PROBE_BODY = {"user_id": "cutover-gates-probe", "storage_path": "cutover-gates-probe.json"}


@dataclass(frozen=True, slots=True)
class RlmEndpoints:
    """The production RLM and the local one (the only one the v1 probe may touch)."""

    url: str | None
    local_url: str | None

    def production(self) -> str:
        if self.url is None:
            raise SourceUnavailable("RLM", "CUTOVER_RLM_URL / --rlm-url is not set")
        return self.url

    def local(self) -> str:
        if self.local_url is None:
            raise SourceUnavailable(
                "local RLM", "CUTOVER_RLM_LOCAL_URL / --rlm-local-url is not set"
            )
        return self.local_url


@dataclass(frozen=True, slots=True)
class HealthProbe:
    url: str
    status_code: int
    body: dict[str, Any] | None
    elapsed_ms: float
    body_problem: str = ""  # why the body could not be read as a JSON object ("" when it was)


@dataclass(frozen=True, slots=True)
class HeaderProbe:
    url: str
    status_code: int
    deprecation: str | None
    sunset: str | None
    link: str | None
    has_notice: bool


def _json_object(answer: Answer) -> tuple[dict[str, Any] | None, str]:
    value, problem = answer.json()
    if problem:
        return None, problem
    if not isinstance(value, dict):
        return None, f"body is JSON but not an object (first bytes: {answer.body[:60]!r})"
    return value, ""


def probe_health(base_url: str, *, timeout: float, max_bytes: int) -> HealthProbe:
    """GET {base}/health; a refused or timed-out request makes the source unavailable."""
    url = base_url.rstrip("/") + "/health"
    started = time.perf_counter()
    answer = fetch(
        "GET", url, deadline=timeout, max_bytes=max_bytes, source=f"RLM {redact_url(url)}"
    )
    elapsed = (time.perf_counter() - started) * 1000
    body, problem = _json_object(answer)
    return HealthProbe(answer.url, answer.status_code, body, elapsed, problem)


def require_local(url: str, *, setting: str) -> None:
    """The v1 probe starts real work on a real RLM: it may only go to a local one."""
    host = urlsplit(url).hostname or ""
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise ConfigError(
            f"{setting} is {redact_url(url)}: the deprecation probe POSTs to /process-full, which "
            "starts an import on a real RLM, so it only goes to a local one (localhost or "
            "127.0.0.1)"
        )


def probe_deprecation(local_url: str, *, timeout: float, max_bytes: int) -> HeaderProbe:
    """POST {local}/process-full with a probe body and read the deprecation headers."""
    require_local(local_url, setting="CUTOVER_RLM_LOCAL_URL / --rlm-local-url")
    url = local_url.rstrip("/") + "/process-full"
    answer = fetch(
        "POST",
        url,
        deadline=timeout,
        max_bytes=max_bytes,
        source=f"local RLM {redact_url(url)}",
        json_body=PROBE_BODY,
    )
    body, _ = _json_object(answer)
    return HeaderProbe(
        url=answer.url,
        status_code=answer.status_code,
        deprecation=answer.headers.get("Deprecation"),
        sunset=answer.headers.get("Sunset"),
        link=answer.headers.get("Link"),
        has_notice=bool((body or {}).get("deprecation_notice")),
    )


@dataclass(frozen=True, slots=True)
class RemovalProbe:
    url: str
    status_code: int


def probe_v1_removed(base_url: str, *, timeout: float, max_bytes: int) -> RemovalProbe:
    """POST {base}/process-full with no body, as the runbook's check does.

    Without a body a still-present v1 endpoint answers 422 (validation) and starts nothing."""
    url = base_url.rstrip("/") + "/process-full"
    answer = fetch(
        "POST", url, deadline=timeout, max_bytes=max_bytes, source=f"RLM {redact_url(url)}"
    )
    return RemovalProbe(answer.url, answer.status_code)
