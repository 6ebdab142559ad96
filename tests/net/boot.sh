# What the network tests share (tests/net/*_test.sh source it, after tests/lib.sh):
# a booted system that stays up while the test talks to it over TCP.
#
#   boot_system ARGS...  boots $image with `--listen http=127.0.0.1:0` and ARGS, its
#                        shell reading the lines `shell_line` writes; sets $port from
#                        boot's "listening for 'http'" line; fails if it does not come
#   shell_line LINE      gives the shell a line
#   shell_wait TEXT      waits (30 s at most) until the console printed a line TEXT
#   shutdown_system      `shutdown`, and waits for signet to end; sets $boot_status
#   http_ready           waits (30 s at most) until an HTTP request gets an answer
boot_system() {
  rm -f "$scratch/in" && mkfifo "$scratch/in"
  timeout 240 "$signet" boot --image "$image" --listen http=127.0.0.1:0 "$@" <"$scratch/in" >"$scratch/out" 2>"$scratch/err" &
  boot_pid=$!
  exec 3>"$scratch/in"
  port=
  for _ in $(seq 300); do
    port=$(sed -n "s/^boot: listening for 'http' on 127.0.0.1:\([0-9]*\)$/\1/p" "$scratch/err")
    [[ -n $port ]] && return 0
    kill -0 "$boot_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "boot printed no listening line:"; cat "$scratch/err"
  return 1
}
shell_line() { printf '%s\n' "$1" >&3; }
shell_wait() {
  for _ in $(seq 300); do
    grep -qx -- "$1" "$scratch/out" && return 0
    sleep 0.1
  done
  echo "the shell did not print '$1':"; tail -15 "$scratch/out"
  return 1
}
shutdown_system() {
  shell_line shutdown
  exec 3>&-
  wait "$boot_pid"
  boot_status=$?
}
