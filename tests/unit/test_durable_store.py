"""The durable evidence store (`cutover evidence restore|save`): a git branch of the job's
repository, pushed to a real (local, bare) remote. A job with an empty cache restores the
ledger; a job that runs after another appends after it; racing jobs lose nothing and never
rewrite a ledger; the chain verifies; a token in the remote's URL is never printed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cutover.cli import main
from cutover.durable import merge_evidence
from cutover.ledger import LedgerBroken, Store
from cutover.verify import verify

BRANCH = "cutover-evidence"


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository standing in for GitHub or GitLab, with one commit on main."""
    bare = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(bare), cwd=tmp_path)
    seed = tmp_path / "seed"
    git("init", "--quiet", str(seed), cwd=tmp_path)
    (seed / "README").write_text("project\n")
    git("add", "README", cwd=seed)
    identity = ("-c", "user.name=t", "-c", "user.email=t@example.com")
    git(*identity, "commit", "--quiet", "-m", "init", cwd=seed)
    git("push", "--quiet", str(bare), "HEAD:refs/heads/main", cwd=seed)
    return bare


def checkout(remote: Path, name: str) -> Path:
    """A job's checkout: a fresh clone, its evidence directory empty (no cache)."""
    clone = remote.parent / name
    git("clone", "--quiet", "--depth=1", str(remote), str(clone), cwd=remote.parent)
    return clone


def cutover(job: Path, *args: str) -> int:
    return main(["--evidence-dir", str(job / "evidence"), *args])


def evidence(job: Path, command: str) -> int:
    return cutover(job, "evidence", command, "--repository", str(job))


def ledger_types(job: Path) -> list[str]:
    return [str(entry.data["type"]) for entry in Store(job / "evidence").read()]


def stage_start(job: Path, at: str = "2026-02-02T09:00:00Z") -> None:
    assert cutover(job, "stage", "start", "1", "--at", at) == 0


def test_a_job_with_an_empty_cache_restores_the_ledger_from_the_branch(remote: Path) -> None:
    first = checkout(remote, "first")
    assert evidence(first, "restore") == 0
    stage_start(first)
    assert evidence(first, "save") == 0
    assert git("rev-list", "--count", BRANCH, cwd=remote) == "1"

    later = checkout(remote, "later")  # another machine: no cache, no evidence directory
    assert not (later / "evidence").exists()
    assert evidence(later, "restore") == 0
    assert ledger_types(later) == ["stage_started"]
    assert verify(later / "evidence").ok


def test_a_second_job_appends_after_the_first_one_commit_per_run(remote: Path) -> None:
    """What the concurrency group makes of two jobs started together: one after the other."""
    first = checkout(remote, "first")
    assert evidence(first, "restore") == 0
    stage_start(first)
    assert evidence(first, "save") == 0
    second = checkout(remote, "second")
    assert evidence(second, "restore") == 0
    assert cutover(second, "rollback", "--reason", "drill", "--at", "2026-02-02T10:00:00Z") == 0
    assert evidence(second, "save") == 0

    assert git("rev-list", "--count", BRANCH, cwd=remote) == "2"
    reader = checkout(remote, "reader")
    assert evidence(reader, "restore") == 0
    assert ledger_types(reader) == ["stage_started", "rollback"]
    assert verify(reader / "evidence").ok


def diverged_reasons(job: Path) -> list[str]:
    return sorted(
        str(entry.data.get("reason", entry.data["type"]))
        for kept in sorted((job / "evidence" / "diverged").iterdir())
        for entry in Store(kept).read()
    )


