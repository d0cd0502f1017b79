"""What the statistical tests share: scipy.stats on first use, and argument checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def stats() -> Any:
    """scipy.stats, imported on first use: it costs ~0.6 s, and the plugin loads in every run."""
    from scipy import stats

    return stats


def special() -> Any:
    """scipy.special, imported on first use (~0.4 s) for the same reason."""
    from scipy import special

    return special


def check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be within (0, 1), got {alpha!r}")


def pct(share: float) -> str:
    """A share (0..1) as a percent with one decimal: enough to compare with whole percents."""
    return f"{share * 100:.1f}%"


def finite(values: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be a flat sequence of finite numbers")
    return array
