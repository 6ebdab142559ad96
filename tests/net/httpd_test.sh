#!/usr/bin/env bash
# httpd over the network driver, end to end: `signet boot --listen http=127.0.0.1:0
# --service net --service httpd`, files put into /www through the booted shell, and
# curl (and bash's /dev/tcp) as the clients (docs/network.md).
# Usage: httpd_test.sh <signet> <scratch-dir>
set -uo pipefail
signet=$1
scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch"
export SIGNET_HOME=$scratch/home
image=$scratch/image
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/../lib.sh"
source "$here/boot.sh"

boot_system --service net --service httpd || { fail "boot"; finish "httpd"; exit 1; }
url=http://127.0.0.1:$port

# The files: a page, a file whose name needs %20, a directory without an index,
# and one of 2 MiB, doubled 15 times from a line of 64 bytes (the same on the host).
line='0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.'
printf '%s\n' "$line" >"$scratch/big.expected"
for _ in $(seq 15); do cat "$scratch/big.expected" "$scratch/big.expected" >"$scratch/t" && mv "$scratch/t" "$scratch/big.expected"; done
shell_line 'mkdir /www /www/docs /www/empty'
shell_line 'echo "<h1>hello from signet</h1>" > /www/index.html'
shell_line 'echo "read me" > "/www/docs/read me.txt"'
shell_line "echo $line > /www/big.txt"
shell_line 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do cat /www/big.txt /www/big.txt > /www/t; cp /www/t /www/big.txt; done'
shell_line 'echo files-ready'
shell_wait files-ready || fail "the shell did not write the files"

# fetch NAME CODE URL [CURL ARGS...]: curl's status code must be CODE; the body is in $scratch/body.
fetch() {
  local name=$1 want=$2 target=$3
  shift 3
  local got
  got=$(curl -s -o "$scratch/body" -D "$scratch/headers" -w '%{http_code}' --max-time 20 "$@" "$target")
  if [[ $got == "$want" ]]; then pass; else fail "$name: HTTP status $got, expected $want"; head -5 "$scratch/headers" 2>/dev/null; fi
}
header() { grep -i "^$1:" "$scratch/headers" | head -1 | sed 's/^[^:]*: *//; s/\r$//'; }
body_is() { if [[ $(cat "$scratch/body") == "$2" ]]; then pass; else fail "$1: body '$(head -c 200 "$scratch/body")'"; fi; }

fetch "the index of /" 200 "$url/"
body_is "the index's body" "<h1>hello from signet</h1>"
[[ $(header Content-Type) == "text/html; charset=utf-8" ]] && pass || fail "Content-Type of index.html: '$(header Content-Type)'"
[[ $(header Content-Length) == 27 ]] && pass || fail "Content-Length of index.html: '$(header Content-Length)'"
[[ -n $(header Date) ]] && pass || fail "no Date header"
fetch "/index.html" 200 "$url/index.html"
fetch "a name with %20" 200 "$url/docs/read%20me.txt"
body_is "its body" "read me"
[[ $(header Content-Type) == "text/plain; charset=utf-8" ]] && pass || fail "Content-Type of a .txt: '$(header Content-Type)'"

fetch "a 2 MiB file" 200 "$url/big.txt"
if cmp -s "$scratch/body" "$scratch/big.expected"; then pass; else fail "the 2 MiB file's body differs ($(stat -c %s "$scratch/body") bytes)"; fi
[[ $(header Content-Length) == 2097152 ]] && pass || fail "Content-Length of the 2 MiB file: '$(header Content-Length)'"

fetch "a missing file" 404 "$url/nothing-here"
fetch "a directory without index.html" 404 "$url/empty/"
fetch "POST" 405 "$url/" -X POST -d x=1
[[ $(header Allow) == "GET, HEAD" ]] && pass || fail "405 without 'Allow: GET, HEAD': '$(header Allow)'"
fetch "a path above the root" 400 "$url/../etc/passwd" --path-as-is
fetch "%2e%2e above the root" 400 "$url/%2e%2e/x"
fetch "a request line over 8 KiB" 414 "$url/$(head -c 9000 /dev/zero | tr '\0' a)"
fetch "header fields over 8 KiB" 431 "$url/" -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' b)"

