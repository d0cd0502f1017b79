"""`cutover verify`: does the evidence directory still say what the runs wrote?

Three checks, each reported line by line, then a one-line summary:

1. The ledger (`chain`): every record's `prev` is the SHA-256 of the line before it, so a record
   changed, removed or reordered breaks the chain at the line after the change; `ledger.head`
   anchors the last record as it is; its signatures verify, when the settings give a key to
   check them; every checkpoint fits its schema.
2. The JUnit files (`junit`): every criterion a JUnit file records appears in a ledger
   checkpoint of the same instant with the same verdict (and measured value), and the JUnit
   status agrees with it; the ledger heads each run recorded before and after it are still
   those lines of the ledger.
3. The query files (`queries`): each `query_sha256` a checkpoint recorded is the SHA-256 of a
   file in `sql/` now (a named hash, `name:sha`, must match `sql/<name>.sql` itself).

The ledger is read through `cutover.ledger.store` (the same chain walker the gates read with),
the JUnit files through `cutover.evidence.junit`; nothing here imports the report.
"""

from __future__ import annotations

from pathlib import Path

from cutover.config import Settings
from cutover.evidence.junit import read_junit_dir
from cutover.ledger.errors import LedgerBroken
from cutover.ledger.records import Checkpoint
from cutover.ledger.store import Chain, Store
from cutover.paths import sql_dir
from cutover.verify.chain import check_chain, check_head, check_signatures, checkpoints
from cutover.verify.findings import Finding, Verification
from cutover.verify.junit import check_junit, check_junit_heads
from cutover.verify.queries import check_queries

__all__ = ["Finding", "Verification", "main", "verify"]


def verify(evidence_dir: Path, settings: Settings | None = None) -> Verification:
    """Run every check on an evidence directory (signatures: with the keys `settings` give)."""
    result = Verification(evidence_dir)
    store = Store(evidence_dir)
    recorded: list[tuple[int, Checkpoint]] = []
    chain = Chain(store.path, ())
    if not store.path.exists():
        result.add("FAIL", "ledger", f"no {store.path.name} in {evidence_dir}")
    else:
        try:
            chain = store.chain()
        except LedgerBroken as exc:
            result.add("FAIL", "ledger", str(exc))
        else:
            check_chain(result, chain)
            check_head(result, store, chain)
            recorded = checkpoints(result, chain)
    check_signatures(result, evidence_dir, settings or Settings())
    junit = read_junit_dir(evidence_dir)
    check_junit(result, junit, recorded)
    check_junit_heads(result, junit, chain)
    check_queries(result, recorded, sql_dir())
    return result


def main(evidence_dir: Path, settings: Settings | None = None) -> int:
    """Print every finding, then the summary; 0 when everything holds, 1 otherwise."""
    result = verify(evidence_dir, settings)
    for finding in result.findings:
        print(finding.line())
    print(result.summary())
    return 0 if result.ok else 1
