"""The durable store of an evidence directory: a dedicated branch of the repository the job runs
in (default `cutover-evidence`), holding the evidence directory's files at its root, one commit
per saved run. A CI cache may be evicted; the branch is kept as long as the repository.

Everything goes through the `git` command in the job's checkout, so the remote's credentials are
the checkout's (actions/checkout's job token) or the remote URL's (GitLab's CI_REPOSITORY_URL);
a password in a URL is masked in everything printed. The job's own index and work tree are never
touched: a commit is built in a temporary index from the evidence directory.

`restore` makes the evidence directory the branch's tip, merged with what the directory already
held (a cache's copy, see `merge`). `save` commits the directory on top of the tip and pushes;
when another job pushed first, the push is refused as not a fast-forward, and `save` fetches
the new tip, merges (the ledger is never rewritten), and tries again.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cutover.durable.merge import Merged, merge_evidence
from cutover.redact import dsn_secrets, redact_text, redact_url, register_secrets

DEFAULT_BRANCH = "cutover-evidence"
GIT_TIMEOUT_S = 120
# set by a calling git (a hook) or a user's shell, they would point git at another repository
_GIT_LOCATION = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
# how a push says another job updated the branch first (not a fast-forward any more, or the
# branch moved while the remote was updating it); any other refusal is an error
_RACE_LOST = (
    "[rejected]",
    "(failed to update ref)",
    "cannot lock ref",
    "incorrect old value",
)


class StoreUnavailable(Exception):
    """The durable store could not be read or written (one line, secrets masked)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a restore or a save did."""

    commit: str | None  # the branch's commit the evidence now is (None: the store is empty)
    merged: Merged = field(default_factory=Merged)
    attempts: int = 1
    changed: bool = True  # save: False when the evidence was already the tip's


@dataclass(frozen=True, slots=True)
class GitBranch:
    """A branch of `remote` (a remote's name in `repository`, or a URL) as an evidence store."""

    remote: str = "origin"
    branch: str = DEFAULT_BRANCH
    repository: Path = Path(".")
    attempts: int = 5

    def __post_init__(self) -> None:
        register_secrets(dsn_secrets(self.remote))

    @property
    def where(self) -> str:
        return f"branch {self.branch} of {redact_url(self.remote)}"

    # -- the two operations ---------------------------------------------------------------------

    def restore(self, evidence: Path) -> Outcome:
        """The evidence directory as the store holds it, with the directory's own records that
        the store lacks appended. An empty store leaves the directory as it is."""
        tip = self._fetch()
        self._set_base(tip)
        if tip is None:
            evidence.mkdir(parents=True, exist_ok=True)
            return Outcome(None)
        return Outcome(tip, self._merge_tip(tip, evidence))

    def save(self, evidence: Path, message: str) -> Outcome:
        """Commit the evidence directory onto the branch and push it; merge and retry when
        another job pushed since the restore."""
        base = self._ref("base")
        merged = Merged()
        for attempt in range(1, self.attempts + 1):
            tip = self._fetch()
            if tip is not None and tip != base:
                diverged = merged.diverged
                merged = self._merge_tip(tip, evidence)
                merged.diverged = merged.diverged or diverged  # kept aside in an earlier try
            commit = self._commit(evidence, tip, message)
            if commit is None:
                return Outcome(tip, merged, attempt, changed=False)
            if self._push(commit):
                self._set_base(commit)
                return Outcome(commit, merged, attempt)
            base = None  # refused: someone pushed first; fetch their tip and merge it
        raise StoreUnavailable(f"{self.where} kept moving: not saved after {self.attempts} tries")

    # -- git ------------------------------------------------------------------------------------

    def _git(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                ["git", *args],
                cwd=cwd or self.repository,
                env={
                    **{k: v for k, v in os.environ.items() if k not in _GIT_LOCATION},
                    **(env or {}),
                },
                capture_output=True,
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StoreUnavailable(f"git {args[0]}: {redact_text(str(exc))}") from None

    def _checked(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> str:
        done = self._git(*args, env=env, cwd=cwd)
        if done.returncode != 0:
            said = _last_line(done.stderr or done.stdout, done.returncode)
            raise StoreUnavailable(f"git {args[0]} ({self.where}): {said}")
        return done.stdout.decode().strip()

    def _git_dir(self) -> Path:
        return Path(self._checked("rev-parse", "--absolute-git-dir"))

    def _ref_name(self, name: str) -> str:
        return f"refs/cutover/{self.branch}/{name}"

    def _ref(self, name: str) -> str | None:
        done = self._git("rev-parse", "--verify", "--quiet", self._ref_name(name) + "^{commit}")
        return done.stdout.decode().strip() or None

    def _set_base(self, commit: str | None) -> None:
        if commit is None:
            self._git("update-ref", "-d", self._ref_name("base"))
        else:
            self._checked("update-ref", self._ref_name("base"), commit)

    def _fetch(self) -> str | None:
        """The branch's tip, fetched (None: the branch does not exist yet)."""
        heads = self._checked("ls-remote", "--heads", self.remote, f"refs/heads/{self.branch}")
        if not heads:
            return None
        self._checked(
            "fetch",
            "--quiet",
            "--no-tags",
            "--depth=1",
            self.remote,
            f"+refs/heads/{self.branch}:{self._ref_name('tip')}",
        )
        return self._ref("tip")

    def _merge_tip(self, tip: str, evidence: Path) -> Merged:
        with tempfile.TemporaryDirectory(prefix="cutover-evidence-") as scratch:
            store_copy = Path(scratch) / "evidence"
            store_copy.mkdir()
            archive = self._git("archive", "--format=tar", tip)
            if archive.returncode != 0:
                raise StoreUnavailable(f"git archive ({self.where}): cannot read commit {tip}")
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(store_copy, filter="data")
            evidence.mkdir(parents=True, exist_ok=True)
            merged = merge_evidence(store_copy, evidence)
            shutil.rmtree(evidence)
            shutil.copytree(store_copy, evidence)
        return merged

    def _commit(self, evidence: Path, parent: str | None, message: str) -> str | None:
        """A commit of the evidence directory's files on `parent`; None when nothing changed."""
        with tempfile.TemporaryDirectory(prefix="cutover-index-") as scratch:
            env = {
                "GIT_DIR": str(self._git_dir()),
                "GIT_WORK_TREE": str(evidence.resolve()),
                "GIT_INDEX_FILE": str(Path(scratch) / "index"),
                **self._identity(),
            }
            self._checked("add", "--all", "--force", ".", env=env, cwd=evidence)
            tree = self._checked("write-tree", env=env, cwd=evidence)
            if parent is not None and tree == self._checked("rev-parse", f"{parent}^{{tree}}"):
                return None
            parents = ["-p", parent] if parent is not None else []
            return self._checked(
                "commit-tree", tree, *parents, "-m", message, env=env, cwd=evidence
            )

    def _identity(self) -> dict[str, str]:
        """Who commits: git's own settings when it has them, else `cutover` for each of the
        author's and committer's name and email that no variable sets (an empty one, as a CI
        job that passes an unset secret writes it, sets nothing: git refuses an empty ident)."""
        configured = self._git("config", "user.email")
        if configured.returncode == 0 and configured.stdout.strip():
            return {}
        who = {"NAME": "cutover", "EMAIL": "cutover@localhost"}
        return {
            f"GIT_{role}_{key}": value
            for role in ("AUTHOR", "COMMITTER")
            for key, value in who.items()
            if not os.environ.get(f"GIT_{role}_{key}", "").strip()
        }

    def _push(self, commit: str) -> bool:
        """True when pushed; False when refused as not a fast-forward (another job was first)."""
        done = self._git("push", "--porcelain", self.remote, f"{commit}:refs/heads/{self.branch}")
        if done.returncode == 0:
            return True
        status = done.stdout.decode(errors="replace")
        if any(reason in status for reason in _RACE_LOST):
            return False
        said = _last_line(done.stderr or done.stdout, done.returncode)
        rejected = [line for line in status.splitlines() if line.startswith("!")]
        raise StoreUnavailable(
            f"git push ({self.where}): {redact_text(rejected[0]) if rejected else said}"
        )


def _last_line(output: bytes, status: int) -> str:
    """What git said last (secrets masked), or its exit status when it said nothing."""
    lines = output.decode(errors="replace").strip().splitlines()
    return redact_text(lines[-1]) if lines else f"exit status {status}"
