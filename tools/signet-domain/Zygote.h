// signet-domain --zygote READ_PATH...: the domain zygote (docs/protection-domains.md).
#pragma once

namespace signet::domain {

// The entry a forked domain process runs, with the arguments an exec'd
// signet-domain would have had (argv[0] first).
using HostMain = int (*)(int argc, char** argv);

// Runs the zygote on the socket at zygote_socket_fd until the kernel closes it
// (or dies). Seals itself first (seal::seal_zygote, reading only `read_paths`);
// returns an exit status only if it cannot start.
int run_zygote(int read_path_count, char** read_paths, HostMain);

} // namespace signet::domain
