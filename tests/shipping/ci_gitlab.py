"""A local GitLab runner for the template: it reads .gitlab-ci.yml as GitLab does and runs a
pipeline of it.

- `workflow: rules` decide whether the pipeline runs; each job's `rules` decide whether the job
  is in it (`$VAR`, `==`, `!=`, `=~ /re/`, `&&`, `||`, parentheses).
- Variables as GitLab orders them (highest first): the pipeline's ("Run pipeline", schedule),
  the project's CI/CD variables, the job's, the file's global ones, the predefined ones; `$X`
  in a value is expanded.
- A job: the `resource_group` is a lock; the repository is cloned into CI_PROJECT_DIR; the image
  `python:X.Y` (or `-slim`) is a fresh virtualenv of that Python on PATH; each `cache` is
  restored, then
  `before_script` and `script` run in one `bash` with `set -eo pipefail`, then caches (by their
  `when`) and artifacts (by theirs) are saved.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_machine import Machine

from ci_yaml import GITLAB_KEYWORDS, load

_ids = itertools.count(90001)
_TOKEN = re.compile(
    r"\s*(?:(?P<var>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)|(?P<string>\"[^\"]*\"|'[^']*')"
    r"|(?P<regex>/(?:[^/\\]|\\.)*/[a-z]*)|(?P<op>==|!=|=~|!~|&&|\|\||\(|\))|(?P<null>null))"
)
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


@dataclass
class GitLabJob:
    name: str
    status: str  # success, failed, skipped
    output: str = ""
    workspace: Path | None = None
    junit_report: Path | None = None


@dataclass
class Pipeline:
    source: str
    jobs: dict[str, GitLabJob]

    @property
    def ran(self) -> GitLabJob:
        ran = [job for job in self.jobs.values() if job.status != "skipped"]
        assert len(ran) == 1, {name: job.status for name, job in self.jobs.items()}
        return ran[0]


@dataclass
class GitLab:
    machine: Machine
    config: Path  # the repository's .gitlab-ci.yml
    project_variables: dict[str, str]  # Settings > CI/CD > Variables (masked ones included)
    repository_url: str  # CI_REPOSITORY_URL: the clone URL, carrying the job token
    project_path: str = "example/cutover-gates"
    user: str = "operator"

    def pipeline(self, source: str, **variables: str) -> Pipeline:
        document = load(self.config)
        pipeline_id = str(next(_ids))
        predefined = {
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_PIPELINE_SOURCE": source,
            "CI_PIPELINE_ID": pipeline_id,
            "CI_PROJECT_PATH": self.project_path,
            "CI_REPOSITORY_URL": self.repository_url,
            "CI_SERVER_HOST": "gitlab.example.com",
            "CI_COMMIT_REF_NAME": "main",
            "CI_DEFAULT_BRANCH": "main",
            "GITLAB_USER_LOGIN": self.user,
        }
        top = {**predefined, **(document.get("variables") or {})}
        scope = {**top, **self.project_variables, **variables}
        rules = (document.get("workflow") or {}).get("rules")
        if rules is not None and _first_rule(rules, scope) is None:
            return Pipeline(source, {})
        jobs: dict[str, GitLabJob] = {}
        for name, job in document.items():
            if name in GITLAB_KEYWORDS or name.startswith(".") or not isinstance(job, dict):
                continue
            raw = {
                **top,
                "CI_JOB_ID": str(next(_ids)),
                "CI_JOB_NAME": name,
                **(job.get("variables") or {}),
                **self.project_variables,
                **variables,
            }
            rule = _first_rule(job.get("rules", [{}]), _expanded(raw))
            if rule is None or rule.get("when") == "never":
                jobs[name] = GitLabJob(name, "skipped")
                continue
            jobs[name] = self._run(name, job, raw, document)
        return Pipeline(source, jobs)

    def _run(
        self, name: str, job: dict[str, Any], values: dict[str, str], document: dict[str, Any]
    ) -> GitLabJob:
        group = job.get("resource_group")
        lock = self.machine.lock(f"gitlab:{group}") if group else None
        if lock is not None:
            lock.acquire()
        try:
            return self._execute(name, job, values, document)
        finally:
            if lock is not None:
                lock.release()

    def _execute(
        self, name: str, job: dict[str, Any], values: dict[str, str], document: dict[str, Any]
    ) -> GitLabJob:
        directory = self.machine.job_dir(f"gitlab-{name}")
        workspace = directory / "builds" / self.project_path
        workspace.parent.mkdir(parents=True)
        values = _expanded({"CI_PROJECT_DIR": str(workspace), **values})
        self.machine.clone(workspace, int(values.get("GIT_DEPTH", "20")))
        image = str(job.get("image", document.get("image", "")))
        version = re.fullmatch(r"python:(\d+\.\d+)(?:-slim)?", image)
        assert version, f"{name}: a python image, not {image!r}"
        bin_dir = self.machine.fresh_python(directory / "python", version.group(1))
        env = {
            **self.machine.env,
            "HOME": str(directory / "home"),
            **values,
            "PATH": f"{bin_dir}:{self.machine.env['PATH']}",
        }
        caches = job.get("cache", document.get("cache", []))
        caches = [caches] if isinstance(caches, dict) else caches
        for cache in caches:
            self.machine.cache_restore([f"gitlab-{cache['key']}"], cache["paths"], workspace)
        lines = [*job.get("before_script", document.get("before_script", [])), *job["script"]]
        started = time.monotonic()
        shell = self.machine.shell(
            "\n".join(lines),
            env=env,
            cwd=workspace,
            timeout=_seconds(str(job.get("timeout", "60m"))),
            flags=("-e", "-o", "pipefail"),
        )
        status = "success" if shell.status == 0 else "failed"
        when = ("always", "on_success" if status == "success" else "on_failure")
        for cache in caches:
            if cache.get("when", "on_success") in when:
                key = f"gitlab-{cache['key']}"
                self.machine.cache_save(key, cache["paths"], workspace, replace=True)
        artifacts = job.get("artifacts") or {}
        if artifacts.get("when", "on_success") in when:
            artifact = f"gitlab-{name}-{values['CI_JOB_ID']}"
            self.machine.upload(artifact, artifacts.get("paths", []), workspace)
        junit = (artifacts.get("reports") or {}).get("junit")
        report = workspace / junit if junit and (workspace / junit).is_file() else None
        took = time.monotonic() - started
        output = f"{shell.output}\n(job {status} in {took:.0f} s)"
        return GitLabJob(name, status, output, workspace, report)


def _seconds(text: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+)\s*([hms])", text):
        total += int(amount) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total or 3600.0


def _expanded(values: dict[str, Any]) -> dict[str, str]:
    """`$X` and `${X}` in each value expanded from all the values (undefined: ""), as deep as
    variables refer to variables."""
    done = {key: str(value) for key, value in values.items()}
    for _ in range(5):
        known = dict(done)
        done = {
            key: _VARIABLE.sub(lambda m, known=known: known.get(m.group(1), ""), value)
            for key, value in known.items()
        }
    return done


def _first_rule(rules: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any] | None:
    for rule in rules:
        if "if" not in rule or _Rule(str(rule["if"]), values).parse():
            return rule
    return None


class _Rule:
    """One `rules: if:` expression."""

    def __init__(self, text: str, values: dict[str, Any]) -> None:
        self.tokens = []
        position = 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            assert match and match.end() > position, f"cannot read {text[position:]!r} in {text!r}"
            self.tokens.append((match.lastgroup, match.group(match.lastgroup or "")))
            position = match.end()
        self.values = values
        self.at = 0

    def take(self) -> tuple[str | None, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def parse(self) -> bool:
        value = self.or_()
        assert self.at == len(self.tokens), self.tokens
        return value

    def or_(self) -> bool:
        value = self.and_()
        while self.peek() == "||":
            self.take()
            value = self.and_() or value
        return value

    def and_(self) -> bool:
        value = self.comparison()
        while self.peek() == "&&":
            self.take()
            value = self.comparison() and value
        return value

    def comparison(self) -> bool:
        if self.peek() == "(":
            self.take()
            value = self.or_()
            assert self.take()[1] == ")"
            return value
        left = self.operand()
        if self.peek() in ("==", "!=", "=~", "!~"):
            operator = self.take()[1]
            kind, raw = self.take()
            if operator in ("=~", "!~"):
                assert kind == "regex", raw
                pattern, _, flags = raw[1:].rpartition("/")
                found = left is not None and re.search(pattern, left, re.I if "i" in flags else 0)
                return bool(found) == (operator == "=~")
            right = self.value(kind, raw)
            return (left == right) == (operator == "==")
        return bool(left)

    def operand(self) -> str | None:
        kind, raw = self.take()
        return self.value(kind, raw)

    def value(self, kind: str | None, raw: str) -> str | None:
        if kind == "var":
            return self.values.get(raw.strip("${}"))
        if kind == "string":
            return raw[1:-1]
        if kind == "null":
            return None
        raise AssertionError(f"unexpected {raw!r}")
