// signet-bench-foundation: Signet's foundation benchmarks next to their Linux
// equivalents (docs/benchmarks.md). A thin main over bench/Foundation.h.
#include "bench/Foundation.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace signet::bench;
    CommonOptions common;
    std::vector<std::string> groups;
    CLI::App app { "Signet's foundation benchmarks: ABI calls, SIP spawn and compute, each next to its Linux equivalent" };
    add_common_options(app, common, "Fewer repetitions: the whole run takes under ~20 s");
    app.add_option("--only", groups, "Run only these groups: abi, spawn, compute")->option_text("GROUP...");
    CLI11_PARSE(app, argc, argv);

    FoundationOptions options { .quick = common.quick, .cpu = common.cpu, .store_dir = common.store_dir, .groups = groups };
    Report report(stdout);
    std::string machine_json = "{}";
    auto ran = run_foundation_benchmarks(options, report, machine_json);
    return finish_run("signet-bench-foundation", ran, report, machine_json, common);
}
