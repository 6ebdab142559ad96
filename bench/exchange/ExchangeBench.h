// The exchange-heap benchmark (the paper's Table 9, extended): a block's round
// trip between two SIPs on one worker next to a Linux pipe ping-pong between
// two processes with the same payload, from 4 B to 16 MiB, and what the round
// trip is made of. `signet-bench-exchange` is a thin main over this.
#pragma once

#include "base/ErrorOr.h"
#include "bench/Harness.h"

#include <string>

namespace signet::bench {

struct ExchangeOptions {
    // Fewer repetitions and round trips: a few seconds.
    bool quick { false };
    // The CPU everything is pinned to; -1: the last one allowed.
    int cpu { -1 };
    // Where the guests are installed: the build tree's store by default.
    std::string store_dir;
    // Where the server runs: "kernel" (beside the client), or "own", a domain
    // process of its own, where blocks are copied across the boundary
    // (docs/protection-domains.md).
    std::string server_domain { "kernel" };
};

std::string default_exchange_store_dir();

// Runs the benchmark, printing details as it goes and leaving the rows in `report`.
ErrorOr<void> run_exchange_benchmark(ExchangeOptions const&, Report&, std::string& machine_json);

} // namespace signet::bench
