#!/usr/bin/env bash
# The contract compiler's libFuzzer targets (contracts/fuzz), built with clang-19
# (address and undefined-behaviour sanitizers) in a build of their own, each run
# for SECONDS: FuzzContract on contract text, seeded with every contract in the
# tree; FuzzDescriptor on bytes, seeded with the descriptors the golden headers
# embed. A crash, a sanitizer report or an abort (an internal error, a
# descriptor that does not round-trip) fails the test, and libFuzzer leaves the
# input under BUILD/artifacts. Exits 77, which CTest reports as skipped, when
# clang-19 cannot link a fuzzer here (libclang-rt-19-dev: scripts/setup).
#
# Usage: fuzz.sh SOURCE_DIR BUILD_DIR [SECONDS]
set -euo pipefail
src=$1 build=$2 seconds=${3:-30}
mkdir -p "$build"

probe=$build/probe.cpp
printf '#include <cstddef>\n#include <cstdint>\nextern "C" int LLVMFuzzerTestOneInput(uint8_t const*, size_t) { return 0; }\n' > "$probe"
if ! command -v clang++-19 > /dev/null || ! clang++-19 -fsanitize=fuzzer "$probe" -o "$build/probe" 2> "$build/probe.log"; then
  echo "contracts_fuzz: skipped: clang++-19 cannot link a libFuzzer target here (install libclang-rt-19-dev: scripts/setup)"
  exit 77
fi

echo "contracts_fuzz: building FuzzContract and FuzzDescriptor with clang-19 in $build/tree"
cmake -S "$src" -B "$build/tree" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DSIGNET_BUILD_TESTS=OFF -DSIGNET_BUILD_BENCH=OFF > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log"; exit 1; }
# One job: this runs beside the other tests, and some of them time things.
ninja -C "$build/tree" -j1 FuzzContract FuzzDescriptor > "$build/build.log" 2>&1 || { tail -50 "$build/build.log"; exit 1; }
if symbolizer=$(command -v llvm-symbolizer-19); then
  export ASAN_SYMBOLIZER_PATH=$symbolizer
fi

# Seeds. Contract text: everything in the tree, each under a name of its own.
rm -rf "$build/seeds" "$build/found" "$build/artifacts"
mkdir -p "$build/seeds/contract" "$build/seeds/descriptor" "$build/found/contract" "$build/found/descriptor" "$build/artifacts"
n=0
while IFS= read -r -d '' file; do
  n=$((n + 1))
  cp "$file" "$build/seeds/contract/$n-$(basename "$file")"
done < <(find "$src/tests" "$src/examples" "$src/services" "$src/bench" -name '*.contract' -print0)
# Descriptors: the bytes of each `<Contract>_descriptor[] = { 0x.., ... };` in the golden headers.
for header in "$src"/tests/contracts/golden/*.h; do
  count=0 on=0 bytes=""
  while IFS= read -r line; do
    if [[ $line == *"_descriptor[]"*"= {"* ]]; then
      on=1 bytes=""
    elif ((on)) && [[ $line == "};"* ]]; then
      on=0 count=$((count + 1))
      printf "$bytes" > "$build/seeds/descriptor/$(basename "$header" .h)-$count"
    elif ((on)); then
      for token in ${line//,/ }; do
        bytes+="\\x${token#0x}"
      done
    fi
  done < "$header"
done
echo "contracts_fuzz: $(ls "$build/seeds/contract" | wc -l) contract seeds, $(ls "$build/seeds/descriptor" | wc -l) descriptor seeds, ${seconds} s each"

status=0
for target in contract descriptor; do
  binary=$build/tree/contracts/Fuzz${target^}
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$target-" "$build/found/$target" "$build/seeds/$target" > "$build/$target.log" 2>&1; then
    echo "contracts_fuzz: Fuzz${target^} failed; its log ends:"
    tail -40 "$build/$target.log"
    status=1
  else
    echo "contracts_fuzz: Fuzz${target^}: $(grep -E '^stat::number_of_executed_units' "$build/$target.log" | awk '{print $2}') inputs, no failure"
  fi
done
exit $status
