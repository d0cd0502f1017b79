"""What ships with the package, seen from a checkout: the data packages are the top-level folders
(one copy, mapped by setup.py), the shipped suite's pytest options are pyproject.toml's, `cutover
gate` runs the shipped tables, and the command's help says what each command does."""

from __future__ import annotations

import argparse
import configparser
import tomllib
from pathlib import Path

import pytest

from cutover.cli import main, parser
from cutover.cli.gate import pytest_command
from cutover.errors import ConfigError
from cutover.paths import package_dir, scenarios_dir, sql_dir, suite_dir

ROOT = Path(__file__).resolve().parents[2]


def test_the_data_packages_are_the_top_level_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CUTOVER_SQL_DIR", "CUTOVER_SCENARIOS_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert sql_dir() == ROOT / "sql"
    assert scenarios_dir() == ROOT / "fixtures" / "scenarios"
    assert {name: suite_dir(name) for name in ("prereqs", "gates", "rollback", "router")} == {
        name: ROOT / "tests" / name for name in ("prereqs", "gates", "rollback", "router")
    }


def test_every_folder_of_the_code_is_a_regular_package() -> None:
    """setup.py lists packages with find_packages, which skips a folder without __init__.py:
    an editable install still imports it (a namespace package), the wheel lacks it."""
    folders = {p.parent for p in (ROOT / "src" / "cutover").rglob("*.py")}
    assert sorted(str(f) for f in folders if not (f / "__init__.py").is_file()) == []


def test_an_empty_override_is_unset_and_a_missing_package_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUTOVER_SQL_DIR", "")
    assert sql_dir() == ROOT / "sql"
    with pytest.raises(ConfigError, match="cutover.data.nothing is not installed"):
        package_dir("cutover.data.nothing")
    with pytest.raises(ValueError, match="no gate suite folder 'unit'"):
        suite_dir("unit")


def test_the_shipped_suite_has_the_checkouts_pytest_options() -> None:
    shipped = configparser.ConfigParser()
    shipped.read(ROOT / "src" / "cutover" / "suite" / "pytest.ini")
    options = dict(shipped["pytest"])
    checkout = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    ini = dict(checkout["ini_options"])
    assert options.pop("testpaths").split() == [p.split("/")[-1] for p in ini.pop("testpaths")]
    assert options.pop("addopts").split() == ini.pop("addopts")
    assert options.pop("filterwarnings").strip().splitlines() == ini.pop("filterwarnings")
    assert options == {key: str(value).lower() for key, value in ini.items()}


@pytest.mark.parametrize(
    ("marker", "folder"),
    [("prereq", "prereqs"), ("stage3_gate", "gates"), ("rollback_verify", "rollback")],
)
def test_cutover_gate_runs_the_marker_on_its_shipped_folder(marker: str, folder: str) -> None:
    command = pytest_command(marker, "-q")
    assert command[1:3] == ["-m", "pytest"]
    assert command[3] == str(ROOT / "tests" / folder)
    assert command[4:6] == ["-m", marker]
    assert command[-1] == "-q"


def test_cutover_gate_is_a_real_gate_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CUTOVER_EVIDENCE_DIR", "CUTOVER_CONFIG", "PYTEST_XDIST_WORKER"):
        monkeypatch.delenv(name, raising=False)
    status = main(["--evidence-dir", "ev", "gate", "prereq", "-p", "no:xdist"])
    said = capfd.readouterr().out
    assert status == 0, said
    assert said.rstrip().splitlines()[-1].startswith("cutover verdict: PROCEED — prereq")
    assert list((tmp_path / "ev").glob("junit-prereq-*.xml"))


def _subcommands(top: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in top._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = sub
                found.update({f"{name} {k}": v for k, v in _subcommands(sub).items()})
    return found


def test_every_command_says_what_it_does() -> None:
    commands = _subcommands(parser())
    assert {
        "demo",
        "gate",
        "stage start",
        "rollback",
        "attest complaints",
        "classify",
        "seed",
    } <= set(commands)
    assert {"report", "verify", "evidence restore", "evidence save"} <= set(commands)
    for name, command in commands.items():
        assert command.description and len(command.description) > 40, name


def test_the_demo_help_says_it_walks_stage_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "prerequisites" in text
    assert "`pytest -m stage1_gate` at +1 h and +6 h" in text
    assert "+24 h" in text
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = " ".join(capsys.readouterr().out.split())
    assert "demo walk a seeded scenario through the prerequisites and stage 1's three" in listed
