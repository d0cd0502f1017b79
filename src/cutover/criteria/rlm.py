"""The RLM service's own answers: /health, the v1 deprecation headers, v1's removal.

Registered for every gate that asks (prerequisites, stage 4, the v1 removal, the rollback
verification): the same question has the same answer wherever it is asked."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from cutover.criteria.registry import Context, criterion
from cutover.criteria.result import FAIL, PASS, result
from cutover.measure.readings import HeaderProbe, HealthProbe, RemovalProbe
from cutover.outcome import Action, Result


@criterion("rollback_verify.rlm_health", on_fail=Action.HOLD, source="RLM GET /health")
@criterion("prereq.rlm_health", on_fail=Action.HOLD, source="RLM GET /health")
def rlm_health(probe: HealthProbe, ctx: Context) -> Result:
    allowed = ctx.profile.rlm_health_statuses
    body = probe.body or {}
    status = body.get("status")
    processors = body.get("processors_available")
    if probe.status_code != 200:
        detail = body.get("detail", "no detail")
        outcome, reason = FAIL, f"{probe.url} answered {probe.status_code}: {detail}"
    elif probe.body_problem:
        outcome, reason = FAIL, f"{probe.url} answered 200, but its {probe.body_problem}"
    elif processors is not True:
        outcome, reason = FAIL, f"processors_available is {processors!r}, expected true"
    elif status not in allowed:
        outcome, reason = FAIL, f"status is {status!r}, expected one of {list(allowed)}"
    else:
        outcome = PASS
        reason = f"healthy ({status!r}; the runbook says 'healthy', the real service 'ok')"
    return result(
        outcome,
        reason,
        measured=f"{probe.status_code} status={status!r} processors_available={processors!r}",
        threshold=f"200, status in {list(allowed)}, processors_available true",
        source=probe.url,
    )


@criterion("stage4.deprecation_headers", on_fail=Action.HOLD, source="local RLM /process-full")
@criterion("prereq.deprecation_headers", on_fail=Action.HOLD, source="local RLM /process-full")
def deprecation_headers(probe: HeaderProbe, ctx: Context) -> Result:
    expected_sunset = ctx.profile.sunset
    problems: list[str] = []
    if probe.status_code != 200:
        problems.append(f"/process-full answered {probe.status_code}")
    if (probe.deprecation or "").strip().lower() != "true":
        problems.append(f"Deprecation is {probe.deprecation!r}, expected 'true'")
    if probe.sunset is None:
        problems.append("no Sunset header")
    else:
        problems += _sunset_problems(probe.sunset, expected_sunset)
    if probe.link is None or "/process-full-v2" not in probe.link:
        problems.append(f'Link is {probe.link!r}, expected </process-full-v2>; rel="alternate"')
    return result(
        FAIL if problems else PASS,
        "; ".join(problems)
        or "Deprecation, Sunset and Link headers as configured" + weekday_note(probe.sunset),
        measured=f"Deprecation={probe.deprecation!r} Sunset={probe.sunset!r} Link={probe.link!r}",
        threshold=f"Deprecation: true, Sunset: {expected_sunset}, Link to /process-full-v2",
        source=probe.url,
    )


def _sunset_problems(sunset: str, expected: str) -> list[str]:
    try:
        value = parsedate_to_datetime(sunset)
    except (TypeError, ValueError):
        return [f"Sunset {sunset!r} is not an HTTP date"]
    if value.tzinfo is None or not sunset.rstrip().endswith("GMT"):
        return [f"Sunset {sunset!r} is not an HTTP date in GMT"]
    if value != parsedate_to_datetime(expected):
        return [f"Sunset is {sunset!r}, expected {expected!r}"]
    return []


def weekday_note(sunset: str | None) -> str:
    """The runbook's 'Sat, 01 Mar 2026' names the wrong day (it is a Sunday); clients ignore the
    day name, so it is reported, not failed."""
    if not sunset:
        return ""
    try:
        value = parsedate_to_datetime(sunset)
    except (TypeError, ValueError):
        return ""
    named = sunset.strip()[:3]
    actual = value.strftime("%a")
    if named != actual:
        return f" (note: the Sunset names {named}, but {value:%d %b %Y} is a {actual})"
    return ""


@criterion("v1_removal.endpoint_gone", on_fail=Action.HOLD, source="RLM POST /process-full")
def endpoint_gone(probe: RemovalProbe, ctx: Context) -> Result:
    """After the removal deploy, POST /process-full answers 404."""
    gone = probe.status_code == 404
    reason = (
        "v1 is gone: 404"
        if gone
        else f"{probe.url} answered {probe.status_code}: the v1 endpoint is still deployed"
    )
    return result(
        PASS if gone else FAIL,
        reason,
        measured=str(probe.status_code),
        threshold="404 Not Found",
        source=probe.url,
    )
