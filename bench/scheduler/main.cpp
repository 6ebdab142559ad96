// signet-bench-scheduler: yields, ping-pong pairs on one core and two, and ten
// thousand SIPs alive at once (docs/scheduler.md, "Scale and measurements").
// A thin main over bench/scheduler/SchedulerBench.h, in the style of
// signet-bench-foundation.
#include "bench/scheduler/SchedulerBench.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace signet::bench;
    SchedulerBenchOptions options;
    std::string json_path;
    size_t stack_kib = options.stack_bytes / 1024;
    CLI::App app { "Signet's scheduler benchmarks: yields and ping-pong pairs next to Linux threads, and 10,000 SIPs alive at once" };
    app.add_flag("--quick", options.quick, "Fewer repetitions and 2,000 SIPs: the whole run takes under ~30 s");
    app.add_option("--json", json_path, "Also write the measurements to FILE as JSON")->option_text("FILE");
    app.add_option("--cpu", options.cpu, "Pin the one-worker measurements to this CPU (default: the last one allowed)")->option_text("N");
    app.add_option("--store", options.store_dir, "Install the guests into this store (default: the build tree's)")->option_text("DIR");
    app.add_option("--only", options.groups, "Run only these groups: yield, pairs, scale")->option_text("GROUP...");
    app.add_option("--sips", options.sips, "SIPs alive at once in the scale group (default 10000, 2000 with --quick)")->option_text("N");
    app.add_option("--stack", stack_kib, "Fiber stack of each SIP of the scale group, in KiB (default 1024)")->option_text("KIB");
    CLI11_PARSE(app, argc, argv);
    options.stack_bytes = stack_kib * 1024;

    Report report(stdout, "scheduler");
    std::string machine_json = "{}";
    auto ran = run_scheduler_benchmarks(options, report, machine_json);
    if (ran.is_error()) {
        std::fprintf(stderr, "signet-bench-scheduler: %s\n", ran.error().message().c_str());
        return ran.error().kind() == signet::ErrorKind::InvalidInput ? 2 : 1;
    }
    report.print_table();
    std::printf("Here: ratio = linux/signet for the yield and pairs rows (higher: Signet cheaper or faster), signet/linux for the\n"
                "rows under a population (lower is better; 1x: the population costs a switch nothing).\n");
    if (!json_path.empty()) {
        if (auto written = report.write_json(json_path, machine_json); written.is_error()) {
            std::fprintf(stderr, "signet-bench-scheduler: %s\n", written.error().message().c_str());
            return 1;
        }
    }
    if (!report.failures().empty()) {
        std::fprintf(stderr, "signet-bench-scheduler: %zu measurement(s) failed; their rows are missing\n", report.failures().size());
        return 1;
    }
    return 0;
}
