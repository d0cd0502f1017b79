"""Vercel's env and deployments, from answers shaped like the documented ones (respx): the
production value in clear, a second ask when the list did not decrypt, a sensitive or still
encrypted value never read as 0, no other variable ever written, and the live deployment."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from cutover.criteria.registry import Context
from cutover.criteria.rollout import rollout_percent_zero
from cutover.errors import SourceUnavailable
from cutover.outcome import Outcome
from cutover.profile import Profile
from cutover.sources.http import Budget, Pacing
from cutover.sources.platform.vercel import VercelApi, fetch_rollout, read_rollout_snapshot

BASE = "https://api.vercel.test"
AS_OF = datetime(2026, 3, 2, 12, tzinfo=UTC)
API = VercelApi(BASE, "vc_token", "soulprint-landing", "team_1", 1_000_000)
MS = 1000


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * MS)


def env(value: str | None, kind: str = "encrypted", decrypted: bool = True, **more: Any) -> dict:
    entry: dict[str, Any] = {
        "id": "env_1",
        "key": "V2_ROLLOUT_PERCENT",
        "type": kind,
        "target": ["production", "preview"],
        "updatedAt": ms(AS_OF - timedelta(hours=5)),
        "decrypted": decrypted,
        **more,
    }
    if value is not None:
        entry["value"] = value
    return entry


SECRET_ENTRY = {
    "id": "env_9",
    "key": "ANTHROPIC_API_KEY",
    "type": "encrypted",
    "target": ["production"],
    "value": "sk-ant-VERYSECRET",
    "decrypted": True,
}
DEPLOYMENTS = {
    "deployments": [
        {
            "uid": "dpl_new",
            "url": "soulprint-new.vercel.app",
            "created": ms(AS_OF - timedelta(hours=2)),
            "ready": ms(AS_OF - timedelta(hours=2) + timedelta(minutes=1)),
            "state": "READY",
            "target": "production",
        },
        {
            "uid": "dpl_old",
            "url": "soulprint-old.vercel.app",
            "created": ms(AS_OF - timedelta(days=2)),
            "ready": ms(AS_OF - timedelta(days=2)),
            "state": "READY",
        },
    ],
    "pagination": {"count": 2, "next": None, "prev": None},
}


def budget() -> Budget:
    return Budget(Pacing(60.0, 5.0, 1, sleep=lambda s: None))


def fetched(tmp_path: Path, envs: list[dict[str, Any]], deployments: Any = DEPLOYMENTS) -> Any:
    respx.get(f"{BASE}/v10/projects/soulprint-landing/env").mock(
        return_value=httpx.Response(200, json={"envs": envs})
    )
    respx.get(f"{BASE}/v7/deployments").mock(return_value=httpx.Response(200, json=deployments))
    result = fetch_rollout(API, AS_OF, budget())
    path = tmp_path / "env.json"
    path.write_bytes(result.content)
    assert b"VERYSECRET" not in result.content
    return result, read_rollout_snapshot(path, "a" * 64)


@respx.mock
def test_the_production_value_in_clear_and_the_live_deployment(tmp_path: Path) -> None:
    result, setting = fetched(tmp_path, [SECRET_ENTRY, env("10")])
    assert (setting.raw, setting.readable) == ("10", True)
    assert setting.deployment == "soulprint-new.vercel.app"
    assert setting.deployed_at == AS_OF - timedelta(hours=2) + timedelta(minutes=1)
    assert setting.changed_at == AS_OF - timedelta(hours=5)
    query = respx.calls[0].request.url.params
    assert (query["decrypt"], query["teamId"]) == ("true", "team_1")
    deployments = respx.calls[1].request.url.params
    assert (deployments["target"], deployments["state"]) == ("production", "READY")
    assert int(deployments["until"]) == ms(AS_OF) + 1
    assert "vc_token" not in json.dumps(result.params)


@respx.mock
def test_a_list_that_did_not_decrypt_is_asked_again_for_the_one_value(tmp_path: Path) -> None:
    respx.get(f"{BASE}/v1/projects/soulprint-landing/env/env_1").mock(
        return_value=httpx.Response(200, json=env("0", decrypted=True))
    )
    _, setting = fetched(tmp_path, [env("zBVLLQi9gyWc==", decrypted=False)])
    assert (setting.raw, setting.readable) == ("0", True)


@respx.mock
def test_a_value_that_stays_encrypted_is_unreadable_never_0(tmp_path: Path) -> None:
    respx.get(f"{BASE}/v1/projects/soulprint-landing/env/env_1").mock(
        return_value=httpx.Response(200, json=env("zBVLLQi9gyWc==", decrypted=False))
    )
    result, setting = fetched(tmp_path, [env("zBVLLQi9gyWc==", decrypted=False)])
    assert (setting.raw, setting.readable) == (None, False)
    assert b"zBVLL" not in result.content
    verdict = rollout_percent_zero(setting, Context(Profile(), AS_OF, "live"))
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert "cannot be read (it came back encrypted)" in verdict.reason


@respx.mock
def test_a_sensitive_value_is_unreadable_and_not_asked_again(tmp_path: Path) -> None:
    _, setting = fetched(tmp_path, [env(None, kind="sensitive", decrypted=False)])
    assert setting.readable is False and "sensitive" in setting.unreadable_why
    assert len(respx.calls) == 2  # the list and the deployments: no second ask


@respx.mock
def test_no_production_entry_is_unset(tmp_path: Path) -> None:
    preview_only = env("10", target=["preview"])
    _, setting = fetched(tmp_path, [preview_only])
    assert setting.raw is None and setting.readable
    assert "no V2_ROLLOUT_PERCENT for production" in setting.origin


@respx.mock
def test_a_branch_entry_does_not_hide_the_production_one(tmp_path: Path) -> None:
    _, setting = fetched(tmp_path, [env("50", gitBranch="feature"), env("0")])
    assert setting.raw == "0"


@respx.mock
def test_two_general_production_entries_are_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match=r"2 production entries"):
        fetched(tmp_path, [env("0"), env("10")])


@respx.mock
def test_a_value_changed_after_the_live_deploy_did_not_take(tmp_path: Path) -> None:
    changed_late = env("0", updatedAt=ms(AS_OF - timedelta(minutes=30)))
    _, setting = fetched(tmp_path, [changed_late])
    verdict = rollout_percent_zero(setting, Context(Profile(), AS_OF, "live"))
    assert verdict.outcome is Outcome.FAIL
    assert "no deploy since, the deploy did not take" in verdict.reason
    assert "soulprint-new.vercel.app is from 2026-03-02T10:01:00Z" in verdict.reason


@respx.mock
def test_a_value_deployed_since_it_changed_passes(tmp_path: Path) -> None:
    _, setting = fetched(tmp_path, [env("0")])
    verdict = rollout_percent_zero(setting, Context(Profile(), AS_OF, "live"))
    assert verdict.outcome is Outcome.PASS


@respx.mock
def test_deployments_created_after_the_instant_are_not_live(tmp_path: Path) -> None:
    later = {
        "deployments": [
            {**DEPLOYMENTS["deployments"][0], "created": ms(AS_OF + timedelta(hours=1))},
            DEPLOYMENTS["deployments"][1],
        ]
    }
    _, setting = fetched(tmp_path, [env("0")], later)
    assert setting.deployment == "soulprint-old.vercel.app"
