"""What a CI runner provides, locally: a forge (a bare git repository the jobs clone and push
to), a fresh Python per job, a cache store and an artifact store (directories), one lock per
concurrency group, and a shell. Both emulators (ci_github, ci_gitlab) run on it.

A job's Python is a fresh copy (hard links) of a virtualenv that holds the project's runtime
dependencies, installed once per test session from the built wheel: the job's own
`pip install .` then builds and installs the project itself, as on a runner whose pip cache is
warm, without unpacking scipy and numpy for every job. (tests/shipping/test_packaging.py
installs the wheel into an empty virtualenv, dependencies and all.)
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
_counter = itertools.count(1)


@dataclass
class Shell:
    """What one shell step did."""

    status: int
    output: str


@dataclass
class Machine:
    root: Path
    remote: Path  # the forge's copy of the repository (bare)
    dependencies: Path  # a virtualenv holding the project's runtime dependencies
    pip_cache: Path
    env: dict[str, str]  # the runner's own environment, before any job's
    locks: dict[str, threading.Lock] = field(default_factory=dict)
    guard: threading.Lock = field(default_factory=threading.Lock)

    @property
    def caches(self) -> Path:
        return self.root / "caches"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    def lock(self, group: str) -> threading.Lock:
        """One lock per concurrency group (GitHub) or resource group (GitLab)."""
        with self.guard:
            return self.locks.setdefault(group, threading.Lock())

    def job_dir(self, name: str) -> Path:
        directory = self.root / "jobs" / f"{next(_counter):03d}-{name}"
        directory.mkdir(parents=True)
        (directory / "home").mkdir()
        return directory

    def fresh_python(self, where: Path, version: str) -> Path:
        """A fresh virtualenv for one job (its bin directory)."""
        if version != PYTHON_VERSION:
            raise AssertionError(
                f"the template asks for Python {version}; the runner has {PYTHON_VERSION}"
            )
        subprocess.run(["cp", "-al", str(self.dependencies), str(where)], check=True)
        return where / "bin"

    def clone(self, workspace: Path, depth: int) -> None:
        subprocess.run(
            [
                "git",
                "clone",
                "--quiet",
                f"--depth={depth}",
                f"file://{self.remote}",
                str(workspace),
            ],
            check=True,
            capture_output=True,
        )

    def shell(
        self, script: str, *, env: dict[str, str], cwd: Path, timeout: float, flags: tuple[str, ...]
    ) -> Shell:
        path = cwd.parent / f"step-{next(_counter)}.sh"
        path.write_text(script, encoding="utf-8")
        try:
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", *flags, str(path)],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            return Shell(124, output + f"\n(timed out after {timeout:.0f} s)")
        return Shell(done.returncode, done.stdout)

    # -- cache and artifacts ------------------------------------------------------------------

    def cache_restore(self, keys: list[str], paths: list[str], workspace: Path) -> str | None:
        """The first key that matches exactly, else the newest entry starting with a later
        key (GitHub's restore-keys); None on a miss. Restores into the workspace."""
        entries = sorted(
            (p for p in self.caches.glob("*") if p.is_dir()),
            key=lambda p: p.stat().st_mtime_ns,
            reverse=True,
        )
        found = next((p for p in entries if p.name == keys[0]), None)
        for prefix in keys[1:]:
            found = found or next((p for p in entries if p.name.startswith(prefix)), None)
        if found is None:
            return None
        for relative in paths:
            source = found / relative.strip("/")
            if source.exists():
                target = workspace / relative.strip("/")
                shutil.copytree(source, target, dirs_exist_ok=True)
        return found.name

    def cache_save(self, key: str, paths: list[str], workspace: Path, *, replace: bool) -> bool:
        entry = self.caches / key
        if entry.exists() and not replace:
            return False  # GitHub's entries are immutable: "cache already exists"
        if entry.exists():
            shutil.rmtree(entry)
        entry.mkdir(parents=True)
        for relative in paths:
            source = workspace / relative.strip("/")
            if source.is_dir():
                shutil.copytree(source, entry / relative.strip("/"))
        os.utime(entry, ns=(time.time_ns(), time.time_ns()))
        return True

    def evict_caches(self) -> None:
        """What 7 days without a run do to the Actions cache (and a cleared GitLab cache)."""
        shutil.rmtree(self.caches, ignore_errors=True)
        self.caches.mkdir(parents=True)

    def upload(self, name: str, paths: list[str], workspace: Path) -> int:
        """Copy the paths into the artifact `name`; how many files."""
        target = self.artifacts / name
        if target.exists():
            raise AssertionError(f"an artifact named {name!r} exists already")
        count = 0
        for relative in paths:
            source = workspace / relative.strip().rstrip("/")
            if source.is_dir():
                shutil.copytree(source, target / source.name, dirs_exist_ok=True)
                count += sum(1 for p in source.rglob("*") if p.is_file())
            elif source.is_file():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / source.name)
                count += 1
        return count
