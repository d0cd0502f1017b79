"""V2_ROLLOUT_PERCENT as the router reads it (JavaScript parseInt, fallback 0, clamp): zero
before stage 1 (a prerequisite) and again after a rollback (its verification)."""

from __future__ import annotations

from cutover.criteria.registry import Context, criterion
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.readings import RolloutSetting
from cutover.outcome import Action, Result
from cutover.router import js_parse_int, parse_rollout_percent


@criterion("prereq.rollout_percent_zero", on_fail=Action.HOLD, source="V2_ROLLOUT_PERCENT")
def rollout_percent_zero(setting: RolloutSetting, ctx: Context) -> Result:
    return _reads_as_zero(
        setting,
        threshold="V2_ROLLOUT_PERCENT configured, and the router reads it as 0",
        when_unset="the runbook asks for V2_ROLLOUT_PERCENT=0 in Production before stage 1",
    )


@criterion("rollback_verify.percent_zero", on_fail=Action.ROLLBACK, source="V2_ROLLOUT_PERCENT")
def percent_zero_after_rollback(setting: RolloutSetting, ctx: Context) -> Result:
    return _reads_as_zero(
        setting,
        threshold="V2_ROLLOUT_PERCENT set to 0 by the rollback, and the router reads it as 0",
        when_unset="the Emergency Rollback sets V2_ROLLOUT_PERCENT to 0: set it, and deploy",
    )


def _reads_as_zero(setting: RolloutSetting, *, threshold: str, when_unset: str) -> Result:
    if not setting.readable:
        return result(
            UNDECIDED,
            f"{setting.origin}: the value is sensitive and cannot be read back; "
            "set CUTOVER_ROLLOUT_PERCENT to the value configured",
            threshold=threshold,
            source=setting.origin,
        )
    if setting.raw is None:
        return result(
            FAIL,
            f"{setting.origin}: V2_ROLLOUT_PERCENT is not configured; {when_unset}",
            measured="unset",
            threshold=threshold,
            source=setting.origin,
        )
    parsed = js_parse_int(setting.raw)
    percent = parse_rollout_percent(setting.raw)
    read_as = "NaN -> 0" if parsed is None else f"{parsed} -> {percent}"
    if percent != 0:
        outcome, reason = FAIL, f"the router would send {percent}% of imports to v2"
    elif setting.raw.strip() != "0":
        outcome = PASS
        reason = f"the router reads {setting.raw!r} as 0; consider writing it as plain 0"
    else:
        outcome, reason = PASS, "configured to 0: no import goes to v2"
    return result(
        outcome,
        reason,
        measured=f"{setting.raw!r} (router reads {read_as})",
        threshold=threshold,
        source=setting.origin,
    )
