// signet-bench-domains as a library: what a protection domain costs
// (docs/protection-domains.md, "What a domain costs"), measured as Singularity
// measured its hardware domains: the same operations with SIPs in the kernel
// domain and each in a domain of its own, next to the Linux process
// equivalents, in the same run. `signet bench` runs it as its "domains" part.
#pragma once

#include "base/ErrorOr.h"
#include "bench/Harness.h"

#include <string>
#include <vector>

namespace signet::bench {

struct DomainBenchOptions {
    // Fewer repetitions: a few seconds (after the first run, which installs the guests).
    bool quick { false };
    // The CPU the kernel (its one worker) and the Linux processes run on; -1: the
    // last one allowed. Domains run on another CPU, or on this one for the
    // same-CPU rows.
    int cpu { -1 };
    std::string store_dir; // empty: the build tree's store
    // Which parts to run: "calls", "round-trips", "starts"; empty: all.
    std::vector<std::string> parts;
};

// Runs the measurements, printing details as they run; the caller prints the table.
ErrorOr<void> run_domain_benchmarks(DomainBenchOptions const&, Report&);

} // namespace signet::bench
