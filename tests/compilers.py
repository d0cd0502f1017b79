"""Whether this machine builds C extensions: the compiler Python was built with is on PATH (CI
has one: there it is required)."""

from __future__ import annotations

import os
import shutil
import sysconfig


def c_compiler() -> str | None:
    """Why the router reader's kernels may be missing here, or None when they must be built."""
    if os.environ.get("CI"):
        return None
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return None if shutil.which(compiler) else f"no C compiler ({compiler}) here"
