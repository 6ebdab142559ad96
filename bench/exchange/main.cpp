// signet-bench-exchange: a block's round trip between two SIPs next to a Linux
// pipe ping-pong, from 4 B to 16 MiB (docs/exchange-heap.md). A thin main over
// bench/exchange/ExchangeBench.h.
#include "bench/exchange/ExchangeBench.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace signet::bench;
    CommonOptions common;
    CLI::App app { "Exchange-heap round trips between two SIPs, next to a pipe ping-pong between two Linux processes" };
    add_common_options(app, common, "Fewer repetitions and round trips: a few seconds");
    std::string server_domain = "kernel";
    app.add_option("--server-domain", server_domain, "Where the server runs: kernel, or own (a domain process of its own: blocks are copied across)")
        ->check(CLI::IsMember({ "kernel", "own" }));
    CLI11_PARSE(app, argc, argv);

    ExchangeOptions options { .quick = common.quick, .cpu = common.cpu, .store_dir = common.store_dir, .server_domain = server_domain };
    Report report(stdout, "exchange");
    std::string machine_json = "{}";
    auto ran = run_exchange_benchmark(options, report, machine_json);
    return finish_run("signet-bench-exchange", ran, report, machine_json, common,
        "The \"16 MiB vs 64 KiB\" rows compare Signet with itself: the ratio is how much more the 16 MiB round trip costs.");
}
