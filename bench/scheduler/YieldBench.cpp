// Yield round trips on one core: two threads of a SIP, and two SIPs, each
// yielding to the other from wasm code, next to two Linux threads pinned to
// the same CPU calling sched_yield. Everything here runs on one pinned CPU
// with a one-worker kernel, so that every yield is a switch.
#include "bench/scheduler/SchedulerBench.h"

namespace signet::bench {

void run_yield_bench(SchedulerBenchContext& context)
{
    Report& report = context.report;
    bool quick = context.options.quick;
    uint32_t const yields = quick ? 100'000 : 1'000'000;
    uint32_t const sched_yields = quick ? 10'000 : 50'000;
    uint32_t const repetitions = quick ? 5 : 15;

    auto original = Affinity::of_calling_thread();
    auto cpu = pin_to_cpu(context.options.cpu);
    if (original.is_error() || cpu.is_error()) {
        report.failure("yield: cannot pin to a CPU");
        return;
    }
    report.section("yield round trips on CPU " + std::to_string(cpu.value()) + ", one kernel worker: " + std::to_string(repetitions)
        + " repetitions of " + std::to_string(yields) + " (Signet) and " + std::to_string(sched_yields) + " (Linux)");
    {
        auto bench = BenchKernel::create(context, 1);
        if (bench.is_error()) {
            report.failure("yield: " + bench.error().message());
            return;
        }
        auto threads = Stats::of(run_yields(context, bench.value(), "threads", yields, repetitions));
        auto sips = Stats::of(run_yields(context, bench.value(), "sip", yields, repetitions));
        auto linux_yield = Stats::of(linux_sched_yield(sched_yields, repetitions));
        report.detail("signet_yield, two threads of a SIP: " + format_stats(threads));
        report.detail("signet_yield, two SIPs:             " + format_stats(sips));
        report.detail("sched_yield, two Linux threads:     " + format_stats(linux_yield));
        if (threads.count && linux_yield.count) {
            report.add({ .name = "yield round trip, 2 threads of a SIP",
                .linux_label = "sched_yield, 2 threads",
                .signet = threads,
                .linux_side = linux_yield,
                .goal = Goal::SignetCheaper,
                .target = 50,
                .note = {} });
        }
        if (sips.count && linux_yield.count) {
            report.add({ .name = "yield round trip, 2 SIPs",
                .linux_label = "sched_yield, 2 threads",
                .signet = sips,
                .linux_side = linux_yield,
                .goal = Goal::SignetCheaper,
                .target = 0,
                .note = {} });
        }
    }
    (void)original.value().apply_to_calling_thread();
}

} // namespace signet::bench
