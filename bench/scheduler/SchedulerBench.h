// signet-bench-scheduler as a library: yields between the threads of a SIP and
// between SIPs next to sched_yield between Linux threads; channel ping-pong
// pairs on one core and on both, next to futex pairs of Linux threads; and a
// population of ten thousand SIPs alive at once: what each one costs in memory
// and mappings, and what a switch costs among them.
#pragma once

#include "base/ErrorOr.h"
#include "bench/Harness.h"
#include "bench/scheduler/Population.h"

#include <string>
#include <vector>

namespace signet::bench {

struct SchedulerBenchOptions {
    // Fewer repetitions and a population of 2,000: the whole run stays under ~30 s
    // (after the first run, which installs the guests into the store).
    bool quick { false };
    // The CPU the one-worker measurements are pinned to; -1: the last one allowed.
    int cpu { -1 };
    // Where guests are installed: the build tree's store by default, never the user's.
    std::string store_dir;
    // Run only these groups ("yield", "pairs", "scale"); empty: all.
    std::vector<std::string> groups;
    // SIPs alive at once in the scale group (0: 10,000, or 2,000 with --quick).
    size_t sips { 0 };
    // The fiber stack of each SIP of the population (SipLimits::stack_bytes).
    size_t stack_bytes { SipLimits {}.stack_bytes };
};

std::string default_scheduler_store_dir();

// What the groups share: the report, the options and the guests' images.
struct SchedulerBenchContext {
    SchedulerBenchOptions const& options;
    Report& report;
    std::string members_image_path;
    std::string members_module_hash;
    std::string yields_image_path;
    std::string yields_module_hash;
    // Filled by the scale group for the JSON output: the population's numbers.
    std::string scale_json { "null" };
};

// A kernel for a benchmark: `workers` workers (they inherit the calling
// thread's CPU affinity), its trap reports counted rather than printed.
struct BenchKernel {
    std::unique_ptr<Kernel> kernel;
    std::shared_ptr<LineCounter> diagnostics;
    std::shared_ptr<Image> members;
    std::shared_ptr<Image> yields;

    static ErrorOr<BenchKernel> create(SchedulerBenchContext const&, unsigned workers);
};

// Pins the calling thread (and the threads it creates from now on) to one CPU
// while it exists, and gives the thread back the CPUs it had.
class ScopedPin {
public:
    explicit ScopedPin(int cpu);
    ~ScopedPin();
    ScopedPin(ScopedPin const&) = delete;
    ScopedPin& operator=(ScopedPin const&) = delete;

    // The CPU, or the error that kept it from pinning.
    ErrorOr<int> const& cpu() const { return m_cpu; }

private:
    ErrorOr<Affinity> m_original;
    ErrorOr<int> m_cpu;
};

// Runs the `yields` guest with `args` in `kernel` and returns its per-repetition
// round-trip times (ns), or records a failure and returns nothing. In mode "sip"
// two of them run at once (a SIP switch at every yield); the second one's times count.
std::vector<double> run_yields(SchedulerBenchContext&, BenchKernel&, std::string const& mode, uint32_t yields, uint32_t repetitions);
// Where the two fibers of bare_fiber_yields call the switch from: one loop that
// both run, or a loop each.
enum class CallSites { Same, Apart };
// The floor under a yield round trip on this machine: two bare fibers of the
// calling thread switching to each other with the kernel's switch routine and
// nothing else, per repetition (ns per round trip).
std::vector<double> bare_fiber_yields(uint32_t yields, uint32_t repetitions, CallSites);
// Two Linux threads on the calling thread's CPUs, each calling sched_yield in a
// loop: the time of one round trip (each thread yields once), per repetition.
std::vector<double> linux_sched_yield(uint32_t yields, uint32_t repetitions);

void run_yield_bench(SchedulerBenchContext&);
void run_pairs_bench(SchedulerBenchContext&);
void run_scale_bench(SchedulerBenchContext&);

ErrorOr<void> run_scheduler_benchmarks(SchedulerBenchOptions const&, Report&, std::string& machine_json);

} // namespace signet::bench
