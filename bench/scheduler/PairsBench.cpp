// Channel ping-pong pairs on one core and on two: P pairs of SIPs each make R
// round trips at the same time, timed from the moment the host opens their
// gates (every SIP created, started and waiting) to the end of the last one.
// The time per round trip is the total over all pairs: the inverse of the
// throughput. Next to it, P pairs of Linux threads ping-pong through a futex.
// Nothing is pinned here: the kernel's workers and the threads go where Linux
// puts them, as in the default configuration.
#include "bench/scheduler/SchedulerBench.h"

#include <atomic>
#include <linux/futex.h>
#include <optional>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace signet::bench {

namespace {

long futex(std::atomic<uint32_t>& word, int operation, uint32_t value)
{
    return ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), operation | FUTEX_PRIVATE_FLAG, value, nullptr, nullptr, 0);
}

// `pairs` pairs of threads, `rounds` round trips each; ns per round trip over all of them.
double linux_futex_pairs(size_t pairs, uint32_t rounds)
{
    struct alignas(64) Pair {
        std::atomic<uint32_t> turn { 0 }; // 1: the answer is awaited
    };
    std::vector<Pair> words(pairs);
    std::atomic<bool> go { false };
    std::vector<std::thread> threads;
    for (size_t i = 0; i < pairs; ++i) {
        threads.emplace_back([&, i] {
            while (!go.load(std::memory_order_acquire))
                std::this_thread::yield();
            auto& turn = words[i].turn;
            for (uint32_t round = 0; round < rounds; ++round) {
                turn.store(1, std::memory_order_release);
                futex(turn, FUTEX_WAKE, 1);
                while (turn.load(std::memory_order_acquire) == 1)
                    futex(turn, FUTEX_WAIT, 1);
            }
        });
        threads.emplace_back([&, i] {
            while (!go.load(std::memory_order_acquire))
                std::this_thread::yield();
            auto& turn = words[i].turn;
            for (uint32_t round = 0; round < rounds; ++round) {
                while (turn.load(std::memory_order_acquire) == 0)
                    futex(turn, FUTEX_WAIT, 0);
                turn.store(0, std::memory_order_release);
                futex(turn, FUTEX_WAKE, 1);
            }
        });
    }
    uint64_t start = monotonic_ns();
    go.store(true, std::memory_order_release);
    for (auto& thread : threads)
        thread.join();
    return double(monotonic_ns() - start) / double(pairs * rounds);
}

// What a second core gives at all right now: the speed-up of two CPU-bound
// threads over one (2.0 on an idle two-core machine; less when other processes
// or the hypervisor take the cores). No scheduler can do better.
double machine_parallelism()
{
    auto spin = [] {
        uint64_t start = monotonic_ns();
        volatile uint64_t state = 1;
        for (uint32_t i = 0; i < 30'000'000; ++i)
            state = state * 6364136223846793005ull + 1442695040888963407ull;
        return double(monotonic_ns() - start);
    };
    double alone = spin();
    uint64_t start = monotonic_ns();
    std::thread other(spin);
    spin();
    other.join();
    return 2 * alone / double(monotonic_ns() - start);
}

// CPU time the kernel's workers have used so far (ns, from /proc/self/task/<tid>/schedstat):
// what the pairs cost in CPU, whatever else the machine runs meanwhile.
uint64_t worker_cpu_ns(Kernel& kernel)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < kernel.scheduler().worker_count(); ++i) {
        std::string path = "/proc/self/task/" + std::to_string(kernel.scheduler().worker(i).host_tid()) + "/schedstat";
        if (FILE* file = std::fopen(path.c_str(), "r")) {
            unsigned long long on_cpu = 0;
            if (std::fscanf(file, "%llu", &on_cpu) == 1)
                total += on_cpu;
            std::fclose(file);
        }
    }
    return total;
}

std::string printf_steals(unsigned workers, Population::Placement placement, uint64_t steals, uint32_t runs)
{
    char text[160];
    std::snprintf(text, sizeof text, "%u workers, ends %s: %.1f steals per run (an idle worker took a runnable SIP from the other)", workers,
        placement == Population::Placement::Together ? "together" : "split", double(steals) / runs);
    return text;
}

} // namespace

