// The file-serving macrobenchmark (docs/evaluation.md, "File serving"): the same
// HTTP load against Signet, booted with its storage and network SIPs
// (blockdev -> fs -> httpd <- net) serving files from its own file system, and
// against a Linux HTTP server of the same single-threaded design serving the
// same files from a host directory, in the same run. `signet-bench-net` is a
// thin main over this.
#pragma once

#include "base/ErrorOr.h"
#include "bench/Harness.h"

#include <string>
#include <vector>

namespace signet::bench {

struct NetBenchOptions {
    // A short window per measurement, one repetition: a few seconds in all.
    bool quick { false };
    // The CPU both servers run on; -1: the last one allowed. The load generator
    // runs on another allowed CPU when there is one.
    int cpu { -1 };
    // The Signet system image (its store caches the installed programs between
    // runs; its disk is made anew each run). Empty: the build tree's.
    std::string image_dir;
    // `signet boot --workers`: one, as the Linux server has one thread.
    unsigned workers { 1 };
    // The sides to measure: "signet", "linux", or both (the default).
    std::vector<std::string> servers;
};

std::string default_net_image_dir();

// Runs the benchmark, printing details as it goes and leaving the rows in
// `report`. A response that is not the file asked for is a failure in `report`.
ErrorOr<void> run_net_benchmark(NetBenchOptions const&, Report&, std::string& machine_json);

} // namespace signet::bench
