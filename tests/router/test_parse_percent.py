"""How the router reads V2_ROLLOUT_PERCENT: table cases and a differential test against node."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from cutover.router import JS_WHITESPACE, js_parse_int, parse_rollout_percent

pytestmark = pytest.mark.router

NO_NODE = "node is not installed: the differential parse test needs real JavaScript"


@pytest.mark.parametrize(
    ("raw", "percent"),
    [
        (None, 0),  # unset -> parseInt(undefined) is NaN -> 0
        ("", 0),
        ("abc", 0),
        ("10", 10),
        ("10abc", 10),
        ("12.7", 12),
        (" 7", 7),
        ("\t\n\v\f\r 7", 7),
        ("\u00a0\ufeff\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u30007", 7),
        ("7 ", 7),
        ("+7", 7),
        ("-5", 0),
        ("-0", 0),
        ("0", 0),
        ("100", 100),
        ("101", 100),
        ("250", 100),
        ("1" * 400, 100),  # JS: Infinity; any value above 100 clamps to 100
        ("0010", 10),
        ("1e3", 1),
        ("0x10", 0),
        ("1_000", 1),  # Python's int() would say 1000
        ("٥", 0),  # Arabic-Indic five: parseInt only takes ASCII digits
        ("５0", 0),  # fullwidth five
        ("\u00857", 0),  # NEL is whitespace to Python, not to JavaScript
        ("\u200b7", 0),  # zero-width space is not whitespace either
        ("+-7", 0),
        ("- 7", 0),
        ("Infinity", 0),
        (".5", 0),
    ],
)
def test_parse_rollout_percent_table(raw: str | None, percent: int) -> None:
    assert parse_rollout_percent(raw) == percent


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("", None), ("abc", None), ("-5", -5), ("-0", 0), ("12.7", 12), (" +42x", 42), ("250", 250)],
)
def test_js_parse_int_reports_the_raw_parse(raw: str, parsed: int | None) -> None:
    assert js_parse_int(raw) == parsed


def test_js_parse_int_handles_digit_strings_beyond_pythons_conversion_limit() -> None:
    assert js_parse_int("9" * 10_000) == 10**10_000 - 1


# Characters a percent string may begin with: every JS whitespace kind, plus look-alikes that
# Python treats as whitespace or digits but JavaScript does not.
_LOOKALIKES = "\x85\x1c\x1d\x1e\x1f\u180e\u200b\u2060"
_NON_ASCII_DIGITS = "٠٥٩۵५০５²¹"
_JUNK = ".eExX_,%abc+- "

_prefix = st.text(alphabet=sorted(JS_WHITESPACE) + list(_LOOKALIKES), max_size=4)
_sign = st.sampled_from(["", "", "+", "-", "++", "+-", "--"])
_digit_alphabet = "0123456789" + _NON_ASCII_DIGITS
# Mostly short runs, so that in-range percents (not just clamped ones) are well covered.
_digits = st.text(alphabet=_digit_alphabet, max_size=3) | st.text(
    alphabet=_digit_alphabet, max_size=25
)
_tail = st.text(alphabet="0123456789" + _JUNK + _NON_ASCII_DIGITS + "\t \u00a0", max_size=6)

percent_strings = st.one_of(
    st.builds(lambda *parts: "".join(parts), _prefix, _sign, _digits, _tail),
    st.from_regex(r"\A\s*[+-]?\d{0,4}(\.\d*)?[a-z%]*\Z"),
    st.text(max_size=12),
)

_NODE_SCRIPT = r"""
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const values = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const out = values.map((v) => {
    // The router's expression, verbatim.
    const n = parseInt(v, 10);
    const p = Number.isNaN(n) ? 0 : Math.min(100, Math.max(0, n));
    const raw = Number.isNaN(n) ? "NaN" : Number.isSafeInteger(n) ? String(n) : "unsafe";
    return [p, raw];
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def _collect(strategy: st.SearchStrategy[str], count: int) -> list[str]:
    """Draw ``count`` examples from ``strategy`` without evaluating anything yet."""
    samples: list[str] = []

    # Generation only: nothing can fail inside, so shrinking would have nothing to do.
    @settings(max_examples=count, phases=[Phase.generate], database=None)
    @given(strategy)
    def draw(value: str) -> None:
        samples.append(value)

    draw()
    return samples


def test_parse_matches_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip(NO_NODE)
    samples = _collect(percent_strings, 600) + [
        "",
        " 7",
        "10abc",
        "-0",
        "1" * 400,
        "".join(sorted(JS_WHITESPACE)) + "42",
        *(ch + "7" for ch in sorted(JS_WHITESPACE) + list(_LOOKALIKES)),
    ]
    # One node process for every example: starting node per example would dominate the run.
    completed = subprocess.run(
        [node, "-e", _NODE_SCRIPT],
        input=json.dumps(samples),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=True,
    )
    answers = json.loads(completed.stdout)
    assert len(answers) == len(samples)

    mismatches = []
    for raw, (node_percent, node_raw) in zip(samples, answers, strict=True):
        parsed = js_parse_int(raw)
        ours_raw = "NaN" if parsed is None else str(parsed)
        if parse_rollout_percent(raw) != node_percent or (
            node_raw != "unsafe" and ours_raw != node_raw
        ):
            mismatches.append(
                f"{raw!r}: node {node_percent} (parseInt {node_raw}), "
                f"model {parse_rollout_percent(raw)} (parseInt {ours_raw})"
            )
    assert not mismatches, f"{len(mismatches)} of {len(samples)} differ:\n" + "\n".join(
        mismatches[:20]
    )
