"""HTTP source for the RLM service: health and the v1 deprecation headers. Reads, never decides."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from cutover.errors import ConfigError, SourceUnavailable
from cutover.redact import redact_url

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


@dataclass(frozen=True, slots=True)
class HeaderProbe:
    url: str
    status_code: int
    deprecation: str | None
    sunset: str | None
    link: str | None
    has_notice: bool


def _get_json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def probe_health(base_url: str, *, timeout: float) -> HealthProbe:
    """GET {base}/health; a refused or timed-out request makes the source unavailable."""
    url = base_url.rstrip("/") + "/health"
    started = time.perf_counter()
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"RLM {redact_url(url)}", f"no answer: {exc}") from None
    elapsed = (time.perf_counter() - started) * 1000
    return HealthProbe(redact_url(url), response.status_code, _get_json(response), elapsed)


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


def probe_deprecation(local_url: str, *, timeout: float) -> HeaderProbe:
    """POST {local}/process-full with a probe body and read the deprecation headers."""
    require_local(local_url, setting="CUTOVER_RLM_LOCAL_URL / --rlm-local-url")
    url = local_url.rstrip("/") + "/process-full"
    try:
        response = httpx.post(url, json=PROBE_BODY, timeout=timeout)
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"local RLM {redact_url(url)}", f"no answer: {exc}") from None
    body = _get_json(response) or {}
    return HeaderProbe(
        url=redact_url(url),
        status_code=response.status_code,
        deprecation=response.headers.get("Deprecation"),
        sunset=response.headers.get("Sunset"),
        link=response.headers.get("Link"),
        has_notice=bool(body.get("deprecation_notice")),
    )


@dataclass(frozen=True, slots=True)
class RemovalProbe:
    url: str
    status_code: int


def probe_v1_removed(base_url: str, *, timeout: float) -> RemovalProbe:
    """POST {base}/process-full with no body, as the runbook's check does.

    Without a body a still-present v1 endpoint answers 422 (validation) and starts nothing."""
    url = base_url.rstrip("/") + "/process-full"
    try:
        response = httpx.post(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"RLM {redact_url(url)}", f"no answer: {exc}") from None
    return RemovalProbe(redact_url(url), response.status_code)
