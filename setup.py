"""What pyproject.toml cannot say: packages whose files live outside src/.

The SQL queries, the seeded scenarios and the gate test files live once, at the top of the
repository (sql/, fixtures/scenarios/, tests/...). Each is mapped onto a package of the wheel,
so an installed cutover finds them with importlib.resources, and an editable install reads the
same folders in place. Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

MAPPED = {
    "cutover.data.sql": "sql",
    "cutover.data.scenarios": "fixtures/scenarios",
    "cutover.suite.prereqs": "tests/prereqs",
    "cutover.suite.gates": "tests/gates",
    "cutover.suite.rollback": "tests/rollback",
    "cutover.suite.router": "tests/router",
}

setup(packages=[*find_packages("src"), *MAPPED], package_dir={"": "src", **MAPPED})
