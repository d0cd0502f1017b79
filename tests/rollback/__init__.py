"""tests/rollback is the package `cutover.suite.rollback` of the wheel (setup.py)."""
