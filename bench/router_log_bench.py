"""Router log counting against `grep -c` on a generated ~1 GB Pino router log.

Builds the log (time order, a few lines out of order within the seeking margin, some of them at
the window's edges, and a few batches of lines delivered twice, as a drain does), then measures,
each in its own process: `grep -c` (baseline, from the page cache), `count_routing` for a 24 h
window in the middle of the file (seeking), the same window with `margin=None` (every line
read), the whole file, an independent parser that json-decodes every line and drops repeats
with a set, and a snapshot that is exactly the window (the window's lines in a file of their
own, as a platform fetch writes it) against `grep -c` on that file. Prints a table; exits 1 only
if a count (duplicates included) disagrees with the independent one, or the reader sees a gap
in the continuous log.

    .venv/bin/python bench/router_log_bench.py [--size-mb 1024] [--days 14] [--keep] [--file F]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

T0 = datetime(2026, 3, 2, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
ROUTING = "Routing import request to RLM pipeline"
HOSTS = ("soulprint-router-7f9c4d-x2k8p", "soulprint-router-7f9c4d-m4q1z")
WINDOW = timedelta(hours=24)
MIN_THROUGHPUT_VS_GREP = 0.25  # the targets for counting a window
MIN_SNAPSHOT_VS_GREP = 0.5  # a snapshot that is exactly the window (a platform fetch's)
PEAK_RSS_LIMIT_MB = 150.0
REPEATED_EVENTS = 200  # events in a batch a drain delivers twice
STARTUP_SETTLE_S = 0.3  # a child's wait after its imports, before the timed call


# --- the log ------------------------------------------------------------------------------------

R_LINE = (
    '{"level":30,"time":%d,"pid":%d,"hostname":"%s","correlationId":"%s",'
    f'"msg":"{ROUTING}",'
    '"endpoint":"%s","v2RolloutPercent":10,"userId":"%s","conversationCount":%d}\n'
)
RECEIVED = (
    '{"level":30,"time":%d,"pid":%d,"hostname":"%s","correlationId":"%s",'
    '"msg":"Import request received","userId":"%s","conversationCount":%d,"messageCount":%d}\n'
)
ACCEPTED = (
    '{"level":30,"time":%d,"pid":%d,"hostname":"%s","correlationId":"%s",'
    '"msg":"RLM accepted job","status":202,"jobId":"%s",'
    '"storagePath":"user-imports/%s/raw-%d.json","durationMs":%d}\n'
)
FAILED = (
    '{"level":50,"time":%d,"pid":%d,"hostname":"%s","correlationId":"%s",'
    '"msg":"RLM returned error","status":503,"endpoint":"%s","durationMs":%d}\n'
)
TIMED_OUT = (
    '{"level":40,"time":%d,"pid":%d,"hostname":"%s","correlationId":"%s",'
    '"msg":"RLM job submission timed out - will retry in background","endpoint":"%s"}\n'
)
HEALTH = (
    '{"level":30,"time":%d,"pid":%d,"hostname":"%s","req":{"id":%d,"method":"GET",'
    '"url":"/api/health","remoteAddress":"10.0.%d.%d"},"res":{"statusCode":200},'
    '"responseTime":%d,"msg":"request completed"}\n'
)
V1, V2 = "/process-full", "/process-full-v2"


@dataclass(frozen=True)
class Plan:
    window_start: datetime
    window_end: datetime


def window_of(days: float) -> Plan:
    middle = T0 + timedelta(days=days) / 2
    return Plan(middle - WINDOW / 2, middle + WINDOW / 2)


def generate(path: Path, size_bytes: int, days: float, seed: int = 2026) -> int:
    """Write the log; returns the number of lines. Events (received, routed, RLM answer, and
    a health check every other event) are evenly spread over `days`; a few routing lines are
    written out of time order: every ~150k lines one late by 1-25 minutes, and at each window
    edge some late or early by up to 20 minutes (the margin is 30)."""
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(8192)]
    plan = window_of(days)
    w0 = int(plan.window_start.timestamp() * 1000)
    w1 = int(plan.window_end.timestamp() * 1000)
    minute = 60_000
    # (write when the clock passes this instant, the line's own instant)
    specials = sorted(
        [
            (w0 + 10 * minute, w0 + 500),  # late by 10 min, inside the window
            (w0 + 5 * minute, w0 - 500),  # late by 5 min, just before it
            (w0 - 15 * minute, w0 + 1000),  # early by 15 min, inside
            (w1 + 20 * minute, w1 - 500),  # late by 20 min, inside
            (w1 - 10 * minute, w1 + 500),  # early by 10 min, just after it
            (w1 + 2 * minute, w1 - 1),  # late by 2 min, the window's last millisecond
        ]
    )
    event_bytes = 1000  # about: 3.5 lines of ~290 bytes
    events = max(size_bytes // event_bytes, 1)
    step = days * 86_400_000 / events
    lines = written = 0
    batch: list[str] = []
    clock = float(T0_MS)
    next_late = 150_000
    next_repeat = 250_000  # a batch of the last lines delivered again, a few minutes late
    with open(path, "w", encoding="ascii") as handle:
        while written < size_bytes:
            clock += step
            now = int(clock)
            host = rng.choice(HOSTS)
            pid = 1 if host == HOSTS[0] else 7
            cid, user = rng.choice(ids), rng.choice(ids)
            endpoint = V2 if rng.random() < 0.1 else V1
            conversations = rng.randint(1, 400)
            out = [
                RECEIVED % (now, pid, host, cid, user, conversations, conversations * 37),
                R_LINE % (now + 2, pid, host, cid, endpoint, user, conversations),
            ]
            answer = rng.random()
            if answer < 0.985:
                job = rng.choice(ids)
                out.append(
                    ACCEPTED % (now + 41, pid, host, cid, job, user, now, rng.randint(5, 900))
                )
            elif answer < 0.995:
                out.append(FAILED % (now + 90, pid, host, cid, endpoint, rng.randint(5, 900)))
            else:
                out.append(TIMED_OUT % (now + 10_000, pid, host, cid, endpoint))
            if lines % 2:
                a, b = rng.randint(0, 255), rng.randint(0, 255)
                out.append(HEALTH % (now + 50, pid, host, lines, a, b, rng.randint(1, 20)))
            while specials and specials[0][0] <= now:
                _, instant = specials.pop(0)
                out.append(R_LINE % (instant, pid, host, cid, V2, user, 3))
            if lines >= next_late:
                next_late += 150_000
                late = now - rng.randint(1, 25) * minute
                out.append(R_LINE % (late, pid, host, cid, V1, user, 5))
            lines += len(out)
            chunk = "".join(out)
            written += len(chunk)
            batch.append(chunk)
            if lines >= next_repeat and len(batch) > REPEATED_EVENTS:
                next_repeat += 250_000
                again = "".join(batch[-REPEATED_EVENTS:])
                lines += again.count("\n")
                written += len(again)
                batch.append(again)
            if len(batch) >= 4096:
                handle.write("".join(batch))
                batch.clear()
        handle.write("".join(batch))
    return lines


def window_snapshot(path: Path, plan: Plan, out: Path) -> int:
    """The lines of `path` whose own `time` lies in the window, in a file of their own."""
    lo = int(plan.window_start.timestamp() * 1000)
    hi = int(plan.window_end.timestamp() * 1000)
    kept = 0
    with open(path, "rb") as source, open(out, "wb") as target:
        for raw in source:
            at = raw.find(b'"time":')
            instant = int(raw[at + 7 : raw.index(b",", at)])
            if lo <= instant < hi:
                target.write(raw)
                kept += 1
    return kept


# --- the measured runs (child processes) -------------------------------------------------------


def child_count(path: str, start: str, end: str, margin: bool) -> dict[str, Any]:
    try:
        from cutover.sources.router_logs import count_routing, speedups
    except ImportError:  # not installed: run from the checkout
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        from cutover.sources.router_logs import count_routing, speedups

    # start-up is not the call: numpy's OpenBLAS starts its worker threads at import, and they
    # spin for a moment before they sleep, taking the other core (up to ~30 ms of CPU here)
    time.sleep(STARTUP_SETTLE_S)
    baseline_kb = _status_kb("VmRSS")
    read_before = _rchar()
    wall, cpu = time.perf_counter(), time.process_time()
    extra: dict[str, Any] = {} if margin else {"margin": None}
    result = count_routing(
        Path(path), datetime.fromisoformat(start), datetime.fromisoformat(end), **extra
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall": wall,
        "cpu": cpu,
        "read": _rchar() - read_before,
        "peak_kb": _status_kb("VmHWM"),
        "baseline_kb": baseline_kb,
        "v1": result.v1,
        "v2": result.v2,
        "percent_seen": {str(k): v for k, v in result.percent_seen.items()},
        "first_seen": result.first_seen.isoformat() if result.first_seen else None,
        "last_seen": result.last_seen.isoformat() if result.last_seen else None,
        "lines": result.lines,
        "unparsed": result.unparsed,
        "out_of_order": result.out_of_order,
        "duplicates": result.duplicates,
        "runs": len(result.coverage.runs),
        "kernels": "numpy" if speedups.KERNELS is None else "compiled",
    }


def child_independent(path: str, start: str, end: str) -> dict[str, Any]:
    """Every line json-decoded; a routing line is counted by its own `time` alone."""
    lo = int(datetime.fromisoformat(start).timestamp() * 1000)
    hi = int(datetime.fromisoformat(end).timestamp() * 1000)
    window: dict[str, int] = {"v1": 0, "v2": 0, "duplicates": 0}
    whole: dict[str, int] = {"v1": 0, "v2": 0, "duplicates": 0}
    seen: set[tuple[Any, ...]] = set()  # each routed request once: its id and its record
    window_percents: dict[str, int] = {}
    whole_percents: dict[str, int] = {}
    first = last = None
    lines = 0
    loads = json.loads
    read_before = _rchar()
    wall, cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as handle:
        for raw in handle:
            record = loads(raw)
            lines += 1
            instant = record["time"]
            if first is None:
                first = instant
            last = instant
            if record.get("msg") != ROUTING:
                continue
            key = {V1: "v1", V2: "v2"}[record["endpoint"]]
            percent = str(record["v2RolloutPercent"])
            identity = (record["correlationId"], instant, record["endpoint"], percent)
            if identity in seen:
                whole["duplicates"] += 1
                if lo <= instant < hi:
                    window["duplicates"] += 1
                continue
            seen.add(identity)
            whole[key] += 1
            whole_percents[percent] = whole_percents.get(percent, 0) + 1
            if lo <= instant < hi:
                window[key] += 1
                window_percents[percent] = window_percents.get(percent, 0) + 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_kb = _status_kb("VmHWM")

    def iso(ms: int | None) -> str | None:
        return None if ms is None else (T0 + timedelta(milliseconds=ms - T0_MS)).isoformat()

    return {
        "wall": wall,
        "cpu": cpu,
        "read": _rchar() - read_before,
        "peak_kb": peak_kb,
        "window": {**window, "percent_seen": dict(sorted(window_percents.items()))},
        "whole": {**whole, "percent_seen": dict(sorted(whole_percents.items()))},
        "first_seen": iso(first),
        "last_seen": iso(last),
        "lines": lines,
    }


def _status_kb(field: str) -> int:
    """VmHWM (peak resident set of this process since exec) or VmRSS, in KiB; 0 if unknown."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rchar() -> int:
    """Bytes this process has read (Linux /proc/self/io), 0 where unknown."""
    try:
        with open("/proc/self/io") as handle:
            for line in handle:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- the parent ----------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    wall: float
    cpu: float
    read: int
    peak_rss_kb: int  # 0: unknown
    data: dict[str, Any]


