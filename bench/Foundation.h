// The foundation benchmarks as a library: `signet-bench-foundation` is a thin
// main over this, and `signet bench` may call it the same way.
#pragma once

#include "base/ErrorOr.h"
#include "bench/Harness.h"

#include <cstdio>
#include <string>
#include <vector>

namespace signet::bench {

struct FoundationOptions {
    // Fewer repetitions and smaller windows: the whole run stays under ~20 s
    // (after the first run, which installs the guests into the store).
    bool quick { false };
    // The CPU to pin the process (and the kernel's threads) to; -1: the last one allowed.
    int cpu { -1 };
    // Where guests are installed: the build tree's bench store by default, never the user's.
    std::string store_dir;
    // Run only the benchmark groups named here ("abi", "spawn", "compute"); empty: all.
    std::vector<std::string> groups;
};

// Where the guest modules and the Linux twins were built (compiled in).
std::string default_store_dir();

// Runs the benchmarks, printing details as they run and the table at the end to `out`.
// An Error means the benchmark could not run at all; wrong results are Report failures.
ErrorOr<void> run_foundation_benchmarks(FoundationOptions const&, Report&, std::string& machine_json);

} // namespace signet::bench
