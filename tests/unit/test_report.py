"""`cutover report` on evidence from real seeded runs: the verdict it reconstructs, the tables,
reasons and timeline it shows, in Markdown (parsed back) and in HTML (parsed with html.parser)."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cutover.cli import main
from cutover.ledger import Store
from cutover.ledger.records import Rollback
from cutover.scenarios.artifacts import write_artifacts
from cutover.scenarios.model import load_scenario
from suite_runner import T0, at_hour, read_junit, run_checkpoint, run_suite

# -- shared evidence ----------------------------------------------------------------------------


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def shared_dir(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """Build once per test session, even across xdist workers (who share the base's parent)."""
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    target = root / name
    with _locked(root / f"{name}.lock"):
        if not (target / ".done").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            build(target)
            (target / ".done").touch()
    return target


def _healthy_stage1(root: Path) -> None:
    """Stage 1's three checkpoints, with the RLM metrics exported beside the evidence."""
    exports = write_artifacts(
        load_scenario("healthy-rollout"), root / "exports", until=T0 + timedelta(hours=24)
    )
    for hours, only in ((1, "success_rate"), (6, "success_rate"), (24, None)):
        args = ["--scenario=healthy-rollout", f"--as-of={at_hour(hours)}"]
        args.append(f"--rlm-metrics={exports.rlm_metrics}")
        if only:
            args += ["-k", only]
        run = run_suite(
            root,
            *args,
            marker="stage1_gate",
            paths=("tests/gates",),
            junit_name=f"junit-stage1_gate-{hours}h.xml",
        )
        # the interim checkpoints are partial runs: recorded, but never a PROCEED (exit 6)
        assert run.exit_code == (0 if only is None else 6), run.output[-2000:]


def _checkpoint(scenario: str, stage: int, hours: float) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        run_checkpoint(root, scenario, stage, hours)

    return build


LANES: dict[str, Callable[[Path], None]] = {
    "healthy": _healthy_stage1,  # PROCEED
    "low": _checkpoint("stage1-low-success", 1, 24),  # ROLLBACK
    "rollback": _checkpoint("stage3-rollback", 3, 240),  # HOLD, a rollback in the timeline
}


def _lane(factory: pytest.TempPathFactory, name: str) -> Path:
    def build(root: Path) -> None:
        LANES[name](root)
        assert main(["report", "--evidence-dir", str(root / "evidence")]) == 0

    return shared_dir(factory, f"cutover-report-{name}", build) / "evidence"


def shared_evidence(factory: pytest.TempPathFactory, *names: str) -> dict[str, Path]:
    """Evidence dirs of real seeded runs (with their reports), built concurrently, once."""
    factory.getbasetemp()  # create it here: threads racing to create it would make several
    with ThreadPoolExecutor(len(names)) as pool:
        futures = {name: pool.submit(_lane, factory, name) for name in names}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return shared_evidence(tmp_path_factory, *LANES)


# -- reading the reports back -------------------------------------------------------------------


def md_sections(text: str) -> dict[str, str]:
    """`## heading` -> its body (headings with backticks and icons kept as written)."""
    sections: dict[str, str] = {}
    for block in re.split(r"^## ", text, flags=re.M)[1:]:
        heading, _, body = block.partition("\n")
        sections[heading.strip()] = body
    return sections


def md_tables(text: str) -> list[list[dict[str, str]]]:
    """Every GFM table as rows of header -> cell (escapes undone, code spans unwrapped)."""
    tables: list[list[dict[str, str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            header = _cells(lines[i])
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(dict(zip(header, _cells(lines[i]), strict=True)))
                i += 1
            tables.append(rows)
        else:
            i += 1
    return tables


def _cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [re.sub(r"\\(.)", r"\1", c.strip()).strip("`") for c in cells]


def md_table_under(text: str, heading_start: str) -> list[dict[str, str]]:
    for heading, body in md_sections(text).items():
        if heading.startswith(heading_start):
            return md_tables(body)[0]
    raise AssertionError(f"no section {heading_start!r}")


class Page(HTMLParser):
    """The text, tables, headings and images of an HTML report."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.images: list[dict[str, str]] = []
        self.h2: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._heading: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append({k: v or "" for k, v in attrs})
        elif tag == "h2":
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "h2" and self._heading is not None:
            self.h2.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    def rows(self, first_header: str) -> list[dict[str, str]]:
        """The first table whose first header cell is `first_header`, as dicts."""
        for table in self.tables:
            if table and table[0] and table[0][0] == first_header:
                return [dict(zip(table[0], row, strict=True)) for row in table[1:]]
        raise AssertionError(f"no table starting with {first_header!r}")


def reports(directory: Path) -> tuple[str, Page, str]:
    markdown = (directory / "report.md").read_text(encoding="utf-8")
    html = (directory / "report.html").read_text(encoding="utf-8")
    return markdown, Page(html), html


def results_table(markdown: str, selection: str) -> dict[str, dict[str, str]]:
    rows = md_table_under(markdown, f"`{selection}` as of")
    return {row["criterion"]: row for row in rows}


# -- healthy stage 1: PROCEED -------------------------------------------------------------------


def test_healthy_stage1_proceeds(evidence: dict[str, Path]) -> None:
    markdown, page, _ = reports(evidence["healthy"])
    assert markdown.splitlines()[0] == "# Cutover evidence report"
    first_section = next(iter(md_sections(markdown)))
    assert first_section == "Verdict: ✅ PROCEED"
    assert "cutover verdict: PROCEED — stage1_gate — none" in markdown
    table = results_table(markdown, "stage1_gate")
    assert len(table) == 9
    assert {row["verdict"] for row in table.values()} == {"✅ pass"}
    junit = read_junit(evidence["healthy"] / "junit-stage1_gate-24h.xml")
    rate = junit["stage1.success_rate"]
    assert table["stage1.success_rate"]["measured"] == rate["measured"]
    assert table["stage1.success_rate"]["threshold"] == rate["threshold"]
    assert table["stage1.success_rate"]["sample size"] == rate["sample_size"]
    window = f"{rate['window_start']} → {rate['window_end']}"
    assert table["stage1.success_rate"]["window"] == window
    assert "None: every criterion passed." in markdown
    assert page.h2[0] == "Verdict"
    assert "PROCEED" in page.all_text


def test_healthy_html_has_the_four_charts(evidence: dict[str, Path]) -> None:
    _, page, html = reports(evidence["healthy"])
    titles = [img["alt"] for img in page.images]
    assert titles == [
        "Success rate per checkpoint",
        "Import durations",
        "Routing split: observed v2 share",
        "RLM memory",
    ]
    assert all(img["src"].startswith("data:image/png;base64,") for img in page.images)
    assert "metrics.csv" in page.all_text  # the memory chart names the file it read
    # self-contained: no external stylesheet, script or image
    assert not re.search(r"<(script|link)\b", html)
    assert not re.search(r"src=\"(?!data:)", html)


def test_success_points_follow_the_checkpoints(evidence: dict[str, Path]) -> None:
    from cutover.report import load_evidence
    from cutover.report.charts import success_points

    points = success_points(load_evidence(evidence["healthy"]))
    assert [p.as_of.isoformat() for p in points] == [
        "2026-02-02T10:00:00+00:00",
        "2026-02-02T15:00:00+00:00",
        "2026-02-03T09:00:00+00:00",
    ]
    assert all(p.rate_pct >= 95 for p in points)


def test_seeded_evidence_is_marked_on_every_page(evidence: dict[str, Path]) -> None:
    for name in ("healthy", "low", "rollback"):
        markdown, page, _ = reports(evidence[name])
        assert "SEEDED DATA: NOT PRODUCTION EVIDENCE" in markdown.splitlines()[2]
        assert markdown.rstrip().endswith("*seeded data: not production evidence*")
        assert page.all_text.count("SEEDED DATA: NOT PRODUCTION EVIDENCE") >= 2
        assert "(seeded data: not production evidence)" in page.all_text


# -- stage 1 with a low success rate: ROLLBACK --------------------------------------------------


def test_low_success_rolls_back(evidence: dict[str, Path]) -> None:
    markdown, page, html = reports(evidence["low"])
    assert next(iter(md_sections(markdown))) == "Verdict: ⛔ ROLLBACK"
    assert "**Next:** run the Emergency Rollback now" in markdown
    table = results_table(markdown, "stage1_gate")
    assert table["stage1.success_rate"]["verdict"] == "❌ fail"
    assert (
        table["stage1.success_rate"]["measured"] == "+24h: 89.99% of 929 (sequence 86.39%..92.56%)"
    )
    assert [r["verdict"] for c, r in table.items() if c != "stage1.success_rate"] == ["✅ pass"] * 8
    [failed] = md_table_under(markdown, "Criteria that did not pass")
    assert failed["criterion"] == "stage1.success_rate"
    assert failed["on fail"] == "ROLLBACK"
    below = "the confidence sequence [86.39%, 92.56%] lies wholly below 95%"
    assert failed["reason"].startswith(f"checkpoint +24h: success rate 89.99%: {below}")
    # the HTML escapes ">" (in the threshold) and shows it back as text
    assert "&gt;= 95% (settled basis)" in html
    [row] = [r for r in page.rows("criterion") if r["criterion"] == "stage1.success_rate"]
    assert row["verdict"] == "fail"
    assert f"checkpoint +24h: success rate 89.99%: {below}" in page.all_text
    assert page.rows("selection")[0]["verdict"] == "ROLLBACK"


# -- a rollback during stage 3: HOLD ------------------------------------------------------------


def test_stage3_rollback_holds_with_reasons_and_timeline(evidence: dict[str, Path]) -> None:
    markdown, page, _ = reports(evidence["rollback"])
    assert next(iter(md_sections(markdown))) == "Verdict: ⏸️ HOLD"
    sections = md_sections(markdown)
    did_not_pass = sections["Criteria that did not pass"]
    failed, undecided = md_tables(did_not_pass)
    assert {r["criterion"]: r["on fail"] for r in failed} == {
        "stage3.elapsed": "HOLD",
        "stage3.rollbacks": "HOLD",
    }
    reasons = {r["criterion"]: r["reason"] for r in failed}
    assert "success rate dropped to 91% after a provider outage" in reasons["stage3.rollbacks"]
    assert [r["criterion"] for r in undecided] == ["stage3.success_rate"]
    assert "has no record; backfill it" in undecided[0]["reason"]
    timeline = md_tables(sections["Timeline"])[0]
    kinds = [r["event"] for r in timeline]
    assert kinds.count("stage_started") == 4
    assert "attestation" in kinds
    [rollback] = [r for r in timeline if r["event"] == "rollback"]
    assert rollback["when (UTC)"] == "2026-02-07T09:00:00Z"
    assert "success rate dropped to 91% after a provider outage" in rollback["detail"]
    [checkpoint] = [r for r in timeline if r["event"] == "checkpoint"]
    assert checkpoint["detail"] == "stage3_gate checkpoint: 5 pass, 2 fail, 1 inconclusive → HOLD"
    whens = [r["when (UTC)"][:20] for r in timeline]
    assert whens == sorted(whens)
    html_timeline = page.rows("when (UTC)")
    assert any(r["event"] == "rollback" and "provider outage" in r["detail"] for r in html_timeline)
    assert page.rows("selection")[0]["verdict"] == "HOLD"


# -- the page can be trusted to show what the ledger says ---------------------------------------


def test_html_escapes_ledger_text(evidence: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "evidence"
    shutil.copytree(evidence["low"], copy)
    reason = '<script>alert("x")</script> & <b>bold</b>'
    Store(copy).append(Rollback(reason, T0 + timedelta(hours=25)))
    assert main(["report", "--evidence-dir", str(copy), "--out", str(tmp_path / "out")]) == 0
    markdown, page, html = reports(tmp_path / "out")
    assert "<script>" not in html and "<b>" not in html
    assert reason in page.all_text
    assert "\\<script\\>" in markdown  # Markdown renderers must not take it as a tag


def test_a_broken_chain_never_reads_as_proceed(evidence: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "evidence"
    shutil.copytree(evidence["healthy"], copy)
    path = copy / "ledger.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = lines[0].replace('"percent": 10', '"percent": 11')
    path.write_text("".join(lines), encoding="utf-8")
    assert main(["report", "--evidence-dir", str(copy)]) == 0
    markdown, page, _ = reports(copy)
    assert next(iter(md_sections(markdown))) == "Verdict: ⏸️ HOLD"
    assert "hash chain is broken at line 2" in markdown
    assert "ledger hash chain broken at line 2 (error)" in markdown
    assert "hash chain is broken at line 2" in page.all_text


def test_memory_chart_is_omitted_with_a_note_when_the_csv_is_gone(
    evidence: dict[str, Path], tmp_path: Path
) -> None:
    from cutover.report import load_evidence
    from cutover.report.figures import memory_chart

    loaded = load_evidence(evidence["healthy"])
    present = memory_chart(loaded)
    assert present.data_uri.startswith("data:image/png;base64,")
    empty = tmp_path / "empty"
    empty.mkdir()
    chart = memory_chart(load_evidence(empty))
    assert chart.data_uri == ""
    assert "No result names a metrics CSV" in chart.note
    # a recorded path that no longer exists (seeded runs export into pytest's temp dirs)
    copy = tmp_path / "evidence"
    shutil.copytree(evidence["healthy"], copy)
    ledger_file = copy / "ledger.jsonl"
    text = ledger_file.read_text(encoding="utf-8").replace("metrics.csv", "gone.csv")
    ledger_file.write_text(text, encoding="utf-8")
    chart = memory_chart(load_evidence(copy))
    assert chart.data_uri == ""
    assert "gone.csv no longer exists" in chart.note


def test_report_on_an_empty_directory_holds(tmp_path: Path) -> None:
    assert main(["report", "--evidence-dir", str(tmp_path)]) == 0
    markdown, page, _ = reports(tmp_path)
    assert next(iter(md_sections(markdown))) == "Verdict: ⏸️ HOLD"
    assert "No checkpoint is recorded in the ledger" in markdown
    assert "SEEDED" not in markdown
    assert "No checkpoint is recorded in the ledger" in page.all_text
