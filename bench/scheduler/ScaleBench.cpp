// Ten thousand SIPs alive at once in one kernel, each one end of a pair that
// ping-pongs and then holds at a gate, so that all of them live at the same
// time: how long they take to start, what each one costs in memory, mappings
// and address space (and so how many one process can hold), that everything
// comes back when they end, and what a switch costs while they are all there.
#include "bench/scheduler/SchedulerBench.h"
#include "bench/scheduler/ProcessMemory.h"
#include "kernel/object/Channel.h"
#include "kernel/object/Sip.h"
#include "kernel/object/Thread.h"
#include "kernel/sched/Stack.h"
#include "runtime/LinearMemory.h"

#include "population.h"

#include <cinttypes>
#include <cstdarg>
#include <fstream>

namespace signet::bench {

namespace {

constexpr uint64_t kib = 1024;
constexpr uint64_t mib = 1024 * kib;
constexpr uint64_t gib = 1024 * mib;
constexpr uint64_t tib = 1024 * gib;
// x86-64 with 4-level page tables: 47 bits of user address space.
constexpr uint64_t user_address_space = 128 * tib;

uint64_t max_map_count()
{
    std::ifstream file("/proc/sys/vm/max_map_count");
    uint64_t count = 65530;
    file >> count;
    return count;
}

std::string printf_text(char const* format, ...) __attribute__((format(printf, 1, 2)));
std::string printf_text(char const* format, ...)
{
    char text[512];
    va_list arguments;
    va_start(arguments, format);
    std::vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    return text;
}

double per(uint64_t total, size_t count)
{
    return count ? double(total) / double(count) : 0;
}

double signed_per(uint64_t after, uint64_t before, size_t count)
{
    return count ? (double(after) - double(before)) / double(count) : 0;
}

struct PopulationMemory {
    size_t sips { 0 };
    double rss { 0 }, linear { 0 }, stacks { 0 }, other { 0 }, heap { 0 }, page_tables { 0 };
    double mappings { 0 }, linear_mappings { 0 }, stack_mappings { 0 }, address_space { 0 };
    uint64_t max_by_mappings { 0 }, max_by_address_space { 0 };
};

// Phase 1: the population on two workers (the default configuration). Returns false if it could not run at all.
bool measure_memory(SchedulerBenchContext& context, size_t sips, PopulationMemory& memory, std::string& json)
{
    Report& report = context.report;
    size_t const pairs = sips / 2;
    uint32_t const rounds = 10;
    SipLimits limits;
    limits.stack_bytes = context.options.stack_bytes;

    auto bench = BenchKernel::create(context, 2);
    if (bench.is_error()) {
        report.failure("scale: " + bench.error().message());
        return false;
    }
    Kernel& kernel = *bench.value().kernel;
    LinearMemory::drain_pool();
    auto before = ProcessMemory::now();
    auto mappings_before = MappingBreakdown::of_this_process({}, limits.stack_bytes);

    report.section(printf_text("%zu SIPs (%zu pairs) alive at once, two workers: each pair makes %u round trips, all hold at a gate, "
                               "then %u more; fiber stacks of %zu KiB",
        2 * pairs, pairs, rounds, rounds, limits.stack_bytes / kib));
    auto population = std::make_unique<Population>(kernel, bench.value().members,
        Population::Options { .pairs = pairs,
            .rounds_before_gate = rounds,
            .rounds_after_gate = rounds,
            .gated = true,
            .placement = Population::Placement::Split,
            .limits = limits });
    uint64_t start = monotonic_ns();
    auto started = population->start();
    uint64_t all_started = monotonic_ns();
    if (started.is_error())
        report.detail(printf_text("starting stopped after %zu SIPs: %s", population->started(), started.error().message().c_str()));
    bool ready = population->wait_ready(std::chrono::seconds(600));
    uint64_t all_ready = monotonic_ns();
    auto at_gate = ProcessMemory::now();
    auto mappings_at_gate = MappingBreakdown::of_this_process(population->reservations(), limits.stack_bytes);
    // Alive: started and not ended (a SIP created but never started is not counted).
    size_t alive = population->started() - population->finished_count();
    std::string first_failure;
    size_t failed_early = population->failures(&first_failure);

    size_t n = population->started();
    report.detail(printf_text("started %zu SIPs in %.1f ms (%.1f us per SIP, created and queued); all at their gates %.1f ms later",
        n, double(all_started - start) / 1e6, per(all_started - start, n) / 1e3, double(all_ready - all_started) / 1e6));
    report.detail(printf_text("alive at once: %zu SIPs (%" PRIu64 " at their gates, %zu ended early)", alive, population->ready(), failed_early));
    if (!ready)
        report.failure("scale: the population did not reach its gates within 600 s");
    if (failed_early) {
        report.detail("first early end: " + first_failure);
        if (bench.value().diagnostics->lines())
            report.detail(printf_text("kernel reports: %" PRIu64 ", the first: %s", bench.value().diagnostics->lines(),
                bench.value().diagnostics->first_line().c_str()));
    }
    uint64_t map_limit = max_map_count();
    if (started.is_error() || failed_early) {
        // Which of the process's limits ran out: a SIP needs four mappings and 8 GiB of address space.
        report.detail(printf_text("limits at the gate: %zu mappings of vm.max_map_count %" PRIu64 " (%" PRIu64 " left), address space %.2f TiB "
                                  "of 128 (%.0f GiB left)",
            at_gate.mappings, map_limit, map_limit - std::min<uint64_t>(map_limit, at_gate.mappings), double(at_gate.address_space_bytes) / tib,
            double(user_address_space - std::min(user_address_space, at_gate.address_space_bytes)) / gib));
    }

    // What each SIP costs, from the process's totals and its mappings.
    memory.sips = alive;
    memory.rss = signed_per(at_gate.rss_bytes, before.rss_bytes, alive);
    memory.linear = per(mappings_at_gate.linear_memory.rss_bytes, alive);
    memory.stacks = signed_per(mappings_at_gate.fiber_stacks.rss_bytes, mappings_before.fiber_stacks.rss_bytes, alive);
    memory.other = signed_per(mappings_at_gate.other.rss_bytes, mappings_before.other.rss_bytes, alive);
    memory.heap = signed_per(at_gate.heap_bytes, before.heap_bytes, alive);
    memory.page_tables = signed_per(at_gate.page_table_bytes, before.page_table_bytes, alive);
    memory.mappings = signed_per(at_gate.mappings, before.mappings, alive);
    memory.linear_mappings = per(mappings_at_gate.linear_memory.mappings, alive);
    memory.stack_mappings = signed_per(mappings_at_gate.fiber_stacks.mappings, mappings_before.fiber_stacks.mappings, alive);
    memory.address_space = signed_per(at_gate.address_space_bytes, before.address_space_bytes, alive);
    memory.max_by_mappings = memory.mappings > 0 ? uint64_t(double(map_limit - std::min<uint64_t>(map_limit, before.mappings)) / memory.mappings) : 0;
    memory.max_by_address_space = memory.address_space > 0
        ? uint64_t(double(user_address_space - std::min(user_address_space, before.address_space_bytes)) / memory.address_space)
        : 0;

    report.detail(printf_text("process at the gate: RSS %.1f MiB (+%.1f MiB), page tables %.1f MiB, %zu mappings (max_map_count %" PRIu64
                              "), address space %.1f TiB of 128",
        double(at_gate.rss_bytes) / mib, (double(at_gate.rss_bytes) - double(before.rss_bytes)) / mib, double(at_gate.page_table_bytes) / mib,
        at_gate.mappings, map_limit, double(at_gate.address_space_bytes) / tib));
    report.detail(printf_text("memory per SIP: %.1f KiB resident + %.1f KiB page tables = %.1f KiB", memory.rss / kib, memory.page_tables / kib,
        (memory.rss + memory.page_tables) / kib));
    report.detail(printf_text("  linear memory:  %5.1f KiB resident (%.1f pages of 4 KiB touched, of %" PRIu64 " KiB committed)", memory.linear / kib,
        memory.linear / 4096, n ? population->committed_linear_bytes() / n / kib : 0));
    report.detail(printf_text("  fiber stack:    %5.1f KiB resident (%.1f pages touched, of %zu KiB reserved)", memory.stacks / kib, memory.stacks / 4096,
        limits.stack_bytes / kib));
    report.detail(printf_text("  kernel heap:    %5.1f KiB resident (%.1f KiB of it allocated: the Sip, its Thread, instance, handle table, "
                              "channels and inboxes, strings)",
        memory.other / kib, memory.heap / kib));
    report.detail(printf_text("  page tables:    %5.1f KiB (not part of RSS)", memory.page_tables / kib));
    auto const& entry = bench.value().members->entry();
    auto ping_pong = kernel.contract_type({ PingPong_descriptor, PingPong_DESCRIPTOR_SIZE });
    auto gate = kernel.contract_type({ Gate_descriptor, Gate_DESCRIPTOR_SIZE });
    report.detail(printf_text("  objects: Sip %zu B, Thread %zu B, wasm instance %u B, inboxes of a PingPong channel %" PRIu64
                              " B and of a Gate %" PRIu64 " B (one of each per pair)",
        sizeof(Sip), sizeof(Thread), entry.instance_size, ping_pong.is_error() ? 0 : Channel::inbox_bytes(*ping_pong.value()),
        gate.is_error() ? 0 : Channel::inbox_bytes(*gate.value())));
    report.detail(printf_text("mappings per SIP: %.2f (linear memory %.2f, fiber stack and guard %.2f, other %.2f); address space per SIP %.2f GiB",
        memory.mappings, memory.linear_mappings, 2 * memory.stack_mappings, memory.mappings - memory.linear_mappings - 2 * memory.stack_mappings,
        memory.address_space / gib));
    report.detail(printf_text("so one process holds at most ~%" PRIu64 " such SIPs by vm.max_map_count and ~%" PRIu64
                              " by the 128 TiB address space",
        memory.max_by_mappings, memory.max_by_address_space));

    // Open the gates: every pinger makes its last rounds and ends, then its ponger.
    uint64_t opened = monotonic_ns();
    population->open_gates();
    bool finished = population->wait_finished(std::chrono::seconds(600));
    uint64_t all_finished = monotonic_ns();
    size_t failed = population->failures(&first_failure);
    report.detail(printf_text("gates opened: all %zu ended %.1f ms later, %zu of them not cleanly", n, double(all_finished - opened) / 1e6, failed));
    if (!finished)
        report.failure("scale: the population did not end within 600 s of opening its gates");
    else if (failed && n == sips)
        report.failure("scale: " + std::to_string(failed) + " SIPs failed; the first: " + first_failure);
    population.reset();
    bench.value().kernel.reset();
    LinearMemory::drain_pool();
    auto after = ProcessMemory::now();
    report.detail(printf_text("after they all ended and the kernel is gone: heap in use %+.1f MiB, page tables %+.1f MiB, mappings %+ld, "
                              "address space %+.1f GiB of the start (%" PRIu64 " stacks stay pooled); RSS %+.1f MiB (freed heap the "
                              "allocator keeps)",
        (double(after.heap_bytes) - double(before.heap_bytes)) / mib, (double(after.page_table_bytes) - double(before.page_table_bytes)) / mib,
        long(after.mappings) - long(before.mappings), (double(after.address_space_bytes) - double(before.address_space_bytes)) / gib,
        Stack::live_stacks(), (double(after.rss_bytes) - double(before.rss_bytes)) / mib));

    json = printf_text("{\"sips\": %zu, \"alive_at_once\": %zu, \"start_us_per_sip\": %.2f, \"rss_per_sip_bytes\": %.0f, "
                       "\"linear_memory_rss_per_sip_bytes\": %.0f, \"stack_rss_per_sip_bytes\": %.0f, \"heap_rss_per_sip_bytes\": %.0f, ",
               n, alive, per(all_started - start, n) / 1e3, memory.rss, memory.linear, memory.stacks, memory.other)
        + printf_text("\"heap_allocated_per_sip_bytes\": %.0f, \"page_tables_per_sip_bytes\": %.0f, \"mappings_per_sip\": %.3f, "
                      "\"address_space_per_sip_bytes\": %.0f, \"max_sips_by_mappings\": %" PRIu64 ", \"max_sips_by_address_space\": %" PRIu64 "}",
            memory.heap, memory.page_tables, memory.mappings, memory.address_space, memory.max_by_mappings, memory.max_by_address_space);
    return true;
}

// Phase 2: yield round trips on one worker with the whole population alive and
// blocked on that same worker, next to the same in a second kernel with no other
// SIP. Both kernels exist at once and take turns, a few repetitions each, so
// that a slow phase of this shared machine falls on both sides alike.
void measure_switches(SchedulerBenchContext& context, size_t sips, std::string& json)
{
    Report& report = context.report;
    bool quick = context.options.quick;
    uint32_t const yields = quick ? 100'000 : 1'000'000;
    uint32_t const turns = quick ? 2 : 5;
    uint32_t const repetitions_per_turn = 3;
    ScopedPin pin(context.options.cpu);
    if (pin.cpu().is_error()) {
        report.failure("scale: " + pin.cpu().error().message());
        return;
    }
    report.section(printf_text("yield round trips among %zu blocked SIPs, one worker on CPU %d, next to an empty kernel, taking turns", sips,
        pin.cpu().value()));
    auto empty = BenchKernel::create(context, 1);
    auto loaded = BenchKernel::create(context, 1);
    if (empty.is_error() || loaded.is_error()) {
        report.failure("scale: " + (empty.is_error() ? empty.error() : loaded.error()).message());
        return;
    }
    SipLimits limits;
    limits.stack_bytes = context.options.stack_bytes;
    Population population(*loaded.value().kernel, loaded.value().members,
        { .pairs = sips / 2,
            .rounds_before_gate = 2,
            .rounds_after_gate = 0,
            .gated = true,
            .placement = Population::Placement::Split,
            .limits = limits });
    auto started = population.start();
    if (started.is_error() || !population.wait_ready(std::chrono::seconds(600)) || population.failures()) {
        report.failure("scale: the population for the switch measurement did not come up");
        return;
    }
    report.detail(printf_text("%zu SIPs alive, blocked at their gates", loaded.value().kernel->live_sip_count()));
    std::vector<double> samples[4]; // SIPs empty, SIPs loaded, threads empty, threads loaded
    auto add = [](std::vector<double>& to, std::vector<double> from) { to.insert(to.end(), from.begin(), from.end()); };
    for (uint32_t turn = 0; turn < turns; ++turn) {
        add(samples[0], run_yields(context, empty.value(), "sip", yields, repetitions_per_turn));
        add(samples[1], run_yields(context, loaded.value(), "sip", yields, repetitions_per_turn));
        add(samples[2], run_yields(context, empty.value(), "threads", yields, repetitions_per_turn));
        add(samples[3], run_yields(context, loaded.value(), "threads", yields, repetitions_per_turn));
    }
    population.open_gates();
    population.wait_finished(std::chrono::seconds(600));

    auto empty_sip = Stats::of(samples[0]), loaded_sip = Stats::of(samples[1]);
    auto empty_threads = Stats::of(samples[2]), loaded_threads = Stats::of(samples[3]);
    report.detail("two SIPs, nobody else:          " + format_stats(empty_sip));
    report.detail("two SIPs, the population alive: " + format_stats(loaded_sip));
    report.detail("two threads, nobody else:       " + format_stats(empty_threads));
    report.detail("two threads, population alive:  " + format_stats(loaded_threads));
    std::string const alive = std::to_string(sips / 1000) + "k SIPs alive";
    if (loaded_sip.count && empty_sip.count) {
        report.add({ .name = "yield round trip, 2 SIPs, " + alive,
            .linux_label = "signet, no other SIP",
            .signet = loaded_sip,
            .linux_side = empty_sip,
            .goal = Goal::SignetNoSlower,
            .target = 1.5,
            .note = "the linux column is Signet itself with no other SIP: blocked SIPs should cost a switch nothing" });
    }
    if (loaded_threads.count && empty_threads.count) {
        report.add({ .name = "yield round trip, 2 threads, " + alive,
            .linux_label = "signet, no other SIP",
            .signet = loaded_threads,
            .linux_side = empty_threads,
            .goal = Goal::SignetNoSlower,
            .target = 1.5,
            .note = {} });
    }
    json = printf_text("{\"sips\": %zu, \"sip_yield_round_trip_ns\": %.1f, \"sip_yield_round_trip_empty_ns\": %.1f, "
                       "\"thread_yield_round_trip_ns\": %.1f, \"thread_yield_round_trip_empty_ns\": %.1f}",
        sips, loaded_sip.median, empty_sip.median, loaded_threads.median, empty_threads.median);
}

} // namespace

void run_scale_bench(SchedulerBenchContext& context)
{
    size_t sips = context.options.sips ? context.options.sips : context.options.quick ? 2000 : 10000;
    PopulationMemory memory;
    std::string memory_json = "null", switch_json = "null";
    if (!measure_memory(context, sips, memory, memory_json))
        return;
    // A population the process could not hold whole is measured again at nine
    // tenths of what it did hold: the switch measurement needs room for its own SIPs.
    size_t held = memory.sips < sips ? memory.sips * 9 / 10 : sips;
    measure_switches(context, held, switch_json);
    context.scale_json = "{\"memory\": " + memory_json + ", \"switch\": " + switch_json + "}";
}

} // namespace signet::bench
