"""tests/prereqs is the package `cutover.suite.prereqs` of the wheel (setup.py)."""