def spawn(
    name: str, argv: list[str], *, internal_timing: bool, env: dict[str, str] | None = None
) -> Run:
    """Run argv to completion. A Python child reports its own timing and peak RSS (VmHWM: a
    forked child's rusage would count the parent's memory too); for grep, /usr/bin/time."""
    time_tool = Path("/usr/bin/time")
    if not internal_timing and time_tool.exists():
        argv = [str(time_tool), "-f", "maxrss_kb=%M", *argv]
    started = time.perf_counter()
    environment = None if env is None else {**os.environ, **env}
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
    ) as process:
        _, status, usage = os.wait4(process.pid, 0)  # the output is small: no pipe fills up
        wall = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        assert process.stdout is not None and process.stderr is not None
        out, err = process.stdout.read(), process.stderr.read()
    if code not in (0, 1) or (internal_timing and code):
        raise SystemExit(f"{name} failed ({code}): {err.decode()[-2000:]}")
    data: dict[str, Any] = json.loads(out) if internal_timing else {"stdout": out.decode()}
    cpu = usage.ru_utime + usage.ru_stime
    if internal_timing:  # the call itself, without interpreter start-up and imports
        wall, cpu = data["wall"], data["cpu"]
        peak = int(data.get("peak_kb", 0))
    else:
        found = [line for line in err.decode().splitlines() if line.startswith("maxrss_kb=")]
        peak = int(found[-1].split("=")[1]) if found else 0
    return Run(name, wall, cpu, int(data.get("read", 0)), peak, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="log size to build (MiB)")
    parser.add_argument("--days", type=float, default=14.0, help="time the log spans")
    parser.add_argument("--keep", action="store_true", help="keep the generated log")
    parser.add_argument("--file", type=Path, help="use this log (made by --keep) instead")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the fast cases")
    parser.add_argument("--child", choices=["count", "count-all-lines", "independent"])
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--json", type=Path, help="write the result rows here (run_all.py)")
    args = parser.parse_args(argv)

    if args.child:
        file, start, end = str(args.file), args.start, args.end
        if args.child == "independent":
            print(json.dumps(child_independent(file, start, end)))
        else:
            print(json.dumps(child_count(file, start, end, args.child == "count")))
        return 0

    workdir = None
    if args.file is not None:
        path = args.file
        print(f"log: {path} (given)")
    else:
        workdir = tempfile.mkdtemp(prefix="router-log-bench-")
        path = Path(workdir) / "router.log"
        began = time.perf_counter()
        count = generate(path, args.size_mb << 20, args.days)
        took = time.perf_counter() - began
        print(f"log: {path}: {count:,} lines, built in {took:.1f} s")
    try:
        return measure(path, args)
    finally:
        if workdir is not None and not args.keep:
            path.unlink(missing_ok=True)
            os.rmdir(workdir)
        elif workdir is not None:
            print(f"kept: {path} (rerun with --file {path} --days {args.days:g})")


