#!/usr/bin/env bash
# End-to-end checks of the booted system: scripted shell sessions through stdin.
# Usage: boot_test.sh <signet> <programs-dir> <scratch-dir>
set -uo pipefail
signet=$1
programs=$2
scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch"
export SIGNET_HOME=$scratch/home
image=$scratch/image
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

installs=()
for manifest in "$programs"/*.toml; do installs+=(--install "$manifest"); done

# session <name> <script>: boots the image with the script as the terminal's input;
# the output is in $output, the exit status in $status.
session() {
  local name=$1 script=$2
  output=$(printf '%b' "$script" | timeout 120 "$signet" boot --image "$image" "${installs[@]}" 2>&1)
  status=$?
}

check() { # check <name> <condition-status> <message>: a failure shows the session's output
  if [[ $2 -ne 0 ]]; then
    fail "$1: $3"; echo "--- output:"; echo "$output" | head -40; echo "---"
  else
    pass
  fi
}

has() { grep -qE -- "$1" <<<"$output"; }
lacks() { ! grep -qE -- "$1" <<<"$output"; }

# 1. The first boot creates the image; a session runs builtins and reports statuses.
session basics 'echo hi there\necho "status $?"\nnosuch arg\necho "after $?"\npwd\nhelp\n'
check "first boot ends with the shell" $status "exit status $status"
check "echo" "$(has '^hi there$'; echo $?)" "no 'hi there'"
check "\$? after success" "$(has '^status 0$'; echo $?)" "no 'status 0'"
check "unknown program" "$(has '^nosuch: command not found'; echo $?)" "no 'command not found'"
check "\$? of an unknown program is 127" "$(has '^after 127$'; echo $?)" "no 'after 127'"
check "pwd" "$(has '^/$'; echo $?)" "no /"
for part in store programs policy.toml disk0.img system.log; do
  check "the image has $part" "$([[ -e $image/$part ]]; echo $?)" "$image/$part is missing"
done
check "the file system mounted" "$(grep -q 'check passed' "$image/system.log"; echo $?)" "system.log: $(tail -3 "$image/system.log")"

# 2. Programs by name, arguments, pipes.
session pipes 'show one two\necho "show: $?"\nshow p --param greeting=bonjour\nshow --param colour=red\necho "bad param: $?"\necho hello world | upper\nshow a b | upper | upper\nlines 3 x | upper\n'
check "arguments reach a program" "$(has '^arg 1: one$' && has '^arg 2: two$'; echo $?)" "no arguments"
check "a program's status is \$?" "$(has '^show: 2$'; echo $?)" "no 'show: 2'"
check "--param sets a manifest parameter" "$(has '^greeting: bonjour$' && has '^arg 1: p$'; echo $?)" "no 'greeting: bonjour'"
check "an undeclared --param is refused" "$(has 'colour=red: the program declares no such parameter' && has '^bad param: 2$'; echo $?)" "undeclared parameter accepted"
check "builtin into a program" "$(has '^HELLO WORLD$'; echo $?)" "no HELLO WORLD"
check "three-stage pipe" "$(has '^ARG 1: A$'; echo $?)" "no 'ARG 1: A'"
check "program into program" "$(has '^X LINE 2$'; echo $?)" "no 'X LINE 2'"
check "with a script for a terminal, no stream is a terminal" "$(has '^terminals: - - -$'; echo $?)" "$(grep terminals <<<"$output")"

# The child calls' statuses, checked by a program in the system.
session abi 'abicheck\necho "abicheck: $?"\n'
check "child_bind_stream, child_set_param, child_describe, child_directories, child_bind_directory statuses" "$(has '^abicheck: 0 failed$' && has '^abicheck: 0$' && lacks '^FAIL'; echo $?)" "$(grep '^FAIL' <<<"$output")"

# 3. A program that traps in the middle of a pipeline: the shell reports it and goes on.
session trap 'echo first second | crash | upper\necho "pipeline: $?"\necho alone | crash\necho "crash: $?"\necho still here\nexit 7\n'
check "the shell goes on after a trap (exit 7)" "$([[ $status -eq 7 ]]; echo $?)" "exit status $status, expected 7"
check "the trap is reported with its kind" "$(has '^crash: trapped: .*\[OutOfBounds\]'; echo $?)" "no trap report"
check "the stage before the trap got through" "$(has '^FIRST SECOND$'; echo $?)" "no FIRST SECOND"
check "a pipeline's status is its last stage's" "$(has '^pipeline: 0$'; echo $?)" "no 'pipeline: 0'"
check "a trapped program's status is 134" "$(has '^crash: 134$'; echo $?)" "no 'crash: 134'"
check "the shell survives" "$(has '^still here$'; echo $?)" "no 'still here'"

# 4. Files and redirection, through the file system.
session files 'mkdir /docs\necho hello > /docs/a\necho again >> /docs/a\ncat /docs/a\nupper < /docs/a > /docs/b\ncat /docs/b\ncp /docs/b /c\nls /\nls /docs\nrm /c\ncat /c\necho "cat: $?"\ncd /docs\ncat a | upper\nshow x > out\ncat /docs/out\n'
check "append and read" "$(has '^hello$' && has '^again$'; echo $?)" "file contents wrong"
check "input and output redirection of a program" "$(has '^HELLO$' && has '^AGAIN$'; echo $?)" "no HELLO/AGAIN"
check "ls lists files and directories" "$(has '^docs/$' && has '^c$'; echo $?)" "ls / wrong"
check "rm removes" "$(has 'cat: /c: no such file' && has '^cat: 1$'; echo $?)" "rm or its error wrong"
check "relative paths after cd" "$(has '^arg 1: x$' && [[ $(grep -c '^HELLO$' <<<"$output") -ge 2 ]]; echo $?)" "relative paths wrong"

# 4a. A program's errors (stderr) to a file (2>, 2>>) or where its output goes (2>&1).
session errors 'notes 2> /err\necho "to a file: $?"\nnotes 2>> /err\ncat /err\nnotes > /both 2>&1\ncat /both\nnotes 2>&1 | upper\nlines 20000 y 2>&1 | upper > /big\ncat /big\necho hi 2> /x\necho "a builtin: $?"\n'
check "2> and 2>> write a program's errors to a file, 2>&1 to its output's" \
  "$([[ $(grep -c '^usage: notes PATH TEXT' <<<"$output") -eq 3 ]] && has '^to a file: 2$'; echo $?)" "errors reached the terminal, or not the files"
check "2>&1 into a pipe: errors and output reach the next command, all of them" \
  "$(has '^USAGE: NOTES PATH TEXT' && [[ $(grep -c '^Y LINE' <<<"$output") -eq 20000 ]] && has '^Y LINE 19999$'; echo $?)" "lines lost in the relay"
check "a builtin's 2> is refused: 2" "$(has '^a builtin: 2$'; echo $?)" "not refused"

# 4c. Globbing: *, ? and [...] in a word's last path component, sorted; quoted or unmatched, as typed.
session globs 'mkdir /g\necho a > /g/one.txt\necho b > /g/two.txt\necho c > /g/three.log\necho d > /g/.hidden.txt\necho e > "/g/o*x.txt"\nmkdir /g/sub1; mkdir /g/sub2; mkdir /g/sub3\necho x > /g/sub1/x.txt; echo x > /g/sub2/x.txt; echo y > /g/sub3/y.txt; echo f > /g/subfile\ncd /g\necho '"'"'o*'"'"'*\necho *.txt\necho "*.txt"\necho /g/t*\necho t[wh]o.*\necho nomatch*\necho /g/sub*/x.txt\necho s*/*\necho /*/sub?/y.*\necho /g/sub*/none\ncat *.txt | upper\nrm *.txt\nls\n'
check "a pattern expands to the matching names, sorted, hidden ones left out" "$(has '^o\*x.txt one.txt two.txt$' && has '^/g/three.log /g/two.txt$' && has '^two.txt$'; echo $?)" "wrong expansion"
check "a quoted * in a pattern matches only itself" "$(has '^o\*x.txt$'; echo $?)" "the quoted * matched more"
check "patterns in directory parts match directories, a component at a time" \
  "$(has '^/g/sub1/x.txt /g/sub2/x.txt$' && has '^sub1/x.txt sub2/x.txt sub3/y.txt$' && has '^/g/sub3/y.txt$' && has '^/g/sub\*/none$'; echo $?)" "wrong expansion in a directory part"
