// ABI call vs system call: the cost of crossing from a SIP into the kernel,
// next to the cost of crossing from a Linux process into Linux.
//
// The Signet side runs inside a native-personality SIP (guests/abi_calls.c):
// wasm code calls a trivial signet_v1 import in a loop and times the loop with
// signet_time_now, so what is measured is exactly the path sealed code takes
// (wasm2c call through the instance's import pointer into kernel/abi). The
// Linux side runs the same loop shape in this process around syscall(SYS_getpid).
#include "bench/Benchmarks.h"

#include <ctime>
#include <map>
#include <sstream>
#include <sys/syscall.h>
#include <unistd.h>

namespace signet::bench {

namespace {

// As in the guest: one store the compiler must keep per iteration.
volatile uint32_t s_sink;

double loop_getpid(uint32_t calls)
{
    uint64_t start = monotonic_ns();
    for (uint32_t i = 0; i < calls; ++i)
        s_sink = static_cast<uint32_t>(::syscall(SYS_getpid));
    return double(monotonic_ns() - start) / calls;
}

double loop_clock_gettime(uint32_t calls)
{
    uint64_t start = monotonic_ns();
    for (uint32_t i = 0; i < calls; ++i) {
        timespec ts {};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s_sink = static_cast<uint32_t>(ts.tv_nsec);
    }
    return double(monotonic_ns() - start) / calls;
}

double loop_empty(uint32_t calls)
{
    uint64_t start = monotonic_ns();
    for (uint32_t i = 0; i < calls; ++i)
        s_sink = i;
    return double(monotonic_ns() - start) / calls;
}

// Parses the guest's "<kind> <calls> <nanoseconds>" lines into ns per call, by kind.
std::map<std::string, std::vector<double>> parse_guest_lines(std::string const& text)
{
    std::map<std::string, std::vector<double>> samples;
    std::istringstream lines(text);
    std::string kind;
    uint64_t calls = 0, nanoseconds = 0;
    while (lines >> kind >> calls >> nanoseconds) {
        if (calls)
            samples[kind].push_back(double(nanoseconds) / double(calls));
    }
    return samples;
}

} // namespace

void run_abi_call_bench(BenchContext& context)
{
    Report& report = context.report;
    // ~1.5 ns per ABI call and ~140 ns per getpid: each repetition takes a few ms.
    uint32_t const abi_calls = context.quick ? 1'000'000 : 4'000'000;
    uint32_t const syscalls = context.quick ? 20'000 : 100'000;
    uint32_t const repetitions = context.quick ? 7 : 21;

    report.section("abi calls: " + std::to_string(repetitions) + " repetitions of " + std::to_string(abi_calls)
        + " calls from wasm code, and of " + std::to_string(syscalls) + " getpid syscalls");
    auto run = context.sips.run(context.image("abi_calls"), { "abi_calls", std::to_string(abi_calls), std::to_string(repetitions) });
    if (run.is_error()) {
        report.failure("abi_calls: " + run.error().message());
        return;
    }
    if (run.value().exit.how != ExitInfo::How::Exited || run.value().exit.status != 0) {
        report.failure("abi_calls " + describe_exit(run.value().exit));
        return;
    }
    auto guest = parse_guest_lines(run.value().out);
    for (char const* kind : { "empty", "abi_version", "self_id", "time_now" }) {
        if (guest[kind].size() != repetitions) {
            report.failure(std::string("abi_calls printed ") + std::to_string(guest[kind].size()) + " '" + kind + "' lines, expected "
                + std::to_string(repetitions));
            return;
        }
    }

    // The Linux loops, interleaved like the guest's; one warm-up round first.
    std::vector<double> getpid_ns, clock_ns, empty_ns;
    for (uint32_t rep = 0; rep <= repetitions; ++rep) {
        double e = loop_empty(abi_calls);
        double g = loop_getpid(syscalls);
        double c = loop_clock_gettime(abi_calls / 16);
        if (rep == 0)
            continue;
        empty_ns.push_back(e);
        getpid_ns.push_back(g);
        clock_ns.push_back(c);
    }

    auto empty_guest = Stats::of(guest["empty"]);
    auto abi_version = Stats::of(guest["abi_version"]);
    auto self_id = Stats::of(guest["self_id"]);
    auto time_now = Stats::of(guest["time_now"]);
    auto getpid = Stats::of(getpid_ns);
    report.detail("signet_abi_version in wasm: " + format_stats(abi_version));
    report.detail("signet_self_id in wasm:     " + format_stats(self_id));
    report.detail("signet_time_now in wasm:    " + format_stats(time_now));
    report.detail("empty wasm loop (1 store):  " + format_stats(empty_guest) + "  -> net abi_version "
        + format_duration(abi_version.median - empty_guest.median));
    report.detail("syscall(SYS_getpid):        " + format_stats(getpid));
    report.detail("clock_gettime (vDSO):       " + format_stats(Stats::of(clock_ns)));
    report.detail("empty native loop:          " + format_stats(Stats::of(empty_ns)));

    report.add({ .name = "abi call (abi_version) vs getpid",
        .linux_label = "syscall getpid",
        .signet = abi_version,
        .linux_side = getpid,
        .goal = Goal::SignetCheaper,
        .target = 50,
        .note = {} });
    report.add({ .name = "abi call (self_id) vs getpid",
        .linux_label = "syscall getpid",
        .signet = self_id,
        .linux_side = getpid,
        .goal = Goal::SignetCheaper,
        .target = 50,
        .note = {} });
    report.add({ .name = "abi time_now vs clock_gettime",
        .linux_label = "vDSO, no syscall",
        .signet = time_now,
        .linux_side = Stats::of(clock_ns),
        .goal = Goal::SignetNoSlower,
        .target = 0,
        .note = {} });
}

} // namespace signet::bench
