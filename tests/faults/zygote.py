"""A fresh pytest process per run without paying for its imports each time.

A gate run is a real process: its own environment, settings, secrets registry and exit status.
Most of its ~4 s is importing pytest, scipy and the plugin. This parent imports them once, then
forks one child per run; the child sets the run's environment and working directory, sends its
output to a file and runs `pytest.main` with the run's arguments, exactly as `python -m pytest`
would. The parent holds no settings: nothing a run resolves leaks into the next.

Protocol (one JSON object per line): parent reads {"args", "env", "cwd", "stdout", "stderr",
"max_file_bytes"} from stdin,
answers {"exit": status}."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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
)


def _child(request: dict[str, Any]) -> None:
    import pytest

    code = 3
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
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


def serve() -> None:
    import importlib

    for name in WARM:
        importlib.import_module(name)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"exit": os.waitstatus_to_exitcode(status)}), flush=True)


@dataclass
class Zygote:
    """The parent, driven from a test module (one per module and xdist worker)."""

    process: subprocess.Popen[str]

    @classmethod
    def start(cls, cwd: Path) -> Zygote:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
        env.pop("PYTEST_XDIST_WORKER", None)
        env["OPENBLAS_NUM_THREADS"] = "1"  # forked children: one BLAS thread, no pool to copy
        process = subprocess.Popen(
            [sys.executable, "-c", "import zygote; zygote.serve()"],
            cwd=cwd,
            env={**env, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])},
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
    ) -> int:
        """Run pytest with `args` in a fresh child; its stdout and stderr go to `output`."""
        assert self.process.stdin is not None
        stdout, stderr = (str(path) for path in output)
        request = {"args": args, "env": env, "cwd": str(cwd), "stdout": stdout, "stderr": stderr}
        request["max_file_bytes"] = max_file_bytes
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return int(json.loads(_line(self.process.stdout))["exit"])

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _line(stream: IO[str] | None) -> str:
    assert stream is not None
    line = stream.readline()
    assert line, "the zygote process ended"
    return line