check "quoted or unmatched patterns stay as typed" "$(has '^\*.txt$' && has '^nomatch\*$'; echo $?)" "expanded when it should not be"
check "programs and builtins get the names" "$(has '^A$' && has '^B$' && has '^\.hidden.txt$' && lacks '^one.txt$'; echo $?)" "cat or rm did not get the names"

# 4d. The shell's variables: NAME=value alone on a line, $NAME and ${NAME} outside single quotes.
session variables 'GREETING="hello world"\nN=3\necho "${GREETING}!"\necho '"'"'$GREETING'"'"'\nshow "$GREETING" x$N\nX=1 show\necho "with a command: $?"\necho "[$UNSET]"\nset\nunset N\necho "[$N]"\n'
check "variables expand, in double quotes too, not in single ones" "$(has '^hello world!$' && has '^\$GREETING$' && has '^arg 1: hello world$' && has '^arg 2: x3$'; echo $?)" "wrong expansion"
check "an assignment before a command is that command's environment; unset and unknown names expand to nothing" \
  "$(has '^env X=1$' && has '^with a command: 0$' && lacks '^env GREETING' && has '^\[\]$' && has '^N=3$' && [[ $(grep -c '^\[\]$' <<<"$output") -eq 2 ]]; echo $?)" "assignment or unset wrong"

