"""A local GitHub Actions runner for the templates: it reads a workflow as GitHub does and runs it.

- The event must be one the workflow declares; `workflow_dispatch` inputs get their defaults, a
  `choice` outside its options or a missing required input is refused.
- The workflow's concurrency group is a lock held for the run (`cancel-in-progress: false`).
- A job's `if:` is evaluated; a job that `uses:` a reusable workflow runs that workflow's jobs
  with its `workflow_call` inputs (defaults, required) and the secrets passed (or inherited; a
  required secret that is missing fails the job).
- A step's `if:` (default `success()`), `env:` and `run:` have their `${{ }}` substituted; `run`
  goes to `bash -e`, with the job's environment, GITHUB_ENV / GITHUB_PATH / GITHUB_OUTPUT /
  GITHUB_STEP_SUMMARY files and `steps.<id>.outputs`.
- `uses:` steps get local equivalents (ci_machine): checkout clones the forge's repository,
  setup-python makes a fresh virtualenv, cache/restore and cache/save use the cache store,
  upload-artifact copies into the artifact store. Any other action fails the step.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_expressions import Functions, condition, substitute, substitute_all
from ci_machine import Machine

from ci_yaml import load

_run_ids = itertools.count(7001)


@dataclass
class StepRun:
    name: str
    outcome: str  # success, failure, skipped
    output: str = ""


@dataclass
class JobRun:
    name: str
    status: str  # success, failure, skipped
    steps: list[StepRun] = field(default_factory=list)
    summary: str = ""
    workspace: Path | None = None

    def step(self, name: str) -> StepRun:
        found = [s for s in self.steps if s.name == name]
        assert found, f"no step {name!r} in {[s.name for s in self.steps]}"
        return found[0]

    @property
    def log(self) -> str:
        return "\n".join(f"## {s.name} [{s.outcome}]\n{s.output}" for s in self.steps)


@dataclass
class WorkflowRun:
    name: str
    run_id: str
    jobs: dict[str, JobRun]

    @property
    def ran(self) -> JobRun:
        """The one job that ran (the others were skipped by their `if:`)."""
        ran = [job for job in self.jobs.values() if job.status != "skipped"]
        assert len(ran) == 1, {name: job.status for name, job in self.jobs.items()}
        return ran[0]


@dataclass
class GitHub:
    machine: Machine
    workflows: Path  # the repository's .github/workflows (the templates as a user copies them)
    secrets: dict[str, str]
    variables: dict[str, str]
    actor: str = "operator"
    repository: str = "example/cutover-gates"

    def dispatch(self, workflow: str, **inputs: str) -> WorkflowRun:
        return self._run(workflow, "workflow_dispatch", inputs, schedule=None)

    def schedule(self, workflow: str, cron: str) -> WorkflowRun:
        return self._run(workflow, "schedule", {}, schedule=cron)

    def _run(
        self, workflow: str, event: str, given: dict[str, str], schedule: str | None
    ) -> WorkflowRun:
        document = load(self.workflows / workflow)
        triggers = document["on"]
        assert event in triggers, f"{workflow} does not run on {event}"
        if schedule is not None:
            assert schedule in [entry["cron"] for entry in triggers["schedule"]], schedule
        dispatch = (triggers.get(event) or {}) if event == "workflow_dispatch" else {}
        inputs = _inputs(dispatch.get("inputs", {}), given, workflow)
        run_id = str(next(_run_ids))
        github = {
            "event_name": event,
            "event": {"inputs": inputs, "schedule": schedule},
            "run_id": run_id,
            "run_attempt": "1",
            "actor": self.actor,
            "repository": self.repository,
            "ref": "refs/heads/main",
            "workflow": document.get("name", workflow),
            "server_url": "https://github.com",
        }
        contexts = {"github": github, "inputs": inputs, "vars": self.variables}
        group = (document.get("concurrency") or {}).get("group")
        lock = self.machine.lock(substitute(group, contexts)) if group else None
        if lock is not None:
            lock.acquire()
        try:
            jobs: dict[str, JobRun] = {}
            for name, job in document["jobs"].items():
                jobs.update(self._job(name, job, github, inputs, self.secrets))
        finally:
            if lock is not None:
                lock.release()
        return WorkflowRun(workflow, run_id, jobs)

    def _job(
        self,
        name: str,
        job: dict[str, Any],
        github: dict[str, Any],
        inputs: dict[str, Any],
        secrets: dict[str, str],
    ) -> dict[str, JobRun]:
        contexts = {"github": github, "inputs": inputs, "vars": self.variables, "needs": {}}
        if not condition(job.get("if"), contexts, Functions()):
            return {name: JobRun(name, "skipped")}
        if "uses" in job:
            return self._call(name, job, github, contexts, secrets)
        return {name: self._steps(name, job, github, inputs, secrets)}

    def _call(
        self,
        name: str,
        job: dict[str, Any],
        github: dict[str, Any],
        contexts: dict[str, Any],
        secrets: dict[str, str],
    ) -> dict[str, JobRun]:
        uses = str(job["uses"])
        assert uses.startswith("./.github/workflows/"), f"{name}: a reusable workflow of this repo"
        called = load(self.workflows / Path(uses).name)
        call = called["on"]["workflow_call"]
        given = {k: str(v) for k, v in substitute_all(job.get("with", {}), contexts, None).items()}
        inputs = _inputs(call.get("inputs", {}), given, uses)
        if job.get("secrets") == "inherit":
            passed = dict(secrets)
        else:
            passed = substitute_all(job.get("secrets", {}), {**contexts, "secrets": secrets}, None)
        missing = [
            secret
            for secret, spec in (call.get("secrets") or {}).items()
            if (spec or {}).get("required") and not passed.get(secret)
        ]
        if missing:
            return {name: JobRun(name, "failure", [StepRun("secrets", "failure", str(missing))])}
        runs: dict[str, JobRun] = {}
        for called_name, called_job in called["jobs"].items():
            for key, run in self._job(called_name, called_job, github, inputs, passed).items():
                runs[f"{name}/{key}"] = run
        return runs

    def _steps(
        self,
        name: str,
        job: dict[str, Any],
        github: dict[str, Any],
        inputs: dict[str, Any],
        secrets: dict[str, str],
    ) -> JobRun:
        directory = self.machine.job_dir(f"github-{name}")
        workspace = directory / "work"
        workspace.mkdir()
        files = {
            n: directory / n.lower() for n in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        }
        for path in files.values():
            path.touch()
        base = {
            **self.machine.env,
            "HOME": str(directory / "home"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_RUN_ID": github["run_id"],
            "GITHUB_RUN_ATTEMPT": github["run_attempt"],
            "GITHUB_ACTOR": github["actor"],
            "GITHUB_EVENT_NAME": github["event_name"],
            "GITHUB_REPOSITORY": github["repository"],
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(directory),
            **{n: str(p) for n, p in files.items()},
        }
        contexts: dict[str, Any] = {
            "github": {**github, "workspace": str(workspace), "job": name},
            "inputs": inputs,
            "vars": self.variables,
            "secrets": secrets,
            "steps": {},
            "runner": {"os": "Linux", "temp": str(directory)},
            "env": {},
        }
        job_env = {k: substitute(str(v), contexts) for k, v in (job.get("env") or {}).items()}
        run = JobRun(name, "success", workspace=workspace)
        deadline = time.monotonic() + 60 * float(job.get("timeout-minutes", 360))
        exported: dict[str, str] = {}
        paths: list[str] = []
        for index, step in enumerate(job["steps"]):
            title = step.get("name") or step.get("uses") or f"step {index}"
            functions = Functions(workspace, run.status == "failure")
            contexts["env"] = {**job_env, **exported}
            step_env = {
                k: substitute(str(v), contexts, functions)
                for k, v in (step.get("env") or {}).items()
            }
            contexts["env"] = {**job_env, **exported, **step_env}
            if not condition(step.get("if"), contexts, functions):
                run.steps.append(StepRun(title, "skipped"))
                continue
            output_file = directory / f"output-{index}"
            output_file.touch()
            env = {**base, **job_env, **exported, **step_env, "GITHUB_OUTPUT": str(output_file)}
            env["PATH"] = ":".join([*paths, base["PATH"]])
            if "run" in step:
                script = substitute(str(step["run"]), contexts, functions)
                cwd = workspace / step.get("working-directory", ".")
                remaining = max(1.0, deadline - time.monotonic())
                shell = self.machine.shell(
                    script, env=env, cwd=cwd, timeout=remaining, flags=("-e",)
                )
                outcome, output = ("success" if shell.status == 0 else "failure"), shell.output
            else:
                given = substitute_all(step.get("with") or {}, contexts, functions)
                outcome, output = self._action(
                    str(step["uses"]), given, workspace, directory, paths, exported, output_file
                )
            run.steps.append(StepRun(title, outcome, output))
            exported.update(_key_values(files["GITHUB_ENV"].read_text()))
            paths[:0] = [
                line
                for line in files["GITHUB_PATH"].read_text().splitlines()
                if line and line not in paths
            ]
            if "id" in step:
                contexts["steps"][step["id"]] = {
                    "outputs": _key_values(output_file.read_text()),
                    "outcome": outcome,
                }
            if outcome == "failure" and not step.get("continue-on-error"):
                run.status = "failure"
        run.summary = files["GITHUB_STEP_SUMMARY"].read_text()
        return run

    def _action(
        self,
        uses: str,
        given: dict[str, Any],
        workspace: Path,
        directory: Path,
        paths: list[str],
        exported: dict[str, str],
        output_file: Path,
    ) -> tuple[str, str]:
        action, _, version = uses.partition("@")
        lines = lambda key: [s.strip() for s in str(given.get(key, "")).splitlines() if s.strip()]  # noqa: E731
        if action == "actions/checkout":
            self.machine.clone(workspace, int(given.get("fetch-depth", 1)))
            return "success", f"checked out {self.repository} (depth {given.get('fetch-depth', 1)})"
        if action == "actions/setup-python":
            bin_dir = self.machine.fresh_python(directory / "python", str(given["python-version"]))
            paths.insert(0, str(bin_dir))
            if given.get("cache") == "pip":
                exported["PIP_CACHE_DIR"] = str(self.machine.pip_cache)
            output_file.write_text(f"python-version={given['python-version']}\n")
            return "success", f"Python {given['python-version']} in {bin_dir}"
        if action == "actions/cache/restore":
            keys = [str(given["key"]), *lines("restore-keys")]
            matched = self.machine.cache_restore(keys, lines("path"), workspace)
            hit = "true" if matched == keys[0] else "false"
            output_file.write_text(f"cache-hit={hit}\ncache-matched-key={matched or ''}\n")
            return "success", f"cache {'restored from ' + matched if matched else 'not found'}"
        if action == "actions/cache/save":
            saved = self.machine.cache_save(
                str(given["key"]), lines("path"), workspace, replace=False
            )
            return "success", "cache saved" if saved else "cache exists already: not saved"
        if action == "actions/upload-artifact":
            count = self.machine.upload(str(given["name"]), lines("path"), workspace)
            if count == 0 and given.get("if-no-files-found", "warn") == "error":
                return "failure", "no files to upload"
            return "success", f"uploaded {count} files as {given['name']}"
        return "failure", f"no local equivalent for the action {uses} (version {version})"


def _inputs(spec: dict[str, Any], given: dict[str, str], where: str) -> dict[str, Any]:
    unknown = set(given) - set(spec)
    assert not unknown, f"{where}: no inputs {sorted(unknown)}"
    values: dict[str, Any] = {}
    for name, declared in spec.items():
        declared = declared or {}
        if name in given:
            value: Any = given[name]
        elif "default" in declared:
            value = declared["default"]
        else:
            assert not declared.get("required"), f"{where}: input {name} is required"
            value = "" if declared.get("type", "string") == "string" else None
        if declared.get("type") == "choice":
            assert value in declared["options"], f"{where}: {name}={value!r} not in the options"
        if declared.get("type") == "boolean" and isinstance(value, str):
            value = value == "true"
        values[name] = value
    return values


def _key_values(text: str) -> dict[str, str]:
    """GITHUB_ENV / GITHUB_OUTPUT: `KEY=value` lines and `KEY<<DELIMITER` blocks."""
    found: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            block = list(itertools.takewhile(lambda item, end=delimiter: item != end, lines))
            found[key] = "\n".join(block)
        elif "=" in line:
            key, value = line.split("=", 1)
            found[key] = value
    return found
