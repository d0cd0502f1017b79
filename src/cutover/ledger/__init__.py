"""The ledger: an append-only, hash-chained JSON-lines file of stage events, attestations and
checkpoint records in the evidence directory. `user_profiles` keeps no history, so gates that
span checkpoints read it here.

- `records`: the schema of each record (typed, versioned), the one place records are built and
  parsed;
- `chain`: the hash chain and its one walker; `anchor`: `ledger.head`, the last record's anchor;
- `store`: the file and its anchor: append and read, each verifying both first;
- `signing`: optional signatures of each new head (an SSH key or an HMAC key);
- `view`: the records of one target as of an instant, as the gates read them.

This package imports the configuration layer only.
"""

from __future__ import annotations

from cutover.ledger.errors import LedgerBroken, LedgerUnwritable, RecordInvalid
from cutover.ledger.store import HEAD_NAME, LEDGER_NAME, Store, head_path, ledger_path

__all__ = [
    "HEAD_NAME",
    "LEDGER_NAME",
    "LedgerBroken",
    "LedgerUnwritable",
    "RecordInvalid",
    "Store",
    "head_path",
    "ledger_path",
]