# 4f. Lists: ';', '&&', '||', and '&' between commands; a line that cannot be split runs nothing.
session lists 'echo first; echo second\nnosuch && echo never\necho "after and: $?"\nnosuch || echo recovered\necho ok && echo chained || echo not-here\nmkdir /l; cd /l && pwd\nspin 2 & echo "started beside it"\nwait\necho '"'"'a;b'"'"' "c && d" # e; f\n; echo bad1\necho bad2 &&\necho "syntax: $?"\n'
check "';' runs one command after another" "$(has '^first$' && has '^second$'; echo $?)" "no 'first' and 'second'"
check "'&&' runs after a success only, '||' after a failure only; a skipped command keeps the status" \
  "$(lacks '^never$' && has '^after and: 127$' && has '^recovered$' && has '^chained$' && lacks '^not-here$' && has '^/l$'; echo $?)" "wrong conditions"
check "'&' sends one to the background and runs the next" "$(has '^\[[0-9]+\] spin$' && has '^started beside it$' && has 'spin: exited 2'; echo $?)" "no job beside the next command"
check "quotes and comments keep ';' and '&&' as text" "$(has '^a;b c && d$' && lacks '^ e'; echo $?)" "split inside quotes"
check "a command missing around ';' or '&&': nothing runs, status 2" \
  "$(has "a command must come before ';'" && has "a command must follow '&&'" && lacks '^bad[12]$' && has '^syntax: 2$'; echo $?)" "ran a broken line"

# 4e. The environment of programs: exported variables, and NAME=value before a command for it alone.
session environment 'export GREETING="hello world" EMPTY\nshow\nGREETING=bye A=1 A=2 show one\necho "[$A] $GREETING"\nB=1 show | upper\nexport\nexport 9x\necho "bad: $?"\nunset GREETING\nshow\n'
check "exported variables are every program's environment" \
  "$([[ $(grep -c '^env GREETING=hello world$' <<<"$output") -eq 1 && $(grep -c '^env EMPTY=$' <<<"$output") -eq 3 ]]; echo $?)" "wrong environment"
check "NAME=value before a command is its alone, the last of a name wins, in a pipeline too" \
  "$(has '^env GREETING=bye$' && has '^env A=2$' && lacks '^env A=1$' && has '^\[\] hello world$' && has '^ENV B=1$' && has '^ENV EMPTY=$'; echo $?)" "wrong environment"
check "export lists the exported variables and refuses what is not a name" \
  "$(has '^export GREETING=hello world$' && has '^export EMPTY=$' && has '^export: 9x: not a variable name$' && has '^bad: 1$'; echo $?)" "export wrong"

# 4b. A WASI program whose manifest grants /data gets the file system there; one whose
#     manifest grants nothing has no preopened directory.
session directories 'notes /data/note.txt written by a sealed process\necho "notes: $?"\ncat /note.txt\nnodata /data/other.txt never\necho "nodata: $?"\ncat /other.txt\n'
check "a granted /data is the system file system" "$(has '^notes: wrote /data/note.txt$' && has '^notes: 0$' && has '^written by a sealed process$'; echo $?)" "the file did not arrive"
check "without a grant there is no /data" "$(has '^notes: cannot open /data/other.txt' && has '^nodata: 1$' && has 'cat: /other.txt: no such file'; echo $?)" "nodata wrote a file"

