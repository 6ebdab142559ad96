// signet-bench-channels as a library: a message round trip between two SIPs
// next to the same ping-pong between two Linux processes (pipes) and two
// Linux threads (a futex), and the round trip by payload size, 4 B to 64 KiB
// (Singularity's Table 9), against pipes with the same payloads.
#pragma once

#include "base/ErrorOr.h"
#include "bench/Harness.h"

#include <string>

namespace signet::bench {

struct ChannelBenchOptions {
    // Fewer, shorter batches: the whole run stays under ~15 s (after the first
    // run, which installs the guest into the store).
    bool quick { false };
    // The CPU everything is pinned to (both SIPs' worker and both Linux
    // processes or threads); -1: the last one allowed.
    int cpu { -1 };
    // Where the guest is installed: the build tree's store by default, never the user's.
    std::string store_dir;
};

std::string default_channel_store_dir();

// Runs the measurements, printing details as they run; the caller prints the table.
// An Error means the benchmark could not run at all; wrong results are Report failures.
ErrorOr<void> run_channel_benchmarks(ChannelBenchOptions const&, Report&, std::string& machine_json);

} // namespace signet::bench
