"""How often each decision mode rolls back a healthy stage 1, and how fast it catches a bad one.

Simulates `--timelines` stage-1 timelines (24 h at 10%) per true success rate (99, 97, 95, 93,
90 and 80%): v2 imports arrive like the healthy scenario's (400 routed requests an hour, 10% of
them to v2, a Poisson stream), take a log-normal ~4 minutes (sigma 0.45) and settle when they
finish. Every timeline is looked at by the rollback monitor every 15 minutes
(`rollback.success_rate`) and by the stage gate at its checkpoints (+1 h, +6 h, +24 h,
`stage1.success_rate`), with the very rule the gates use (`cutover.criteria.rates`), in each
mode of the profile. A timeline ends at its first ROLLBACK; at +24 h it PROCEEDs when the last
checkpoint meets the threshold, else it HOLDs. (The other criteria are taken to pass.)

The monitor weighs the stage's stream and the sequences restarted every
`sequence_restart_hours` (the ones a look evaluates: 1, 2, 4, ... 24 h back), as
`measure.rollback.recent_success` reads them; a checkpoint, the stage's stream alone.

Printed per mode and rate: ROLLBACK within 24 h (false at >= 95%), PROCEED at +24 h (false
under 95%), the miss rate (no ROLLBACK under 95%) and the median hours to the ROLLBACK (over
every timeline: "never" when more than half are never rolled back).

Then a mid-stage regression (review 12, F7): `--stage3-timelines` stage-3 weeks at 400 v2
imports an hour, at a constant 97% and 95% (false ROLLBACK over the 7 days of 15-minute looks)
and at 99% for 5 days and 7 hours, then 90% (ROLLBACK within the next 24 h and the median hours
after the change), for each mode and for `evidence` without the restarts (the stage-to-date
stream alone, which the regression is diluted in). Settled counts per look are drawn directly
(Poisson, binomial): at stage 3 an import's minutes matter little.

The last line is the profile's default mode, `decisions: mode=<default>
false_rollback_at_97=<x>% detect_hours_at_90=<y> false_proceed_at_90=<z>%` (on one line).

    .venv/bin/python bench/decisions_bench.py [--timelines 10000] [--stage3-timelines 2000]
        [--seed 12]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from cutover.criteria.rates import Code, decide_codes
from cutover.profile import Profile

LOOKS_PER_HOUR = 4
RATES = (99.0, 97.0, 95.0, 93.0, 90.0, 80.0)
V2_PER_HOUR = 400 * 0.10  # the healthy scenario's stage 1
LOOK_MINUTES = 15
HOURS = 24
CHECKPOINTS_H = (1, 6, 24)
MEDIAN_MINUTES, SIGMA = 4.0, 0.45
MODES = ("runbook", "evidence")
STAGE3_V2_PER_HOUR = 400.0
STAGE3_DAYS = 7
REGRESSION_AT_H = 5 * 24 + 7


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


def restarts_for(look: int, profile: Profile, stage_hours: float) -> tuple[int, list[int]]:
    """The family's size and the looks at which the restarts a look at `look` weighs began
    (as `measure.rollback.restart_starts`, in looks of 15 minutes)."""
    every = max(1, round(profile.sequence_restart_hours * LOOKS_PER_HOUR))
    span = round(profile.rollback_window_hours * LOOKS_PER_HOUR)
    restarts = int(np.ceil((stage_hours * LOOKS_PER_HOUR + span) / every))
    lags, lag = [], every
    while lag < span:
        lags.append(lag)
        lag *= 2
    lags.append(span)
    # look k is at (k + 1) * 15 min; a restart at r * every looks has seen looks r*every..k
    now = look + 1
    starts = {((now - lag) // every) * every for lag in lags}
    return restarts, sorted(x for x in starts if 1 <= x // every <= restarts)


def decide(
    mode: str,
    successes: np.ndarray,
    trials: np.ndarray,
    profile: Profile,
    *,
    restarts: bool = False,
    stage_hours: float = HOURS,
    window_looks: int | None = None,
) -> np.ndarray:
    """The code of each look; with `restarts`, the rollback monitor's family (the point
    estimate over the last `window_looks`, the trigger window, when given)."""
    est_s, est_n = successes, trials
    if window_looks is not None:
        pad = np.zeros((successes.shape[0], window_looks), dtype=successes.dtype)
        est_s = successes - np.concatenate([pad, successes], axis=1)[:, : successes.shape[1]]
        est_n = trials - np.concatenate([pad, trials], axis=1)[:, : trials.shape[1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(est_n > 0, np.round(100.0 * est_s / est_n, 2), np.nan)
    common = dict(
        threshold_pct=profile.success_rate_min_pct,
        catastrophic_pct=profile.catastrophic_success_min_pct,
        mode=mode,
        profile=profile,
    )
    if not restarts:
        return np.asarray(decide_codes(estimate, est_n, successes, trials, **common))
    codes = np.empty(successes.shape, dtype=np.int64)
    zero = np.zeros((successes.shape[0], 1), dtype=successes.dtype)
    cum_s = np.concatenate([zero, successes], axis=1)  # column k: settled before look k
    cum_n = np.concatenate([zero, trials], axis=1)
    for look in range(successes.shape[1]):
        size, starts = restarts_for(look, profile, stage_hours)
        recent = [
            (successes[:, look] - cum_s[:, start], trials[:, look] - cum_n[:, start])
            for start in starts
        ]
        codes[:, look] = decide_codes(
            estimate[:, look],
            est_n[:, look],
            successes[:, look],
            trials[:, look],
            recent=recent,
            restarts=size,
            **common,
        )
    return codes


def first_rollback(codes: np.ndarray) -> np.ndarray:
    failed = (codes == Code.BELOW) | (codes == Code.CATASTROPHIC)
    return np.where(failed.any(axis=1), failed.argmax(axis=1), -1)


def outcomes(monitor: np.ndarray, checkpoint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hours to the first ROLLBACK, inf when none; PROCEED at +24 h) per timeline: the
    monitor at every look, the stage gate at its checkpoints (one of the looks)."""
    at = [h * LOOKS_PER_HOUR - 1 for h in CHECKPOINTS_H]
    gate = np.full(checkpoint.shape, Code.MEETS)
    gate[:, at] = checkpoint[:, at]
    first_m, first_c = first_rollback(monitor), first_rollback(gate)
    both = np.where(
        first_m < 0, first_c, np.where(first_c < 0, first_m, np.minimum(first_m, first_c))
    )
    hours = np.where(both >= 0, (both + 1) * LOOK_MINUTES / 60, np.inf)
    proceed = (both < 0) & (checkpoint[:, -1] == Code.MEETS)
    return hours, proceed


