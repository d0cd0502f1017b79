"""Vercel's API, read only: V2_ROLLOUT_PERCENT as configured for production and the production
deployment that is live, into one small JSON snapshot (`snapshots`; the router logs come from
the drain, `drain`, or `vercel logs`, `vercel_cli`).

* The variable: `GET /v10/projects/{project}/env?decrypt=true`, the entry for
  V2_ROLLOUT_PERCENT whose targets include production (one without a git branch or custom
  environment wins over branch-specific ones). A value that did not come back decrypted is
  asked once more, alone (`GET /v1/projects/{project}/env/{id}`), since decrypting the list is
  known to fail. A `sensitive` value never comes back, and one still encrypted is not read:
  either is unreadable (the criterion is inconclusive), never 0. Only this entry is kept: the
  list holds the project's secrets, which are never written.
* The live deployment: the newest READY production deployment created by the instant
  (`GET /v7/deployments?target=production&state=READY&until=...`), with when it became ready. A
  value changed after that is configured but not running (the runbook's "deploy, then
  verify"); an instant rollback to an older deployment is not seen here."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from cutover.errors import SourceUnavailable
from cutover.outcome import Window
from cutover.sources.http import Budget, bearer_get
from cutover.sources.platform.snapshots import Fetched
from cutover.sources.vercel_env import VARIABLE, RolloutSetting
from cutover.timeutil import epoch_us, from_epoch_us, instant_us, iso

ENV = "vercel env"
_UNREADABLE_TYPES = {"sensitive": "sensitive: Vercel never gives it back", "secret": "a secret"}


@dataclass(frozen=True, slots=True)
class VercelApi:
    """Where Vercel's API is, the token, and the router's project (and team, if any)."""

    base_url: str
    token: str
    project: str
    team: str | None
    max_bytes: int
    transport: httpx.AsyncBaseTransport | None = None

    def get(self, path: str, params: Mapping[str, Any], budget: Budget) -> Any:
        asked = {**params, **({} if self.team is None else {"teamId": self.team})}
        cap, transport = self.max_bytes, self.transport
        return bearer_get(self.base_url, path, self.token, asked, budget, ENV, cap, transport)

    def params(self) -> dict[str, Any]:
        return {"api": self.base_url, "project": self.project, "team": self.team}


def fetch_rollout(api: VercelApi, as_of: datetime, budget: Budget) -> Fetched:
    """The variable's production entry and the live production deployment, as of `as_of`."""
    entry = _production_entry(api, budget)
    if (
        entry is not None
        and entry.get("type") not in _UNREADABLE_TYPES
        and _readable(entry) is None
        and isinstance(entry.get("id"), str)
    ):
        alone = api.get(f"/v1/projects/{api.project}/env/{entry['id']}", {}, budget)
        if isinstance(alone, dict):
            entry = {**entry, **alone}
    variable = None if entry is None else _kept(entry)
    deployment = _live_deployment(api, as_of, budget)
    snapshot = {"as_of": iso(as_of), "variable": variable, "deployment": deployment}
    content = (json.dumps(snapshot, sort_keys=True, indent=1) + "\n").encode()
    params = {
        **api.params(),
        "env": f"/v10/projects/{api.project}/env",
        "deployments": "/v7/deployments?target=production&state=READY",
    }
    return Fetched(
        ENV, "rollout", params, Window(None, as_of), content, ".json", budget.requests, 1
    )


def _production_entry(api: VercelApi, budget: Budget) -> dict[str, Any] | None:
    body = api.get(f"/v10/projects/{api.project}/env", {"decrypt": "true"}, budget)
    envs = body.get("envs") if isinstance(body, dict) else body
    if not isinstance(envs, list):
        raise SourceUnavailable(ENV, f"GET /v10/projects/{api.project}/env: no envs list")
    found = [
        e
        for e in envs
        if isinstance(e, dict) and e.get("key") == VARIABLE and "production" in _targets(e)
    ]
    general = [e for e in found if not e.get("gitBranch") and not e.get("customEnvironmentIds")]
    chosen = general or found
    if len(chosen) > 1:
        raise SourceUnavailable(
            ENV,
            f"{len(chosen)} production entries of {VARIABLE}: which one the router reads is "
            "not known",
        )
    return chosen[0] if chosen else None


def _targets(entry: Mapping[str, Any]) -> list[str]:
    target = entry.get("target")
    return [target] if isinstance(target, str) else [t for t in target or [] if isinstance(t, str)]


def _readable(entry: Mapping[str, Any]) -> str | None:
    """The value when Vercel gave it back in clear, else None."""
    value = entry.get("value")
    if entry.get("type") in _UNREADABLE_TYPES or not isinstance(value, str):
        return None
    if entry.get("type") == "plain" or entry.get("decrypted") is True:
        return value
    return None


def _kept(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What the snapshot keeps of the entry: never a value that is not in clear."""
    value = _readable(entry)
    kind = str(entry.get("type", ""))
    why = "" if value is not None else _UNREADABLE_TYPES.get(kind, "it came back encrypted")
    return {
        "key": VARIABLE,
        "id": entry.get("id"),
        "type": kind,
        "target": _targets(entry),
        "value": value,
        "unreadable": why,
        "updatedAt": entry.get("updatedAt"),
    }


def _live_deployment(api: VercelApi, as_of: datetime, budget: Budget) -> dict[str, Any] | None:
    params = {
        "projectId": api.project,
        "target": "production",
        "state": "READY",
        "until": epoch_us(as_of) // 1000 + 1,
        "limit": 20,
    }
    body = api.get("/v7/deployments", params, budget)
    deployments = body.get("deployments") if isinstance(body, dict) else None
    if not isinstance(deployments, list):
        raise SourceUnavailable(ENV, "GET /v7/deployments: no deployments list")
    ready = [
        d
        for d in deployments
        if isinstance(d, dict)
        and (d.get("readyState") or d.get("state")) == "READY"
        and (_created(d) or epoch_us(as_of) + 1) <= epoch_us(as_of)
    ]
    if not ready:
        return None
    live = max(ready, key=lambda d: _created(d) or 0)
    return {
        "uid": live.get("uid"),
        "url": live.get("url"),
        "created": live.get("created") or live.get("createdAt"),
        "ready": live.get("ready"),
    }


def _created(deployment: Mapping[str, Any]) -> int | None:
    return instant_us(deployment.get("created") or deployment.get("createdAt"))


def read_rollout_snapshot(path: Path, sha256: str) -> RolloutSetting:
    """The RolloutSetting a `vercel env` snapshot holds."""
    try:
        snapshot = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceUnavailable(f"{ENV} snapshot {path}", f"cannot be read ({exc})") from None
    origin = f"Vercel env API, production (snapshot {sha256[:12]})"
    variable = snapshot.get("variable")
    deployment = snapshot.get("deployment") or {}
    deployed_at = from_epoch_us(instant_us(deployment.get("ready") or deployment.get("created")))
    live = str(deployment.get("url") or deployment.get("uid") or "")
    if variable is None:
        return RolloutSetting(
            None,
            f"{origin}: no {VARIABLE} for production",
            deployed_at=deployed_at,
            deployment=live,
        )
    setting = RolloutSetting(
        None,
        origin,
        changed_at=from_epoch_us(instant_us(variable.get("updatedAt"))),
        deployed_at=deployed_at,
        deployment=live,
    )
    if variable.get("value") is None:
        why = str(variable.get("unreadable") or "not given back")
        return dataclasses.replace(setting, readable=False, unreadable_why=why)
    return dataclasses.replace(setting, raw=str(variable["value"]))
