#!/usr/bin/env bash
# Render the HTML evidence report headless and print the PNG's path, to look at it as a reviewer
# would. Usage: bench/screenshot_report.sh [EVIDENCE_DIR] [OUT.png]
# Without EVIDENCE_DIR, `cutover demo` writes fresh seeded evidence into a temporary directory.
# Installs Debian's chromium when it is missing (needs root and the Debian package archive).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CUTOVER="${VENV:-.venv}/bin/cutover"

if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

work="$(mktemp -d)"
evidence="${1:-$work/evidence}"
png="${2:-$work/report.png}"
if [[ ! -f "$evidence/ledger.jsonl" ]]; then
    # the demo's verdict does not matter here: a HOLD or ROLLBACK report is worth a look too
    "$CUTOVER" --evidence-dir "$evidence" demo >"$work/demo.log" 2>&1 || true
fi
"$CUTOVER" report --evidence-dir "$evidence" --out "$work" >"$work/report.log"

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
    --screenshot="$png" --window-size=1280,2400 "file://$work/report.html" >/dev/null 2>&1
test -s "$png"
echo "$png"
