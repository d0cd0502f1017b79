"""`cutover demo` ends, like every run, with a verdict line that agrees with its exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutover.cli import main
from zygote import forked_pytest


def test_a_demo_whose_prerequisites_hold_does_not_end_with_proceed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """rlm-unavailable: the prerequisites HOLD (the RLM does not answer) while stage 1's gate
    may pass; the demo exits non-zero, so its last line must not say PROCEED."""
    monkeypatch.chdir(tmp_path)
    # each step is still a fresh pytest process, forked from one that imported pytest once
    monkeypatch.setattr("cutover.cli.demo.subprocess.run", forked_pytest)
    status = main(
        ["--evidence-dir", str(tmp_path / "evidence"), "demo", "--scenario", "rlm-unavailable"]
    )
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert status != 0
    assert last.startswith("cutover verdict: ") and not last.startswith("cutover verdict: PROCEED")
