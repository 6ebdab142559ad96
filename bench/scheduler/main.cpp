// signet-bench-scheduler: yields, ping-pong pairs on one core and two, and ten
// thousand SIPs alive at once (docs/scheduler.md, "Scale and measurements").
// A thin main over bench/scheduler/SchedulerBench.h.
#include "bench/scheduler/SchedulerBench.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace signet::bench;
    CommonOptions common;
    SchedulerBenchOptions options;
    size_t stack_kib = options.stack_bytes / 1024;
    CLI::App app { "Signet's scheduler benchmarks: yields and ping-pong pairs next to Linux threads, and 10,000 SIPs alive at once" };
    add_common_options(app, common, "Fewer repetitions and 2,000 SIPs: the whole run takes under ~30 s");
    app.add_option("--only", options.groups, "Run only these groups: yield, pairs, scale")->option_text("GROUP...");
    app.add_option("--sips", options.sips, "SIPs alive at once in the scale group (default 10000, 2000 with --quick)")->option_text("N");
    app.add_option("--stack", stack_kib, "Fiber stack of each SIP of the scale group, in KiB (default 1024)")->option_text("KIB");
    CLI11_PARSE(app, argc, argv);
    options.quick = common.quick;
    options.cpu = common.cpu;
    options.store_dir = common.store_dir;
    options.stack_bytes = stack_kib * 1024;

    Report report(stdout, "scheduler");
    std::string machine_json = "{}";
    auto ran = run_scheduler_benchmarks(options, report, machine_json);
    return finish_run("signet-bench-scheduler", ran, report, machine_json, common,
        "Here: ratio = linux/signet for the yield and pairs rows (higher: Signet cheaper or faster), signet/linux for the\n"
        "rows under a population (lower is better; 1x: the population costs a switch nothing).");
}
