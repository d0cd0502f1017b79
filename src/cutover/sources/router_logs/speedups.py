"""The router reader's compiled kernels (``_speedups.c``): the survey of a block and the fit of
routing lines to a layout. The wheel and an install from source build them where a C compiler
is at hand; elsewhere, or with ``CUTOVER_PURE_PYTHON`` set (to anything but 0, false, no or
off), ``KERNELS`` is None and the numpy versions (the reference: tests compare the two) do the
same work, about half as fast."""

from __future__ import annotations

import os
import warnings
from types import ModuleType


def pure_python_asked() -> bool:
    value = os.environ.get("CUTOVER_PURE_PYTHON", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def _load() -> ModuleType | None:
    if pure_python_asked():
        return None
    try:
        import cutover.sources.router_logs._speedups as speedups
    except ModuleNotFoundError:  # not built: no compiler when it was installed
        return None
    except ImportError as exc:  # built, but it does not load here: say so, then go on without
        warnings.warn(
            f"cutover: the router log reader's compiled kernels do not load ({exc}); "
            "numpy does their work, more slowly",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return speedups


KERNELS = _load()
