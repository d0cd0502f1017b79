"""The router reader's compiled kernels (``_speedups.c``) give what their numpy versions give:
the survey of a block and the fit of lines to a layout, on the files built to break the
reader and on random bytes; the reader counts a file the same with either. Where a C compiler
is at hand, the kernels are built (else the reader would silently be the slow one)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_router_logs_layouts import ODD_BYTES, T0, T0_MS, WHOLE, routed, router_file, scanner

import log_reading
from compilers import c_compiler
from cutover.sources.router_logs import count_routing, layouts, scan, speedups, survey
from router_reference import Reference

compiled = pytest.mark.skipif(speedups.KERNELS is None, reason="the kernels are not built here")
# bytes the survey looks for, and the needles' own, so that they meet at every offset
SURVEYED = b"\n\n {}\\\t\r\x1b\x00\x7f\xff\xc3iRtorgu" + b"Routing import request routed to"


def test_the_kernels_are_built_where_a_compiler_is() -> None:
    if speedups.pure_python_asked():
        pytest.skip("CUTOVER_PURE_PYTHON asks for the numpy kernels")
    if (missing := c_compiler()) is not None:
        pytest.skip(f"{missing}: numpy does the work")
    assert speedups.KERNELS is not None, "the _speedups extension was not built"


@compiled
def test_the_compiled_survey_looks_for_the_survey_s_needles() -> None:
    assert speedups.KERNELS is not None
    assert speedups.KERNELS.NEEDLES == survey.NEEDLES


def surveys_equal(buf: bytearray, end: int) -> None:
    scratch = np.empty(64, dtype=np.bool_)
    got, expected = survey.survey(buf, end, scratch), survey.survey_numpy(buf, end, scratch)
    for field in ("starts", "ends", "plain", "judged", "routing"):
        assert getattr(got, field).tolist() == getattr(expected, field).tolist(), field


@compiled
@settings(max_examples=100, deadline=None)
@given(lines=router_file(), newline_at_end=st.booleans(), tail=st.binary(max_size=70))
def test_the_compiled_survey_equals_numpys_on_router_files(
    lines: list[bytes], newline_at_end: bool, tail: bytes
) -> None:
    """Bytes after `end` (the rest of a reused buffer) are not looked at."""
    content = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    if content:
        surveys_equal(bytearray(content + tail), len(content))


@compiled
@settings(max_examples=500, deadline=None)
@given(content=st.lists(st.sampled_from(list(SURVEYED)), min_size=1, max_size=400))
def test_the_compiled_survey_equals_numpys_on_any_bytes(content: list[int]) -> None:
    """Lines of any length (most far shorter than the kernel expects: it surveys them again)."""
    surveys_equal(bytearray(content), len(content))


@compiled
def test_the_compiled_survey_refuses_an_end_past_the_buffer() -> None:
    assert speedups.KERNELS is not None
    ends, flags = np.empty(4, np.int64), np.empty(4, np.uint8)
    with pytest.raises(ValueError, match="end is outside"):
        speedups.KERNELS.survey(bytearray(b"{}\n"), 4, ends, flags)


@compiled
@settings(max_examples=300, deadline=None)
@given(
    changes=st.lists(
        st.tuples(
            st.integers(0, 7),
            st.integers(0, 400),
            st.sampled_from(list(ODD_BYTES + b"0123456789abcdef#~")),
        ),
        max_size=12,
    ),
    n=st.integers(0, 10**6),
    count=st.sampled_from([1, 12, 400]),
)
def test_the_compiled_fit_equals_numpys(
    changes: list[tuple[int, int, int]], n: int, count: int
) -> None:
    """Eight lines of one layout's length, some with bytes changed: the same lines fit, with
    the same instants and identities."""
    exemplar = routed(T0_MS + 5000, n, count=count).encode()
    layout = scanner()._learn(exemplar)
    assert layout is not None
    lines = [bytearray(routed(T0_MS + 977 * i, n + i, count=count).encode()) for i in range(8)]
    for line, at, byte in changes:
        lines[line][at % len(exemplar)] = byte
    data = np.frombuffer(b"-" + b"\n".join(lines), dtype=np.uint8)
    starts = np.arange(8, dtype=np.intp) * (len(exemplar) + 1) + 1
    got, expected = layouts.fit(data, starts, layout), layouts.fit_numpy(data, starts, layout)
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.tolist() == theirs.tolist()


@compiled
def test_the_compiled_fit_refuses_a_line_outside_the_data() -> None:
    exemplar = routed(T0_MS, 1).encode()
    layout = scanner()._learn(exemplar)
    assert layout is not None
    data = np.frombuffer(exemplar, dtype=np.uint8)
    with pytest.raises(ValueError, match="outside the data"):
        layouts.fit(data, np.array([1]), layout)


HOSTILE_FIT = """
import numpy as np
from cutover.sources.router_logs import speedups
data = np.frombuffer(b"1" * 16, np.uint8)
def fit(starts, time_at=0, ident_at=0, ident_length=-1, keys=None):
    n = len(starts)
    return speedups.KERNELS.fit(
        data, starts, 16, np.full(16, 0x30, np.uint8), np.full(16, 10, np.uint8), time_at,
        ident_at, ident_length, 1, 3, 5, np.zeros(n, np.uint8), np.zeros(n, np.int64),
        np.zeros(n, np.int64) if keys is None else keys)
