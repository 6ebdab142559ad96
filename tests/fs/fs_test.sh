#!/usr/bin/env bash
# The file-system service end to end, through `signet run` with a disk.
# Usage: fs_test.sh operations|crash|hostdir <signet> <services-build-dir> <tests-build-dir> <scratch-dir>
#   operations: every operation and its errors, hostile requests, the disk ABI's
#               refusals, and persistence across kernel restarts.
#   crash:      kills the whole kernel with SIGKILL at random moments while a
#               writer fsyncs and reports what was acknowledged; after each kill a
#               new kernel mounts, checks, and must hold every acknowledged record.
#   hostdir:    a WASI program works in a host directory given with --dir, and
#               cannot leave it (.., absolute paths, symlinks).
set -uo pipefail
mode=$1 signet=$2 services=$3 tests=$4 scratch=$5/$1
rm -rf "$scratch" && mkdir -p "$scratch"
export SIGNET_HOME=$scratch/home
client=$tests/fs_client.wasm
disk=$scratch/disk.img
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# fs registers /service/fs with the directory: every run of the client is a
# `signet run --directory`, which starts the installed program `directory`.
if ! "$signet" install "$services/directory/directory.toml" "$services/blockdev/blockdev.toml" "$services/fs/fs.toml" >"$scratch/install.log" 2>&1; then
  cat "$scratch/install.log"; echo "fs: cannot install the directory, blockdev and fs"; exit 1
fi

case $mode in
operations)
  expect "show names the disk" 0 "resource disk disk0: 67108864 bytes" -- "$signet" show blockdev
  expect "a first mount formats the disk" 0 "ops: 0 failures" -- "$signet" run --directory --disk disk0="$disk" "$client" ops
  size=$(stat -c %s "$disk")
  if [[ $size -eq 67108864 ]]; then pass; else fail "the disk file is $size bytes, expected 64MiB"; fi
  expect "hostile requests get errors and change nothing" 0 "hostile: 0 failures" -- "$signet" run --directory --disk disk0="$disk" "$client" hostile
  expect "fill" 0 "fill: 0 failures" -- "$signet" run --directory --disk disk0="$disk" "$client" fill
  expect "what was written is there after a restart" 0 "verify: 0 failures" -- "$signet" run --directory --disk disk0="$disk" "$client" verify
  expect "a WASI program works in the disk file system" 0 "wasi-child: 0 failures" -- "$signet" run --directory --disk disk0="$disk" --program wasi_files="$tests/wasi_files.wasm" "$client" wasi-child
  expect "the mount reports a passing check" 0 "check passed" -- "$signet" run --directory --disk disk0="$disk" "$client" verify
  expect "hostile WASI programs in the disk file system end" 0 "wasi-chaos: 0 failures" -- "$signet" run --directory --disk disk0="$disk" --program wasi_chaos="$tests/wasi_chaos.wasm" "$client" wasi-chaos 1 25
  expect "and the file system's check still passes" 0 "check passed" -- "$signet" run --directory --disk disk0="$disk" "$client" verify
  expect "install the disk probe" 0 "installed program disk-probe" -- "$signet" install "$tests/disk-probe.toml"
  expect "every status of the disk calls" 0 "disk probe: 0 failures" -- "$signet" run --disk probe="$scratch/probe.img" disk-probe
  if [[ $(head -c 17 "$scratch/probe.img") == SIGNET-DISK-PROBE && $(stat -c %s "$scratch/probe.img") -eq 1048576 ]]; then pass
  else fail "the probe's writes are not in its host file"; fi
  expect "a declared disk with no host file" 0 "disk probe: 0 failures" -- "$signet" run disk-probe unbound
  # A read of what the host's page cache does not hold waits for the device off the worker.
  head -c 16M /dev/zero | tr '\0' S >"$scratch/cold.img"
  sync "$scratch/cold.img" && dd if="$scratch/cold.img" iflag=nocache count=0 status=none
  expect "a cold read waits off the worker" 0 "disk probe: 0 failures" -- "$signet" run --disk cold="$scratch/cold.img" disk-probe cold
  expect "a program that does not declare the disk cannot open it" 0 "disk_open: DENIED" -- "$signet" run --disk disk0="$disk" "$client" disk-denied
  expect "no disk bound: blockdev says so and fs cannot mount" 100 "no host file is bound to it" -- "$signet" run --directory "$client" verify
  expect "a bad --disk" 2 "expected NAME=PATH" -- "$signet" run --disk nonsense "$client" verify
  # A disk that is not a file system is refused, not formatted over.
  head -c 8192 /dev/urandom >"$scratch/garbage.img" && truncate -s 64M "$scratch/garbage.img"
  expect "garbage in block 0 is refused" 100 "not a valid superblock" -- "$signet" run --directory --disk disk0="$scratch/garbage.img" "$client" verify
  ;;
