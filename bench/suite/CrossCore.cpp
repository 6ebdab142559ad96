// Message round trips across cores: one pair of SIPs on a two-worker kernel,
// its ends on different workers (bench/scheduler's members guest: a 4-byte
// Ping answered by a 4-byte Pong), next to two Linux processes pinned to two
// CPUs echoing 4 bytes through a pair of pipes, and two Linux threads pinned
// to two CPUs handing a turn back and forth through a futex word. The three
// take turns, one repetition each, so that a slow phase of the machine falls
// on all of them alike; the first turn is a warm-up. The Linux pairs also run
// free on both CPUs (where Linux may put both ends on one), because Signet's
// pair is free too: its scheduler moves a single-threaded SIP woken from
// another worker to the waker's worker (wake affinity, docs/scheduler.md), so
// after the first message both ends share a worker.
//
// The same-core round trips are bench/channels' (one worker, one CPU).
#include "bench/SipHost.h"
#include "bench/scheduler/SchedulerBench.h"
#include "bench/suite/Suite.h"

#include <atomic>
#include <linux/futex.h>
#include <optional>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace signet::bench {

namespace {

std::string scheduler_guest(char const* name)
{
    return std::string(SIGNET_BENCH_SCHEDULER_GUEST_DIR) + "/bench_sched_" + name + ".wasm";
}

// Pins the calling thread to `cpu`; a negative `cpu` leaves it where it may run.
bool pin_thread(int cpu)
{
    if (cpu < 0)
        return true;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0;
}

// ns per 4-byte round trip between two processes on CPUs `a` (this side) and `b`,
// or a negative number if something failed. The child only reads, writes and exits.
double pipe_round_trip(int a, int b, uint32_t rounds)
{
    int to_child[2], to_parent[2];
    if (::pipe(to_child) != 0)
        return -1;
    if (::pipe(to_parent) != 0) {
        ::close(to_child[0]);
        ::close(to_child[1]);
        return -1;
    }
    pid_t child = ::fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        pin_thread(b);
        ::close(to_child[1]);
        ::close(to_parent[0]);
        uint32_t word = 0;
        while (::read(to_child[0], &word, sizeof word) == sizeof word) {
            if (::write(to_parent[1], &word, sizeof word) != sizeof word)
                break;
        }
        ::_exit(0);
    }
    ::close(to_child[0]);
    ::close(to_parent[1]);
    auto affinity = Affinity::of_calling_thread();
    pin_thread(a);
    bool ok = true;
    uint64_t start = monotonic_ns();
    for (uint32_t i = 0; i < rounds && ok; ++i) {
        uint32_t word = i, answer = 0;
        ok = ::write(to_child[1], &word, sizeof word) == sizeof word && ::read(to_parent[0], &answer, sizeof answer) == sizeof answer
            && answer == i;
    }
    uint64_t elapsed = monotonic_ns() - start;
    ::close(to_child[1]);
    ::close(to_parent[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!affinity.is_error())
        (void)affinity.value().apply_to_calling_thread();
    return ok ? double(elapsed) / rounds : -1;
}

long futex(std::atomic<uint32_t>& word, int operation, uint32_t value)
{
    return ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), operation | FUTEX_PRIVATE_FLAG, value, nullptr, nullptr, 0);
}

// ns per round trip of a turn handed between two threads on CPUs `a` and `b`
// through a futex word: 0 is the first thread's turn, 1 the second's.
double futex_round_trip(int a, int b, uint32_t rounds)
{
    std::atomic<uint32_t> turn { 0 };
    auto hand = [&](uint32_t mine, uint32_t theirs) {
        for (uint32_t i = 0; i < rounds; ++i) {
            while (turn.load(std::memory_order_acquire) != mine)
                futex(turn, FUTEX_WAIT, theirs);
            turn.store(theirs, std::memory_order_release);
            futex(turn, FUTEX_WAKE, 1);
        }
    };
    uint64_t start = 0, end = 0;
    std::thread first([&] {
        pin_thread(a);
        start = monotonic_ns();
        hand(0, 1);
        // The last turn handed back is the second thread's last answer.
        while (turn.load(std::memory_order_acquire) != 0)
            futex(turn, FUTEX_WAIT, 1);
        end = monotonic_ns();
    });
    std::thread second([&] {
        pin_thread(b);
        hand(1, 0);
    });
    first.join();
    second.join();
    return double(end - start) / rounds;
}

} // namespace

