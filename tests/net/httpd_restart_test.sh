#!/usr/bin/env bash
# httpd killed while it serves: `signet boot --listen http=127.0.0.1:0 --service net
# --service keeper`, keeper (tests/net/guests/keeper.c) running httpd as its child
# and killing and restarting it when the shell writes /kill-httpd. The driver must
# close every connection of the killed server (its clients read the end of the
# stream, mid-response too), and the next server gets the port's next clients
# (docs/network.md).
# Usage: httpd_restart_test.sh <signet> <test-programs-dir> <services-build-dir> <scratch-dir>
set -uo pipefail
signet=$1
programs=$2
services=$3
scratch=$4
rm -rf "$scratch" && mkdir -p "$scratch"
export SIGNET_HOME=$scratch/home
image=$scratch/image
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/../lib.sh"
source "$here/boot.sh"

boot_system --service net --install "$services/httpd/httpd.toml" --install "$programs/keeper.toml" --service keeper \
  || { fail "boot"; finish "httpd restart"; exit 1; }
url=http://127.0.0.1:$port

line='0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.'
printf '%s\n' "$line" >"$scratch/big.expected"
for _ in $(seq 15); do cat "$scratch/big.expected" "$scratch/big.expected" >"$scratch/t" && mv "$scratch/t" "$scratch/big.expected"; done
shell_line 'mkdir /www'
shell_line 'echo page > /www/index.html'
shell_line "echo $line > /www/big.txt"
shell_line 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do cat /www/big.txt /www/big.txt > /www/t; cp /www/t /www/big.txt; done'
shell_line 'echo files-ready'
shell_wait files-ready || fail "the shell did not write the files"

served() { [[ $(curl -s --max-time 20 "$url/") == page ]]; }
# log_has TEXT COUNT: waits (20 s at most) until the system log has COUNT lines with TEXT.
log_has() {
  for _ in $(seq 200); do
    [[ $(grep -c -- "$1" "$image/system.log") -ge $2 ]] && return 0
    sleep 0.1
  done
  return 1
}

for round in 1 2; do
  if served; then pass; else fail "round $round: httpd does not serve before the kill"; fi
  # A keep-alive client that got its answer, and one in the middle of the 2 MiB file.
  exec 5<>"/dev/tcp/127.0.0.1/$port" 6<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&5
  printf 'GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n' >&6
  head -c 1000 <&6 >/dev/null
  sleep 0.5
  shell_line 'echo now > /kill-httpd'
  if log_has "keeper: killed httpd" $round; then pass; else fail "round $round: keeper did not kill httpd"; tail -5 "$image/system.log"; fi
  # Both read the end of the stream at once, not the end of a timeout.
  timeout 10 cat <&5 >"$scratch/kept"
  status=$?
  if [[ $status -eq 0 ]] && grep -q "^page" "$scratch/kept"; then pass
  else fail "round $round: the keep-alive client of the killed httpd: status $status (124: its connection was not closed)"; fi
  # (How much of the file it got depends on what the socket buffers held at the kill:
  # the check is that its connection ends, which only the kill makes it do.)
  timeout 10 cat <&6 >"$scratch/rest"
  status=$?
  got=$(wc -c <"$scratch/rest")
  if [[ $status -eq 0 ]]; then pass
  else fail "round $round: the client in the middle of a response: status $status (124: its connection was not closed), $got more bytes"; fi
  exec 5>&- 6>&-
  # The new httpd opened the path again: the port serves it.
  if served; then pass; else fail "round $round: the new httpd does not serve"; fi
  curl -s --max-time 20 -o "$scratch/big" "$url/big.txt"
  if cmp -s "$scratch/big" "$scratch/big.expected"; then pass; else fail "round $round: the 2 MiB file from the new httpd"; fi
done
expect "the kernel killed httpd" 0 "SIP [0-9]+ \\(httpd\\) was killed" -- cat "$image/system.log"

shutdown_system
[[ $boot_status == 0 ]] && pass || fail "boot ended with status $boot_status"
if grep -E "^\[sip [0-9]+ net\] net: .*(failed|cannot)|SIP [0-9]+ \(net\) trapped|trapped" "$image/system.log"; then fail "a SIP trapped or the driver failed"; else pass; fi
finish "httpd restart"
