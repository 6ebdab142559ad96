// signet-bench-exchange: a block's round trip between two SIPs next to a Linux
// pipe ping-pong, from 4 B to 16 MiB (docs/exchange-heap.md). A thin main over
// bench/exchange/ExchangeBench.h.
#include "bench/exchange/ExchangeBench.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace signet::bench;
    ExchangeOptions options;
    std::string json_path;
    CLI::App app { "Exchange-heap round trips between two SIPs, next to a pipe ping-pong between two Linux processes" };
    app.add_flag("--quick", options.quick, "Fewer repetitions and round trips: a few seconds");
    app.add_option("--json", json_path, "Also write the measurements to FILE as JSON")->option_text("FILE");
    app.add_option("--cpu", options.cpu, "Pin to this CPU (default: the last one allowed)")->option_text("CPU");
    app.add_option("--store", options.store_dir, "Install the guests into this store (default: the build tree's)")->option_text("DIR");
    CLI11_PARSE(app, argc, argv);

    Report report(stdout);
    std::string machine_json = "{}";
    auto ran = run_exchange_benchmark(options, report, machine_json);
    if (ran.is_error()) {
        std::fprintf(stderr, "signet-bench-exchange: %s\n", ran.error().message().c_str());
        return 1;
    }
    report.print_table();
    std::printf("The \"16 MiB vs 64 KiB\" rows compare Signet with itself: the ratio is how much more the 16 MiB round trip costs.\n");
    if (!json_path.empty()) {
        if (auto written = report.write_json(json_path, machine_json); written.is_error()) {
            std::fprintf(stderr, "signet-bench-exchange: %s\n", written.error().message().c_str());
            return 1;
        }
    }
    if (!report.failures().empty()) {
        std::fprintf(stderr, "signet-bench-exchange: %zu measurement(s) failed\n", report.failures().size());
        return 1;
    }
    return 0;
}
