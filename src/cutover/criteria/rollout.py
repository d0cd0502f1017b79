"""V2_ROLLOUT_PERCENT as the router reads it (JavaScript parseInt, fallback 0, clamp): zero
before stage 1 (a prerequisite) and again after a rollback (its verification). Read from
Vercel's API, a value changed after the live production deployment is configured but not
running: the deploy did not take."""

from __future__ import annotations

from cutover.criteria.registry import Context, criterion
from cutover.criteria.result import FAIL, PASS, UNDECIDED, result
from cutover.measure.readings import RolloutSetting
from cutover.outcome import Action, Result
from cutover.router import js_parse_int, parse_rollout_percent
from cutover.timeutil import iso


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
        why = (
            f"cannot be read ({setting.unreadable_why})"
            if setting.unreadable_why
            else "is sensitive and cannot be read back"
        )
        return result(
            UNDECIDED,
            f"{setting.origin}: the value {why}; set CUTOVER_ROLLOUT_PERCENT to the value "
            "configured",
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
    undeployed = _not_deployed(setting)
    if outcome is PASS and undeployed:
        outcome, reason = FAIL, undeployed
    return result(
        outcome,
        reason,
        measured=f"{setting.raw!r} (router reads {read_as})",
        threshold=threshold,
        source=setting.origin,
    )


def _not_deployed(setting: RolloutSetting) -> str:
    """Why the configured value is not the running one ("" when it is, or cannot be told)."""
    if setting.changed_at is None:
        return ""
    if setting.deployed_at is None:
        return (
            f"V2_ROLLOUT_PERCENT changed at {iso(setting.changed_at)}, and no production "
            "deployment is READY: the router does not run it; deploy (vercel --prod)"
        )
    if setting.changed_at > setting.deployed_at:
        return (
            f"V2_ROLLOUT_PERCENT changed at {iso(setting.changed_at)}, but the live production "
            f"deployment {setting.deployment or '?'} is from {iso(setting.deployed_at)}: no "
            "deploy since, the deploy did not take; deploy (vercel --prod), then verify"
        )
    return ""
