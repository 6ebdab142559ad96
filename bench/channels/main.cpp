// signet-bench-channels: channel round trips between SIPs next to pipes and a
// futex between Linux processes and threads (docs/channels.md). A thin main
// over bench/channels/ChannelBench.h.
#include "bench/channels/ChannelBench.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace signet::bench;
    CommonOptions common;
    CLI::App app { "Signet's channel benchmark: message round trips between SIPs next to pipes and a futex on Linux" };
    add_common_options(app, common, "Fewer, shorter batches: the whole run takes under ~15 s");
    CLI11_PARSE(app, argc, argv);

    ChannelBenchOptions options { .quick = common.quick, .cpu = common.cpu, .store_dir = common.store_dir };
    Report report(stdout, "channels");
    std::string machine_json = "{}";
    auto ran = run_channel_benchmarks(options, report, machine_json);
    return finish_run("signet-bench-channels", ran, report, machine_json, common,
        "Every row here: ratio = linux/signet (higher: Signet cheaper), of each side's fastest batch.");
}
