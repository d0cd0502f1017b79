"""How often each decision mode rolls back a healthy stage 1, and how fast it catches a bad one.

Simulates `--timelines` stage-1 timelines (24 h at 10%) per true success rate (99, 97, 95, 93,
90 and 80%): v2 imports arrive like the healthy scenario's (400 routed requests an hour, 10% of
them to v2, a Poisson stream), take a log-normal ~4 minutes (sigma 0.45) and settle when they
finish. Every timeline is looked at by the rollback monitor every 15 minutes
(`rollback.success_rate`) and by the stage gate at its checkpoints (+1 h, +6 h, +24 h,
`stage1.success_rate`), with the very rule the gates use (`cutover.criteria.rates`), in each
mode of the profile. A timeline ends at its first ROLLBACK; at +24 h it PROCEEDs when the last
checkpoint meets the threshold, else it HOLDs. (The other criteria are taken to pass.)

Printed per mode and rate: ROLLBACK within 24 h (false at >= 95%), PROCEED at +24 h (false
under 95%), the miss rate (no ROLLBACK under 95%) and the median hours to the ROLLBACK (over
every timeline: "never" when more than half are never rolled back). The last line is the
profile's default mode, `decisions: mode=<default> false_rollback_at_97=<x>%
detect_hours_at_90=<y> false_proceed_at_90=<z>%` (on one line).

    .venv/bin/python bench/decisions_bench.py [--timelines 10000] [--seed 12]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from cutover.criteria.rates import Code, decide_codes
from cutover.profile import Profile

RATES = (99.0, 97.0, 95.0, 93.0, 90.0, 80.0)
V2_PER_HOUR = 400 * 0.10  # the healthy scenario's stage 1
LOOK_MINUTES = 15
HOURS = 24
CHECKPOINTS_H = (1, 6, 24)
MEDIAN_MINUTES, SIGMA = 4.0, 0.45
MODES = ("runbook", "evidence")


@dataclass(frozen=True, slots=True)
class Row:
    mode: str
    rate: float
    rollback_pct: float
    proceed_pct: float
    median_hours: float  # inf: more than half never rolled back


def simulate(rate: float, timelines: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Settled successes and trials to date at each look: arrays (timelines, looks)."""
    looks = HOURS * 60 // LOOK_MINUTES
    counts = rng.poisson(V2_PER_HOUR * HOURS, size=timelines)
    owner = np.repeat(np.arange(timelines), counts)
    start = rng.random(owner.size) * HOURS * 60
    finish = start + MEDIAN_MINUTES * np.exp(SIGMA * rng.standard_normal(owner.size))
    success = rng.random(owner.size) < rate / 100
    # the first look at or after the import settled (look k is at (k + 1) * 15 minutes)
    look = np.ceil(finish / LOOK_MINUTES).astype(np.int64) - 1
    keep = look < looks
    index = owner[keep] * looks + np.maximum(look[keep], 0)
    trials = np.bincount(index, minlength=timelines * looks).reshape(timelines, looks)
    wins = np.bincount(index, weights=success[keep], minlength=timelines * looks)
    successes = wins.reshape(timelines, looks).astype(np.int64)
    return np.cumsum(successes, axis=1), np.cumsum(trials, axis=1)


def decide(mode: str, successes: np.ndarray, trials: np.ndarray, profile: Profile) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(trials > 0, np.round(100.0 * successes / trials, 2), np.nan)
    return np.asarray(
        decide_codes(
            estimate,
            trials,
            successes,
            trials,
            threshold_pct=profile.success_rate_min_pct,
            catastrophic_pct=profile.catastrophic_success_min_pct,
            mode=mode,
            profile=profile,
        )
    )


def outcomes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hours to the first ROLLBACK, inf when none; PROCEED at +24 h) per timeline. The
    monitor and the checkpoints share the looks; a checkpoint is one of them."""
    failed = (codes == Code.BELOW) | (codes == Code.CATASTROPHIC)
    first = np.where(failed.any(axis=1), failed.argmax(axis=1), -1)
    hours = np.where(first >= 0, (first + 1) * LOOK_MINUTES / 60, np.inf)
    proceed = (first < 0) & (codes[:, -1] == Code.MEETS)
    return hours, proceed


def median_hours(hours: np.ndarray) -> float:
    return float(np.median(hours))


def table(rows: list[Row]) -> str:
    lines = [
        "| mode | true rate | ROLLBACK in 24 h | PROCEED at +24 h | miss "
        "| median hours to ROLLBACK |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        miss = f"{100 - r.rollback_pct:.1f}%" if r.rate < 95 else "-"
        median = "never" if np.isinf(r.median_hours) else f"{r.median_hours:.2f}"
        lines.append(
            f"| {r.mode} | {r.rate:g}% | {r.rollback_pct:.1f}% | {r.proceed_pct:.1f}% | "
            f"{miss} | {median} |"
        )
    return "\n".join(lines)


def meets_targets(rows: list[Row], mode: str) -> bool:
    by_rate = {r.rate: r for r in rows if r.mode == mode}
    return (
        by_rate[97.0].rollback_pct <= 5.0
        and by_rate[90.0].median_hours <= 6.0
        and by_rate[90.0].proceed_pct == 0.0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timelines", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    profile = Profile()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    rows: list[Row] = []
    for rate in RATES:
        successes, trials = simulate(rate, args.timelines, rng)
        for mode in MODES:
            hours, proceed = outcomes(decide(mode, successes, trials, profile))
            rolled = 100.0 * float(np.isfinite(hours).mean())
            rows.append(Row(mode, rate, rolled, 100.0 * float(proceed.mean()), median_hours(hours)))
    rows.sort(key=lambda r: (MODES.index(r.mode), -r.rate))
    print(
        f"{args.timelines:,} stage-1 timelines per rate, {V2_PER_HOUR:g} v2 imports/h, a look "
        f"every {LOOK_MINUTES} min, checkpoints at +{', +'.join(map(str, CHECKPOINTS_H))} h "
        f"({time.perf_counter() - started:.1f} s)"
    )
    print(table(rows))
    for mode in MODES:
        print(
            f"{mode}: meets the targets (false ROLLBACK <= 5% at 97%, 90% detected within 6 h, "
            f"no PROCEED at 90%): {'yes' if meets_targets(rows, mode) else 'no'}"
        )
    default = profile.decision_mode
    by_rate = {r.rate: r for r in rows if r.mode == default}
    detect = by_rate[90.0].median_hours
    print(
        f"decisions: mode={default} false_rollback_at_97={by_rate[97.0].rollback_pct:.1f}% "
        f"detect_hours_at_90={'never' if np.isinf(detect) else f'{detect:.2f}'} "
        f"false_proceed_at_90={by_rate[90.0].proceed_pct:.1f}%"
    )


if __name__ == "__main__":
    main()
