#!/usr/bin/env bash
# `signet boot --service`: each service starts once the one before has registered
# the paths its manifest declares (docs/cli.md, docs/directory.md).
# Usage: boot_services_test.sh <signet> <directory-tests-build-dir> <scratch-dir> <fsuser-dir>
set -uo pipefail
signet=$1
guests=$2
scratch=$3
fsuser=$4/fsuser.toml
rm -rf "$scratch" && mkdir -p "$scratch"
export SIGNET_HOME=$scratch/home
image=$scratch/image
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# The directory tests' guest under five manifests (tests/directory/CMakeLists.txt).
installs=()
for name in late dependent quitter idle; do installs+=(--install "$guests/dirguest-$name.toml"); done
# boot ARGS...: boots the image with a shell session that says it booted and shuts down.
boot() { printf 'echo booted\nshutdown\n' | timeout 120 "$signet" boot --image "$image" "${installs[@]}" "$@"; }
log() { cat "$image/system.log"; }

# dirguest-dependent binds /service/late-echo once, at its start, before it registers
# /service/dependent; dirguest-late registers /service/late-echo 300 ms after its start.
# The bind succeeds only because boot starts the dependent service once the late one
# has registered, and the shell only once both have.
expect "a dependent service starts once the service it needs registered" 0 "^booted$" -- boot --service dirguest-late --service dirguest-dependent
expect "the late service registered" 0 "registered /service/late-echo" -- log
expect "the dependent one bound it at once" 0 "said hello" -- log
expect "and then registered its own" 0 "registered /service/dependent" -- log
expect "nothing was refused" 1 "" -- grep -q "refused" "$image/system.log"

# The file system registers /service/fs, and boot starts the services only once it
# has: fsuser opens it once, at its start, writes a file, and registers its own path
# only then, so the shell finds the file. fsuser keeps its connection to fs open:
# at shutdown boot stops it first, and fs ends with its last client as it should.
expect "fs says so in the log" 0 "fs: registered /service/fs" -- log
output=$(printf 'cat /from-a-service\nshutdown\n' | timeout 120 "$signet" boot --image "$image" --install "$fsuser" --service fsuser 2>&1)
status=$?
if [[ $status -eq 0 ]] && grep -q "^written by a service through /service/fs$" <<<"$output"; then pass
else fail "a service opens /service/fs at its start: exit status $status, or the shell did not find its file"; echo "$output" | tail -15; fi
expect "it wrote there through fs" 0 "fsuser: wrote /from-a-service through /service/fs" -- log
if grep -q "did not finish" <<<"$output"; then fail "the file system did not end with its last client at shutdown"; echo "$output" | tail -15
else pass; fi

expect "a service that ends before it registers is named, with how it ended" 1 \
  "boot: --service: dirguest-quitter ended before it registered /service/never: it exited with status 3" -- boot --service dirguest-quitter
expect "one that never registers is named after the timeout (20 s)" 1 \
  "boot: --service: dirguest-idle did not register /service/idle within 20000 ms" -- boot --service dirguest-idle
expect "an unknown service" 2 "boot: --service nothing: no such installed program" -- boot --service nothing
expect "a program that is not a directory service" 2 "boot: --service console: required endpoint control \\(Console.Exp:Start\\) is not a Directory connection" \
  -- boot --service console

finish "boot services"
