"""Partial and errored runs on the real gates, recorded as such: a `-k` run is recorded with its
narrowing and never reads as PROCEED (finding 8); a criterion whose input is bad is an `error`
in the ledger with its one-line message, shown without a traceback, and the report never says
PROCEED (finding 9)."""

from __future__ import annotations

from pathlib import Path

from cutover.cli import main
from cutover.ledger import Store
from suite_runner import at_hour, run_checkpoint, run_suite


def _checkpoints(evidence: Path) -> list[dict[str, object]]:
    return [dict(e.data) for e in Store(evidence).read() if e.type == "checkpoint"]


def _report(evidence: Path) -> str:
    assert main(["report", "--evidence-dir", str(evidence)]) == 0
    return (evidence / "report.md").read_text(encoding="utf-8")


def test_two_keyword_runs_never_report_proceed(tmp_path: Path) -> None:
    # +1 h: 26 settled imports are too few to tell the rate from 95% (a perfect record needs 59)
    for hours, verdict in ((1, "inconclusive"), (6, "pass")):
        run = run_checkpoint(tmp_path, "healthy-rollout", 1, hours, only="success_rate")
        assert run.verdicts == {"stage1.success_rate": verdict}, run.output
        assert run.exit_code == 6
        not_passed = "" if verdict == "pass" else ", stage1.success_rate (inconclusive)"
        assert run.verdict_line.startswith(
            f"cutover verdict: HOLD — stage1_gate — partial: 1 of 9 criteria{not_passed} — "
        )
    scopes = [c["scope"] for c in _checkpoints(run.evidence_dir)]
    assert scopes == [{"held": 9, "decided": 1, "narrowed_by": ["-k success_rate"]}] * 2
    report = _report(run.evidence_dir)
    assert "PROCEED" not in report
    assert "stage1_gate partial: 1 of 9 criteria (-k success_rate)" in report
    # the section of the latest checkpoint (Markdown escapes the underscore)
    assert "**A partial run (partial: 1 of 9 criteria (-k success\\_rate)): it decides no" in report


def test_an_empty_metrics_csv_is_an_error_in_the_ledger_and_the_report(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.csv"
    metrics.write_text("")
    run = run_suite(
        tmp_path,
        "--scenario=healthy-rollout",
        f"--as-of={at_hour(24)}",
        f"--rlm-metrics={metrics}",
        marker="stage1_gate",
        paths=("tests/gates",),
    )
    assert run.exit_code == 1, run.output
    props = run.properties["stage1.rlm_stability"]
    assert props["verdict"] == "error"
    assert props["reason"].startswith(f"{metrics}: no header row; expected a CSV header")
    assert "stage1.rlm_stability (error)" in run.verdict_line
    assert not run.verdict_line.startswith("cutover verdict: PROCEED")
    assert "Traceback" not in run.output and "ConfigError" not in run.output
    [checkpoint] = _checkpoints(run.evidence_dir)
    recorded = checkpoint["results"]["stage1.rlm_stability"]  # type: ignore[index]
    assert (recorded["verdict"], recorded["reason"]) == ("error", props["reason"])
    report = _report(run.evidence_dir)
    assert "## Verdict: ⏸️ HOLD" in report
    assert "stage1.rlm_stability (error)" in report
    assert "Errored (1)" in report


def test_a_malformed_env_file_line_is_an_error_naming_the_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env.local"
    env_file.write_text('V2_ROLLOUT_PERCENT="0"\nthis line has no equals sign\n')
    run = run_suite(
        tmp_path,
        f"--as-of={at_hour(-1)}",
        f"--vercel-env-file={env_file}",
        "-k",
        "rollout_percent",
    )
    assert run.exit_code == 1, run.output
    props = run.properties["prereq.rollout_percent_zero"]
    assert props["verdict"] == "error"
    assert props["reason"] == (
        f"{env_file}, line 2: expected KEY=\"value\", got 'this line has no equals sign'"
    )
    assert "Traceback" not in run.output
