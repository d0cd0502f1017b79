"""A fresh pytest process per run without paying for its imports each time.

A gate run is a real process: its own environment, settings, secrets registry and exit status.
Most of its ~4 s is importing pytest, scipy and the plugin. This parent imports them once, then
forks one child per run; the child sets the run's environment and working directory, sends its
output to a file and runs `pytest.main` with the run's arguments, exactly as `python -m pytest`
would. The parent holds no settings: nothing a run resolves leaks into the next.

Protocol (one JSON object per line): parent reads {"args", "env", "cwd", "stdout", "stderr",
"max_file_bytes"} from stdin, answers {"pid": child} once forked and {"exit": status} when
the child ended."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

WARM = (
    "pytest",
    "xdist",
    "scipy.stats",
    "numpy",
    "psycopg",
    "httpx",
    "cutover.pytest_plugin",
    "cutover.fixtures",
    "cutover.gate",
    "cutover.measure.logs",
    "cutover.measure.stage",
    "cutover.measure.prereq",
    "cutover.measure.checkpoints",
    "cutover.criteria.registry",
    "cutover.statistics.trend",
    "cutover.statistics.split",
    "cutover.targets.embedded",
    "cutover.data.sql",
    "cutover.data.scenarios",
    # what every run's pytest loads besides (~0.05 s a run)
    "httpcore",
    "execnet",
    "psutil",
    "certifi",
    "_pytest.junitxml",
    "_pytest.skipping",
    "_pytest.warnings",
    "_pytest.unittest",
    "_pytest.faulthandler",
    "_pytest.helpconfig",
    "_pytest.pastebin",
    "_pytest.setuponly",
    "_pytest.setupplan",
    "_pytest.tracemalloc",
    "_pytest.threadexception",
    "_pytest.unraisableexception",
)


def _child(request: dict[str, Any]) -> None:
    import pytest

    code = 3
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # stdin is the parent's request pipe: a run must never read (or eat) a request
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        if request.get("max_file_bytes") is not None:  # a full disk: no file grows past it
            import resource

            limit = request["max_file_bytes"]
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        code = int(pytest.main(request["args"]))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _load_plugins_as_a_run_does() -> None:
    """One empty pytest session: it imports the entry-point plugins (xdist, hypothesis, anyio...)
    through pytest's assertion-rewriting import hook, as every run's session does. A run's
    pytest then finds them imported by that hook, rewritten as it would have rewritten them,
    and says nothing about them (imported any other way first, it warns in the run's output);
    hypothesis is among them (its summary imports it at the end of every session, ~0.15 s)."""
    import pytest

    with tempfile.TemporaryDirectory(prefix="zygote-") as empty:
        here, out, err = os.getcwd(), os.dup(1), os.dup(2)
        quiet = os.open(os.devnull, os.O_WRONLY)
        try:
            os.chdir(empty)
            for fd in (1, 2):  # fd 1 is the protocol's: not a byte of the session's may reach it
                os.dup2(quiet, fd)
            pytest.main(["-q", "-p", "no:cacheprovider", empty])
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(out, 1)
            os.dup2(err, 2)
            for fd in (quiet, out, err):
                os.close(fd)
            os.chdir(here)


def serve() -> None:
    import importlib

    _load_plugins_as_a_run_does()
    for name in WARM:
        importlib.import_module(name)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"exit": os.waitstatus_to_exitcode(status)}), flush=True)


@dataclass
class Zygote:
    """The parent, driven from one thread of a test process at a time."""

    process: subprocess.Popen[str]

    @classmethod
    def start(cls, cwd: Path) -> Zygote:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
        env.pop("PYTEST_XDIST_WORKER", None)
        # bytecode caches on, as for a run of its own: rewritten test modules are then cached
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["OPENBLAS_NUM_THREADS"] = "1"  # forked children: one BLAS thread, no pool to copy
        # only this folder: a run's child must not import what a test worker's path holds
        env["PYTHONPATH"] = str(Path(__file__).parent)
        process = subprocess.Popen(
            [sys.executable, "-c", "import zygote; zygote.serve()"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert json.loads(_line(process.stdout)) == {"ready": True}
        return cls(process)

    def run(
        self,
        args: list[str],
        env: dict[str, str],
        cwd: Path,
        output: tuple[Path, Path],
        max_file_bytes: int | None = None,
        timeout: float | None = None,
    ) -> int:
        """Run pytest with `args` in a fresh child; its stdout and stderr go to `output`. A
        child still running after `timeout` seconds is killed (`subprocess.TimeoutExpired`)."""
        assert self.process.stdin is not None
        stdout, stderr = (str(path) for path in output)
        request = {"args": args, "env": env, "cwd": str(cwd), "stdout": stdout, "stderr": stderr}
        request["max_file_bytes"] = max_file_bytes
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        pid = int(json.loads(_line(self.process.stdout))["pid"])
        timer = None
        if timeout is not None:
            timer = threading.Timer(timeout, _kill, (pid,))
            timer.start()
        try:
            code = int(json.loads(_line(self.process.stdout))["exit"])
        finally:
            if timer is not None:
                timer.cancel()
        if code == -signal.SIGKILL and timer is not None and timer.finished.is_set():
            raise subprocess.TimeoutExpired(["pytest", *args], timeout or 0.0)
        return code

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # ended meanwhile
        pass


_idle: list[Zygote] = []
_idle_lock = threading.Lock()


@contextmanager
def borrowed(cwd: Path) -> Iterator[Zygote]:
    """An idle zygote of this process (one more is started for a concurrent caller); all of
    them are stopped when the process exits."""
    with _idle_lock:
        zygote = _idle.pop() if _idle else None
    if zygote is None:
        zygote = Zygote.start(cwd)
        atexit.register(zygote.stop)
    try:
        yield zygote
    except BaseException:
        # a run that did not finish (a timeout, an interrupt) leaves the protocol mid-way
        atexit.unregister(zygote.stop)
        zygote.process.kill()
        zygote.process.wait()
        raise
    with _idle_lock:
        _idle.append(zygote)


def run_pytester(pytester: pytest.Pytester, *args: str, timeout: float = 300) -> pytest.RunResult:
    """`pytester.runpytest_subprocess(*args)` with the process forked from a zygote: the same
    arguments (a numbered --basetemp under the test's directory), working directory and
    environment (the test's, the test's directory on PYTHONPATH), and the same RunResult."""
    import time

    import pytest

    cwd = Path.cwd()
    basetemp = Path(tempfile.mkdtemp(prefix="runpytest-", dir=pytester.path))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(cwd), env.get("PYTHONPATH", "")]))
    output = (pytester.path / "stdout", pytester.path / "stderr")
    started = time.monotonic()
    with borrowed(cwd) as zygote:
        code = zygote.run([f"--basetemp={basetemp}", *args], env, cwd, output, timeout=timeout)
    out, err = (path.read_text(encoding="utf8").splitlines() for path in output)
    for lines, stream in ((out, sys.stdout), (err, sys.stderr)):  # as pytester shows a run
        print("\n".join(lines), file=stream)
    return pytest.RunResult(code, out, err, time.monotonic() - started)


def forked_pytest(command: list[str], *, env: dict[str, str], **_: Any) -> CompletedProcess[str]:
    """`subprocess.run([python, -m, pytest, ...], env=env, capture_output=True, text=True)`
    for a command line that starts `python -m pytest` (what `cutover demo` runs), in this
    directory, with the process forked from a zygote."""
    assert command[:3] == [sys.executable, "-m", "pytest"], command
    scratch = Path(tempfile.mkdtemp(prefix="forked-output-"))
    output = (scratch / "stdout", scratch / "stderr")
    try:
        with borrowed(Path.cwd()) as zygote:
            code = zygote.run(command[3:], env, Path.cwd(), output, timeout=300)
        out, err = (path.read_text(encoding="utf-8", errors="replace") for path in output)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return CompletedProcess(command, code, out, err)


def _line(stream: IO[str] | None) -> str:
    assert stream is not None
    line = stream.readline()
    assert line, "the zygote process ended"
    return line
