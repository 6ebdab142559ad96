#!/usr/bin/env bash
# Regenerates the contract compiler's golden files from their inputs:
#   tests/contracts/golden/<name>.h         from <name>.contract, by `signet-contractc gen c`
#   tests/contracts/errors/<name>.expected  from <name>.contract, by `signet-contractc check`
# Goldens should change only when the output is meant to: review the diff
# (git diff tests/contracts) before committing it.
#
# Usage: contracts/regen-goldens.sh [build-dir]     (default: build-contracts)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-contracts}
cmake --build "$build" --target signet-contractc >/dev/null
tool=$build/contracts/signet-contractc

# Inputs are named relative to their directory, so diagnostics and headers
# do not depend on where the repository lives.
cd "$root/tests/contracts/golden"
for input in *.contract; do
  "$tool" gen c "$input" .
done

cd "$root/tests/contracts/errors"
for input in *.contract; do
  if "$tool" check "$input" >/dev/null 2>"${input%.contract}.expected"; then
    echo "regen-goldens: $input checks cleanly, but every input in errors/ must fail" >&2
    exit 1
  fi
done
echo "regen-goldens: regenerated $(ls "$root"/tests/contracts/golden/*.h | wc -l) headers and $(ls *.expected | wc -l) expectations"