def median_hours(hours: np.ndarray) -> float:
    return float(np.median(hours))


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def hours_text(hours: float) -> str:
    return "never" if np.isinf(hours) else f"{hours:.2f}"


def table(rows: list[Row]) -> str:
    header = ["mode", "true rate", "ROLLBACK in 24 h", "PROCEED at +24 h", "miss"]
    return markdown(
        [*header, "median hours to ROLLBACK"],
        [
            [
                r.mode,
                f"{r.rate:g}%",
                f"{r.rollback_pct:.1f}%",
                f"{r.proceed_pct:.1f}%",
                f"{100 - r.rollback_pct:.1f}%" if r.rate < 95 else "-",
                hours_text(r.median_hours),
            ]
            for r in rows
        ],
    )


def meets_targets(rows: list[Row], mode: str) -> bool:
    by_rate = {r.rate: r for r in rows if r.mode == mode}
    return (
        by_rate[97.0].rollback_pct <= 5.0
        and by_rate[90.0].median_hours <= 6.0
        and by_rate[90.0].proceed_pct == 0.0
    )


@dataclass(frozen=True, slots=True)
class MidStage:
    label: str
    false_97: float  # ROLLBACK within the week at a constant 97%
    false_95: float
    caught: float  # ROLLBACK within 24 h of the change to 90%
    median_hours: float  # after the change, over every timeline (inf: most never)


