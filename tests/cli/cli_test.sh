#!/usr/bin/env bash
# End-to-end checks of the signet CLI: exit statuses, messages, the store.
# Usage: cli_test.sh <signet> <examples-dir> <scratch-dir>
set -uo pipefail
signet=$1
examples=$2
scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch"
export SIGNET_HOME=$scratch/home
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

expect "version" 0 "^signet [0-9]" -- "$signet" --version
expect "help lists run" 0 "run" -- "$signet" --help
expect "no subcommand is a usage error" 2 "" -- "$signet"
expect "run without a module" 2 "which module" -- "$signet" run
expect "hello runs" 0 "Hello from a sealed process" -- "$signet" run "$examples/hello.wasm"
expect "arguments reach the program" 0 "arg 2: --not-an-option" -- "$signet" run "$examples/hello.wasm" x --not-an-option
expect "environment is only what --env gives" 0 "GREETING=hey" -- "$signet" run --env GREETING=hey "$examples/hello.wasm"
expect "bad --env" 2 "KEY=VALUE" -- "$signet" run --env NOEQUALS "$examples/hello.wasm"
expect "bad --memory" 2 "unknown unit" -- "$signet" run --memory 3furlongs "$examples/hello.wasm"
expect "native program" 0 "native SIP" -- "$signet" run "$examples/hello_native.wasm"
expect "--listen binds a port and names it" 0 "^signet: listening for 'web' on 127\\.0\\.0\\.1:[1-9][0-9]*$" -- "$signet" run --listen web=127.0.0.1:0 "$examples/hello.wasm"
expect "a --listen without an address" 2 "^signet: --listen 'web': expected NAME=ADDRESS:PORT" -- "$signet" run --listen web "$examples/hello.wasm"
expect "a --listen without a port" 2 "is not ADDRESS:PORT" -- "$signet" run --listen web=127.0.0.1 "$examples/hello.wasm"
expect "a --listen port out of range" 2 "'70000' is not a port number" -- "$signet" run --listen web=127.0.0.1:70000 "$examples/hello.wasm"
expect "a --listen address that is not here" 2 "cannot listen on 192.0.2.1:0" -- "$signet" run --listen web=192.0.2.1:0 "$examples/hello.wasm"
expect "a port given twice" 2 "port 'web' is given twice" -- "$signet" run --listen web=127.0.0.1:0 --listen web=127.0.0.1:0 "$examples/hello.wasm"
for program in "$examples"/trap_*.wasm; do
  name=$(basename "$program")
  expect "$name traps with status 134 and a report" 134 "SIP [0-9]+ \\($name\\) trapped: " -- "$signet" run "$program"
done

# Bad modules: one line, status 2, nothing stored.
printf 'not wasm at all' >"$scratch/garbage.wasm"
head -c 20 "$examples/hello.wasm" >"$scratch/truncated.wasm"
: >"$scratch/empty.wasm"
for bad in garbage truncated empty; do
  expect "$bad module refused" 2 "$bad.wasm" -- "$signet" install "$scratch/$bad.wasm"
  lines=$("$signet" install "$scratch/$bad.wasm" 2>&1 | wc -l)
  if [[ $lines -ne 1 ]]; then fail "$bad: $lines lines of error, expected 1"; else pass; fi
done
expect "missing file" 1 "cannot open" -- "$signet" install "$scratch/does-not-exist.wasm"
entries=$(find "$SIGNET_HOME" -name image.so 2>/dev/null | wc -l)
expect "install reports tree shaking" 0 "after tree shaking" -- "$signet" install "$examples/compute.wasm"
expect "second install is cached" 0 "already in the store" -- "$signet" install "$examples/compute.wasm"
after=$(find "$SIGNET_HOME" -name image.so | wc -l)
if [[ $after -ne $((entries + 1)) ]]; then fail "store: $entries entries before, $after after one new module"; else pass; fi

# A tampered image is never loaded: it is detected and rebuilt.
image=$(find "$SIGNET_HOME" -path '*' -name image.so | head -1)
chmod u+w "$image" && printf 'X' | dd of="$image" bs=1 seek=100 conv=notrunc status=none
expect "tampered image is rebuilt and runs" 0 "" -- "$signet" run "$examples/compute.wasm" 1000 1

# Programs installed and launched by manifest.
expect "install by manifest" 0 "installed program greeter" -- "$signet" install "$examples/greeter.toml"
expect "install the calculator pair" 0 "requires endpoint client: Calculator.Exp:Start" -- "$signet" install "$examples/calculator-server.toml" "$examples/calculator-client.toml"
expect "list" 0 "greeter  1.0.0  signet-examples/greeter" -- "$signet" list
expect "show names what it may do" 0 "imports: .*signet_v1.param_get" -- "$signet" show greeter
expect "run by name with parameters" 0 "^hi$" -- "$signet" run greeter --param times=2 --param greeting=hi
expect "the principal comes from the manifest" 0 "I am signet-examples/greeter" -- "$signet" run greeter
expect "a parameter of the wrong type" 2 "not a valid value" -- "$signet" run greeter --param times=many
expect "an undeclared parameter" 2 "has no parameter 'colour'" -- "$signet" run greeter --param colour=red
expect "a --param without '='" 2 "^signet: --param 'times': expected NAME=VALUE$" -- "$signet" run greeter --param times
expect "a --param without a name" 2 "^signet: --param '=2': expected NAME=VALUE$" -- "$signet" run --param =2 greeter
expect "a child started by name with its endpoint bound" 0 "calculator: served 4 requests" -- "$signet" run calculator-client
expect "show names the channel memory limit" 0 "channel memory 67108864 bytes" -- "$signet" show calculator-client
expect "bad --channel-memory" 2 "--channel-memory: bad size 'lots'" -- "$signet" run --channel-memory lots calculator-client
expect "channel_create past --channel-memory is refused and the limit named" 1 "channel memory limit of 64 bytes \\(limits.channel_memory" -- "$signet" run --channel-memory 64B calculator-client
expect "unbound required endpoints are refused" 2 "required endpoint client \\(Calculator.Exp:Start\\) is not bound" -- "$signet" run calculator-server
sed 's/name = "greeter"/name = "9bad"/' "$examples/greeter.toml" >"$scratch/bad-manifest.toml"
expect "a bad manifest names file and field" 2 "bad-manifest.toml: field 'program.name'" -- "$signet" install "$scratch/bad-manifest.toml"
expect "uninstall" 0 "uninstalled greeter" -- "$signet" uninstall greeter
expect "uninstalled programs are gone" 1 "no installed program named 'greeter'" -- "$signet" show greeter

finish cli
