// signet-bench-domains: what a protection domain costs (docs/protection-domains.md,
// docs/benchmarks.md), as Singularity measured its hardware domains: the same
// operations with the SIP in the kernel domain and in a domain of its own, next
// to the Linux process equivalents, all on one CPU in the same run.
//
// - An ABI call from a SIP in its own domain crosses the ring and back; Linux's
//   equivalent cross-process round trip is a one-byte pipe ping-pong between two
//   processes on the same CPU.
// - Starting a SIP in a fresh domain (spawn to exit of a program that returns at
//   once) against posix_spawn and waitpid of a static Linux binary that does the same.
// Nothing here asserts a time; a missed target is printed.
#include "bench/Harness.h"
#include "bench/NativeProcess.h"
#include "bench/SipHost.h"
#include "kernel/domain/DomainProcess.h"
#include "kernel/domain/DomainSip.h"

#include <CLI/CLI.hpp>

#include <map>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace signet;
using namespace signet::bench;

namespace {

struct Placed {
    ExitInfo exit;
    std::string out;
    uint64_t wall_ns { 0 };
};

ErrorOr<Placed> run_placed(Kernel& kernel, std::shared_ptr<Image> image, std::vector<std::string> args, char const* placement)
{
    auto out = std::make_shared<BufferOutputStream>();
    SpawnRequest request;
    request.image = std::move(image);
    request.name = args.front();
    request.args = std::move(args);
    request.stdio = Stdio::host();
    request.stdio.out = out;
    request.principal = "bench/" + request.name;
    uint64_t start = monotonic_ns();
    auto sip = TRY(spawn_in_domain(kernel, std::move(request), DomainPlacement::parse(placement)));
    Placed placed;
    placed.exit = sip->wait_from_host();
    placed.wall_ns = monotonic_ns() - start;
    placed.out = out->contents();
    return placed;
}

// "<kind> <calls> <nanoseconds>" lines of guests/abi_calls.c: ns per call, by kind.
std::map<std::string, std::vector<double>> per_call(std::string const& text)
{
    std::map<std::string, std::vector<double>> samples;
    std::istringstream lines(text);
    std::string kind;
    double calls = 0, nanoseconds = 0;
    while (lines >> kind >> calls >> nanoseconds) {
        if (calls > 0)
            samples[kind].push_back(nanoseconds / calls);
    }
    return samples;
}

// One-byte round trips between this process and a forked child over two pipes,
// on the CPU both inherit: ns per round trip, one sample per repetition.
ErrorOr<std::vector<double>> pipe_ping_pong(unsigned round_trips, unsigned repetitions)
{
    int there[2], back[2];
    if (::pipe(there) != 0 || ::pipe(back) != 0)
        return Error::from_errno("pipe", errno);
    pid_t child = ::fork();
    if (child < 0)
        return Error::from_errno("fork", errno);
    if (child == 0) {
        ::close(there[1]);
        ::close(back[0]);
        char byte;
        while (::read(there[0], &byte, 1) == 1 && ::write(back[1], &byte, 1) == 1) { }
        ::_exit(0);
    }
    // Each end only where it is used, so the child sees end of file when we are done.
    ::close(there[0]);
    ::close(back[1]);
    std::vector<double> samples;
    for (unsigned rep = 0; rep <= repetitions; ++rep) {
        uint64_t start = monotonic_ns();
        char byte = 'x';
        for (unsigned i = 0; i < round_trips; ++i) {
            if (::write(there[1], &byte, 1) != 1 || ::read(back[0], &byte, 1) != 1)
                return Error::from_errno("pipe ping-pong", errno);
        }
        if (rep > 0) // the first is a warm-up
            samples.push_back(double(monotonic_ns() - start) / round_trips);
    }
    ::close(there[1]);
    ::close(back[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    return samples;
}

ErrorOr<void> run_domain_benchmarks(CommonOptions const& options, Report& report)
{
    int cpu = TRY(pin_to_cpu(options.cpu));
    calibrate_tsc(options.quick ? 20'000'000 : 200'000'000);
    std::string store = options.store_dir.empty() ? std::string(SIGNET_BENCH_STORE_DIR) : options.store_dir;
    DomainProcess::set_default_host_executable(SIGNET_DOMAIN_HOST);
    auto host = TRY(SipHost::create(1));
    auto abi_calls = TRY(host->load(TRY(install_guest(SIGNET_BENCH_GUEST_DIR "/bench_guest_abi_calls.wasm", store))));
    auto trivial = TRY(host->load(TRY(install_guest(SIGNET_BENCH_GUEST_DIR "/bench_guest_trivial.wasm", store))));

    // 1. ABI calls, in the kernel domain and across the ring.
    unsigned const calls = options.quick ? 5'000 : 50'000;
    unsigned const repetitions = options.quick ? 3 : 10;
    report.section("abi calls on CPU " + std::to_string(cpu) + ": " + std::to_string(repetitions) + " repetitions of " + std::to_string(calls) + " calls");
    std::map<std::string, Stats> self_id;
    for (char const* placement : { "kernel", "own" }) {
        auto run = TRY(run_placed(host->kernel(), abi_calls, { "abi_calls", std::to_string(calls), std::to_string(repetitions) }, placement));
        if (run.exit.how != ExitInfo::How::Exited)
            report.failure(std::string("abi_calls in ") + placement + ": " + describe_exit(run.exit));
        auto samples = per_call(run.out);
        self_id[placement] = Stats::of(samples["self_id"]);
        report.detail(std::string("self_id in the ") + (placement == std::string("own") ? "SIP's own domain" : "kernel domain") + ": "
            + format_stats(self_id[placement]) + "; time_now: " + format_stats(Stats::of(samples["time_now"])));
    }
    auto pipe = TRY(pipe_ping_pong(calls, repetitions));
    Measurement crossing;
    crossing.name = "cross-domain ABI call vs pipe round trip";
    crossing.linux_label = "1-byte pipe ping-pong, 2 processes, 1 CPU";
    crossing.signet = self_id["own"];
    crossing.linux_side = Stats::of(pipe);
    crossing.goal = Goal::SignetCheaper;
    crossing.target = 3;
    crossing.note = "the kernel-domain call costs " + format_duration(self_id["kernel"].median) + "; a domain adds "
        + format_duration(self_id["own"].median - self_id["kernel"].median) + " (eventfd doorbells both ways, the kernel's pump thread, a fiber wake-up)";
    report.add(crossing);

    // 2. Starting a SIP: in the kernel domain, in a fresh domain, and posix_spawn.
    unsigned const starts = options.quick ? 5 : 30;
    report.section("start to exit of a program that returns at once, " + std::to_string(starts) + " times");
    std::map<std::string, std::vector<double>> start_ns;
    for (unsigned i = 0; i <= starts; ++i) {
        for (char const* placement : { "kernel", "own" }) {
            auto run = TRY(run_placed(host->kernel(), trivial, { "trivial" }, placement));
            if (run.exit.how != ExitInfo::How::Exited)
                report.failure(std::string("trivial in ") + placement + ": " + describe_exit(run.exit));
            if (i > 0)
                start_ns[placement].push_back(double(run.wall_ns));
        }
        auto native = TRY(run_process(SIGNET_BENCH_NATIVE_TRIVIAL, { "trivial" }));
        if (i > 0)
            start_ns["linux"].push_back(double(native.wall_ns));
    }
    report.detail("in the kernel domain: " + format_stats(Stats::of(start_ns["kernel"])));
    Measurement start;
    start.name = "SIP start in a fresh domain vs posix_spawn";
    start.linux_label = "posix_spawn + waitpid, static binary";
    start.signet = Stats::of(start_ns["own"]);
    start.linux_side = Stats::of(start_ns["linux"]);
    start.goal = Goal::SignetNoSlower;
    start.target = 1.0;
    start.note = "a fresh domain is posix_spawn of signet-domain (dynamically linked), dlopen of the image, sealing and the ring's hello";
    report.add(start);
    // FIXME: the multi-SIP workload with all SIPs in one shared domain needs shared domains.
    return {};
}

} // namespace

int main(int argc, char** argv)
{
    CommonOptions common;
    CLI::App app { "What a protection domain costs: ABI calls and SIP start in the kernel domain and in a domain of their own, next to Linux" };
    add_common_options(app, common, "Fewer repetitions: the whole run takes a few seconds");
    CLI11_PARSE(app, argc, argv);
    Report report(stdout, "domains");
    auto ran = run_domain_benchmarks(common, report);
    return finish_run("signet-bench-domains", ran, report, "{}", common);
}