# 4c. A grant of one directory (path = "/inbox"): the program sees it as /data, and nothing above it.
session subdirectory 'mkdir /inbox\ninbox /data/n.txt kept in the inbox\necho "inbox: $?"\ncat /inbox/n.txt\ninbox /data/../escape.txt out\necho "escape: $?"\nls /\nrm /inbox/n.txt\nrmdir /inbox\ninbox /data/m.txt none\necho "gone: $?"\n'
check "a program granted /inbox writes there through its /data" "$(has '^notes: wrote /data/n.txt$' && has '^inbox: 0$' && has '^kept in the inbox$'; echo $?)" "the file did not arrive in /inbox"
check "it cannot climb above /inbox" "$(has '^notes: cannot open /data/../escape.txt' && has '^escape: 1$' && lacks '^escape.txt$'; echo $?)" "it escaped"
check "without /inbox it cannot start: 126, with the reason" "$(has 'inbox: cannot give it /data: the directory its manifest grants there does not exist' && has '^gone: 126$'; echo $?)" "started without its directory"

# 5. A reboot keeps the files.
session reboot 'cat /docs/b\nls /docs\n'
check "files survive a reboot" "$(has '^HELLO$' && has '^out$'; echo $?)" "files lost"

# 6. Jobs: ps and kill.
session jobs 'spin &\nps\nkill $!\necho "kill: $?"\nps\nspin 3 &\nwait\nkill 999999\necho "bad kill: $?"\n'
check "a job starts in the background" "$(has '^\[[0-9]+\] spin$'; echo $?)" "no job line"
check "ps shows the shell and the job" "$(has 'running +shell' && has 'running +spin'; echo $?)" "ps wrong"
check "kill stops the job" "$(has '^kill: 0$' && has 'spin: killed'; echo $?)" "kill wrong"
check "wait reports a job's end" "$(has 'spin: exited 3'; echo $?)" "no 'exited 3'"
check "kill refuses what is not a job" "$(has 'no such job' && has '^bad kill: 1$'; echo $?)" "bad kill accepted"

# Files are streams the file system serves: a program reads and writes them in the background too.
session job-files 'show one > /o\nlines 3 bg 200 > /bg &\nupper < /o > /up 2>&1 &\ncrash 2> /e < /o &\nwait\ncat /bg\ncat /up\nshow 2>&1 | upper > /q &\nupper < /nothing &\necho "missing $?"\n'
check "a job in the background writes a file" "$(has '^bg line 2$' && has '^ARG 1: ONE$'; echo $?)" "no 'bg line 2' or 'ARG 1: ONE'"
check "a job reading a missing file is not started" "$(has 'nothing: no such file or directory' && has '^missing 1$'; echo $?)" "no error for a missing file"
check "a job cannot pipe its errors" "$(has 'cannot pipe its errors'; echo $?)" "2>&1 | accepted in the background"

# Scripts: source runs a file's lines in this shell; nesting is bounded; exit in one ends the shell.
session scripts "mkdir /d\necho 'X=5' > /s.sh\necho 'echo \"x is \$X\"; cd /d' >> /s.sh\necho 'show a | upper; nosuch' >> /s.sh\nsource /s.sh; echo \"status \$?\"\npwd\necho '. /loop.sh' > /loop.sh\n. /loop.sh\necho \"loop \$?\"\nsource /nope\necho \"nope \$?\"\necho 'echo before exit; exit 7; echo not here' > /e.sh\nsource /e.sh; echo never\necho never2\n"
check "source runs a script's lines in this shell" "$(has '^x is 5$' && has '^ARG 1: A$' && has '^status 127$' && has '^/d$'; echo $?)" "the script did not run as typed"
check "scripts nest at most 8 deep" "$(has 'nested more than 8 deep' && has '^loop 1$'; echo $?)" "endless nesting"
check "a missing script is status 1" "$(has '/nope: no such file' && has '^nope 1$'; echo $?)" "no error for a missing script"
check "exit in a script ends the shell" "$(has '^before exit$' && lacks 'not here|never' && [[ $status -eq 7 ]]; echo $?)" "exit status $status"
args='echo '"'"'echo "$0 has $# args: $1 [$2]"; for a in $1 $2; do echo "arg <$a>"; done'"'"' > /args.sh
source /args.sh one
source /args.sh "two words" x
echo "after: $# [$1]"
'
session script-args "$args"
check "a script's arguments are \$1.. and \$#; an unquoted expansion of nothing is no word" \
  "$(has '^/args.sh has 1 args: one \[\]$' && has '^arg <one>$' && lacks '^arg <>$' && has '^/args.sh has 2 args: two words \[x\]$' \
     && has '^arg <two words>$' && has '^after: 0 \[\]$'; echo $?)" "wrong positional parameters"

