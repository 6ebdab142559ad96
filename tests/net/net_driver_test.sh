#!/usr/bin/env bash
# The network driver alone: `signet boot --listen http=127.0.0.1:0 --service net
# --service netecho`, netecho's two workers importing /service/net/http at once and
# echoing lines (tests/net/guests/netecho.c), bash's /dev/tcp as the clients: an
# importer that closes a connection closes the socket; one that traps has every
# socket of its closed by the driver, and the port serves the importer started
# after it (docs/network.md).
# Usage: net_driver_test.sh <signet> <programs-dir> <scratch-dir>
set -uo pipefail
signet=$1
programs=$2
scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch"
export SIGNET_HOME=$scratch/home
image=$scratch/image
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/../lib.sh"
source "$here/boot.sh"

# Without --listen the driver cannot take its port, says why, and boot names it.
output=$(printf 'shutdown\n' | timeout 120 "$signet" boot --image "$image" --service net 2>&1)
status=$?
if [[ $status -eq 1 ]] && grep -q "boot: --service: net ended before it registered /service/net/http: it exited with status 1" <<<"$output"; then pass
else fail "net without --listen: exit status $status"; echo "$output" | tail -5; fi
expect "the log says why" 0 "net: cannot listen on the port 'http': NOT_FOUND \\(the host bound no address to it" -- cat "$image/system.log"

boot_system --service net --install "$programs/netecho.toml" --service netecho || { fail "boot"; finish "net driver"; exit 1; }

# Client N is file descriptor 10+N. connect N; say N TEXT: sends a line, and the echo must come back.
connect() { eval "exec $((10 + $1))<>/dev/tcp/127.0.0.1/$port"; }
say() {
  local reply=
  printf '%s\n' "$2" >&$((10 + $1))
  if read -r -t 10 reply <&$((10 + $1)) && [[ $reply == "$2" ]]; then pass; else fail "client $1: '$2' came back as '$reply'"; fi
}
# ended N: the client reads the end of the stream (not a timeout) within 10 s; 0 if so.
ended() {
  local reply
  read -r -t 10 reply <&$((10 + $1))
  [[ $? -eq 1 && -z $reply ]]
}
# echoes_or_ended N: a client of the worker that trapped reads the end; any other still echoes.
echoes_or_ended() {
  local reply=
  printf 'still\n' >&$((10 + $1)) 2>/dev/null
  read -r -t 10 reply <&$((10 + $1))
  local status=$?
  [[ $status -eq 0 && $reply == still ]] && return 0
  [[ $status -eq 1 ]] && return 0
  echo "client $1: status $status, '$reply'"
  return 1
}

for n in 1 2 3 4 5 6; do connect $n; done
for n in 1 2 3 4 5 6; do say $n "hello from client $n"; done
say 1 "a second line on the same connection"

# An importer that closes its end of a connection: the driver closes the socket.
printf 'bye\n' >&11
if ended 1; then pass; else fail "the client of a closed connection did not read its end"; fi
say 2 "the others go on"

# A worker that traps with clients connected: the driver closes each of their
# sockets; the other worker's clients go on; and the worker started in its place
# (a new importer of the same port) serves new clients.
for round in 1 2 3; do
  printf 'crash\n' >&12
  if ended 2; then pass; else fail "round $round: the client of a worker that trapped did not read its end"; fi
  for n in 3 4 5 6; do
    if echoes_or_ended $n; then pass; else fail "round $round: client $n hangs after a worker trapped"; fi
  done
  for n in 2 3 4 5 6; do eval "exec $((10 + n))>&-"; connect $n; done
  for n in 2 3 4 5 6; do say $n "round $round, client $n"; done
done
expect "the kernel saw the workers trap" 0 "netecho.*trapped" -- cat "$image/system.log"
expect "and the supervisor started others" 0 "a worker ended with status 134; starting another" -- cat "$image/system.log"

# Many clients at once: 40 connections, each echoing.
for n in $(seq 20 59); do connect $n; done
bad=0
for n in $(seq 20 59); do
  printf 'many %s\n' $n >&$((10 + n))
done
for n in $(seq 20 59); do
  reply=
  read -r -t 10 reply <&$((10 + n))
  status=$?
  [[ $reply == "many $n" ]] || { bad=$((bad + 1)); echo "client $n: read status $status, '$reply'"; }
done
[[ $bad == 0 ]] && pass || fail "40 clients at once: $bad did not echo"

shutdown_system
[[ $boot_status == 0 ]] && pass || fail "boot ended with status $boot_status"
if grep -E "^\[sip [0-9]+ net\] net: .*(failed|cannot)|SIP [0-9]+ \(net\) trapped" "$image/system.log" | grep -v "NOT_FOUND"; then fail "the driver reported a failure"; else pass; fi
finish "net driver"
