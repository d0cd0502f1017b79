"""The configured V2_ROLLOUT_PERCENT: a raw string from a setting, a `vercel env pull` file, or
Vercel's API (`sources.platform.vercel`, which also says which deployment is live)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cutover.errors import ConfigError, SourceUnavailable
from cutover.ledger.view import LedgerView
from cutover.timeutil import iso

VARIABLE = "V2_ROLLOUT_PERCENT"
SENSITIVE_MARKER = "[SENSITIVE]"


@dataclass(frozen=True, slots=True)
class RolloutSetting:
    """The raw configured value (None: not configured) and where it was read; from Vercel's API
    also when it was last changed and since when the live production deployment runs (a value
    changed after that is configured, not running: the deploy did not take)."""

    raw: str | None
    origin: str
    readable: bool = True  # False: Vercel will not give the value back (sensitive, encrypted)
    unreadable_why: str = ""
    changed_at: datetime | None = None
    deployed_at: datetime | None = None
    deployment: str = ""


def read_env_pull_file(path: Path) -> RolloutSetting:
    """Read V2_ROLLOUT_PERCENT from `.env.local` as `vercel env pull` writes it. A key written
    twice takes its last value, as dotenv and Vercel do."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SourceUnavailable(f"vercel env file {path}", f"cannot be read ({reason})") from None
    found = RolloutSetting(None, f"{path} (no {VARIABLE} line)")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.removeprefix("export ").partition("=")
        if not sep:
            raise ConfigError(f'{path}, line {number}: expected KEY="value", got {line!r}')
        if key.strip() != VARIABLE:
            continue
        value = _unquote(value.strip())
        origin = f"{path}, line {number}"
        if value == SENSITIVE_MARKER:
            found = RolloutSetting(None, origin, readable=False)
        else:
            found = RolloutSetting(value, origin)
    return found


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
        return value.replace("\\n", "\n").replace("\\r", "\r")
    return value


def write_env_pull_file(path: Path, values: dict[str, str]) -> None:
    """Write a file in `vercel env pull` form (for seeded scenarios)."""
    lines = ["# Created by Vercel CLI"]
    for key in sorted(values):
        escaped = values[key].replace("\n", "\\n").replace("\r", "\\r")
        lines.append(f'{key}="{escaped}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def percent_from_ledger(view: LedgerView) -> RolloutSetting:
    """The percent of the stage the ledger says is running (0 after a rollback): what was
    recorded, not what Vercel holds, and the origin says so. No stage: no source."""
    stage = view.current_stage()
    rollback = view.last_rollback()
    if stage is not None:
        origin = f"ledger: stage {stage.stage} started {iso(stage.started)} (recorded, not read "
        return RolloutSetting(str(stage.percent), origin + "from Vercel)")
    if rollback is not None:
        origin = f"ledger: rollback recorded {iso(rollback[0])} (recorded, not read from Vercel)"
        return RolloutSetting("0", origin)
    raise SourceUnavailable(
        "V2_ROLLOUT_PERCENT",
        "no source: set CUTOVER_ROLLOUT_PERCENT / --rollout-percent or CUTOVER_VERCEL_ENV_FILE / "
        "--vercel-env-file (a `vercel env pull` file); the ledger records no stage either",
    )
