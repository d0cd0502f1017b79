"""tests/router is the package `cutover.suite.router` of the wheel (setup.py)."""
