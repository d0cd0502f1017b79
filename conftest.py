"""Root conftest: the cutover plugin is loaded through its pytest11 entry point (pyproject.toml).

Nothing else is needed here; it marks the rootdir so `pytest -m prereq` works from the checkout.
"""
