"""The CI templates (ci-templates/): GitHub workflows valid against the published workflow schema
(and actionlint when it is installed), GitLab CI valid against GitLab's schema, every job with a
script, artifacts and rules, the runbook's cadence, secrets only in env, reports always written
and the job failing on anything but PROCEED."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ci_yaml import GITLAB_KEYWORDS, load
from cutover.config import PLATFORMS, SETTINGS, resolve_settings
from cutover.pytest_plugin import GATE_MARKERS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "ci-templates"
DATA = ROOT / "tests" / "data"
WORKFLOWS = sorted((TEMPLATES / "github").glob("*.yml"))
GITLAB = TEMPLATES / "gitlab" / ".gitlab-ci.yml"


def validator(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((DATA / name).read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def errors(check: jsonschema.Draft7Validator, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for e in check.iter_errors(document)]


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (key path, scalar) in a YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, str(index)))
    else:
        yield path, node


def workflow(name: str) -> dict[str, Any]:
    return load(TEMPLATES / "github" / name)


# -- GitHub -------------------------------------------------------------------------------------


def test_the_templates_exist() -> None:
    assert [p.name for p in WORKFLOWS] == [
        "cutover-checkpoints.yml",
        "cutover-gate.yml",
        "cutover-record.yml",
        "cutover-rollback-triggers.yml",
        "cutover-run.yml",
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(path: Path) -> None:
    assert errors(validator("github-workflow.schema.json"), load(path)) == []


def test_the_workflow_schema_is_not_vacuous() -> None:
    broken = workflow("cutover-gate.yml")
    broken["jobs"]["gate"]["uses-typo"] = broken["jobs"]["gate"].pop("uses")
    broken["on"]["workflow_dispatch"]["inputs"]["gate"]["type"] = "list"
    assert len(errors(validator("github-workflow.schema.json"), broken)) >= 1


def test_actionlint_when_installed() -> None:
    binary = shutil.which("actionlint")
    if binary is None:
        pytest.skip("actionlint is not installed (its PyPI wrapper downloads it from GitHub)")
    # actionlint wants the layout GitHub reads: .github/workflows
    done = subprocess.run(
        [binary, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _scripts() -> Iterator[tuple[str, str]]:
    for path in WORKFLOWS:
        for job_name, job in load(path)["jobs"].items():
            for index, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    yield f"{path.name}:{job_name}:{index}", step["run"]
    gitlab = load(GITLAB)
    for name, job in gitlab.items():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                for index, line in enumerate(job.get(key, [])):
                    yield f".gitlab-ci.yml:{name}:{key}:{index}", line


@pytest.mark.parametrize(("where", "script"), list(_scripts()), ids=lambda v: str(v)[:60])
def test_scripts_are_valid_bash(where: str, script: str) -> None:
    text = re.sub(r"\$\{\{.*?\}\}", "X", script)  # GitHub expressions are substituted first
    done = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{where}: {done.stderr}"


def _steps(name: str) -> dict[str, dict[str, Any]]:
    [job] = workflow(name)["jobs"].values()
    return {step.get("name", step.get("uses", "")): step for step in job["steps"]}


def test_the_gate_run_fails_on_anything_but_proceed_and_reports_always() -> None:
    steps = _steps("cutover-run.yml")
    run = steps["Run the gate"]
    assert "continue-on-error" not in run and "if" not in run
    assert 'python -m pytest -m "$MARKER"' in run["run"]
    assert '--junitxml="evidence/junit-${MARKER}-${stamp}.xml"' in run["run"]
    assert "|| true" not in run["run"]  # the pytest exit code is the job's verdict
    report = steps["Report into the job summary"]
    assert report["if"] == "always()"
    assert "cutover report --evidence-dir evidence" in report["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in report["run"]
    assert steps["Verify the evidence"]["if"] == "always()"
    artifact = steps["Keep the evidence as an artifact"]
    assert artifact["if"] == "always()"
    assert artifact["uses"].startswith("actions/upload-artifact@")
    assert "evidence/" in artifact["with"]["path"]
    assert steps["Keep a cached copy of the evidence"]["if"] == "always()"
    assert steps["actions/setup-python@v5"]["with"]["python-version"] == "3.11"


@pytest.mark.parametrize("name", ["cutover-run.yml", "cutover-record.yml"])
def test_the_evidence_lives_on_a_branch_and_the_cache_is_a_second_copy(name: str) -> None:
    document = workflow(name)
    assert document["permissions"] == {"contents": "write"}  # the job token pushes the branch
    [job] = document["jobs"].values()
    order = [step.get("name", step.get("uses")) for step in job["steps"]]
    restore = order.index(
        "Restore the evidence from its branch"
        + (" (ledger and earlier JUnit files)" if name == "cutover-run.yml" else "")
    )
    assert order.index("Restore the cached copy of the evidence") < restore
    assert order[restore + 1] == "Verify the restored evidence"
    steps = {step.get("name", step.get("uses")): step for step in job["steps"]}
    assert "cutover evidence restore" in steps[order[restore]]["run"]
    assert "cutover verify --evidence-dir evidence" in steps["Verify the restored evidence"]["run"]
    save = steps["Keep the evidence on its branch"]
    assert save["run"].startswith("cutover evidence save --evidence-dir evidence")
    assert order.index("Keep the evidence on its branch") < order.index(
        "Keep a cached copy of the evidence"
    )
    if name == "cutover-run.yml":
        assert save["if"] == "always()"


def test_no_template_unsets_empty_variables_the_suite_reads_them_as_unset() -> None:
    """Empty means unset (cutover.config): the shell work-around is gone."""
    for path in [*WORKFLOWS, GITLAB]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(?:if .*then )?unset\b", text, re.MULTILINE), path.name
        assert "${!name}" not in text, path.name


#: the platform settings a gate run fetches with (issue 13's contract), by their env names
PLATFORM_ENV = {
    s.env
    for s in SETTINGS
    if s.name in {n for names in PLATFORMS.values() for n in names}
    or s.name in {"vercel_team", "drain_store"}
}


def test_the_gate_fetches_from_the_platforms_with_no_user_script() -> None:
    """Every platform setting reaches the gate step (tokens from secrets, the rest from
    variables) and no step runs a user's export script or sets the export files (a file setting
    would stop the gate from fetching)."""
    assert {"RENDER_API_KEY", "VERCEL_TOKEN", "CUTOVER_DRAIN_STORE"} <= PLATFORM_ENV
    steps = _steps("cutover-run.yml")
    env = steps["Run the gate"]["env"]
    for name in PLATFORM_ENV:
        kind = "secrets" if any(s.secret and s.env == name for s in SETTINGS) else "vars"
        assert env.get(name) == f"${{{{ {kind}.{name} }}}}", name
    cli = steps["Install the Vercel CLI"]
    assert "vars.CUTOVER_DRAIN_STORE == ''" in cli["if"] and "vercel" in cli["run"]
    gitlab = GITLAB.read_text(encoding="utf-8")
    for text in (*(p.read_text(encoding="utf-8") for p in WORKFLOWS), gitlab):
        assert "fetch-cutover-exports" not in text
        assert "CUTOVER_ROUTER_LOGS" not in text and "CUTOVER_RLM_LOGS" not in text
    assert all(name in gitlab for name in PLATFORM_ENV)


def test_the_gate_steps_settings_left_undefined_arrive_empty_and_resolve_as_unset(
    tmp_path: Path,
) -> None:
    """Nothing in the template unsets them: cutover.config reads each "" as unset, so no
    platform is half-configured, no folder setting is refused as empty, and the gate's defaults
    apply (a GitHub run whose repository defines none of the variables)."""
    steps_env = _steps("cutover-run.yml")["Run the gate"]["env"]
    settings_env = {s.env for s in SETTINGS} & set(steps_env)
    assert PLATFORM_ENV | {"CUTOVER_RLM_URL", "CUTOVER_ROLLOUT_PERCENT"} <= settings_env
    config_file = tmp_path / "cutover.toml"
    config_file.write_text("", encoding="utf-8")
    env = {name: "" for name in settings_env}
    settings = resolve_settings({}, env=env, config_file=config_file)
    assert not settings.render and not settings.vercel and settings.drain_store is None
    assert settings.rlm_url is None and settings.rollout_percent is None
    assert not {s.name for s in SETTINGS if s.env in settings_env} & set(settings.origins)


def test_checkpoints_follow_the_runbook_cadence() -> None:
    checkpoints = workflow("cutover-checkpoints.yml")
    crons = [s["cron"] for s in checkpoints["on"]["schedule"]]
    assert crons == ["7 * * * *", "37 */12 * * *", "22 9 * * *"]  # hourly, 12-hourly, daily
    assert checkpoints["on"]["workflow_dispatch"]["inputs"]["stage"]["options"] == ["1", "2", "3"]
    for stage, cron in zip((1, 2, 3), crons, strict=True):
        job = checkpoints["jobs"][f"stage{stage}"]
        assert job["with"]["marker"] == f"stage{stage}_gate"
        assert f"github.event.schedule == '{cron}'" in job["if"]
        assert f"vars.CUTOVER_STAGE == '{stage}'" in job["if"]
        assert f"inputs.stage == '{stage}'" in job["if"]
        assert job["uses"] == "./.github/workflows/cutover-run.yml"
    rollback = workflow("cutover-rollback-triggers.yml")
    assert [s["cron"] for s in rollback["on"]["schedule"]] == ["*/15 * * * *"]
    assert rollback["jobs"]["rollback"]["with"]["marker"] == "rollback"
    gate = workflow("cutover-gate.yml")
    options = gate["on"]["workflow_dispatch"]["inputs"]["gate"]["options"]
    assert set(options) <= set(GATE_MARKERS)
    assert {"prereq", "stage1_gate", "stage4_gate", "rollback_verify"} <= set(options)
    assert gate["jobs"]["gate"]["with"]["marker"] == "${{ inputs.gate }}"


def test_all_cutover_workflows_share_one_queue() -> None:
    for path in WORKFLOWS:
        document = load(path)
        if "workflow_call" in document["on"]:
            continue
        assert document["concurrency"] == {"group": "cutover-evidence", "cancel-in-progress": False}


def test_secrets_only_reach_env_and_are_never_echoed() -> None:
    for path in WORKFLOWS:
        for keys, value in walk(load(path)):
            if isinstance(value, str) and "secrets." in value:
                assert "env" in keys, f"{path.name}: {'.'.join(keys)} uses a secret outside env"
                assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", value), value
        text = path.read_text(encoding="utf-8")
        assert "set -x" not in text
        assert not re.search(r"echo[^\n]*\$\{?(CUTOVER_DATABASE_URL|VERCEL_TOKEN|RENDER)", text)


# -- GitLab -------------------------------------------------------------------------------------


def gitlab_jobs() -> dict[str, dict[str, Any]]:
    document = load(GITLAB)
    return {
        name: job
        for name, job in document.items()
        if not name.startswith(".") and name not in GITLAB_KEYWORDS
    }


def test_gitlab_matches_gitlabs_schema() -> None:
    assert errors(validator("gitlab-ci.schema.json"), load(GITLAB)) == []


def test_the_gitlab_schema_is_not_vacuous() -> None:
    broken = load(GITLAB)
    broken["gate"]["rules"] = [{"iff": "$CI_PIPELINE_SOURCE"}]
    assert errors(validator("gitlab-ci.schema.json"), broken)


def test_every_gitlab_job_has_a_script_artifacts_and_rules() -> None:
    jobs = gitlab_jobs()
    assert set(jobs) == {
        "stage1-checkpoint",
        "stage2-checkpoint",
        "stage3-checkpoint",
        "rollback-triggers",
        "gate",
        "record",
    }
    for name, job in jobs.items():
        assert job.get("script"), name
        assert job["artifacts"]["when"] == "always", name
        assert "evidence/" in job["artifacts"]["paths"], name
        assert job.get("rules"), name
        assert all("if" in rule for rule in job["rules"]), name
        assert job["resource_group"] == "cutover-evidence", name
        scripts = "\n".join([*job.get("before_script", []), *job["script"]])
        assert scripts.index("cutover evidence restore") < scripts.index("cutover evidence save")


def test_gitlab_gate_jobs_run_registered_markers_and_report() -> None:
    jobs = gitlab_jobs()
    markers = {
        "stage1-checkpoint": "stage1_gate",
        "stage2-checkpoint": "stage2_gate",
        "stage3-checkpoint": "stage3_gate",
        "rollback-triggers": "rollback",
    }
    for name, marker in markers.items():
        job = jobs[name]
        assert job["variables"]["MARKER"] == marker in GATE_MARKERS
        schedule = name.split("-")[0]
        assert job["rules"] == [
            {"if": f'$CI_PIPELINE_SOURCE == "schedule" && $CUTOVER_SCHEDULE == "{schedule}"'}
        ]
        [script] = job["script"]
        assert 'python -m pytest -m "$MARKER"' in script
        assert "cutover report --evidence-dir evidence --out report" in script
        assert script.rstrip().endswith('exit "$status"')
        assert job["artifacts"]["reports"]["junit"] == "report/junit-this-run.xml"
    gate_rule = jobs["gate"]["rules"][0]["if"]
    allowed = re.search(r"/\^\((.*)\)\$/", gate_rule)
    assert allowed is not None
    for marker in ("prereq", "stage1_gate", "stage4_gate", "v1_removal", "rollback_verify"):
        assert re.fullmatch(allowed.group(1), marker), marker
    assert not re.fullmatch(allowed.group(1), "router")
