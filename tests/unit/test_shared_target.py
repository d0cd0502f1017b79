"""One resource for all xdist workers of a run: made once, torn down after the last user."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cutover.config import resolve_settings
from cutover.fixtures import database_target
from cutover.targets import shared
from cutover.targets.shared import shared_by_workers


class Maker:
    """Counts how often the resource is made and torn down, and whether it is up."""

    def __init__(self) -> None:
        self.made = 0
        self.closed = 0
        self.up = False

    @contextmanager
    def __call__(self) -> Iterator[dict[str, Any]]:
        self.made += 1
        self.up = True
        try:
            yield {"dsn": f"postgresql://reader:secret@127.0.0.1/{self.made}"}
        finally:
            self.up = False
            self.closed += 1


def test_the_second_worker_reuses_and_the_maker_waits_for_it(tmp_path: Path) -> None:
    maker = Maker()
    second_in = threading.Event()
    second_may_leave = threading.Event()
    seen: list[dict[str, Any]] = []

    def second() -> None:
        with shared_by_workers(tmp_path, "gw1", maker) as description:
            seen.append(description)
            second_in.set()
            second_may_leave.wait(10)
            assert maker.up  # the maker has not torn it down under us

    with shared_by_workers(tmp_path, "gw0", maker) as description:
        thread = threading.Thread(target=second)
        thread.start()
        assert second_in.wait(10)
        # the second worker leaves 0.2 s after the maker's block has ended
        releaser = threading.Timer(0.2, second_may_leave.set)
        releaser.start()
    assert second_may_leave.is_set()  # the maker's exit waited for it
    thread.join(10)
    releaser.join()
    assert (maker.made, maker.closed) == (1, 1)
    assert seen == [description]
    assert not (tmp_path / "value.json").exists()


def test_the_maker_leaves_once_the_others_have(tmp_path: Path) -> None:
    maker = Maker()
    order: list[str] = []
    other_in = threading.Event()

    def other() -> None:
        with shared_by_workers(tmp_path, "gw1", maker):
            other_in.set()
            threading.Event().wait(0.3)
            order.append("other left")

    with shared_by_workers(tmp_path, "gw0", maker):
        thread = threading.Thread(target=other)
        thread.start()
        assert other_in.wait(10)
    order.append("maker closed" if maker.closed else "maker still open")
    thread.join(10)
    assert order == ["other left", "maker closed"]


def test_a_worker_after_the_teardown_makes_its_own(tmp_path: Path) -> None:
    maker = Maker()
    with shared_by_workers(tmp_path, "gw0", maker) as first:
        pass
    with shared_by_workers(tmp_path, "gw1", maker) as second:
        assert maker.up
    assert (maker.made, maker.closed) == (2, 2)
    assert first != second


def test_a_failed_make_is_not_published(tmp_path: Path) -> None:
    @contextmanager
    def broken() -> Iterator[dict[str, Any]]:
        raise RuntimeError("server did not start")
        yield {}

    with pytest.raises(RuntimeError, match="did not start"):
        with shared_by_workers(tmp_path, "gw0", broken):
            pass
    maker = Maker()
    with shared_by_workers(tmp_path, "gw1", maker):
        assert maker.made == 1


def test_the_description_is_private(tmp_path: Path) -> None:
    with shared_by_workers(tmp_path, "gw0", Maker()):
        mode = (tmp_path / "value.json").stat().st_mode
        assert stat.S_IMODE(mode) == 0o600


def test_a_crashed_worker_is_not_waited_for(tmp_path: Path) -> None:
    """A worker that died without leaving does not keep the server up."""
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    maker = Maker()
    began = time.monotonic()
    with shared_by_workers(tmp_path, "gw0", maker):
        (tmp_path / "users" / "gw1").write_text(finished.stdout.strip())
    assert maker.closed == 1
    assert time.monotonic() - began < shared.WAIT_SECONDS / 10


def test_the_maker_gives_up_waiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that still runs but never leaves keeps the server up only so long."""
    monkeypatch.setattr(shared, "WAIT_SECONDS", 0.2)
    maker = Maker()
    with shared_by_workers(tmp_path, "gw0", maker):
        (tmp_path / "users" / "gw1").write_text(str(os.getpid()))  # alive: this process
    assert maker.closed == 1


def test_a_live_target_is_not_written_for_the_workers(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a seeded target is shared: a live DSN (and its password) stays off the disk."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    dsn = "postgresql://reader:Sup3rS3cret@127.0.0.1:1/postgres"
    settings = resolve_settings({"database_url": dsn}, env={}, config_file=None)
    run_dir = tmp_path_factory.getbasetemp().parent
    before = set(run_dir.glob("cutover-target*"))
    with database_target(settings, None, datetime(2026, 2, 2, tzinfo=UTC), tmp_path_factory) as t:
        assert (t.kind, t.dsn) == ("live", dsn)
        assert set(run_dir.glob("cutover-target*")) == before