def measure(path: Path, args: argparse.Namespace) -> int:
    size = path.stat().st_size
    mb = size / 1e6
    plan = window_of(args.days)
    everything = (T0 - timedelta(days=3650), T0 + timedelta(days=3650))

    def child(kind: str, start: datetime, end: datetime, log: Path = path) -> list[str]:
        me = [sys.executable, str(Path(__file__).resolve()), "--file", str(log)]
        return me + ["--child", kind, "--start", start.isoformat(), "--end", end.isoformat()]

    def median_run(name: str, argv: list[str], env: dict[str, str] | None = None) -> Run:
        runs = [spawn(name, argv, internal_timing=True, env=env) for _ in range(args.repeat)]
        return sorted(runs, key=lambda run: run.wall)[len(runs) // 2]

    grep = ["grep", "-c", "Routing import request", str(path)]
    spawn("warm-up", grep, internal_timing=False)  # brings the file into the page cache
    greps = [spawn("grep", grep, internal_timing=False) for _ in range(args.repeat)]
    baseline = statistics.median(run.wall for run in greps)
    grep_run = min(greps, key=lambda run: abs(run.wall - baseline))

    window = (plan.window_start, plan.window_end)
    seek = median_run("window", child("count", *window))
    all_lines = spawn("window, every line", child("count-all-lines", *window), internal_timing=True)
    whole = spawn("whole file", child("count", *everything), internal_timing=True)
    independent = spawn("independent", child("independent", *window), internal_timing=True)
    snapshot_path = path.with_name(path.name + ".window")
    window_snapshot(path, plan, snapshot_path)
    snapshot_mb = snapshot_path.stat().st_size / 1e6
    snapshot_grep = ["grep", "-c", "Routing import request", str(snapshot_path)]
    spawn("warm-up", snapshot_grep, internal_timing=False)
    snapshot_greps = [spawn("grep", snapshot_grep, internal_timing=False) for _ in greps]
    snapshot_baseline = statistics.median(run.wall for run in snapshot_greps)
    snapshot_count = child("count", *window, log=snapshot_path)
    snapshot = median_run("snapshot", snapshot_count)
    # where the compiled kernels are not built
    fallback = median_run("snapshot, numpy kernels", snapshot_count, {"CUTOVER_PURE_PYTHON": "1"})
    snapshot_path.unlink()

    print()
    print(
        f"file: {mb:,.0f} MB, {independent.data['lines']:,} lines, spanning "
        f"{independent.data['first_seen']} .. {independent.data['last_seen']}"
    )
    print(
        f"window: {plan.window_start.isoformat()} .. {plan.window_end.isoformat()} "
        f"(24 h in the middle); grep counted {grep_run.data['stdout'].strip()} lines"
    )
    print(
        f"machine: {os.cpu_count()} cores; timed runs: median of {args.repeat} for grep and "
        "the window and the snapshots, one run otherwise; wall clock of the call, not of process "
        "start-up; "
        f"reader kernels: {seek.data['kernels']}"
    )
    print()
    header = (
        f"{'case':<44} {'wall s':>7} {'cpu s':>7} {'MB/s':>8} {'x grep':>7} {'read MB':>8} "
        f"{'peak RSS MB':>12}"
    )
    print(header)
    print("-" * len(header))
    rows = [
        ("grep -c 'Routing import request'", grep_run),
        ("count_routing, 24 h window (seeking)", seek),
        ("count_routing, 24 h window, margin=None", all_lines),
        ("count_routing, whole file", whole),
        ("independent: json.loads every line", independent),
    ]
    for label, run in rows:
        read = f"{run.read / 1e6:8.0f}" if run.read else f"{'-':>8}"
        peak = f"{run.peak_rss_kb / 1024:12.1f}" if run.peak_rss_kb else f"{'-':>12}"
        print(
            f"{label:<44} {run.wall:7.2f} {run.cpu:7.2f} {mb / run.wall:8.0f} "
            f"{baseline / run.wall:7.2f} {read} {peak}"
        )
    print(
        f"{'snapshot that is the window (' + f'{snapshot_mb:,.0f} MB)':<44} {snapshot.wall:7.2f} "
        f"{snapshot.cpu:7.2f} {snapshot_mb / snapshot.wall:8.0f} "
        f"{snapshot_baseline / snapshot.wall:7.2f} {snapshot.read / 1e6:8.0f} "
        f"{snapshot.peak_rss_kb / 1024:12.1f}   (x grep -c on the snapshot: "
        f"{snapshot_baseline:.2f} s; target >= {MIN_SNAPSHOT_VS_GREP:g})"
    )
    print(
        f"{'the same, numpy kernels (none compiled)':<44} {fallback.wall:7.2f} "
        f"{fallback.cpu:7.2f} {snapshot_mb / fallback.wall:8.0f} "
        f"{snapshot_baseline / fallback.wall:7.2f} {fallback.read / 1e6:8.0f} "
        f"{fallback.peak_rss_kb / 1024:12.1f}"
    )
    print()
    print("x grep: throughput over the whole file (its size / wall time) relative to grep's.")
    print(
        "peak RSS: the process's high-water mark, interpreter and numpy included "
        f"({seek.data['baseline_kb'] / 1024:.0f} MB resident before count_routing was called)."
    )

    ok = True
    expected_window = independent.data["window"]
    expected_whole = independent.data["whole"]
    for label, run, expected in (
        ("window (seeking)", seek, expected_window),
        ("window (margin=None)", all_lines, expected_window),
        ("whole file", whole, expected_whole),
        ("snapshot that is the window", snapshot, expected_window),
        ("the same, numpy kernels", fallback, expected_window),
    ):
        got = {key: run.data[key] for key in ("v1", "v2", "duplicates", "percent_seen")}
        agrees = got == expected
        span = (run.data["first_seen"], run.data["last_seen"])
        spans = run in (snapshot, fallback) or span == (
            independent.data["first_seen"],
            independent.data["last_seen"],
        )  # a snapshot spans its window, not the file
        continuous = run.data["runs"] == 1  # the log has no silence: one run of instants
        ok = ok and agrees and spans and continuous
        print(
            f"{'agrees' if agrees and spans and continuous else 'DISAGREES'}: {label}: "
            f"v1={got['v1']:,} v2={got['v2']:,} duplicates={got['duplicates']:,} "
            f"percent_seen={got['percent_seen']} out_of_order={run.data['out_of_order']} "
            f"coverage runs={run.data['runs']} (independent: v1={expected['v1']:,} "
            f"v2={expected['v2']:,} duplicates={expected['duplicates']:,}"
            f"{'' if spans else f'; span {span}'})"
        )
    if whole.data["lines"] != independent.data["lines"]:
        ok = False
        print(f"DISAGREES: whole file lines {whole.data['lines']} != {independent.data['lines']}")
    if args.json is not None:
        from run_all import Row

        log = f"{mb / 1000:.2g} GB"
        result = [
            # throughput >= 0.25x grep's is time <= 4x grep's
            Row(
                f"router log: 24 h window of {log}, time / grep -c time",
                seek.wall / baseline,
                1 / MIN_THROUGHPUT_VS_GREP,
                "x",
                f"{baseline / seek.wall:.2f}x grep's throughput",
            ),
            Row(
                f"router log: 24 h window of {log}, peak RSS",
                seek.peak_rss_kb / 1024,
                PEAK_RSS_LIMIT_MB,
                " MB",
            ),
            Row(
                f"router log: a snapshot that is the 24 h window ({snapshot_mb:,.0f} MB), "
                "time / grep -c time",
                snapshot.wall / snapshot_baseline,
                1 / MIN_SNAPSHOT_VS_GREP,
                "x",
                f"{snapshot_baseline / snapshot.wall:.2f}x grep's throughput",
            ),
            Row(
                "router log: counts that differ from the independent parser",
                0.0 if ok else 1.0,
                0.0,
                "",
            ),
        ]
        args.json.write_text(json.dumps([row.as_json() for row in result]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
