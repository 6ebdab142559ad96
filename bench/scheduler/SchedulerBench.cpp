#include "bench/scheduler/SchedulerBench.h"
#include "bench/SipHost.h"
#include "runtime/SwitchContext.h"

#include <algorithm>
#include <atomic>
#include <pthread.h>
#include <sched.h>
#include <sstream>
#include <thread>

namespace signet::bench {

namespace {

std::string guest_module(char const* name)
{
    return std::string(SIGNET_BENCH_SCHEDULER_GUEST_DIR) + "/bench_sched_" + name + ".wasm";
}

bool wants(SchedulerBenchOptions const& options, char const* group)
{
    return options.groups.empty() || std::find(options.groups.begin(), options.groups.end(), group) != options.groups.end();
}

} // namespace

std::string default_scheduler_store_dir()
{
    return SIGNET_BENCH_SCHEDULER_STORE_DIR;
}

ErrorOr<BenchKernel> BenchKernel::create(SchedulerBenchContext const& context, unsigned workers)
{
    BenchKernel bench;
    bench.diagnostics = std::make_shared<LineCounter>();
    bench.kernel = TRY(Kernel::create({ .workers = workers, .diagnostics = bench.diagnostics }));
    bench.members = TRY(bench.kernel->load_image(context.members_image_path, context.members_module_hash));
    bench.yields = TRY(bench.kernel->load_image(context.yields_image_path, context.yields_module_hash));
    return bench;
}

ScopedPin::ScopedPin(int cpu)
    : m_original(Affinity::of_calling_thread())
    , m_cpu(m_original.is_error() ? ErrorOr<int>(m_original.error()) : pin_to_cpu(cpu))
{
}

ScopedPin::~ScopedPin()
{
    if (!m_original.is_error())
        (void)m_original.value().apply_to_calling_thread();
}

std::vector<double> run_yields(SchedulerBenchContext& context, BenchKernel& bench, std::string const& mode, uint32_t yields, uint32_t repetitions)
{
    // Two SIPs in "sip" mode, so that every yield switches from one to the other.
    // The partner starts first and yields longer, so that the measured one (the
    // last) finds it runnable at every yield, from its first to its last.
    size_t count = mode == "sip" ? 2 : 1;
    std::vector<std::shared_ptr<Sip>> sips;
    std::vector<std::shared_ptr<BufferOutputStream>> outputs;
    for (size_t i = 0; i < count; ++i) {
        SpawnRequest request;
        request.image = bench.yields;
        request.name = "yields";
        bool partner = i + 1 < count;
        request.args = { "yields", mode, std::to_string(yields), std::to_string(partner ? repetitions + 3 : repetitions) };
        request.stdio = Stdio::host();
        request.stdio.in = nullptr;
        outputs.push_back(std::make_shared<BufferOutputStream>());
        request.stdio.out = outputs.back();
        auto sip = bench.kernel->create_sip(std::move(request));
        if (sip.is_error()) {
            context.report.failure("yields " + mode + ": " + sip.error().message());
            return {};
        }
        sips.push_back(sip.release_value());
    }
    for (auto const& sip : sips) {
        if (auto started = bench.kernel->start(*sip); started.is_error()) {
            context.report.failure("yields " + mode + ": " + started.error().message());
            for (auto const& other : sips)
                bench.kernel->kill(*other);
            return {};
        }
    }
    std::vector<double> round_trips;
    for (size_t i = 0; i < count; ++i) {
        auto exit = sips[i]->wait_from_host();
        if (exit.how != ExitInfo::How::Exited || exit.status != 0) {
            context.report.failure("yields " + mode + " " + describe_exit(exit));
            return {};
        }
    }
    // "<mode> <yields> <nanoseconds>" per repetition. Each yield is a round trip:
    // this thread or SIP, the other, and back.
    std::istringstream lines(outputs.back()->contents());
    std::string kind;
    uint64_t n = 0, nanoseconds = 0;
    while (lines >> kind >> n >> nanoseconds) {
        if (n)
            round_trips.push_back(double(nanoseconds) / double(n));
    }
    if (round_trips.size() != repetitions) {
        context.report.failure("yields " + mode + " printed " + std::to_string(round_trips.size()) + " repetitions, expected "
            + std::to_string(repetitions));
        return {};
    }
    return round_trips;
}

namespace {

// Both threads yield from this loop, as both threads of the guest's "threads" mode do.
__attribute__((noipa)) void sched_yield_times(uint32_t count)
{
    for (uint32_t i = 0; i < count; ++i)
        sched_yield();
}

} // namespace

std::vector<double> linux_sched_yield(uint32_t yields, uint32_t repetitions)
{
    std::atomic<bool> done { false };
    std::thread partner([&] {
        while (!done.load(std::memory_order_relaxed))
            sched_yield_times(100);
    });
    std::vector<double> round_trips;
    for (uint32_t rep = 0; rep <= repetitions; ++rep) {
        uint64_t start = monotonic_ns();
        sched_yield_times(yields);
        double per_round_trip = double(monotonic_ns() - start) / yields;
        if (rep > 0) // the first is a warm-up, as in the guest
            round_trips.push_back(per_round_trip);
    }
    done = true;
    partner.join();
    return round_trips;
}

namespace {

// The floor: two fibers of this host thread passing it back and forth with the
// kernel's own switch routine and nothing else (no run queue, no accounting, no
// SIP, no wasm). With CallSites::Same both yield from one loop, as the two
// threads of the guest's "threads" mode do, and every return is predicted; with
// CallSites::Apart each yields from a loop of its own, as in its "apart" mode,
// and the return into each loop is mispredicted.
namespace fctx = boost::context::detail;

struct BareFibers {
    fctx::fcontext_t other { nullptr };
    bool done { false };
    bool finished { false }; // the partner's last switch: it never runs again
    CallSites sites { CallSites::Same };
};

__attribute__((noinline)) void bare_yield(BareFibers& fibers)
{
    fctx::transfer_t back = signet_switch_context(fibers.other, &fibers);
    static_cast<BareFibers*>(back.data)->other = back.fctx;
}

__attribute__((noipa)) void bare_yield_times(BareFibers& fibers, uint32_t count)
{
    for (uint32_t i = 0; i < count; ++i)
        bare_yield(fibers);
}

void bare_partner(fctx::transfer_t transfer)
{
    auto& fibers = *static_cast<BareFibers*>(transfer.data);
    fibers.other = transfer.fctx;
    while (!fibers.done) {
        if (fibers.sites == CallSites::Same)
            bare_yield_times(fibers, 1000);
        else
            bare_yield(fibers);
    }
    fibers.finished = true;
    bare_yield(fibers);
    VERIFY_NOT_REACHED();
}

} // namespace

std::vector<double> bare_fiber_yields(uint32_t yields, uint32_t repetitions, CallSites sites)
{
    constexpr size_t stack_size = 64 * 1024;
    auto stack = std::make_unique<std::byte[]>(stack_size);
    BareFibers fibers { .sites = sites };
    fibers.other = fctx::make_fcontext(stack.get() + stack_size, stack_size, &bare_partner);
    bare_yield(fibers);
    std::vector<double> round_trips;
    for (uint32_t rep = 0; rep <= repetitions; ++rep) {
        uint64_t start = monotonic_ns();
        if (sites == CallSites::Same) {
            bare_yield_times(fibers, yields);
        } else {
            for (uint32_t i = 0; i < yields; ++i)
                bare_yield(fibers);
        }
        double per_round_trip = double(monotonic_ns() - start) / yields;
        if (rep > 0)
            round_trips.push_back(per_round_trip);
    }
    fibers.done = true;
    // The partner sees `done` (at once, or after the rest of its current 1,000) and switches back once more, for good.
    while (!fibers.finished)
        bare_yield(fibers);
    return round_trips;
}

ErrorOr<void> run_scheduler_benchmarks(SchedulerBenchOptions const& options, Report& report, std::string& machine_json)
{
    for (auto const& group : options.groups) {
        if (group != "yield" && group != "pairs" && group != "scale")
            return Error::invalid("unknown benchmark group '" + group + "' (expected yield, pairs or scale)");
    }
    std::string store_dir = options.store_dir.empty() ? default_scheduler_store_dir() : options.store_dir;
    report.section("installing the guests into " + store_dir);
    auto members = TRY(install_guest(guest_module("members"), store_dir));
    auto yields = TRY(install_guest(guest_module("yields"), store_dir));
    SchedulerBenchContext context { .options = options,
        .report = report,
        .members_image_path = members.image_path,
        .members_module_hash = members.module_hash,
        .yields_image_path = yields.image_path,
        .yields_module_hash = yields.module_hash };
    calibrate_tsc(options.quick ? 20'000'000 : 200'000'000);
    double load_before = system_load_average();
    report.detail("TSC " + std::to_string(tsc_ticks_per_ns()).substr(0, 6) + " ticks/ns; " + std::to_string(std::thread::hardware_concurrency())
        + " CPUs; load average " + std::to_string(load_before).substr(0, 4));

    // The scale group first, while this process holds nothing else: its memory
    // numbers are the population's alone.
    if (wants(options, "scale"))
        run_scale_bench(context);
    if (wants(options, "yield"))
        run_yield_bench(context);
    if (wants(options, "pairs"))
        run_pairs_bench(context);

    char text[256];
    std::snprintf(text, sizeof text,
        "{\"logical_cpus\": %u, \"tsc_ticks_per_ns\": %.4f, \"load_average_before\": %.2f, \"load_average_after\": %.2f, \"quick\": %s, ",
        std::thread::hardware_concurrency(), tsc_ticks_per_ns(), load_before, system_load_average(), options.quick ? "true" : "false");
    machine_json = std::string(text) + "\"scale\": " + context.scale_json + "}";
    return {};
}

} // namespace signet::bench
