// The benchmark groups of signet-bench-foundation, and what they share.
#pragma once

#include "bench/Harness.h"
#include "bench/SipHost.h"

#include <map>
#include <memory>
#include <string>

namespace signet::bench {

struct BenchContext {
    bool quick { false };
    int cpu { -1 }; // the CPU everything is pinned to
    SipHost& sips;  // one worker, on that CPU
    // Loaded images by guest name ("trivial", "abi_calls", "sieve", ...).
    std::map<std::string, std::shared_ptr<Image>> images;
    Report& report;
    // The default configuration, for comparison: a kernel made before pinning, with
    // one worker per core free to run anywhere, and the CPUs the process started with.
    SipHost* unpinned_sips { nullptr };
    std::shared_ptr<Image> unpinned_trivial;
    Affinity original_affinity {};

    std::shared_ptr<Image> image(std::string const& name) const;
};

// Where a Linux twin lives: "trivial" -> <build>/bench/bench_native_trivial.
std::string native_program(std::string const& name);
// The guest modules every group needs, by name; "compute" kernels come from compute_kernels().
std::vector<std::string> const& guest_names();
std::vector<std::string> const& compute_kernels();
std::string guest_module(std::string const& name);

void run_abi_call_bench(BenchContext&);
void run_spawn_bench(BenchContext&);
void run_compute_bench(BenchContext&);

} // namespace signet::bench
