"""What pyproject.toml cannot say: packages whose files live outside src/.

The SQL queries, the seeded scenarios and the gate test files live once, at the top of the
repository (sql/, fixtures/scenarios/, tests/...). Each is mapped onto a package of the wheel,
so an installed cutover finds them with importlib.resources, and an editable install reads the
same folders in place. The router reader's compiled kernels are an optional extension: where
it cannot be built (no C compiler), the install goes on without it and numpy does that work.
Everything else is in pyproject.toml.
"""

from setuptools import Extension, find_packages, setup

MAPPED = {
    "cutover.data.sql": "sql",
    "cutover.data.scenarios": "fixtures/scenarios",
    "cutover.suite.prereqs": "tests/prereqs",
    "cutover.suite.gates": "tests/gates",
    "cutover.suite.rollback": "tests/rollback",
    "cutover.suite.router": "tests/router",
}

SPEEDUPS = Extension(
    "cutover.sources.router_logs._speedups",
    ["src/cutover/sources/router_logs/_speedups.c"],
    optional=True,
)

setup(
    packages=[*find_packages("src"), *MAPPED],
    package_dir={"": "src", **MAPPED},
    ext_modules=[SPEEDUPS],
)
