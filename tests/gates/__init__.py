"""tests/gates is the package `cutover.suite.gates` of the wheel (setup.py)."""
