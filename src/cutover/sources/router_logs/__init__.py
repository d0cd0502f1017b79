"""Router (Vercel) logs: count routed requests per pipeline over a window.

The router writes one Pino line per routed request (``msg`` ``Routing import request to RLM
pipeline`` with ``endpoint`` ``/process-full`` or ``/process-full-v2`` and ``v2RolloutPercent``);
the runbook greps for ``routed to v1`` / ``routed to v2``; both are read. Forms read, mixed in one
file (see DESIGN.md "Input files"):

(a) raw Pino JSON lines (``time`` as epoch ms or ISO 8601);
(b) Vercel log-drain objects, one per line or a JSON array per line, with ``timestamp`` (epoch
    ms) and the Pino line as a string in ``message`` (text before the first ``{`` is tolerated);
(c) ``vercel logs --json`` lines: one object per request with ``timestamp`` and ``logs[]``;
(d) ``vercel logs`` text: ``TIME HOST LEVEL <icon> METHOD PATH STATUS MESSAGE`` with TIME as
    ``HH:mm:ss.SS`` or ``MMM DD HH:mm:ss.SS`` (local, no year, no zone): read only when the
    export's date and zone are supplied.

A record's instant is its own ``timestamp`` (or ``timestampInMs``), else that of the object that
wraps it, else the Pino ``time``. Instants are read by ``cutover.timeutil``: epoch numbers are
milliseconds (values below 1e11 are taken as seconds); an instant outside the years 1-9999 counts
as none.

Reading (``scan``): the file is read in binary blocks; memory does not grow with its size. A
block is surveyed at once (``survey``, compiled or numpy: its lines, which hold the routing
text, which are ``{...}`` without escapes); only routing lines (those containing ``Routing
import request`` or ``routed to``) are decoded, plus lines at the start until the first
timestamp and lines at the end back to the last one. The routing lines of a layout learnt before
(``layouts``: the same keys in the same order, values of the same lengths) are read all at once;
any other in the form the router writes (a flat Pino object without escapes, nested values or
spaces) by one compiled pattern; every other routing line goes through the full JSON / text
parser (``lines``). All give the same result (``records``: what a line means), counted by the
``tally`` in file order.

Seeking: router logs are written in time order, nearly. When ``margin`` is set (default
``OUT_OF_ORDER_MARGIN``, 30 minutes), a large file is not read whole: ``sources.logs.seek``
finds the part the window, widened by the margin, needs (the whole file when it is not in
order within the margin).

Guarantee: the counts (``v1``, ``v2``, ``percent_seen``, ``duplicates``) equal those of reading
every line (``margin=None``) when no two timestamped lines of the file are out of order by more than
``margin`` (a line written before another, with an instant more than ``margin`` later). A record
out of order by more than that may be missed, and then only if at least two lines where the
read starts or stops are out of order with it by more than ``margin``. So:

* ``first_seen`` / ``last_seen`` span the first and last timestamped lines of the file and
  every routing record read (an out-of-order non-routing line in the middle does not widen it;
  with seeking, a routing record out of order near either end of the file may be unread);
* ``lines``, ``unparsed`` and ``out_of_order`` describe the lines read: the whole file when it
  is small, not in order, or read with ``margin=None``, else its start up to the first
  timestamp and the part the window, widened by the margin, needs;
* ``out_of_order`` counts decoded records (routing records, in practice) earlier than the
  latest instant decoded before them;
* ``unparsed`` counts decoded lines that could not be read, routing records with another
  endpoint or no instant, and lines that start like JSON (``{`` / ``[``) but do not end like it
  (truncated); other non-routing lines are not decoded and not judged;
* ``lines`` counts non-blank physical lines;
* ``unparsed`` also counts lines holding binary data (control characters other than tab, CR
  and escape), wherever they are.

Duplicates: a routing record counts once per identity (``records.pino_identity``, ``lines``): a
drain object's ``id`` with its timestamp and message; else the Pino ``correlationId`` with the
record's instant, message, endpoint and percent; else a request id (``requestId``) with the
same; else the exact line (and the record's place in it). ``duplicates`` counts those left out.
Identities are 64-bit hashes kept in arrays (``sources.logs.identity``): memory grows by 16 bytes
per record counted, however long the lines. A correlation id is hashed by ``text_key`` from its
bytes, one record or a block's at once, so a record has one identity however it is read.

Coverage (``coverage``, see ``sources.logs.continuity``): the runs of the window's instants the
scan saw, chained at ``resolution``, exact in a file in time order (see ``scan``), and the lines
per slot of the window with those that could not be read. Which lines are read for it depends on
the blocks, so it does not take part in comparing two results.

This package reads and never decides: criteria judge the counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from cutover.profile import Profile
from cutover.sources.logs.continuity import Continuity, Tracker
from cutover.sources.logs.seek import OUT_OF_ORDER_MARGIN, read_window
from cutover.sources.router_logs.lines import LineParser
from cutover.sources.router_logs.records import ROUTING_MESSAGE, V1_ENDPOINT, V2_ENDPOINT
from cutover.sources.router_logs.scan import Scanner
from cutover.sources.router_logs.tally import Tally
from cutover.timeutil import epoch_us

__all__ = [
    "DEFAULT_RESOLUTION",
    "OUT_OF_ORDER_MARGIN",
    "ROUTING_MESSAGE",
    "V1_ENDPOINT",
    "V2_ENDPOINT",
    "RoutingCounts",
    "count_routing",
]

# The longest silence coverage bridges when a caller names none: the profile's default (the gates
# pass the profile in use).
DEFAULT_RESOLUTION = timedelta(minutes=Profile().router_log_gap_minutes)


@dataclass(frozen=True, slots=True)
class RoutingCounts:
    """Routed requests in [window_start, window_end), each identity once, and what the file
    covers."""

    v1: int
    v2: int
    percent_seen: dict[int, int] = field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    lines: int = 0
    unparsed: int = 0
    out_of_order: int = 0
    path: str = ""
    duplicates: int = 0  # routing records left out: another with the same identity came first
    without_percent: int = 0  # routing records that log no v2RolloutPercent
    # Which lines are read for their instants depends on the blocks the file is read in (see
    # `scan`), the counts do not: equal counts compare equal whatever the coverage read.
    coverage: Continuity = field(default_factory=Continuity, compare=False)

    @property
    def routed(self) -> int:
        return self.v1 + self.v2


def count_routing(
    path: Path,
    window_start: datetime,
    window_end: datetime,
    *,
    text_date: date | None = None,
    text_tz: tzinfo | None = None,
    margin: timedelta | None = OUT_OF_ORDER_MARGIN,
    resolution: timedelta = DEFAULT_RESOLUTION,
) -> RoutingCounts:
    """Count v1/v2 routing lines of `path` whose instant lies in [window_start, window_end),
    each identity once, and what the file covers of that window at `resolution` (the longest
    silence bridged: see ``sources.logs.continuity``).

    `margin` is how far out of time order lines may be for seeking to stay exact (see the
    module notes); None reads every line.

    Raises SourceUnavailable when the file cannot be read (or is not seekable, such as a pipe),
    ValueError for a negative margin or a resolution that is not positive, and ConfigError when
    it holds `vercel logs` text routing lines (in the part read) but `text_date` / `text_tz`
    were not supplied.
    """
    lo, hi = epoch_us(window_start), epoch_us(window_end)
    tally = Tally(lo, hi, Tracker(lo, hi, resolution // timedelta(microseconds=1)))
    parser = LineParser(text_date, text_tz, str(path))
    reader = Scanner(parser, tally)
    tail = read_window(path, f"router logs {path}", (lo, hi), margin, parser.instants, reader)
    if tail is not None:
        tally.widen(*tail)
    v1, v2, percent_seen, duplicates, without_percent = tally.totals()
    return RoutingCounts(
        v1=v1,
        v2=v2,
        percent_seen=percent_seen,
        without_percent=without_percent,
        first_seen=tally.first_seen,
        last_seen=tally.last_seen,
        lines=tally.lines,
        unparsed=tally.unparsed,
        out_of_order=tally.out_of_order,
        path=str(path),
        duplicates=duplicates,
        coverage=tally.coverage.result(),
    )
