"""`cutover classify`: a person classifies an error signature as user-side or systemic. The
attestation goes in the ledger; later gate runs read it (`stage1.systemic_errors`,
`stage2.new_error_patterns`), so an unclassified signature stops holding the stage."""

from __future__ import annotations

import argparse
from typing import Any

from cutover.cli.options import instant, origin_for
from cutover.config import Settings
from cutover.criteria.signatures import signature
from cutover.errors import ConfigError
from cutover.ledger.records import SignatureClassification
from cutover.ledger.signing import store_for
from cutover.timeutil import iso, utc_now


def add(commands: Any) -> None:
    classify = commands.add_parser(
        "classify",
        help="record that an error signature is user-side or systemic (read by later runs)",
        description=(
            "Append a signature classification to the ledger: the signature (a raw error text "
            "is normalised first) is user-side or systemic, by --by at --at (default now). "
            "Later gate runs read it; an unclassified signature holds the stage."
        ),
    )
    classify.add_argument(
        "signature", help="the signature as a gate named it (a raw error text is normalised)"
    )
    classify.add_argument("--as", dest="classified_as", required=True, choices=("user", "systemic"))
    classify.add_argument("--by", required=True, help="who classified it")
    classify.add_argument("--at", type=instant, default=None, help="when (ISO 8601; default now)")
    classify.add_argument(
        "--scenario",
        default=None,
        help="record it for a seeded scenario's runs instead of the live target",
    )
    classify.set_defaults(run=record_classification)


def record_classification(args: argparse.Namespace, settings: Settings) -> int:
    if not args.by.strip():
        raise ConfigError("classify: --by is empty; expected the name of who classified it")
    if not args.signature.strip():
        # e.g. `cutover classify "$SIG"` with SIG unset: "<empty>" is no signature to attest
        raise ConfigError(
            "classify: the signature is empty; expected the signature a gate named, quoted "
            '(cutover classify "KeyError: <str>" --as user --by NAME)'
        )
    text = signature(args.signature)
    if text == "<empty>":
        raise ConfigError(f"classify: {args.signature!r} normalises to nothing")
    origin = origin_for(args.scenario)
    record = SignatureClassification(
        text, args.classified_as, args.by, args.at or utc_now(), origin
    )
    store_for(settings).append(record)
    where = "" if args.scenario is None else f" (seeded scenario {args.scenario})"
    print(f"classified {text!r} as {args.classified_as} by {args.by} at {iso(record.at)}{where}")
    return 0
