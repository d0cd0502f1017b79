"""The router reader's compiled kernels (``_speedups.c``): the survey of a block and the fit of
routing lines to a layout. The wheel and an install from source build them where a C compiler
is at hand; elsewhere, or with ``CUTOVER_PURE_PYTHON`` set, ``KERNELS`` is None and the numpy
versions (the reference: tests compare the two) do the same work, about half as fast."""

from __future__ import annotations

import os
from types import ModuleType

KERNELS: ModuleType | None
if os.environ.get("CUTOVER_PURE_PYTHON"):
    KERNELS = None
else:
    try:
        from cutover.sources.router_logs import _speedups as KERNELS
    except ImportError:  # not built here: no compiler when it was installed
        KERNELS = None
