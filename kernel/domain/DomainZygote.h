// The kernel's side of the domain zygote (docs/protection-domains.md, "The
// zygote"): one sealed signet-domain, started before the kernel seals, that
// forks every later domain process instead of the kernel exec'ing one. A fork
// of a process that has already linked itself costs a fraction of an exec and
// a dynamic link, and a kernel that never execs again after boot can refuse
// every executable mapping.
//
// Process-wide, like the domain limit: every Kernel in the process shares it.
// Forked domains are children of this process (CLONE_PARENT), so the kernel
// watches (pidfd), signals and reaps them exactly as the ones it spawns itself.
#pragma once

#include "base/ErrorOr.h"

#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace signet {

class DomainZygote {
public:
    struct Options {
        std::string host_executable; // signet-domain; domains of this host are forked
        // What the zygote (and so every domain, until it seals) may read: the
        // store the images are mapped from. Nothing else, bar /dev/null.
        std::vector<std::string> read_paths;
        // Whether the zygote keeps a spare domain process forked ahead of
        // demand (runtime/domain/ZygoteProtocol.h): a start then costs no fork.
        enum class Spare : bool { No, Yes };
        Spare spare { Spare::Yes };
    };

    // Starts the zygote (an error if one runs). Call it from a thread that lives
    // as long as the domains (the main thread): Linux ties a child's parent-death
    // signal to the thread that started its parent.
    static ErrorOr<void> start(Options const&);
    // Stops it (it exits when its socket closes) and reaps it. Domains it forked live on.
    static void stop();
    static bool running();
    // Whether domains of `host_executable` are forked by the zygote.
    static bool serves(std::string const& host_executable);
    static uint64_t forked_count();
    // Of those, how many a spare served (it was forked before it was asked for).
    static uint64_t from_spare_count();
    // The spares the zygote announced that no request took yet: waiting, or dead
    // and not reaped yet (they are reaped at the next request, and at stop()).
    static std::vector<pid_t> spares();
    // From now on every domain must come from the zygote: the kernel has sealed
    // itself against executing a program (seal::seal_kernel_against_new_code),
    // so DomainProcess::start refuses, naming why, a domain the zygote cannot
    // fork (it is gone, or it serves another host) instead of trying an exec
    // that the seal would refuse. Irreversible, like the seal.
    static void make_required();
    static bool required();

    // A new domain process: `arguments` as an exec'd host gets them (argv[0]
    // first), `descriptors` (this process's descriptor, the number it gets
    // there) and nothing else. Returns its pid, a child of this process.
    static ErrorOr<pid_t> fork_domain(std::vector<std::string> const& arguments, std::vector<std::pair<int, int>> const& descriptors);
};

} // namespace signet