# $(...): what commands write, in a line: one word in double quotes, split at blanks outside them.
subst='echo "[$(echo hello   world)]" x$(echo a b)y
X=$(show q | upper); echo "X has $X"
echo '"'"'$(not run)'"'"' "$(echo "it'"'"'s")" "$(echo "a;b") && $(echo c)"
for i in $(echo 1 2 3); do echo "n$i"; done
echo $(echo $(echo nested)) "[$(nosuch)]"
echo $(spin 3 &)
echo $(echo unclosed
echo end
'
session substitution "$subst"
check "\$(...) in and out of double quotes, nested, in for and assignments" \
  "$(has '^\[hello world\] xa by$' && has '^X has ARG 0: SHOW$' && has '^TERMINALS: - - -$' && has "^\\\$\(not run\) it's a;b && c$" \
     && has '^n3$' && has '^nested \[\]$'; echo $?)" "wrong substitution"
check "\$(...) refuses the background and an unclosed one" "$(has 'nothing runs in the background inside' && has "'\\\$\(' without its '\)'" && has '^end$'; echo $?)" "no refusal"

# >&2: a command's output where its errors go (a file, the terminal), never into $(...) or the next command.
session to-errors 'X=$(echo captured; echo escaped >&2); echo "X=[$X]"\nshow a >&2 2> /ef; cat /ef\nshow b 1>&2 | upper; echo "pipe $?"\necho z >&2 > /zf; cat /zf\n'
check ">&2 sends output where errors go" "$(has '^escaped$' && has '^X=\[captured\]$' && has '^arg 1: a$' && has '^arg 1: b$' && lacks '^ARG 1: B$' \
  && has '^pipe 0$' && has '^z$'; echo $?)" "wrong >&2"

# A compound command's < FILE (what read reads inside) and > FILE / >> FILE (where its output goes).
session compound-files 'echo one > /lf; echo "two words" >> /lf\nwhile read a b; do echo "line <$a> <$b>"; done < /lf\nfor x in 1 2; do echo "n$x"; show $x | upper; done > /loop.out\nfor x in 3; do echo "n$x"; done >> /loop.out\nif true; then echo "in if"; fi > /if.out\ncat /loop.out /if.out\nwhile read l; do echo "[$l]"; done < /missing; echo "missing $?"\nfor x in 1; do echo $x & done > /bg.out\n'
check "while read ...; done < FILE reads the file a line at a time" "$(has '^line <one> <>$' && has '^line <two> <words>$'; echo $?)" "no lines read"
check "> FILE and >> FILE after done or fi take everything the commands write" \
  "$(has '^n1$' && has '^ARG 1: 2$' && has '^n3$' && has '^in if$' && [[ $(grep -c '^n[123]$' <<<"$output") -eq 3 ]]; echo $?)" "output not in the file"
check "a missing input file runs nothing (1); nothing in the background inside" "$(has '/missing: no such file' && has '^missing 1$' && has 'nothing runs in the background inside'; echo $?)" "wrong refusal"

# read: the next line of the shell's input, or a file's first, into variables.
session read 'read A B\n  hello big   world  \necho "A=[$A] B=[$B]"\necho "first line" > /f\nread L < /f; echo "L=[$L] $?"\nread; echo "REPLY=[$REPLY]"\nplain reply\nread 1bad; echo "bad $?"\nread X; echo "at the end $?"'
check "read splits a line into variables, the last taking the rest" "$(has '^A=\[hello\] B=\[big   world\]$' && has '^L=\[first line\] 0$' && has '^REPLY=\[plain reply\]$'; echo $?)" "wrong read"
check "read refuses a bad name; status 1 at the end of input" "$(has "'1bad' is not a variable's name" && has '^bad 2$' && has '^at the end 1$'; echo $?)" "wrong read statuses"

# Compound commands: if, while, until, for, break and continue, on one line or over several.
flow='if false; then echo no; elif true; then echo "elif ran $?"; else echo no; fi
if false; then echo a; fi; echo "empty if $?"
for x in one "two three" /d*; do echo "item $x"; done
for f in a b
do
  if true # a comment
  then echo "nested $f"
  fi
done
until false; do echo once; break; done
for x in 1 2 3; do if true; then continue; fi; echo "not $x"; done
for x in 1 2; do for y in a b; do echo "pair $x$y"; break 2; done; done
while nosuch; do echo never; done; echo "while $?"
for n in 1 2 3; do N="$N$n"; done; echo "N=$N"
if true; then echo x; done
for x in a; do echo $x; done | upper
break
fi
echo end'
session flow "$flow\n"
check "if, elif, else" "$(has '^elif ran 0$' && has '^empty if 0$' && lacks '^no$|^a$'; echo $?)" "wrong branches"
check "for over words, quotes and globs" "$(has '^item one$' && has '^item two three$' && has '^item /d$'; echo $?)" "wrong for words"
check "blocks over several lines, nested, with comments" "$(has '^nested a$' && has '^nested b$'; echo $?)" "no nested lines"
check "until, break, continue, break 2" "$(has '^once$' && lacks '^not ' && has '^pair 1a$' && lacks 'pair 1b|pair 2'; echo $?)" "wrong loop control"
check "while ends when its condition fails; variables across rounds" "$(has '^while 0$' && has '^N=123$'; echo $?)" "wrong while or for"
check "malformed compound commands run nothing" "$(has "'if' closed by 'done'" && has "only < FILE, > FILE or >> FILE may follow 'done'" && has 'break: only inside a loop' \
  && has "'fi' where no if is open" && lacks '^x$' && has '^end$'; echo $?)" "a malformed compound command ran"

# 7. Output of programs running at once never interleaves inside a line.
session lines 'lines 200 aaaa &\nlines 200 bbbb &\nlines 200 cccc\nwait\n'
bad=$(grep -E 'line [0-9]' <<<"$output" | grep -cvE '^(aaaa|bbbb|cccc) line [0-9]+$')
count=$(grep -cE '^(aaaa|bbbb|cccc) line [0-9]+$' <<<"$output")
check "no line is mixed ($bad mixed)" "$([[ $bad -eq 0 ]]; echo $?)" "$bad mixed lines"
check "every line arrives ($count of 600)" "$([[ $count -eq 600 ]]; echo $?)" "$count lines of 600"

# 8. shutdown, and SIGTERM: every SIP stops, the file system commits, status 0.
session shutdown 'echo bye > /bye\nshutdown\necho never\n'
check "shutdown ends with status 0" $status "exit status $status"
check "nothing runs after shutdown" "$(lacks '^never$'; echo $?)" "a command ran after shutdown"
fifo=$scratch/input
mkfifo "$fifo"
"$signet" boot --image "$image" <"$fifo" >"$scratch/term.out" 2>&1 &
booted=$!
exec 9>"$fifo"
printf 'echo before > /term\necho ready\n' >&9
for _ in $(seq 100); do grep -q '^ready$' "$scratch/term.out" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$booted"
for _ in $(seq 100); do kill -0 "$booted" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$booted" 2>/dev/null
wait "$booted"
echo $? >"$scratch/term.status"
exec 9>&-
output=$(cat "$scratch/term.out")
check "SIGTERM shuts down with status 0" "$([[ $(cat "$scratch/term.status" 2>/dev/null) == 0 ]]; echo $?)" "status $(cat "$scratch/term.status" 2>/dev/null)"
session after-term 'cat /term\ncat /bye\n'
check "what was written before SIGTERM and shutdown is there" "$(has '^before$' && has '^bye$'; echo $?)" "files lost at shutdown"

# 9. On a terminal (a pseudo-terminal from script(1), when it is installed): a prompt, and the
#    console edits lines -- Up recalls the last one, Ctrl-A/Ctrl-E move, Backspace deletes.
if command -v script >/dev/null; then
  output=$( (printf 'echo one\r\033[A\rech\001\005o tw\177wo\rshutdown\r'; sleep 3) \
    | timeout 60 script -qfec "$signet boot --image $image" /dev/null | tr '\r' '\n')
  check "a prompt on a terminal" "$(has 'signet:/\$ '; echo $?)" "no prompt"
  check "Up recalls the last line" "$([[ $(grep -c '^one$' <<<"$output") -eq 2 ]]; echo $?)" "'one' not printed twice"
  check "editing keys" "$(has '^two$'; echo $?)" "no 'two'"

  # Ctrl-C stops the program in front (the console tells the shell, which stops it: status 130),
  # also one that reads the terminal; at the prompt it drops the line; typed-ahead lines wait.
  term=$scratch/ctrl-c.out
  : >"$term"
  wait_for() { for _ in $(seq 300); do grep -qaE -- "$1" "$term" && return 0; sleep 0.1; done; return 1; }
  ( wait_for 'signet:/\$ ' && printf 'spin\r' && sleep 1 && printf '\003' && wait_for '\^C' \
      && printf 'echo "spin $?"\r' && wait_for 'spin 130' \
      && printf 'upper\r' && sleep 1 && printf 'abc\r' && wait_for 'ABC' && printf '\003' \
      && printf 'echo "upper $?"\r' && wait_for 'upper 130' \
      && printf 'echo dropped\003spin 3\recho typed ahead\r' && wait_for 'typed ahead' \
      && printf 'spin &\r' && wait_for '\] spin' && printf 'wait\r' && sleep 1 && printf '\003' \
      && printf 'echo "wait $?"\r' && wait_for 'wait 130' && printf 'ps\r' && wait_for 'running +spin' \
      && printf 'spin\r\003' && sleep 1 && printf 'echo "burst $?"\r' && wait_for 'burst 130' \
      && printf 'spin; echo "list went on"\r' && sleep 1 && printf '\003' && printf 'echo "list $?"\r' && wait_for 'list 130' \
      && printf 'spin\r' && sleep 1 && printf '\032' && wait_for 'Stopped spin' && printf 'echo "z $?"\r' && wait_for 'z 148' \
      && printf 'jobs\r' && wait_for 'stopped +spin' && printf 'ps\r' && wait_for 'suspended +spin' \
      && printf 'fg\r' && sleep 1 && printf '\003' && printf 'echo "fg $?"\r' && wait_for 'fg 130' \
      && printf 'spin\r' && sleep 1 && printf '\032' && wait_for 'Stopped spin' && printf 'bg\r' && wait_for 'spin &' \
      && printf 'jobs\r' && wait_for 'running +spin' && printf 'kill $!\r' && printf 'echo "bg-kill $?"\r' && wait_for 'bg-kill' \
      && printf 'echo x | spin\r' && sleep 1 && printf '\032' && wait_for 'cannot be suspended' && printf '\003' \
      && printf 'spin > /spun\r' && sleep 1 && printf '\032' && sleep 1 && printf 'fg\r' && sleep 1 && printf '\003' \
      && printf 'spin | upper\r' && sleep 1 && printf '\032' && wait_for 'Stopped upper' && printf 'fg\r' && sleep 1 && printf '\003' \
      && printf 'echo "fg2 $?"\r' && wait_for 'fg2 130'
    printf 'shutdown\r'; sleep 3 ) | timeout 90 script -qfec "$signet boot --image $image" /dev/null >"$term"
  output=$(tr '\r' '\n' <"$term")
  check "Ctrl-C stops the program in front: 130" "$(has '^spin 130$'; echo $?)" "no 'spin 130'"
  check "Ctrl-C stops a program reading the terminal" "$(has '^ABC$' && has '^upper 130$'; echo $?)" "no 'upper 130'"
  check "Ctrl-C at the prompt drops the line" "$(lacks '^dropped$'; echo $?)" "'echo dropped' ran"
  check "typed-ahead lines run after the program in front" "$(has '^typed ahead$'; echo $?)" "no 'typed ahead'"
  check "Ctrl-C ends a wait, not the jobs: 130" "$(has '^wait 130$' && has 'running +spin'; echo $?)" "no 'wait 130', or the job ended"
  check "Ctrl-C typed with the line that starts a program stops it" "$(has '^burst 130$'; echo $?)" "no 'burst 130'"
  check "Ctrl-C stops the rest of a list too" "$(has '^list 130$' && lacks '^list went on$'; echo $?)" "the list went on"
  check "Ctrl-Z suspends the program in front: a stopped job, 148" "$(has '\] Stopped spin$' && has '^z 148$'; echo $?)" "no 'Stopped spin' or 'z 148'"
  check "jobs and ps show it stopped" "$(has 'stopped +spin' && has 'suspended +spin'; echo $?)" "not shown as stopped"
  check "fg continues it in front, where Ctrl-C stops it" "$(has '^fg 130$'; echo $?)" "no 'fg 130'"
  check "a pipeline whose builtin's output the shell serves is not suspended; one of programs is (with files too), and fg continues all of it" \
    "$(has 'it cannot be suspended' && [[ $(grep -c '\] Stopped spin$' <<<"$output") -ge 3 ]] && has '\] Stopped upper$' && has '^fg2 130$'; echo $?)" "wrong suspension of a pipeline"
  check "bg continues a stopped job in the background" "$(has '\] spin &$' && has 'running +spin' && has '^bg-kill 0$'; echo $?)" "bg did not continue it"

  # On a terminal: the streams bound to it are terminals for the C library (isatty, a
  # line-buffered stdout); output of a background program appears while a line is edited;
  # Ctrl-Z while a program reads puts its read aside (what was typed for it is dropped), the
  # shell reads the next lines, and after fg the program reads on.
  term=$scratch/ctrl-z.out
  : >"$term"
  ( wait_for 'signet:/\$ ' && printf 'show\r' && wait_for 'terminals' && printf 'show 2>&1 | upper\r' && wait_for 'TERMINALS' \
      && printf 'lines 2 late 1000 &\r' && wait_for '\] lines' && printf 'echo par' && wait_for 'late line 1' && printf 'tial\r' \
      && wait_for '^partial' && printf 'upper\r' && sleep 1 && printf 'abc\r' && wait_for 'ABC' && printf 'xyz\r' && wait_for 'XYZ' \
      && printf 'gh\032' && wait_for 'Stopped upper' && printf 'echo between\r' && wait_for '^between' \
      && printf 'fg\r' && sleep 1 && printf 'def\r' && wait_for 'DEF' && printf '\004' && printf 'echo "upper $?"\r' && wait_for 'upper 0' \
      && printf 'cat; echo "cat went on"\r' && sleep 1 && printf 'meow\r' && sleep 1 && printf '\003' && printf 'echo "cat $?"\r' && wait_for 'cat 130' \
      && printf 'for x in a b; do\r' && sleep 0.5 && printf 'echo "got $x"\r' && sleep 0.3 && printf 'done\r' && wait_for 'got b' \
      && printf 'while true; do true; done\r' && sleep 1 && printf '\003' && printf 'echo "loop $?"\r' && wait_for 'loop 130' \
      && printf 'read X; echo "got [$X]"\r' && sleep 0.5 && printf 'typed line\r' && wait_for 'got \[typed line\]' \
      && printf 'read Y; echo "read went on"\r' && sleep 0.5 && printf '\003' && printf 'echo "read $?"\r' && wait_for 'read 130'
    printf 'shutdown\r'; sleep 3 ) | timeout 90 script -qfec "$signet boot --image $image" /dev/null >"$term"
  output=$(tr '\r' '\n' <"$term")
  check "streams bound to the terminal are terminals; others are not" \
    "$(has '^terminals: stdin stdout stderr$' && has '^TERMINALS: STDIN - -$'; echo $?)" "$(grep -i terminals <<<"$output")"
  check "a background program's output appears while a line is edited" "$(has 'late line 1' && has '^partial$'; echo $?)" "no 'late line 1' before Enter"
  check "a program's lines on the terminal come out as it writes them" "$(has '^ABC$' && has '^XYZ$'; echo $?)" "no XYZ before the end"
  check "Ctrl-Z while a program reads: the shell reads the next line, the program reads on after fg" \
    "$(has '^between$' && lacks 'ECHO BETWEEN' && lacks 'GH' && has '^DEF$' && has '^upper 0$'; echo $?)" "wrong reads after Ctrl-Z"
  check "Ctrl-C ends the builtin cat reading the terminal, and the rest of the line: 130" \
    "$([[ $(grep -c '^meow' <<<"$output") -ge 2 ]] && has '^cat 130$' && lacks '^cat went on$'; echo $?)" "cat not ended by Ctrl-C"
  check "a compound command over several lines, with a '> ' prompt" "$(has '^> ' && has '^got a$' && has '^got b$'; echo $?)" "no continuation"
  check "Ctrl-C ends a loop of builtins: 130" "$(has '^loop 130$'; echo $?)" "the loop went on"
  check "read takes a line typed on the terminal; Ctrl-C ends it: 130" "$(has '^got \[typed line\]$' && has '^read 130$' && lacks '^read went on$'; echo $?)" "wrong read on the terminal"
else
  echo "skipped: the terminal checks need script(1)"
fi

finish boot
