// What a protection domain costs (DomainBench.h), in the same run:
//
// - An ABI call (self_id, timed by the guest bench/guests/abi_calls.c) from a
//   SIP in the kernel domain, and from a SIP in its own domain, where the call
//   crosses the ring: with the domain on another CPU than the kernel's worker
//   (both sides watch the ring: two cache-line transfers each way), and on the
//   same CPU (no spinning there: doorbells, the pump and a wake-up). Linux's
//   equivalent cross-process round trip: a one-byte pipe ping-pong between two
//   processes on one CPU.
//   Beside them, the floor of any crossing between CPUs here: a bare cache-line
//   ping-pong between two processes on the two CPUs.
// - A message round trip between two SIPs (bench/channels/guests/pingpong.c:
//   the client starts the server as its child) with both in the kernel domain
//   each in its own domain and both in one shared domain, against two Linux
//   processes and pipes; and the same pair as a whole workload (start both,
//   1,000 round trips, exit). And the client-in-a-domain round trip with a busy
//   process on the domain's CPU, against the pipes with one on theirs.
// - Start to exit of a program that returns at once: in the kernel domain, in
//   a fresh domain that the domain zygote forked ahead of demand (its spare),
//   in one it forks when asked (no spare), and in one exec'd without it,
//   against posix_spawn and waitpid of a static Linux binary.
// Nothing here asserts a time; a missed target is printed.
#include "bench/domains/DomainBench.h"

#include "bench/NativeProcess.h"
#include "bench/SipHost.h"
#include "kernel/domain/DomainProcess.h"
#include "kernel/domain/DomainSip.h"
#include "kernel/domain/DomainZygote.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <sched.h>
#include <sstream>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace signet::bench {

namespace {

struct Placed {
    ExitInfo exit;
    std::string out;
    uint64_t wall_ns { 0 };   // from the request to the SIP's end, as its waiter sees it
    uint64_t reaped_ns { 0 }; // from the request until the kernel is idle: a domain's process reaped too
};

ErrorOr<Placed> run_placed(Kernel& kernel, std::shared_ptr<Image> image, std::vector<std::string> args, std::string const& placement)
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
    auto sip = TRY(spawn_in_domain(kernel, std::move(request), DomainPlacement::parse(placement), SIGNET_DOMAIN_HOST));
    Placed placed;
    placed.exit = sip->wait_from_host();
    placed.wall_ns = monotonic_ns() - start;
    // A domain's process is killed at the SIP's end and reaped off the kernel's
    // workers (DomainProcess::kill); the next measurement starts once it is gone.
    sip.reset();
    kernel.wait_until_idle();
    placed.reaped_ns = monotonic_ns() - start;
    placed.out = out->contents();
    return placed;
}

