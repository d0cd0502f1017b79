"""The stage gates (runbook stages 1-4): which criteria each stage's gate holds, what each
one reads, and the runbook's consequence of a failure. stages 1-2 roll back; stages 3-4 hold
and investigate; a stage that has not run its time, or was cut short, holds.

The functions live by subject (`progress`, `success`, `imports`, `durations`, `errors`,
`stability`, `routing`, `complaints`); one function serves every stage that asks its question.
"""

from __future__ import annotations

from cutover.criteria import (
    complaints,
    durations,
    errors,
    imports,
    progress,
    routing,
    stability,
    success,
)
from cutover.criteria.registry import CriterionFn, criterion
from cutover.outcome import Action

#: name -> (function, source); the gate of each stage is a subset below
_CRITERIA: dict[str, tuple[CriterionFn, str]] = {
    "elapsed": (progress.elapsed, "ledger"),
    "success_rate": (success.success_rate, "sql/q1_success_rate.sql + ledger"),
    "stuck_imports": (imports.stuck_imports, "sql/q2_stuck_imports.sql"),
    "systemic_errors": (errors.systemic_errors, "sql/q4_error_patterns.sql"),
    "new_error_patterns": (errors.new_error_patterns, "sql/q4_error_patterns.sql + ledger"),
    "complaints": (complaints.complaints, "ledger"),
    "rlm_stability": (stability.rlm_stability, "RLM logs + metrics"),
    # one slice for stage 1; every 3 days in stage 3
    "duration": (durations.duration_every, "sql/q3_duration_histogram.sql"),
    "duration_vs_stage1": (durations.duration_vs_stage1, "sql/durations.sql + ledger"),
    "traffic": (imports.traffic, "sql/q6_recent_timeline.sql"),
    "routing_split": (routing.routing_split, "router logs"),
    "v1_traffic": (routing.v1_traffic, "RLM logs"),
    "rollbacks": (progress.rollbacks, "ledger"),
}
STAGE_GATES: dict[int, tuple[str, ...]] = {
    1: (
        "elapsed",
        "success_rate",
        "stuck_imports",
        "systemic_errors",
        "complaints",
        "rlm_stability",
        "duration",
        "traffic",
        "routing_split",
    ),
    2: (
        "elapsed",
        "success_rate",
        "stuck_imports",
        "duration_vs_stage1",
        "new_error_patterns",
        "complaints",
        "rlm_stability",
        "routing_split",
    ),
    3: (
        "elapsed",
        "success_rate",
        "v1_traffic",
        "rollbacks",
        "complaints",
        "rlm_stability",
        "duration",
        "routing_split",
    ),
    4: ("elapsed", "v1_traffic"),  # and stage4.deprecation_headers (`rlm`)
}


def _register() -> None:
    for stage, names in STAGE_GATES.items():
        for name in names:
            fn, source = _CRITERIA[name]
            if (stage, name) == (4, "elapsed"):
                fn = progress.deprecation_elapsed
            on_fail = Action.ROLLBACK if stage <= 2 and name != "elapsed" else Action.HOLD
            criterion(f"stage{stage}.{name}", on_fail=on_fail, source=source)(fn)


_register()
