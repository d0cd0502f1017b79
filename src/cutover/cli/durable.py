"""`cutover evidence restore` and `cutover evidence save`: the evidence directory kept on a git
branch, the durable store the CI templates use (a cache is evicted; the branch stays)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cutover.cli.options import add_evidence_dir, command_group, evidence_dir
from cutover.config import Settings
from cutover.durable import DEFAULT_BRANCH, GitBranch, Merged, Outcome, StoreUnavailable
from cutover.ledger import LedgerBroken
from cutover.ledger.signing import store_for


def add(commands: Any) -> None:
    actions = command_group(
        commands,
        "evidence",
        "keep the evidence directory on a git branch (restore before a run, save after)",
        (
            "The ledger is the only record of earlier checkpoints, so it must outlive any CI "
            "cache: these commands keep the evidence directory on a dedicated branch of the "
            "repository they run in, one commit per run. Run them in the job's checkout; the "
            "remote's credentials are the checkout's (or the URL's)."
        ),
    )
    restore = actions.add_parser(
        "restore",
        help="make the evidence directory the branch's latest evidence",
        description=(
            "Fetch the branch and make the evidence directory what it holds. When the "
            "directory already held a continuation of the branch's ledger (a cache's copy of a "
            "run whose push failed), that continuation is kept; a branch that does not exist "
            "yet leaves the directory as it is. Fails when the remote cannot be read or a "
            "ledger does not verify."
        ),
    )
    save = actions.add_parser(
        "save",
        help="commit the evidence directory onto the branch and push it",
        description=(
            "Commit the evidence directory onto the branch (one commit) and push it. When "
            "another job pushed since the restore (outside the concurrency group), fetch its "
            "commit and push again: the branch's ledger stays as it is (records are never "
            "moved: the JUnit files name their lines), this run's copy is kept under "
            "diverged/, and the command exits 1: nothing is lost, and the chain verifies."
        ),
    )
    for action in (restore, save):
        action.add_argument(
            "--remote", default="origin", help="a remote of this repository, or a URL"
        )
        action.add_argument("--branch", default=DEFAULT_BRANCH, help="the evidence branch")
        action.add_argument(
            "--repository", type=Path, default=Path("."), help="the checkout (default: here)"
        )
        add_evidence_dir(action)
    save.add_argument("--message", default="cutover evidence", help="the commit message")
    restore.set_defaults(run=restore_command)
    save.set_defaults(run=save_command)


def _store(args: argparse.Namespace) -> GitBranch:
    return GitBranch(remote=args.remote, branch=args.branch, repository=args.repository)


def _merge_lines(merged: Merged) -> list[str]:
    lines = []
    if merged.appended:
        lines.append(f"  {merged.appended} record(s) of this directory after the branch's")
    if merged.diverged is not None:
        lines.append(
            "  the ledgers parted (another job saved outside the concurrency group): the "
            f"branch's ledger stays; this directory's copy is kept in {merged.diverged.name!r} "
            f"under {merged.diverged.parent.name}/, and its checkpoints must be run again"
        )
    lines += [
        f"  {name}: differs from the branch's copy; kept the branch's" for name in merged.conflicts
    ]
    return lines


def restore_command(args: argparse.Namespace, settings: Settings) -> int:
    store, evidence = _store(args), evidence_dir(args, settings)
    try:
        done = store.restore(evidence)
    except (StoreUnavailable, LedgerBroken) as exc:
        print(f"cutover evidence restore: {exc}", file=sys.stderr)
        return 1
    if done.commit is None:
        print(f"{store.where} does not exist yet: the evidence starts from {evidence}")
    else:
        print(f"restored {evidence} from {store.where} at {done.commit[:12]}")
    print("\n".join(_merge_lines(done.merged)) or "  nothing to merge")
    return 0


def save_command(args: argparse.Namespace, settings: Settings) -> int:
    store, evidence = _store(args), evidence_dir(args, settings)
    try:
        # never make a ledger that does not verify the branch's record: every restore would fail
        store_for(settings, evidence).verify()
        done: Outcome = store.save(evidence, args.message)
    except (StoreUnavailable, LedgerBroken) as exc:
        print(f"cutover evidence save: {exc}", file=sys.stderr)
        return 1
    if not done.changed:
        print(f"{store.where} already holds {evidence} ({(done.commit or '')[:12]})")
        return 0
    tries = "" if done.attempts == 1 else f" (try {done.attempts}: another job pushed first)"
    print(f"saved {evidence} to {store.where} as {(done.commit or '')[:12]}{tries}")
    for line in _merge_lines(done.merged):
        print(line)
    # kept, but not in the ledger the gates read: the job says so by failing
    return 0 if done.merged.diverged is None else 1
