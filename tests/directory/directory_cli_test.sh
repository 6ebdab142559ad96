#!/usr/bin/env bash
# `signet run --directory / --policy / --service` end to end.
# Usage: directory_cli_test.sh <signet> <directory-build-dir> <tests-build-dir> <scratch-dir>
set -uo pipefail
signet=$1
services=$2
tests=$3
scratch=$4
rm -rf "$scratch" && mkdir -p "$scratch"
export SIGNET_HOME=$scratch/home
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
expect_timeout=120

guest=$tests/dirguest.wasm
expect "without the directory installed" 1 "no program 'directory'" -- "$signet" run --directory "$guest" self
expect "install the directory" 0 "installed program directory" -- "$signet" install "$services/directory.toml"
expect "install an Echo service" 0 "exports service /service/echo" -- "$signet" install "$tests/dirguest-echo.toml"
expect "a bare module gets a Directory connection" 0 "refused 1 no service is registered at /service/nothing-here" -- "$signet" run --directory "$guest" self
expect "without --directory it has none" 9 "no Directory connection" -- "$signet" run "$guest" self
expect "an unknown path is refused and logged" 3 "directory: refused bind of /service/echo by unsigned/dirguest.wasm: NotFound" -- "$signet" run --directory "$guest" bind /service/echo
expect "a service started with --service is bound" 0 "service sees unsigned/dirguest.wasm" -- "$signet" run --service dirguest-echo "$guest" bind /service/echo
# The client binds once, without retrying: it finds a service that registers 300 ms after
# it started only because signet run starts the program once the service has registered.
expect "install a service that registers late" 0 "exports service /service/late-echo" -- "$signet" install "$tests/dirguest-late.toml"
expect "the program starts once its service registered" 0 "service sees unsigned/dirguest.wasm" -- "$signet" run --service dirguest-late "$guest" bind /service/late-echo
# Services start one after another, each once the one before registered: dirguest-dependent
# binds /service/late-echo once, at its start, before it registers /service/dependent.
expect "install a service that depends on the late one" 0 "exports service /service/dependent" -- "$signet" install "$tests/dirguest-dependent.toml"
expect "a service starts once the service it needs registered" 0 "service sees unsigned/dirguest.wasm" -- "$signet" run --service dirguest-late --service dirguest-dependent "$guest" bind /service/dependent
expect "install a service that ends before it registers" 0 "exports service /service/never" -- "$signet" install "$tests/dirguest-quitter.toml"
expect "a service that ends first is named, with how it ended" 1 "--service: dirguest-quitter ended before it registered /service/never: it exited with status 3" -- "$signet" run --service dirguest-quitter "$guest" self
cat >"$scratch/policy.toml" <<'POLICY'
[directory]
[[directory.rule]]
action = "bind"
path = "/service/echo"
principal = "unsigned/*"
effect = "deny"
reason = "unsigned programs may not use the echo service"
POLICY
expect "the policy denies by principal" 3 "refused 2 unsigned programs may not use the echo service" -- "$signet" run --policy "$scratch/policy.toml" --service dirguest-echo "$guest" bind /service/echo
printf '[directory]\nservices = "declared"\n' >"$scratch/declared.toml"
expect "a declared service registers" 0 "said hello" -- "$signet" run --policy "$scratch/declared.toml" --service dirguest-echo "$guest" bind /service/echo
expect "an undeclared one is refused" 3 "refused 2 its program's manifest does not declare the service /service/echo" -- "$signet" run --policy "$scratch/declared.toml" "$guest" register /service/echo
printf '[directory]\nduplicates = "sometimes"\n' >"$scratch/bad-policy.toml"
expect "a bad policy names file and field" 2 "bad-policy.toml: field 'directory.duplicates'" -- "$signet" run --policy "$scratch/bad-policy.toml" "$guest" self
expect "an unknown service" 2 "--service nothing: no such installed program" -- "$signet" run --service nothing "$guest" self
# --param belongs to the SIP it was given for: the service of the same program keeps its
# manifest's role (service) while the program binds it; with the program's role=bind the
# service would bind a path nobody serves, and end before it registered.
expect "--param of the program does not reach a --service of the same program" 0 "service sees signet-tests/dirguest-echo" \
  -- "$signet" run --service dirguest-echo dirguest-echo --param role=bind
expect "a program requiring a Directory connection runs with --directory" 0 "" -- "$signet" run --directory dirguest-echo --param role=self
expect "and is refused without it" 2 "required endpoint directory \\(Directory.Imp:Start\\) is not bound" -- "$signet" run dirguest-echo --param role=self

finish "directory cli"
