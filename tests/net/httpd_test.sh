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
shell_line 'mkdir /www /www/docs /www/empty "/www/site dir"'
shell_line 'echo "<h1>hello from signet</h1>" > /www/index.html'
shell_line 'echo "<p>a site</p>" > "/www/site dir/index.html"'
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
  rm -f "$scratch/body" # curl writes no file for a response without a body
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

# A directory named without its trailing slash: a redirect to it with one.
fetch "a directory without its slash" 301 "$url/docs"
[[ $(header Location) == /docs/ ]] && pass || fail "Location of /docs: '$(header Location)'"
fetch "one whose name needs %20" 301 "$url/site%20dir?x=1"
[[ $(header Location) == "/site%20dir/" ]] && pass || fail "Location of /site%20dir: '$(header Location)'"
fetch "followed, it serves the index" 200 "$url/site%20dir" -L
body_is "the followed index" "<p>a site</p>"
fetch "a directory without index.html, named without its slash" 301 "$url/empty"

# Validators and conditional requests.
fetch "the 2 MiB file again" 200 "$url/big.txt"
etag=$(header ETag) modified=$(header Last-Modified)
[[ $etag =~ ^\"[0-9a-f]+-[0-9a-f]+\"$ ]] && pass || fail "ETag: '$etag'"
[[ $modified =~ ^[A-Z][a-z]{2},\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9:]{8}\ GMT$ ]] && pass || fail "Last-Modified: '$modified'"
[[ $(header Accept-Ranges) == bytes ]] && pass || fail "Accept-Ranges: '$(header Accept-Ranges)'"
fetch "If-None-Match with its entity tag" 304 "$url/big.txt" -H "If-None-Match: $etag"
[[ ! -s $scratch/body && -z $(header Content-Length) && $(header ETag) == "$etag" ]] && pass || fail "a 304 with a body, a length or another tag: $(stat -c %s "$scratch/body") bytes, length '$(header Content-Length)', tag '$(header ETag)' (sent $etag)"
fetch "If-None-Match in a list, weak" 304 "$url/big.txt" -H "If-None-Match: \"other\", W/$etag"
fetch "If-None-Match with another tag" 200 "$url/big.txt" -H 'If-None-Match: "other"'
fetch "If-Modified-Since its Last-Modified" 304 "$url/big.txt" -H "If-Modified-Since: $modified"
fetch "If-Modified-Since long before" 200 "$url/big.txt" -H "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"
fetch "If-Modified-Since that is no date" 200 "$url/big.txt" -H "If-Modified-Since: yesterday"
fetch "If-None-Match decides over If-Modified-Since" 200 "$url/big.txt" -H 'If-None-Match: "other"' -H "If-Modified-Since: $modified"

# Ranges. range_is NAME FIRST LENGTH: the body is those bytes of the 2 MiB file.
range_is() {
  if cmp -s "$scratch/body" <(tail -c +$(($2 + 1)) "$scratch/big.expected" | head -c "$3"); then pass
  else fail "$1: not bytes $2.. ($3) of the file ($(stat -c %s "$scratch/body") bytes)"; fi
}
fetch "the first 64 bytes" 206 "$url/big.txt" -r 0-63
range_is "the first 64 bytes" 0 64
[[ $(header Content-Range) == "bytes 0-63/2097152" && $(header Content-Length) == 64 ]] && pass || fail "Content-Range: '$(header Content-Range)'"
fetch "a range across the 16 KiB pieces" 206 "$url/big.txt" -r 16000-50000
range_is "a range across the 16 KiB pieces" 16000 34001
fetch "from an offset to the end" 206 "$url/big.txt" -r 2000000-
range_is "from an offset to the end" 2000000 97152
fetch "the last 100 bytes" 206 "$url/big.txt" -r -100
range_is "the last 100 bytes" 2097052 100
fetch "a range past the end is cut" 206 "$url/big.txt" -r 2097100-9999999
[[ $(header Content-Range) == "bytes 2097100-2097151/2097152" ]] && pass || fail "a range past the end: '$(header Content-Range)'"
fetch "a range that starts past the end" 416 "$url/big.txt" -r 3000000-
[[ $(header Content-Range) == "bytes */2097152" ]] && pass || fail "416 Content-Range: '$(header Content-Range)'"
fetch "several ranges: the whole file" 200 "$url/big.txt" -r 0-1,5-6
fetch "If-Range with its entity tag" 206 "$url/big.txt" -r 10-19 -H "If-Range: $etag"
fetch "If-Range with its date" 206 "$url/big.txt" -r 10-19 -H "If-Range: $modified"
fetch "If-Range with another tag: the whole file" 200 "$url/big.txt" -r 10-19 -H 'If-Range: "other"'
if cmp -s "$scratch/body" "$scratch/big.expected"; then pass; else fail "If-Range with another tag: not the whole file"; fi
# curl resumes a download with a range: the two parts make the file.
head -c 1000000 "$scratch/big.expected" >"$scratch/resumed"
if curl -s --max-time 20 -C - -o "$scratch/resumed" "$url/big.txt" && cmp -s "$scratch/resumed" "$scratch/big.expected"; then pass
else fail "a resumed download differs"; fi

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
head_response=$(raw 'HEAD /big.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n')
if grep -q "^HTTP/1.1 200 OK" <<<"$head_response" && grep -q "Content-Length: 2097152" <<<"$head_response"; then pass
else fail "HEAD with a Range: not the whole file's head"; head -c 400 <<<"$head_response"; fi
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
