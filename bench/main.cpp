// signet-bench-foundation: Signet's foundation benchmarks next to their Linux
// equivalents (docs/benchmarks.md). A thin main over bench/Foundation.h.
#include "bench/Foundation.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace signet::bench;
    FoundationOptions options;
    std::string json_path;
    CLI::App app { "Signet's foundation benchmarks: ABI calls, SIP spawn and compute, each next to its Linux equivalent" };
    app.add_flag("--quick", options.quick, "Fewer repetitions: the whole run takes under ~20 s");
    app.add_option("--json", json_path, "Also write the measurements to FILE as JSON")->option_text("FILE");
    app.add_option("--cpu", options.cpu, "Pin to this CPU (default: the last one allowed)")->option_text("N");
    app.add_option("--store", options.store_dir, "Install the guests into this store (default: the build tree's)")->option_text("DIR");
    app.add_option("--only", options.groups, "Run only these groups: abi, spawn, compute")->option_text("GROUP...");
    CLI11_PARSE(app, argc, argv);

    Report report(stdout);
    std::string machine_json = "{}";
    auto ran = run_foundation_benchmarks(options, report, machine_json);
    if (ran.is_error()) {
        std::fprintf(stderr, "signet-bench-foundation: %s\n", ran.error().message().c_str());
        // As the signet CLI: 2 for bad input, 1 for anything else.
        return ran.error().kind() == signet::ErrorKind::InvalidInput ? 2 : 1;
    }
    report.print_table();
    if (!json_path.empty()) {
        if (auto written = report.write_json(json_path, machine_json); written.is_error()) {
            std::fprintf(stderr, "signet-bench-foundation: %s\n", written.error().message().c_str());
            return 1;
        }
    }
    if (!report.failures().empty()) {
        std::fprintf(stderr, "signet-bench-foundation: %zu measurement(s) failed; their rows are missing\n", report.failures().size());
        return 1;
    }
    return 0;
}
