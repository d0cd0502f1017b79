"""One function decides where the database is: live DSN, embedded (default) or a container."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime

from cutover.config import Settings
from cutover.scenarios.model import Scenario, load_scenario
from cutover.scenarios.seed import seed_database
from cutover.targets.base import DatabaseTarget


@contextmanager
def open_database_target(
    settings: Settings, scenario: Scenario | None = None, *, until: datetime | None = None
) -> Iterator[DatabaseTarget]:
    """Yield the target the settings name; a seeded one is started and seeded here and removed."""
    if settings.database_url is not None:
        yield DatabaseTarget(kind="live", dsn=settings.database_url, where="live")
        return
    scenario = scenario or load_scenario(settings.scenario)
    with ExitStack() as stack:
        if settings.db == "docker":
            from cutover.targets.docker import postgres_container

            admin_dsn = stack.enter_context(postgres_container(settings.postgres_image))
        else:
            from cutover.targets.embedded import embedded_postgres

            admin_dsn = stack.enter_context(embedded_postgres())
        seeded = seed_database(admin_dsn, scenario, until=until)
        yield DatabaseTarget(
            kind="seeded", dsn=seeded.reader_dsn, where=settings.db, scenario=scenario.name
        )