void run_cross_core_bench(bool quick, Report& report)
{
    auto allowed = Affinity::of_calling_thread();
    if (allowed.is_error()) {
        report.failure("crosscore: " + allowed.error().message());
        return;
    }
    // The two highest CPUs this process may use (CPU 0 takes most interrupts).
    std::vector<int> cpus;
    for (int i = CPU_SETSIZE - 1; i >= 0 && cpus.size() < 2; --i) {
        if (CPU_ISSET(i, &allowed.value().cpus))
            cpus.push_back(i);
    }
    if (cpus.size() < 2) {
        report.section("round trips across cores: skipped, this process may run on one CPU only");
        return;
    }
    int const a = cpus[1], b = cpus[0];
    uint32_t const rounds = quick ? 5'000 : 20'000;
    uint32_t const repetitions = quick ? 3 : 9;
    report.section("round trips across cores (CPUs " + std::to_string(a) + " and " + std::to_string(b) + "): " + std::to_string(repetitions)
        + " repetitions of " + std::to_string(rounds) + ", the three kinds taking turns after a warm-up turn");

    // The members guest of bench/scheduler, in its store; a kernel with two workers on
    // exactly these two CPUs, its pair's ends on different workers.
    std::string store = default_scheduler_store_dir();
    auto members = install_guest(scheduler_guest("members"), store);
    auto yields = members.is_error() ? members : install_guest(scheduler_guest("yields"), store);
    if (yields.is_error()) {
        report.failure("crosscore: " + yields.error().message());
        return;
    }
    SchedulerBenchOptions scheduler_options;
    scheduler_options.quick = quick;
    SchedulerBenchContext context { .options = scheduler_options,
        .report = report,
        .members_image_path = members.value().image_path,
        .members_module_hash = members.value().module_hash,
        .yields_image_path = yields.value().image_path,
        .yields_module_hash = yields.value().module_hash };
    cpu_set_t two;
    CPU_ZERO(&two);
    CPU_SET(a, &two);
    CPU_SET(b, &two);
    if (sched_setaffinity(0, sizeof two, &two) != 0) {
        report.failure("crosscore: cannot run on CPUs " + std::to_string(a) + " and " + std::to_string(b));
        return;
    }
    auto bench = BenchKernel::create(context, 2);
    (void)allowed.value().apply_to_calling_thread();
    if (bench.is_error()) {
        report.failure("crosscore: " + bench.error().message());
        return;
    }

    auto steals = [&] {
        auto& scheduler = bench.value().kernel->scheduler();
        uint64_t total = 0;
        for (unsigned i = 0; i < scheduler.worker_count(); ++i)
            total += scheduler.worker(i).steals();
        return total;
    };
    uint64_t steals_before = steals();
    std::vector<double> channel, pipe, futex_turns, free_pipe, free_futex;
    for (uint32_t rep = 0; rep <= repetitions; ++rep) {
        Population population(*bench.value().kernel, bench.value().members,
            { .pairs = 1, .rounds_before_gate = 0, .rounds_after_gate = rounds, .gated = true, .placement = Population::Placement::Split, .limits = {} });
        if (auto started = population.start(); started.is_error()) {
            report.failure("crosscore: " + started.error().message());
            return;
        }
        if (!population.wait_ready(std::chrono::seconds(60))) {
            report.failure("crosscore: the pair did not reach its gate within 60 s");
            return;
        }
        uint64_t start = monotonic_ns();
        population.open_gates();
        population.wait_all();
        double signet = double(monotonic_ns() - start) / rounds;
        std::string failure;
        if (population.failures(&failure)) {
            report.failure("crosscore: " + failure);
            return;
        }
        double linux_pipe = pipe_round_trip(a, b, rounds);
        if (linux_pipe < 0) {
            report.failure("crosscore: the pipe ping-pong between two processes failed");
            return;
        }
        double linux_futex = futex_round_trip(a, b, rounds);
        // Free: both ends may run on both CPUs (this thread's affinity, set above).
        double linux_free_pipe = pipe_round_trip(-1, -1, rounds);
        double linux_free_futex = futex_round_trip(-1, -1, rounds);
        if (linux_free_pipe < 0) {
            report.failure("crosscore: the pipe ping-pong between two free processes failed");
            return;
        }
        if (rep == 0)
            continue;
        channel.push_back(signet);
        pipe.push_back(linux_pipe);
        futex_turns.push_back(linux_futex);
        free_pipe.push_back(linux_free_pipe);
        free_futex.push_back(linux_free_futex);
    }
    auto channel_stats = Stats::of(channel);
    // A worker with nothing to run takes a runnable SIP from the other: then both ends
    // share a worker for a while, and their messages are fiber switches, not wake-ups.
    report.detail("the pair started on 2 workers; " + std::to_string(steals() - steals_before) + " steals in " + std::to_string(repetitions + 1)
        + " runs; wake affinity moves a woken single-threaded SIP to its waker's worker");
    report.detail("channel, 2 SIPs on 2 workers:      " + format_stats(channel_stats));
    report.detail("pipes, 2 processes on 2 CPUs:      " + format_stats(Stats::of(pipe)));
    report.detail("futex, 2 threads on 2 CPUs:        " + format_stats(Stats::of(futex_turns)));
    report.detail("pipes, 2 processes free on 2 CPUs: " + format_stats(Stats::of(free_pipe)));
    report.detail("futex, 2 threads free on 2 CPUs:   " + format_stats(Stats::of(free_futex)));
    report.add({ .name = "round trip 4 B across cores vs pipe",
        .linux_label = "2 processes, pinned apart",
        .signet = channel_stats,
        .linux_side = Stats::of(pipe),
        .goal = Goal::SignetCheaper,
        .target = 0,
        .note = {} });
    report.add({ .name = "round trip 4 B across cores vs futex",
        .linux_label = "2 threads, pinned apart",
        .signet = channel_stats,
        .linux_side = Stats::of(futex_turns),
        .goal = Goal::SignetCheaper,
        .target = 0,
        .note = {} });
    report.add({ .name = "round trip 4 B, 2 CPUs free, vs pipe",
        .linux_label = "2 processes, unpinned",
        .signet = channel_stats,
        .linux_side = Stats::of(free_pipe),
        .goal = Goal::SignetCheaper,
        .target = 0,
        .note = {} });
    report.add({ .name = "round trip 4 B, 2 CPUs free, vs futex",
        .linux_label = "2 threads, unpinned",
        .signet = channel_stats,
        .linux_side = Stats::of(free_futex),
        .goal = Goal::SignetCheaper,
        .target = 0,
        .note = {} });
}

} // namespace signet::bench
