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
    uint32_t const turns = quick ? 2 : 5;
    uint32_t const repetitions_per_turn = 3;

    ScopedPin pin(context.options.cpu);
    if (pin.cpu().is_error()) {
        report.failure("yield: " + pin.cpu().error().message());
        return;
    }
    report.section("yield round trips on CPU " + std::to_string(pin.cpu().value()) + ", one kernel worker: " + std::to_string(turns * repetitions_per_turn)
        + " repetitions of " + std::to_string(yields) + " (Signet) and " + std::to_string(sched_yields)
        + " (Linux), the three kinds taking turns");
    {
        auto bench = BenchKernel::create(context, 1);
        if (bench.is_error()) {
            report.failure("yield: " + bench.error().message());
            return;
        }
        // Taking turns, a few repetitions each, so that a slow phase of the machine falls on every kind alike.
        std::vector<double> samples[6];
        auto add = [](std::vector<double>& to, std::vector<double> from) { to.insert(to.end(), from.begin(), from.end()); };
        for (uint32_t turn = 0; turn < turns; ++turn) {
            add(samples[0], run_yields(context, bench.value(), "threads", yields, repetitions_per_turn));
            add(samples[1], run_yields(context, bench.value(), "sip", yields, repetitions_per_turn));
            add(samples[2], linux_sched_yield(sched_yields, repetitions_per_turn));
            add(samples[3], bare_fiber_yields(yields, repetitions_per_turn, CallSites::Same));
            add(samples[4], run_yields(context, bench.value(), "apart", yields, repetitions_per_turn));
            add(samples[5], bare_fiber_yields(yields, repetitions_per_turn, CallSites::Apart));
        }
        auto linux_yield = Stats::of(samples[2]);
        report.detail("sched_yield, two Linux threads:     " + format_stats(linux_yield));
        // Each kind against sched_yield, in the order of the table.
        struct Row {
            size_t samples;
            char const* detail;
            char const* name;
            double target;
            char const* note;
        };
        static constexpr Row rows[] = {
            { 0, "signet_yield, two threads of a SIP: ", "yield round trip, 2 threads of a SIP", 50, "" },
            { 4, "the same, each from its own loop:   ", "the same, each from its own loop", 0,
                "every return into wasm code mispredicted (docs/scheduler.md)" },
            { 3, "bare fibers, the kernel's switch:   ", "floor: 2 bare fibers, switch only", 0,
                "no kernel: what two fiber switches alone cost here, the most any yield could gain" },
            { 5, "the same, each from its own loop:   ", "floor, each from its own loop", 0, "two switches and two mispredicted returns" },
            { 1, "signet_yield, two SIPs:             ", "yield round trip, 2 SIPs", 0, "" },
        };
        for (auto const& row : rows) {
            auto stats = Stats::of(samples[row.samples]);
            report.detail(row.detail + format_stats(stats));
            if (stats.count && linux_yield.count) {
                report.add({ .name = row.name,
                    .linux_label = "sched_yield, 2 threads",
                    .signet = stats,
                    .linux_side = linux_yield,
                    .goal = Goal::SignetCheaper,
                    .target = row.target,
                    .note = row.note });
            }
        }
    }
}

} // namespace signet::bench