crash)
  runs=0 acknowledged_runs=0 pairs=()
  deadline=$((SECONDS + 40))
  while [[ $SECONDS -lt $deadline && $runs -lt 25 ]]; do
    "$signet" run --directory --disk disk0="$disk" "$client" writer $runs >"$scratch/writer.out" 2>"$scratch/writer.err" &
    pid=$!
    # A random moment: from 50 ms to 1.5 s in (the first run formats the disk meanwhile).
    sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
    sleep "$(printf '0.%03d' $((50 + RANDOM % 500)))"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    if grep -q FAIL "$scratch/writer.out"; then
      fail "writer $runs: $(grep FAIL "$scratch/writer.out" | head -1)"
    fi
    last=$(grep '^ack ' "$scratch/writer.out" | tail -1 | cut -d' ' -f2)
    [[ -n $last ]] && acknowledged_runs=$((acknowledged_runs + 1))
    pairs+=("$runs" "${last:--1}")
    output=$("$signet" run --directory --disk disk0="$disk" "$client" recover "${pairs[@]}" 2>&1 </dev/null)
    status=$?
    if [[ $status -ne 0 ]] || ! grep -q "recover: 0 failures" <<<"$output"; then
      fail "after kill $runs (acknowledged ${last:-nothing}): status $status"; echo "$output" | grep -v '^run ' | tail -15
      break
    fi
    pass
    echo "kill $runs: acknowledged through ${last:-nothing}; $(grep -o 'fs: [^;]*' <<<"$output" | head -1)"
    runs=$((runs + 1))
  done
  if [[ $acknowledged_runs -lt 3 ]]; then fail "only $acknowledged_runs of $runs runs acknowledged a write before the kill"; else pass; fi
  ;;
hostdir)
  # A host directory with a secret beside it, a symlink out and a symlink that stays in.
  root=$scratch/host
  mkdir -p "$root/data/inside"
  echo secret >"$root/outside.txt"
  echo inside >"$root/data/inside/secret.txt"
  ln -s .. "$root/data/link-out"
  ln -s ../outside.txt "$root/data/file-link"
  ln -s inside/secret.txt "$root/data/link-in"
  wasi=$tests/wasi_files.wasm
  expect "a WASI program works in a host directory" 0 "work: 0 failures" -- "$signet" run --dir "$root/data::/data" "$wasi" work
  expect "and cannot leave it" 0 "escape: 0 failures" -- "$signet" run --dir "$root/data::/data" "$wasi" escape
  expect "its threads make file calls at once" 0 "threads: 0 failures" -- "$signet" run --dir "$root/data::/data" "$wasi" threads
  # A hostile WASI program: every WASI call with random arguments and random paths
  # under /data. Each run ends (all its calls answered, or trapped by its own doing)
  # and nothing outside /data changes (checked below with the rest).
  chaos_failures=0
  # Seeds 61-80 run in a protection domain of their own (their calls cross its ring).
  for seed in $(seq 1 80); do
    placement=()
    if [[ $seed -gt 60 ]]; then placement=(--domain own); fi
    timeout 60 "$signet" run "${placement[@]}" --dir "$root/data::/data" "$tests/wasi_chaos.wasm" "$seed" 3000 </dev/null >"$scratch/chaos.out" 2>"$scratch/chaos.err"
    status=$?
    if [[ $status -ne 0 ]] && ! [[ $status -eq 134 && $(tail -1 "$scratch/chaos.err") == *"trapped: "* ]]; then
      chaos_failures=$((chaos_failures + 1)); echo "wasi_chaos $seed: exit status $status: $(tail -3 "$scratch/chaos.err")"
    fi
  done
  if [[ $chaos_failures -eq 0 ]]; then pass; else fail "$chaos_failures hostile WASI runs did not end cleanly"; fi
  if [[ $(ls -A "$root" | tr '\n' ' ') == "data outside.txt " && $(cat "$root/outside.txt") == secret ]]; then pass
  else fail "the hostile runs changed something outside the host directory: $(ls -A "$root")"; fi
  ls -A "$root/data" | grep -v -x -e inside -e link-out -e file-link -e link-in | while read -r name; do rm -rf "${root:?}/data/$name"; done
  rm -rf "${root:?}/data/inside" && mkdir -p "$root/data/inside" && echo inside >"$root/data/inside/secret.txt"
  if [[ -e $root/stolen.txt || -e $root/new.txt || -e $root/newdir || ! -e $root/data/inside/secret.txt ]]; then
    fail "something outside the host directory changed"; ls -la "$root"
  else pass; fi
  if [[ -n $(ls -A "$root/data" | grep -v -e inside -e link-out -e file-link -e link-in) ]]; then
    fail "the work left files behind: $(ls -A "$root/data")"; else pass; fi
  expect "without --dir there is nothing" 1 "work: [1-9][0-9]* failures" -- "$signet" run "$wasi" work
  expect "a --dir that is not a directory" 2 "cannot open directory" -- "$signet" run --dir "$root/outside.txt::/data" "$wasi" work
  ;;
*)
  echo "unknown mode $mode"; exit 2 ;;
esac

finish "fs $mode"