def test_a_push_refused_because_another_job_pushed_first_keeps_both_and_rewrites_nothing(
    remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The race itself, outside any concurrency group: job B fetched the tip, then job A pushed
    before B's push (a pre-push hook in B's checkout saves A's evidence at that instant). B's
    push is refused; B fetches A's commit and pushes again. A's ledger stays as it is (B's
    records would have to move, and its JUnit files name their lines); B's copy is kept under
    diverged/, and B's save fails so that its run is repeated."""
    a, b = checkout(remote, "a"), checkout(remote, "b")
    for job in (a, b):
        assert evidence(job, "restore") == 0
    stage_start(a)
    assert cutover(b, "rollback", "--reason", "drill", "--at", "2026-02-02T10:00:00Z") == 0
    once = b / "hook-ran"
    hook = b / ".git" / "hooks" / "pre-push"
    save_a = [sys.executable, "-m", "cutover", "--evidence-dir", str(a / "evidence")]
    save_a += ["evidence", "save", "--repository", str(a)]
    hook.write_text(
        "#!/bin/sh\n"
        "unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n"
        f'[ -e "{once}" ] && exit 0\n'
        f'touch "{once}"\n'
        f"{' '.join(save_a)} >/dev/null\n"
    )
    hook.chmod(0o755)
    capsys.readouterr()

    assert evidence(b, "save") == 1
    said = capsys.readouterr().out
    assert "try 2: another job pushed first" in said, said
    assert "the ledgers parted" in said, said
    reader = checkout(remote, "reader")
    assert evidence(reader, "restore") == 0
    assert ledger_types(reader) == ["stage_started"]
    assert diverged_reasons(reader) == ["drill"]
    assert verify(reader / "evidence").ok


def test_concurrent_jobs_lose_no_record(remote: Path) -> None:
    """Four jobs at once outside a concurrency group, each restoring, appending its own record
    and saving: one lands in the ledger, the others' copies beside it; all four are there."""
    jobs = [checkout(remote, f"job{n}") for n in range(4)]
    base = [sys.executable, "-m", "cutover"]
    for job in jobs:
        assert evidence(job, "restore") == 0
    for n, job in enumerate(jobs):
        assert (
            cutover(job, "rollback", "--reason", f"job {n}", "--at", f"2026-02-02T1{n}:00:00Z") == 0
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    running = [
        subprocess.Popen(
            [*base, "--evidence-dir", str(job / "evidence"), "evidence", "save"],
            cwd=job,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for job in jobs
    ]
    outputs = [process.communicate(timeout=120)[0] for process in running]
    assert sorted(process.returncode for process in running) == [0, 1, 1, 1], outputs

    reader = checkout(remote, "reader")
    assert evidence(reader, "restore") == 0
    [landed] = [str(entry.data["reason"]) for entry in Store(reader / "evidence").read()]
    assert sorted([landed, *diverged_reasons(reader)]) == [f"job {n}" for n in range(4)]
    assert verify(reader / "evidence").ok
    assert git("rev-list", "--count", BRANCH, cwd=remote) == "4"


def test_a_cache_that_continues_the_branch_is_kept(remote: Path) -> None:
    """A run whose push failed: its cached copy continues the branch's ledger, and the next
    job's restore keeps that continuation, byte for byte."""
    first = checkout(remote, "first")
    assert evidence(first, "restore") == 0
    stage_start(first)
    assert evidence(first, "save") == 0
    unsaved = checkout(remote, "unsaved")
    assert evidence(unsaved, "restore") == 0
    assert (
        cutover(unsaved, "rollback", "--reason", "push failed", "--at", "2026-02-02T10:00:00Z") == 0
    )
    cached = checkout(remote, "cached")
    shutil.copytree(unsaved / "evidence", cached / "evidence")  # what the cache restores
    assert evidence(cached, "restore") == 0
    assert ledger_types(cached) == ["stage_started", "rollback"]
    assert (cached / "evidence" / "ledger.jsonl").read_bytes() == (
        unsaved / "evidence" / "ledger.jsonl"
    ).read_bytes()
    assert verify(cached / "evidence").ok


def test_a_stale_cache_gives_way_to_the_branch(remote: Path) -> None:
    first = checkout(remote, "first")
    stage_start(first)
    assert evidence(first, "save") == 0
    stale = checkout(remote, "stale")
    shutil.copytree(first / "evidence", stale / "evidence")
    assert cutover(first, "rollback", "--reason", "later", "--at", "2026-02-02T10:00:00Z") == 0
    assert evidence(first, "save") == 0
    assert evidence(stale, "restore") == 0
    assert ledger_types(stale) == ["stage_started", "rollback"]


def test_an_empty_store_keeps_what_the_directory_holds(remote: Path) -> None:
    job = checkout(remote, "job")
    stage_start(job)
    assert evidence(job, "restore") == 0
    assert ledger_types(job) == ["stage_started"]


def test_saving_unchanged_evidence_makes_no_commit(remote: Path) -> None:
    job = checkout(remote, "job")
    stage_start(job)
    assert evidence(job, "save") == 0
    assert evidence(job, "save") == 0
    assert git("rev-list", "--count", BRANCH, cwd=remote) == "1"


def test_an_unreachable_store_fails_and_never_prints_the_token(
    tmp_path: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = checkout(remote, "job")
    url = "http://gitlab-ci-token:glcbt-s3cr3tT0kenValue@127.0.0.1:9/group/project.git"
    code = cutover(job, "evidence", "restore", "--repository", str(job), "--remote", url)
    said = capsys.readouterr()
    assert code == 1
    assert said.err.startswith("cutover evidence restore: git ls-remote")
    assert "s3cr3tT0ken" not in said.out + said.err
    assert "***" in said.err


def test_a_broken_ledger_on_either_side_is_refused(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory in (ours, theirs):
        assert main(["--evidence-dir", str(directory), "rollback", "--reason", "x"]) == 0
    assert main(["--evidence-dir", str(ours), "rollback", "--reason", "y"]) == 0
    first, second = (ours / "ledger.jsonl").read_text().splitlines()
    changed = json.loads(first) | {"reason": "changed"}  # the second's `prev` no longer fits
    (ours / "ledger.jsonl").write_text(f"{json.dumps(changed)}\n{second}\n")
    with pytest.raises(LedgerBroken):
        merge_evidence(theirs, ours)
    with pytest.raises(LedgerBroken):
        merge_evidence(ours, theirs)


def test_files_both_hold_with_other_bytes_keep_the_stores_copy(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory, text in ((ours, "ours"), (theirs, "theirs")):
        directory.mkdir()
        (directory / "junit-prereq-1.xml").write_text(text)
    (ours / "junit-prereq-2.xml").write_text("new")
    merged = merge_evidence(theirs, ours)
    assert merged.conflicts == ["junit-prereq-1.xml"]
    assert merged.files == 1
    assert (theirs / "junit-prereq-1.xml").read_text() == "theirs"
    assert (theirs / "junit-prereq-2.xml").read_text() == "new"


def test_evidence_save_refuses_a_ledger_that_does_not_verify(remote: Path) -> None:
    """With no race (the tip is the restored base) a save used to commit whatever was in the
    directory, and the GitHub template runs it `if: always()`, after a failed `cutover verify`:
    a tampered or torn ledger would become the branch's record and fail every later restore."""
    job = checkout(remote, "job")
    assert evidence(job, "restore") == 0
    assert cutover(job, "stage", "start", "1", "--at", "2026-02-02T09:00:00Z") == 0
    assert cutover(job, "stage", "start", "2", "--at", "2026-02-03T09:00:00Z") == 0
    ledger = job / "evidence" / "ledger.jsonl"
    ledger.write_text(ledger.read_text().replace('"stage": 1', '"stage": 3', 1))
    assert not verify(job / "evidence").ok
    assert evidence(job, "save") != 0


def test_an_empty_identity_variable_gets_cutovers_identity_not_a_refused_commit(
    remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI job that passes an unset secret as GIT_AUTHOR_EMAIL sets it empty: git refuses an
    empty ident, so the save must fill it in rather than take it for a configured one."""
    job = checkout(remote, "job")
    home = remote.parent / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "")
        monkeypatch.delenv(f"GIT_{role}_NAME", raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "release bot")
    assert evidence(job, "restore") == 0
    stage_start(job)
    assert evidence(job, "save") == 0
    who = git("log", "-1", "--format=%an <%ae> / %cn <%ce>", BRANCH, cwd=remote)
    assert who == "release bot <cutover@localhost> / cutover <cutover@localhost>"