def stage3(rates: np.ndarray, timelines: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Cumulative settled successes and trials per 15-minute look of a stage-3 week, at the
    rate of each look (`rates`, one per look)."""
    per_look = STAGE3_V2_PER_HOUR / LOOKS_PER_HOUR
    trials = rng.poisson(per_look, size=(timelines, rates.size))
    successes = rng.binomial(trials, rates)
    return np.cumsum(successes, axis=1), np.cumsum(trials, axis=1)


def mid_stage(timelines: int, rng: np.random.Generator, profile: Profile) -> list[MidStage]:
    looks = STAGE3_DAYS * 24 * LOOKS_PER_HOUR
    change = REGRESSION_AT_H * LOOKS_PER_HOUR
    worlds = {
        "97": np.full(looks, 0.97),
        "95": np.full(looks, 0.95),
        "regression": np.where(np.arange(looks) < change, 0.99, 0.90),
    }
    data = {name: stage3(rates, timelines, rng) for name, rates in worlds.items()}
    found = []
    for label, mode, restarts in (
        ("runbook", "runbook", True),
        ("evidence", "evidence", True),
        ("evidence, stage stream only", "evidence", False),
    ):
        first = {}
        for name, (s, n) in data.items():
            codes = decide(
                mode,
                s,
                n,
                profile,
                restarts=restarts,
                stage_hours=STAGE3_DAYS * 24.0,
                window_looks=round(profile.rollback_window_hours * LOOKS_PER_HOUR),
            )
            first[name] = first_rollback(codes)
        reg = first["regression"]
        after = np.where(reg >= change, (reg + 1 - change) / LOOKS_PER_HOUR, np.inf)
        found.append(
            MidStage(
                label,
                100.0 * float((first["97"] >= 0).mean()),
                100.0 * float((first["95"] >= 0).mean()),
                100.0 * float((after <= 24).mean()),
                float(np.median(after)),
            )
        )
    return found


def mid_stage_table(rows: list[MidStage]) -> str:
    header = ["stage 3 monitor", "false ROLLBACK in 7 days at 97%", "at 95%"]
    return markdown(
        [*header, "99% -> 90% at +5 d 7 h: ROLLBACK within 24 h", "median hours after the change"],
        [
            [
                r.label,
                f"{r.false_97:.1f}%",
                f"{r.false_95:.1f}%",
                f"{r.caught:.1f}%",
                hours_text(r.median_hours),
            ]
            for r in rows
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timelines", type=int, default=10_000)
    parser.add_argument("--stage3-timelines", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    profile = Profile()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    rows: list[Row] = []
    for rate in RATES:
        successes, trials = simulate(rate, args.timelines, rng)
        for mode in MODES:
            monitor = decide(mode, successes, trials, profile, restarts=True)
            hours, proceed = outcomes(monitor, decide(mode, successes, trials, profile))
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
    started = time.perf_counter()
    middle = mid_stage(args.stage3_timelines, rng, profile)
    print(
        f"{args.stage3_timelines:,} stage-3 weeks per world, {STAGE3_V2_PER_HOUR:g} v2 imports/h, "
        f"a monitor look every {LOOK_MINUTES} min ({time.perf_counter() - started:.1f} s)"
    )
    print(mid_stage_table(middle))
    default = profile.decision_mode
    by_rate = {r.rate: r for r in rows if r.mode == default}
    detect = by_rate[90.0].median_hours
    print(
        f"decisions: mode={default} false_rollback_at_97={by_rate[97.0].rollback_pct:.1f}% "
        f"detect_hours_at_90={hours_text(detect)} "
        f"false_proceed_at_90={by_rate[90.0].proceed_pct:.1f}%"
    )


if __name__ == "__main__":
    main()