# raw BYTES: sends BYTES on a connection of its own and prints what comes back until it closes.
raw() {
  exec 5<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf "$1" >&5
  timeout 10 cat <&5
  exec 5>&-
}
expect "garbage gets 400 and the connection closes" 0 "^HTTP/1.1 400 Bad Request" -- raw 'garbage\r\n\r\n'
expect "binary garbage too" 0 "^HTTP/1.1 400 Bad Request" -- raw '\x01\x02\xff\xfe\r\n\r\n'
expect "HTTP/1.0 is answered and closed" 0 "Connection: close" -- raw 'GET /index.html HTTP/1.0\r\n\r\n'
head_response=$(raw 'HEAD /big.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
if grep -q "^HTTP/1.1 200 OK" <<<"$head_response" && grep -q "Content-Length: 2097152" <<<"$head_response" && [[ ${#head_response} -lt 400 ]]; then pass
else fail "HEAD: not the head of the 2 MiB file alone (${#head_response} bytes)"; head -c 400 <<<"$head_response"; fi
expect "another HTTP version gets 505" 0 "^HTTP/1.1 505 HTTP Version Not Supported" -- raw 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'
one_line() { raw "$1" | tr '\r\n' '  '; }
expect "two pipelined requests on one connection, then close" 0 "hello from signet.*HTTP/1.1 200 OK.*Connection: close" -- \
  one_line 'GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'

# Keep-alive: curl reuses one connection for two URLs; Connection: close ends it.
output=$(curl -sv --max-time 20 "$url/" "$url/index.html" 2>&1)
if [[ $(grep -c "hello from signet" <<<"$output") == 2 ]] && grep -q "Re-using existing connection" <<<"$output"; then pass
else fail "keep-alive: two requests did not share a connection"; echo "$output" | tail -15; fi
output=$(curl -sv --max-time 20 -H "Connection: close" "$url/" "$url/" 2>&1)
if grep -q "Connection: close" <<<"$output" && ! grep -q "Re-using existing connection" <<<"$output"; then pass
else fail "Connection: close: the connection was kept"; echo "$output" | tail -15; fi

# A client that connects and sends nothing holds a thread, not the server.
exec 6<>"/dev/tcp/127.0.0.1/$port"
fetch "served while an idle client waits" 200 "$url/"
# A client that leaves in the middle of a 2 MiB response breaks nothing.
exec 7<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n' >&7
head -c 1000 <&7 >/dev/null
exec 7>&-
curl -s --max-time 20 "$url/big.txt" | head -c 10 >/dev/null
fetch "served after clients left mid-response" 200 "$url/big.txt"
if cmp -s "$scratch/body" "$scratch/big.expected"; then pass; else fail "the 2 MiB file after the interruptions"; fi

# 50 clients at once, each fetching the 2 MiB file and the index.
pids=()
for i in $(seq 50); do
  (curl -s --max-time 60 -o "$scratch/c$i.big" "$url/big.txt" && curl -s --max-time 60 -o "$scratch/c$i.index" "$url/") &
  pids+=($!)
done
bad=0
for i in $(seq 50); do
  wait "${pids[$((i - 1))]}" || bad=$((bad + 1))
  cmp -s "$scratch/c$i.big" "$scratch/big.expected" || bad=$((bad + 1))
  grep -q "hello from signet" "$scratch/c$i.index" || bad=$((bad + 1))
done
[[ $bad == 0 ]] && pass || fail "50 concurrent clients: $bad failures"
exec 6>&-
fetch "served after all of that" 200 "$url/"
body_is "the index again" "<h1>hello from signet</h1>"

shutdown_system
[[ $boot_status == 0 ]] && pass || fail "boot ended with status $boot_status"
if grep -q "trapped" "$image/system.log"; then fail "a SIP trapped"; grep trapped "$image/system.log"; else pass; fi
expect "httpd said what it serves" 0 "httpd: serving /www of /service/fs on /service/net/http" -- cat "$image/system.log"
finish "httpd"