"""


@compiled
@pytest.mark.parametrize(
    "call",
    [
        "fit(np.zeros(1, np.int64), time_at=(1 << 63) - 5)",
        "fit(np.zeros(1, np.int64), ident_at=1, ident_length=(1 << 63) - 1)",
        "fit(np.array([(1 << 63) - 8], np.int64))",
        # keys[i] is starts[i + 1]: an output over an input, written after the line is read
        "b = np.zeros(4, np.int64); fit(b[:3], ident_length=8, keys=b[1:])",
        "fit(np.zeros(2, np.int32))",
        "fit(np.frombuffer(bytearray(17), np.int64, 2, 1))",  # misaligned
    ],
    ids=[
        "time past the line",
        "id past the line",
        "start past the data",
        "aliased",
        "int32",
        "misaligned",
    ],
)
def test_the_compiled_fit_refuses_arguments_it_cannot_read_safely(call: str) -> None:
    """A sum that would overflow, an output that is an input, items of another size: an
    exception, never a read outside the buffers (run in a child: that would be a crash)."""
    done = subprocess.run(
        [sys.executable, "-c", HOSTILE_FIT + call], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])
    assert "ValueError" in done.stderr or "TypeError" in done.stderr, done.stderr[-500:]


@compiled
def test_the_compiled_survey_refuses_outputs_of_another_item_size() -> None:
    assert speedups.KERNELS is not None
    buf, flags = bytearray(b"{}\n{}\n"), np.zeros(4, np.uint8)
    for ends in (np.zeros(4, np.int32), np.frombuffer(bytearray(41), np.int64, 4, 1)):
        with pytest.raises(TypeError, match="ends"):
            speedups.KERNELS.survey(buf, 6, ends, flags)


@compiled
@pytest.mark.parametrize("byte", [*range(32), 0x5C, 0x7F, 0x80, 0xFF])
def test_the_compiled_survey_judges_each_byte_as_numpy_does(byte: int) -> None:
    """Tab, CR and ESC make a line not plain, any other control byte binary (judged)."""
    for line in (
        b'{"a":"x' + bytes([byte]) + b'y"}',
        b'{"msg":"Routing import request' + bytes([byte]) + b'"}',
    ):
        for content in (line, line + b"\n", b"{}\n" + line + b"\n" + b"x" * 70):
            surveys_equal(bytearray(content), len(content))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=router_file(), chunk=st.sampled_from([64, 4096, 1 << 22]), narrow=st.booleans())
def test_the_numpy_kernels_count_files_as_the_full_parser(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], chunk: int, narrow: bool
) -> None:
    """The reader where the kernels are not built (the other tests run the built ones)."""
    path = tmp_path_factory.mktemp("numpy") / "r.log"
    path.write_bytes(b"\n".join(lines) + b"\n")
    start, end = (T0 + timedelta(minutes=30), T0 + timedelta(hours=1)) if narrow else WHOLE
    expected = Reference(Path(path)).count(start, end)
    with log_reading.numpy_kernels(), log_reading.tuned(scan, chunk=chunk):
        assert count_routing(path, start, end, margin=None) == expected
