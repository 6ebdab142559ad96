# What the shell tests share (tests/*/*.sh source it): counting checks, running a
# command and checking its exit status and output, and the summary line.
#
#   pass                 counts a check that passed
#   fail MESSAGE         counts one that failed and prints "FAIL MESSAGE"
#   expect NAME STATUS PATTERN -- COMMAND...
#                        runs COMMAND with no input; it passes if COMMAND exits with
#                        STATUS and its output (stdout and stderr) matches the extended
#                        regular expression PATTERN (empty: any output). A failure
#                        prints the last 15 lines of the output. With expect_timeout
#                        set, COMMAND is killed after that many seconds.
#   finish LABEL         prints "LABEL: N passed, M failed"; succeeds if none failed
passed=0
failed=0
expect_timeout=

pass() { passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local output status
  if [[ -n $expect_timeout ]]; then
    output=$(timeout "$expect_timeout" "$@" 2>&1 </dev/null)
  else
    output=$("$@" 2>&1 </dev/null)
  fi
  status=$?
  if [[ $status -ne $want ]]; then
    fail "$name: exit status $status, expected $want"; echo "$output" | tail -15; return
  fi
  if [[ -n $pattern ]] && ! grep -qE -- "$pattern" <<<"$output"; then
    fail "$name: output lacks /$pattern/"; echo "$output" | tail -15; return
  fi
  pass
}

finish() {
  echo "$1: $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