// "<kind> <count> <nanoseconds>" lines (abi_calls.c), or "<kind> <size> <rounds>
// <nanoseconds>" lines (pingpong.c) when `sized`: ns per operation, by kind.
std::map<std::string, std::vector<double>> per_operation(std::string const& text, bool sized)
{
    std::map<std::string, std::vector<double>> samples;
    std::istringstream lines(text);
    std::string kind;
    double size = 0, count = 0, nanoseconds = 0;
    while (lines >> kind && (!sized || lines >> size) && lines >> count >> nanoseconds) {
        if (count > 0)
            samples[kind].push_back(nanoseconds / count);
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

// In a child just forked: runs it on `cpu` only, whatever its parent was allowed
// (pin_to_cpu keeps to the CPUs the caller may use).
void move_to_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ::sched_setaffinity(0, sizeof set, &set);
}

// The floor of any crossing between CPUs on this machine: two processes, one
// on each CPU, passing a counter back and forth through two cache lines of
// shared memory, spinning with `pause`. ns per round trip.
ErrorOr<double> cache_line_round_trip(int here, int there, unsigned round_trips)
{
    void* shared = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        return Error::from_errno("mmap", errno);
    auto* words = static_cast<ring::Cursor*>(shared);
    auto& ping = words[0].value;
    auto& pong = words[1].value;
    pid_t child = ::fork();
    if (child < 0)
        return Error::from_errno("fork", errno);
    if (child == 0) {
        move_to_cpu(there);
        for (uint32_t i = 1; i <= round_trips; ++i) {
            while (ping.load(std::memory_order_acquire) != i)
                ring::cpu_relax();
            pong.store(i, std::memory_order_release);
        }
        ::_exit(0);
    }
    (void)here; // this thread is pinned there already
    uint64_t start = monotonic_ns();
    for (uint32_t i = 1; i <= round_trips; ++i) {
        ping.store(i, std::memory_order_release);
        while (pong.load(std::memory_order_acquire) != i)
            ring::cpu_relax();
    }
    double per_round_trip = double(monotonic_ns() - start) / round_trips;
    int status = 0;
    ::waitpid(child, &status, 0);
    ::munmap(shared, 4096);
    return per_round_trip;
}

// A process that computes for ever on `cpu` (a busy neighbour), until stop_busy.
ErrorOr<pid_t> start_busy(int cpu)
{
    pid_t child = ::fork();
    if (child < 0)
        return Error::from_errno("fork", errno);
    if (child == 0) {
        move_to_cpu(cpu);
        for (;;)
            asm volatile("" ::: "memory");
    }
    return child;
}

void stop_busy(pid_t busy)
{
    ::kill(busy, SIGKILL);
    int status = 0;
    ::waitpid(busy, &status, 0);
}

// How the kernel's side waited for its domains since `before` (DomainProcess::wait_counts):
// how often it slept on a doorbell instead of finding the next frame by watching the ring.
std::string sleeps_since(DomainProcess::WaitCounts before)
{
    auto now = DomainProcess::wait_counts();
    uint64_t waits = now.waits - before.waits, sleeps = now.sleeps - before.sleeps;
    if (!waits)
        return {};
    char text[96];
    std::snprintf(text, sizeof text, "; the kernel slept on the doorbell in %.1f%% of %llu waits", 100.0 * double(sleeps) / double(waits), (unsigned long long)waits);
    return text;
}

// Another CPU this process may run on than `cpu`, or -1.
int other_cpu(int cpu, Affinity const& allowed)
{
    for (int candidate = CPU_SETSIZE - 1; candidate >= 0; --candidate) {
        if (candidate != cpu && CPU_ISSET(candidate, &allowed.cpus))
            return candidate;
    }
    return -1;
}

// What every part shares: the options, the CPUs, the kernel and the guests.
struct Bench {
    explicit Bench(DomainBenchOptions const& options)
        : options(options)
    {
    }
    DomainBenchOptions const& options;
    // Samples per measurement (batches of calls, of round trips).
    unsigned repetitions() const { return options.quick ? 3 : 10; }
    int cpu { -1 };   // the kernel's worker and the Linux processes
    int other { -1 }; // another CPU, for the domains, or -1
    std::string store; // what the domain zygote reads
    std::unique_ptr<SipHost> host;
    std::shared_ptr<Image> abi_calls, trivial, pingpong;
    // Where the domains run from now on: the other CPU, or this one.
    void place(bool same_cpu) const { DomainProcess::set_cpus({ same_cpu || other < 0 ? cpu : other }); }
};

// 1. ABI calls, in the kernel domain and across the ring.
ErrorOr<void> run_abi_calls(Bench& bench, Report& report)
{
    auto const& options = bench.options;
    auto& host = bench.host;
    unsigned const repetitions = bench.repetitions();
    auto place = [&](bool same_cpu) { bench.place(same_cpu); };
    int const cpu = bench.cpu;
    int const other = bench.other;
    auto const& abi_calls = bench.abi_calls;
    unsigned const calls = options.quick ? 5'000 : 50'000;
    report.section("abi calls: " + std::to_string(repetitions) + " repetitions of " + std::to_string(calls) + " calls");
    std::map<std::string, Stats> self_id;
    for (auto [label, placement, same_cpu] : { std::tuple { "kernel", "kernel", true }, std::tuple { "own", "own", false }, std::tuple { "own-same-cpu", "own", true } }) {
        place(same_cpu);
        auto const waited = DomainProcess::wait_counts();
        auto run = TRY(run_placed(host->kernel(), abi_calls, { "abi_calls", std::to_string(calls), std::to_string(repetitions) }, placement));
        if (run.exit.how != ExitInfo::How::Exited)
            report.failure(std::string("abi_calls in ") + label + ": " + describe_exit(run.exit));
        auto samples = per_operation(run.out, false);
        self_id[label] = Stats::of(samples["self_id"]);
        report.detail(std::string("self_id, ") + label + ": " + format_stats(self_id[label]) + "; time_now: " + format_stats(Stats::of(samples["time_now"])) + sleeps_since(waited));
    }
    auto pipe = Stats::of(TRY(pipe_ping_pong(calls, repetitions)));
    report.detail("1-byte pipe ping-pong, 2 processes, CPU " + std::to_string(cpu) + ": " + format_stats(pipe));
    if (other >= 0) {
        double floor = TRY(cache_line_round_trip(cpu, other, options.quick ? 20'000 : 200'000));
        report.detail("the floor: a cache-line ping-pong between 2 processes on CPUs " + std::to_string(cpu) + " and " + std::to_string(other)
            + " (shared memory, pause): " + format_duration(floor) + " per round trip");
    }
    std::string const pipe_label = "1-byte pipe ping-pong, 2 processes, 1 CPU";
    // Each row: its name, its placement's samples, its target and note.
    struct Row {
        char const* name;
        char const* label;
        double target;
        std::string note;
    };
    Row const rows[] = {
        { "abi call, SIP in the kernel domain, vs pipe round trip", "kernel", 0, {} },
        { "abi call, SIP in its own domain on the other CPU, vs pipe round trip", "own", 3,
            "the domain runs on another CPU than the kernel worker serving it (the pipe's two processes share one): both sides watch the ring "
            "for up to " + format_duration(double(ring::spin_ns)) + " before sleeping on their doorbells" },
        { "abi call, SIP in its own domain on the same CPU, vs pipe round trip", "own-same-cpu", 0,
            "on one CPU nobody spins: the domain rings, the kernel's pump wakes the SIP's fiber, the kernel rings back" },
    };
    for (auto const& row : rows) {
        report.add({ .name = row.name,
            .linux_label = pipe_label,
            .signet = self_id[row.label],
            .linux_side = pipe,
            .goal = Goal::SignetCheaper,
            .target = row.target,
            .note = row.note,
            .statistic = Statistic::Median });
    }
    // An ABI call in a shared domain crosses the same ring as in a domain of its own: no row of its own.
    return {};
}

// 2. Message round trips between two SIPs, and the pair as a workload.
ErrorOr<void> run_round_trips(Bench& bench, Report& report)
{
    auto const& options = bench.options;
    auto& host = bench.host;
    unsigned const repetitions = bench.repetitions();
    auto place = [&](bool same_cpu) { bench.place(same_cpu); };
    auto const& pingpong = bench.pingpong;
    unsigned const rounds = options.quick ? 2'000 : 20'000;
    report.section("message round trips, 4 B: " + std::to_string(repetitions) + " batches of " + std::to_string(rounds));
    std::map<std::string, Stats> round_trip;
    std::map<std::string, std::vector<double>> workload_ns;
    unsigned const workload_rounds = 1'000;
    unsigned const workloads = options.quick ? 3 : 10;
    // The client's placement, then the server's (the client starts it as its child).
    for (auto [label, placement, server_placement, same_cpu] : { std::tuple { "kernel", "kernel", "kernel", true }, std::tuple { "cross", "own", "kernel", false },
             std::tuple { "own", "own", "own", false }, std::tuple { "shared", "bench-shared", "bench-shared", false } }) {
        place(same_cpu);
        auto const waited = DomainProcess::wait_counts();
        Kernel::ProgramInfo server;
        server.image = pingpong;
        server.domain = server_placement;
        host->kernel().register_program("pingpong", server);
        auto run = TRY(run_placed(host->kernel(), pingpong, { "pingpong", std::to_string(rounds), std::to_string(repetitions), "4" }, placement));
        if (run.exit.how != ExitInfo::How::Exited || run.exit.status != 0)
            report.failure(std::string("pingpong in ") + label + ": " + describe_exit(run.exit));
        round_trip[label] = Stats::of(per_operation(run.out, true)["channel"]);
        report.detail(std::string("2 SIPs, ") + label + ": " + format_stats(round_trip[label]) + sleeps_since(waited));
        for (unsigned i = 0; i <= workloads; ++i) {
            auto whole = TRY(run_placed(host->kernel(), pingpong, { "pingpong", std::to_string(workload_rounds), "1", "4" }, placement));
            if (whole.exit.how != ExitInfo::How::Exited || whole.exit.status != 0)
                report.failure(std::string("pingpong workload in ") + label + ": " + describe_exit(whole.exit));
            if (i > 0)
                workload_ns[label].push_back(double(whole.wall_ns));
        }
    }
    std::map<std::string, std::vector<double>> native;
    for (unsigned i = 0; i <= workloads; ++i) {
        auto pipes = TRY(run_process(SIGNET_BENCH_PINGPONG_NATIVE, { "pingpong", "pipe", std::to_string(i == 0 ? rounds : workload_rounds), i == 0 ? std::to_string(repetitions) : "1", "4" }));
        if (pipes.exit_status != 0)
            report.failure("native pingpong exited with " + std::to_string(pipes.exit_status));
        if (i == 0)
            native["pipe"] = per_operation(pipes.out, true)["pipe"];
        else
            workload_ns["linux"].push_back(double(pipes.wall_ns));
    }
    auto native_pipe = Stats::of(native["pipe"]);
    report.detail("2 Linux processes, pipes, 4 B: " + format_stats(native_pipe));

    // With a busy neighbour: any process computing on the domain's CPU (and, on the
    // Linux side, on the pipe's). A domain waiting for an answer that the kernel
    // works out on the other CPU must keep its CPU (ring::Yield::WhenPeerBlocked):
    // yielding it handed the neighbour a whole time slice per call, ~200 us a round trip.
    Stats busy_cross, busy_pipe;
    unsigned const busy_rounds = options.quick ? 500 : 2'000;
    if (bench.other >= 0) {
        place(false);
        Kernel::ProgramInfo server;
        server.image = pingpong;
        server.domain = "kernel";
        host->kernel().register_program("pingpong", server);
        pid_t busy = TRY(start_busy(bench.other));
        auto run = run_placed(host->kernel(), pingpong, { "pingpong", std::to_string(busy_rounds), std::to_string(repetitions), "4" }, "own");
        stop_busy(busy);
        if (run.is_error())
            return run.release_error();
        if (run.value().exit.how != ExitInfo::How::Exited || run.value().exit.status != 0)
            report.failure("pingpong beside a busy process: " + describe_exit(run.value().exit));
        busy_cross = Stats::of(per_operation(run.value().out, true)["channel"]);
        busy = TRY(start_busy(bench.cpu));
        auto pipes = run_process(SIGNET_BENCH_PINGPONG_NATIVE, { "pingpong", "pipe", std::to_string(busy_rounds), std::to_string(repetitions), "4" });
        stop_busy(busy);
        if (pipes.is_error())
            return pipes.release_error();
        busy_pipe = Stats::of(per_operation(pipes.value().out, true)["pipe"]);
        report.detail("2 SIPs, cross, a busy process on the domain's CPU: " + format_stats(busy_cross));
        report.detail("2 Linux processes, pipes, 4 B, a busy process on their CPU: " + format_stats(busy_pipe));
    }
    // Each placement's rows: its label, what it says, and the round trip's target and note.
    // The cross-domain round trip is the issue's: a message and its answer cross
    // between a domain and the kernel's, as between an application in its own
    // protection domain and a service in the kernel's in the paper's HIP-R3.
    struct Placement {
        char const* label;
        char const* text;
        double target;
        char const* note;
    };
    Placement const placements[] = {
        { "kernel", "both SIPs in the kernel domain", 0, "" },
        { "cross", "client in its own domain, server in the kernel domain", 3.0,
            "the client's domain runs on another CPU than the kernel worker that runs the server and serves the client's calls" },
        { "own", "each SIP in its own domain", 0, "" },
        { "shared", "both SIPs in one shared domain", 0, "" },
    };
    for (auto const& [label, text, target, note] : placements) {
        report.add({ .name = std::string("message round trip 4 B, ") + text + ", vs pipe",
            .linux_label = "2 processes, pipes, 1 CPU",
            .signet = round_trip[label],
            .linux_side = native_pipe,
            .goal = Goal::SignetCheaper,
            .target = target,
            .note = note,
            .statistic = Statistic::Median });
    }
    if (bench.other >= 0) {
        report.add({ .name = "message round trip 4 B, client in its own domain, server in the kernel domain, a busy process on the client's CPU, vs pipe",
            .linux_label = "2 processes, pipes, 1 CPU, a busy process on it",
            .signet = busy_cross,
            .linux_side = busy_pipe,
            .goal = Goal::SignetCheaper,
            .target = 0,
            .note = "a process that computes for ever shares the CPU with the client's domain (and, on the Linux side, with the two processes)",
            .statistic = Statistic::Median });
    }
    for (auto const& [label, text, target, note] : placements) {
        report.add({ .name = "client/server workload (start, " + std::to_string(workload_rounds) + " round trips, exit), " + text,
            .linux_label = "2 processes, pipes, 1 CPU",
            .signet = Stats::of(workload_ns[label]),
            .linux_side = Stats::of(workload_ns["linux"]),
            .goal = Goal::SignetNoSlower,
            .target = 0,
            .note = {},
            .statistic = Statistic::Median });
    }
    return {};
}

// 3. Starting a SIP: in the kernel domain, in a fresh domain (the zygote's spare,
//    a fork on demand, an exec), and posix_spawn.
ErrorOr<void> run_starts(Bench& bench, Report& report)
{
    auto const& options = bench.options;
    auto& host = bench.host;
    auto place = [&](bool same_cpu) { bench.place(same_cpu); };
    int const cpu = bench.cpu;
    auto const& trivial = bench.trivial;
    unsigned const starts = options.quick ? 5 : 30;
    // All on one CPU, as the Linux side: a domain placed on the other CPU would wait
    // there for whatever else runs on it, which posix_spawn's child never does.
    report.section("start to exit of a program that returns at once, " + std::to_string(starts) + " times, domains on CPU " + std::to_string(cpu));
    place(true);
    std::map<std::string, std::vector<double>> start_ns;
    auto start_trivial = [&](std::string const& label, std::string const& placement) -> ErrorOr<void> {
        auto run = TRY(run_placed(host->kernel(), trivial, { "trivial" }, placement));
        if (run.exit.how != ExitInfo::How::Exited)
            report.failure("trivial (" + label + "): " + describe_exit(run.exit));
        start_ns[label].push_back(double(run.wall_ns));
        start_ns[label + "-reaped"].push_back(double(run.reaped_ns));
        return {};
    };
    auto start_linux = [&](std::string const& label) -> ErrorOr<void> {
        auto spawned = TRY(run_process(SIGNET_BENCH_NATIVE_TRIVIAL, { "trivial" }));
        start_ns[label].push_back(double(spawned.wall_ns));
        return {};
    };
    // The starts run back to back, as a system starts its programs, with one
    // exception: before a start from the spare the benchmark waits (busy, with
    // sched_yield: an idle CPU here loses its caches to other guests, which costs
    // a start far more than a fork) until the zygote has made its next spare,
    // domain::zygote_refill_delay_ms after the last was taken. So that fork runs
    // between starts and is measured by no row. A start that finds no spare
    // within a second is served by a fork on demand, and counted below.
    auto wait_for_spare = [] {
        auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (DomainZygote::spares().empty() && std::chrono::steady_clock::now() < deadline)
            ::sched_yield();
    };
    uint64_t const from_spare = DomainZygote::from_spare_count();
    for (unsigned i = 0; i <= starts; ++i) {
        TRY(start_trivial("kernel", "kernel"));
        wait_for_spare();
        TRY(start_trivial("zygote", "own"));
        TRY(start_linux("linux"));
    }
    uint64_t const served_by_spare = DomainZygote::from_spare_count() - from_spare;
    // The zygote without a spare: it forks each domain when asked.
    DomainZygote::stop();
    TRY(DomainZygote::start({ SIGNET_DOMAIN_HOST, { bench.store }, DomainZygote::Options::Spare::No }));
    for (unsigned i = 0; i <= starts; ++i)
        TRY(start_trivial("zygote-on-demand", "own"));
    // Without the zygote every domain is exec'd, as before it existed.
    DomainZygote::stop();
    for (unsigned i = 0; i <= starts; ++i) {
        TRY(start_trivial("exec", "own"));
        TRY(start_linux("linux-exec"));
    }
    for (auto& [label, samples] : start_ns)
        samples.erase(samples.begin()); // warm-up
    report.detail("in the kernel domain: " + format_stats(Stats::of(start_ns["kernel"])));
    report.detail("in a fresh domain, the zygote's spare: " + format_stats(Stats::of(start_ns["zygote"])) + " (" + std::to_string(served_by_spare)
        + " of " + std::to_string(starts + 1) + " starts served by a spare)");
    report.detail("the same until its process is reaped: " + format_stats(Stats::of(start_ns["zygote-reaped"])));
    report.detail("in a fresh domain forked by the zygote when asked (no spare): " + format_stats(Stats::of(start_ns["zygote-on-demand"])));
    report.detail("in a fresh domain exec'd (no zygote): " + format_stats(Stats::of(start_ns["exec"])));
    report.detail("posix_spawn + waitpid, static binary: " + format_stats(Stats::of(start_ns["linux"])));
    std::string const spawn_label = "posix_spawn + waitpid, static binary";
    // Each row: its name, its samples and the Linux side's, its target and note.
    struct Row {
        char const* name;
        char const* signet;
        char const* linux_side;
        double target;
        char const* note;
    };
    Row const rows[] = {
        { "SIP start+exit in the kernel domain vs posix_spawn", "kernel", "linux", 0, "" },
        { "SIP start+exit in a fresh domain (zygote's spare) vs posix_spawn", "zygote", "linux", 1.0,
            "the zygote's spare, forked before it was asked for and holding nothing of any SIP, takes the request: the image (mapped "
            "ahead when the last start ran the same program, as here), "
            "sealing and the ring's hello; before each such start the benchmark waits (busy) until the zygote has forked the next spare" },
        { "SIP start+exit+reap in a fresh domain (zygote's spare) vs posix_spawn", "zygote-reaped", "linux", 0,
            "the same starts, until the domain's process is reaped as well (the reaper does it after the SIP's waiter saw its end); "
            "posix_spawn's waitpid returns once its child is torn down" },
        { "SIP start+exit in a fresh domain (zygote, no spare) vs posix_spawn", "zygote-on-demand", "linux", 0,
            "the zygote forks the domain when asked: a fork of the sealed zygote on top of the spare's work" },
        { "SIP start+exit in a fresh domain (exec, no zygote) vs posix_spawn", "exec", "linux-exec", 0,
            "posix_spawn of signet-domain (dynamically linked), dlopen of the image, sealing and the ring's hello" },
    };
    for (auto const& row : rows) {
        report.add({ .name = row.name,
            .linux_label = spawn_label,
            .signet = Stats::of(start_ns[row.signet]),
            .linux_side = Stats::of(start_ns[row.linux_side]),
            .goal = Goal::SignetNoSlower,
            .target = row.target,
            .note = row.note,
            .statistic = Statistic::Median });
    }
    return {};
}

} // namespace

