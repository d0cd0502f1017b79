"""Optional signatures of `ledger.head`, so that an anchor rewritten together with the ledger is
caught by whoever holds the verifying key, not just by the JUnit files.

- an SSH key (`CUTOVER_LEDGER_SSH_KEY`): `ssh-keygen -Y sign -n cutover-ledger` signs each new
  head into `ledger.head.sig`; `cutover verify` checks it with `ssh-keygen -Y verify` against
  an allowed-signers file (`CUTOVER_LEDGER_ALLOWED_SIGNERS`);
- an HMAC key (`CUTOVER_LEDGER_HMAC_KEY`, a secret): HMAC-SHA256 of each new head into
  `ledger.head.hmac`; `cutover verify`, given the same key, recomputes it.

A head that cannot be signed is an error of the append that wrote it (a ConfigError naming the
setting): the store then takes the record back.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cutover.config import Settings
from cutover.errors import ConfigError
from cutover.ledger.anchor import HEAD_NAME, Head, HeadSigner

NAMESPACE = "cutover-ledger"
SSH_SIGNATURE_NAME = HEAD_NAME + ".sig"
HMAC_NAME = HEAD_NAME + ".hmac"
_TIMEOUT_S = 30


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _ssh_keygen(args: Sequence[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    """ssh-keygen with `data` on its standard input; never a prompt (no terminal, a deadline)."""
    try:
        return subprocess.run(
            ["ssh-keygen", *args],
            input=data,
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
            start_new_session=True,  # no controlling terminal: a passphrase cannot be asked for
        )
    except FileNotFoundError:
        raise ConfigError("ssh-keygen is not installed; expected OpenSSH 8.2 or newer") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"ssh-keygen {args[0]} {args[1]} took over {_TIMEOUT_S} s") from None


def _first_line(output: bytes) -> str:
    lines = output.decode(errors="replace").strip().splitlines()
    return lines[0] if lines else "no message"


@dataclass(frozen=True, slots=True)
class SshSigner:
    """Signs each new head with an SSH private key (or a public key whose private half an agent
    holds) into `ledger.head.sig`."""

    key: Path
    evidence_dir: Path

    def __call__(self, head: Head) -> None:
        done = _ssh_keygen(
            ["-Y", "sign", "-n", NAMESPACE, "-f", str(self.key)], head.text().encode()
        )
        if done.returncode != 0 or not done.stdout:
            raise ConfigError(
                f"CUTOVER_LEDGER_SSH_KEY {self.key}: ssh-keygen could not sign the ledger head "
                f"({_first_line(done.stderr)}); expected a readable SSH private key without a "
                "passphrase, or one an ssh-agent holds"
            )
        _write_atomically(self.evidence_dir / SSH_SIGNATURE_NAME, done.stdout)


def hmac_of(key: str, head_text: bytes) -> str:
    return hmac.new(key.encode(), head_text, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class HmacSigner:
    """HMAC-SHA256 of each new head into `ledger.head.hmac`."""

    key: str
    evidence_dir: Path

    def __call__(self, head: Head) -> None:
        digest = hmac_of(self.key, head.text().encode())
        _write_atomically(self.evidence_dir / HMAC_NAME, (digest + "\n").encode())


@dataclass(frozen=True, slots=True)
class Signers:
    """Every signer the settings ask for, in turn."""

    signers: tuple[HeadSigner, ...]

    def __call__(self, head: Head) -> None:
        for signer in self.signers:
            signer(head)


def signer_for(settings: Settings, evidence_dir: Path | None = None) -> HeadSigner | None:
    """The signer the settings ask for (None: heads are not signed), writing beside the ledger
    of `evidence_dir` (default: the settings')."""
    where = settings.evidence_dir if evidence_dir is None else evidence_dir
    found: list[HeadSigner] = []
    if settings.ledger_ssh_key is not None:
        found.append(SshSigner(settings.ledger_ssh_key, where))
    if settings.ledger_hmac_key is not None:
        found.append(HmacSigner(settings.ledger_hmac_key, where))
    if not found:
        return None
    return found[0] if len(found) == 1 else Signers(tuple(found))


# -- checking -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """What checking one signature of the head found: `ok` | `FAIL` | `note`, and the message."""

    status: str
    message: str


def check_ssh(evidence_dir: Path, allowed_signers: Path) -> SignatureCheck:
    """`ledger.head.sig` against the allowed signers: which principal signed the head."""
    head, signature = evidence_dir / HEAD_NAME, evidence_dir / SSH_SIGNATURE_NAME
    if not signature.exists():
        return SignatureCheck(
            "FAIL",
            f"{HEAD_NAME} is not signed (no {SSH_SIGNATURE_NAME}) though "
            "CUTOVER_LEDGER_ALLOWED_SIGNERS asks for a signature",
        )
    if not allowed_signers.is_file():
        return SignatureCheck(
            "FAIL",
            f"CUTOVER_LEDGER_ALLOWED_SIGNERS {allowed_signers}: not a readable file; expected an "
            "ssh-keygen allowed-signers file",
        )
    text = head.read_bytes() if head.exists() else b""
    found = _ssh_keygen(
        ["-Y", "find-principals", "-s", str(signature), "-f", str(allowed_signers)], b""
    )
    principals = found.stdout.decode(errors="replace").split() if found.returncode == 0 else []
    for principal in principals:
        args = ["-Y", "verify", "-f", str(allowed_signers), "-I", principal, "-n", NAMESPACE]
        checked = _ssh_keygen([*args, "-s", str(signature)], text)
        if checked.returncode == 0:
            return SignatureCheck("ok", f"{HEAD_NAME} is signed by {principal}")
    why = _first_line(found.stderr) if not principals else "the signature does not match it"
    return SignatureCheck(
        "FAIL",
        f"{SSH_SIGNATURE_NAME} does not verify {HEAD_NAME} against {allowed_signers} ({why}): "
        "the anchor was rewritten, or signed by a key that is not allowed",
    )


def check_hmac(evidence_dir: Path, key: str) -> SignatureCheck:
    head, signature = evidence_dir / HEAD_NAME, evidence_dir / HMAC_NAME
    if not signature.exists():
        return SignatureCheck(
            "FAIL",
            f"{HEAD_NAME} is not signed (no {HMAC_NAME}) though CUTOVER_LEDGER_HMAC_KEY is set",
        )
    expected = hmac_of(key, head.read_bytes() if head.exists() else b"")
    if not hmac.compare_digest(signature.read_text(encoding="utf-8").strip(), expected):
        return SignatureCheck(
            "FAIL",
            f"{HMAC_NAME} does not match {HEAD_NAME}: the anchor was rewritten without the key "
            "(or signed with another one)",
        )
    return SignatureCheck("ok", f"{HEAD_NAME} carries a valid HMAC ({HMAC_NAME})")


def check_signatures(evidence_dir: Path, settings: Settings) -> list[SignatureCheck]:
    """Every signature the settings can check; a note for one that is there but not checked."""
    checks: list[SignatureCheck] = []
    if settings.ledger_allowed_signers is not None:
        checks.append(check_ssh(evidence_dir, settings.ledger_allowed_signers))
    elif (evidence_dir / SSH_SIGNATURE_NAME).exists():
        checks.append(
            SignatureCheck(
                "note",
                f"{SSH_SIGNATURE_NAME} not checked: set CUTOVER_LEDGER_ALLOWED_SIGNERS to check it",
            )
        )
    if settings.ledger_hmac_key is not None:
        checks.append(check_hmac(evidence_dir, settings.ledger_hmac_key))
    elif (evidence_dir / HMAC_NAME).exists():
        checks.append(
            SignatureCheck(
                "note", f"{HMAC_NAME} not checked: set CUTOVER_LEDGER_HMAC_KEY to check it"
            )
        )
    return checks
