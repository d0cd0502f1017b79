"""The gate suite as shipped: tests/prereqs, tests/gates, tests/rollback and tests/router,
mapped by setup.py onto `cutover.suite.prereqs`, `.gates`, `.rollback` and `.router`.

An installed cutover runs its gates from anywhere: `cutover demo`, or
`pytest --pyargs cutover.suite -m stage1_gate`. pytest finds `pytest.ini` beside this file,
the same options as the checkout's pyproject.toml (a test keeps the two equal)."""