ErrorOr<void> run_domain_benchmarks(DomainBenchOptions const& options, Report& report)
{
    // Under a real-time policy (chrt -f, chrt -r) the run livelocks: both sides of
    // a crossing spin before they sleep, and a real-time thread spinning on a CPU
    // keeps it from the other side, on that CPU, that it waits for.
    if (int policy = ::sched_getscheduler(0); policy == SCHED_FIFO || policy == SCHED_RR)
        return Error::invalid(std::string("refusing to run under ") + (policy == SCHED_FIFO ? "SCHED_FIFO" : "SCHED_RR")
            + " (real-time priority, as chrt gives): the two sides of a domain crossing spin before they sleep, and a real-time thread "
              "that spins never yields its CPU to the side it waits for on that CPU, so the run would livelock; run it under the normal "
              "policy (SCHED_OTHER)");
    for (auto const& part : options.parts) {
        if (part != "calls" && part != "round-trips" && part != "starts")
            return Error::invalid("no benchmark part '" + part + "' (calls, round-trips, starts)");
    }
    auto wants = [&](std::string const& part) { return options.parts.empty() || std::find(options.parts.begin(), options.parts.end(), part) != options.parts.end(); };
    std::string store = options.store_dir.empty() ? std::string(SIGNET_BENCH_STORE_DIR) : options.store_dir;
    // Install while every CPU may still be used, then pin: the kernel's worker and
    // pump, the zygote and the Linux processes inherit this thread's CPU.
    auto abi_calls_image = TRY(install_guest(SIGNET_BENCH_GUEST_DIR "/bench_guest_abi_calls.wasm", store));
    auto trivial_image = TRY(install_guest(SIGNET_BENCH_GUEST_DIR "/bench_guest_trivial.wasm", store));
    auto pingpong_image = TRY(install_guest(SIGNET_BENCH_PINGPONG_GUEST, store));
    auto allowed = TRY(Affinity::of_calling_thread());
    Bench bench(options);
    bench.cpu = TRY(pin_to_cpu(options.cpu));
    bench.other = other_cpu(bench.cpu, allowed);
    calibrate_tsc(options.quick ? 20'000'000 : 200'000'000);
    DomainProcess::set_default_host_executable(SIGNET_DOMAIN_HOST);
    bench.host = TRY(SipHost::create(1));
    bench.abi_calls = TRY(bench.host->load(abi_calls_image));
    bench.trivial = TRY(bench.host->load(trivial_image));
    bench.pingpong = TRY(bench.host->load(pingpong_image));
    // Domains start from the zygote, started here once (it reads only the store),
    // except in the rows that price starting one without its spare or without it.
    if (DomainZygote::running())
        DomainZygote::stop();
    bench.store = store;
    TRY(DomainZygote::start({ SIGNET_DOMAIN_HOST, { store }, DomainZygote::Options::Spare::Yes }));
    struct Cleanup {
        ~Cleanup()
        {
            DomainProcess::set_cpus({});
            DomainZygote::stop();
        }
    } cleanup;
    std::string const other_text = bench.other < 0 ? "(no other CPU: on CPU " + std::to_string(bench.cpu) + ")" : "on CPU " + std::to_string(bench.other);
    char load[32];
    std::snprintf(load, sizeof load, "%.2f", system_load_average());
    report.section("the kernel's one worker and the Linux processes on CPU " + std::to_string(bench.cpu) + "; domains " + other_text
        + " unless said otherwise; load average " + load);
    if (wants("calls"))
        TRY(run_abi_calls(bench, report));
    if (wants("round-trips"))
        TRY(run_round_trips(bench, report));
    if (wants("starts"))
        TRY(run_starts(bench, report));
    return {};
}

} // namespace signet::bench