void run_pairs_bench(SchedulerBenchContext& context)
{
    Report& report = context.report;
    bool quick = context.options.quick;
    size_t const pairs = quick ? 32 : 64;
    uint32_t const rounds = quick ? 500 : 2000;
    uint32_t const repetitions = quick ? 3 : 9;
    std::string const shape = std::to_string(pairs) + " pairs";
    report.section("ping-pong pairs: " + shape + " of SIPs, " + std::to_string(rounds) + " round trips each, all at once; "
        + std::to_string(repetitions) + " repetitions; time per round trip over all pairs");

    // One kernel per configuration, all at once; the configurations and the Linux
    // twin take turns, one repetition each, so that a slow phase of this shared
    // machine falls on all of them alike. The first turn is a warm-up.
    struct Configuration {
        unsigned workers;
        Population::Placement placement;
        std::optional<BenchKernel> bench {};
        std::vector<double> samples {};     // ns per round trip over all pairs
        std::vector<double> cpu_samples {}; // CPU ns of all workers per round trip
        uint64_t steals_before { 0 };
    };
    Configuration configurations[] = {
        { 1, Population::Placement::Together },
        { 2, Population::Placement::Together },
        { 2, Population::Placement::Split },
    };
    auto steals = [](Kernel& kernel) {
        uint64_t total = 0;
        for (unsigned i = 0; i < kernel.scheduler().worker_count(); ++i)
            total += kernel.scheduler().worker(i).steals();
        return total;
    };
    for (auto& configuration : configurations) {
        auto bench = BenchKernel::create(context, configuration.workers);
        if (bench.is_error()) {
            report.failure("pairs: " + bench.error().message());
            return;
        }
        configuration.bench = bench.release_value();
        configuration.steals_before = steals(*configuration.bench->kernel);
    }
    // One run: every pair waits at its gate, then all go at once; false if it failed.
    auto run = [&](Configuration& configuration, bool keep) {
        Kernel& kernel = *configuration.bench->kernel;
        Population population(kernel, configuration.bench->members,
            { .pairs = pairs,
                .rounds_before_gate = 0,
                .rounds_after_gate = rounds,
                .gated = true,
                .placement = configuration.placement,
                .limits = {} });
        if (auto started = population.start(); started.is_error()) {
            report.failure("pairs: " + started.error().message());
            return false;
        }
        if (!population.wait_ready(std::chrono::seconds(60))) {
            report.failure("pairs: the population did not reach its gates within 60 s");
            return false;
        }
        uint64_t cpu_start = worker_cpu_ns(kernel);
        uint64_t start = monotonic_ns();
        population.open_gates();
        population.wait_all();
        uint64_t elapsed = monotonic_ns() - start;
        uint64_t cpu = worker_cpu_ns(kernel) - cpu_start;
        std::string failure;
        if (population.failures(&failure)) {
            report.failure("pairs: " + failure);
            return false;
        }
        if (keep) {
            configuration.samples.push_back(double(elapsed) / double(pairs * rounds));
            configuration.cpu_samples.push_back(double(cpu) / double(pairs * rounds));
        }
        return true;
    };
    std::vector<double> futex_samples, ceiling_samples;
    for (uint32_t rep = 0; rep <= repetitions; ++rep) {
        ceiling_samples.push_back(machine_parallelism());
        for (auto& configuration : configurations) {
            if (!run(configuration, rep > 0))
                return;
        }
        double sample = linux_futex_pairs(pairs, quick ? rounds / 4 : rounds / 2);
        if (rep > 0)
            futex_samples.push_back(sample);
    }
    for (auto& configuration : configurations) {
        if (configuration.workers > 1)
            report.detail(printf_steals(configuration.workers, configuration.placement,
                steals(*configuration.bench->kernel) - configuration.steals_before, repetitions + 1));
    }
    auto one_worker = Stats::of(configurations[0].samples);
    auto two_workers = Stats::of(configurations[1].samples);
    auto split = Stats::of(configurations[2].samples);
    auto futex_pairs = Stats::of(futex_samples);
    report.detail("1 worker:                              " + format_stats(one_worker));
    auto ceiling = Stats::of(ceiling_samples);
    char text[256];
    std::snprintf(text, sizeof text,
        "the machine meanwhile: two CPU-bound Linux threads ran %.2fx as fast as one (median; %.2f .. %.2f): the ceiling for 2 workers vs 1",
        ceiling.median, ceiling.min, ceiling.max);
    report.detail(text);
    std::snprintf(text, sizeof text, "CPU of all workers per round trip (medians): 1 worker %s, 2 workers with ends together %s, split %s",
        format_duration(Stats::of(configurations[0].cpu_samples).median).c_str(), format_duration(Stats::of(configurations[1].cpu_samples).median).c_str(),
        format_duration(Stats::of(configurations[2].cpu_samples).median).c_str());
    report.detail(text);
    report.detail("2 workers, a pair's ends together:     " + format_stats(two_workers));
    report.detail("2 workers, a pair's ends split:        " + format_stats(split));
    report.detail("Linux threads, futex, all CPUs:        " + format_stats(futex_pairs));
    if (one_worker.count && two_workers.count) {
        report.add({ .name = shape + ", 2 workers vs 1",
            .linux_label = "signet, 1 worker",
            .signet = two_workers,
            .linux_side = one_worker,
            .goal = Goal::SignetCheaper,
            .target = 0,
            .note = "the linux column is Signet itself on one worker: the ratio is the speed-up from the second core" });
    }
    if (one_worker.count && split.count) {
        report.add({ .name = shape + ", ends split, 2 workers vs 1",
            .linux_label = "signet, 1 worker",
            .signet = split,
            .linux_side = one_worker,
            .goal = Goal::SignetCheaper,
            .target = 0,
            .note = "each message wakes a fiber on the other worker; below 1x the second core costs more than it gives" });
    }
    if (two_workers.count && futex_pairs.count) {
        report.add({ .name = shape + ", 2 workers",
            .linux_label = "futex, " + std::to_string(2 * pairs) + " threads",
            .signet = two_workers,
            .linux_side = futex_pairs,
            .goal = Goal::SignetCheaper,
            .target = 0,
            .note = {} });
    }
}

} // namespace signet::bench
