// The measurement harness of the foundation benchmarks: the clock, the
// statistics, CPU pinning, and the report (a side-by-side table and JSON).
//
// Every measurement pairs a Signet operation with its Linux equivalent, timed
// in the same run with the same clock, and reports the ratio of the medians
// (of the minimums where a measurement says so, see Statistic).
// Nothing here judges a time: a missed target is printed, never a failure.
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <cstdio>
#include <sched.h>
#include <string>
#include <vector>
#include <x86intrin.h>

namespace CLI {
class App;
}

namespace signet::bench {

// The time stamp counter: constant and nonstop on the machines we measure on,
// and the finest clock there is (this VM class has no PMU, so no cycle counts).
// The lfence keeps the read from being hoisted above the work it times.
inline uint64_t read_tsc()
{
    _mm_lfence();
    uint64_t ticks = __rdtsc();
    _mm_lfence();
    return ticks;
}

// Measures the TSC rate against CLOCK_MONOTONIC over `window_ns`.
void calibrate_tsc(uint64_t window_ns);
double tsc_ticks_per_ns();
inline double ticks_to_ns(uint64_t ticks) { return double(ticks) / tsc_ticks_per_ns(); }

uint64_t monotonic_ns();

// The 1-minute load average (-1 if unknown): benchmarks on a busy machine read
// high, so reports say how busy it was.
double system_load_average();

// Order statistics of a set of samples (nanoseconds per operation).
struct Stats {
    size_t count { 0 };
    double min { 0 };
    double p25 { 0 };
    double median { 0 };
    double p75 { 0 };
    double max { 0 };

    static Stats of(std::vector<double> samples);
};

// Which order statistic a row compares.
enum class Statistic {
    Median,
    // For long, deterministic, CPU-bound work on a shared machine: being preempted by
    // another process only ever adds time, so the fastest repetition is the best
    // estimate of the work itself, where a median may be mostly preemption.
    Minimum,
};

// The CPUs a thread may run on. Threads and processes inherit their creator's.
struct Affinity {
    cpu_set_t cpus;

    static ErrorOr<Affinity> of_calling_thread();
    ErrorOr<void> apply_to_calling_thread() const;
    int count() const { return CPU_COUNT(&cpus); }
};

// Pins the calling thread, and every thread it creates later, to one CPU:
// `cpu`, or the highest-numbered CPU this process may use if `cpu` is negative
// (CPU 0 takes most device interrupts). Returns the CPU.
ErrorOr<int> pin_to_cpu(int cpu);

// How a measurement's ratio reads and what its target asks for.
enum class Goal {
    SignetCheaper,  // ratio = linux / signet; the target is a minimum speed-up (">=50x")
    SignetNoSlower, // ratio = signet / linux; the target is a maximum slowdown ("<=1.5x")
};

struct Measurement {
    std::string name;         // "abi call vs getpid"
    std::string linux_label;  // what the Linux column measured, "syscall(getpid)"
    Stats signet;             // ns per operation
    Stats linux_side;         // ns per operation ("linux" is a predefined macro in GNU C++)
    Goal goal { Goal::SignetCheaper };
    double target { 0 };      // 0: no target, the row is for information
    std::string note;         // printed under the table when not empty
    Statistic statistic { Statistic::Median };

    double signet_ns() const { return statistic == Statistic::Median ? signet.median : signet.min; }
    double linux_ns() const { return statistic == Statistic::Median ? linux_side.median : linux_side.min; }

    double ratio() const;
    bool has_target() const { return target > 0; }
    bool target_met() const;
    std::string ratio_text() const;
    std::string target_text() const;
};

class Report {
public:
    // `benchmark` names the run in the JSON output ("foundation", "scheduler", ...).
    explicit Report(FILE* out, std::string benchmark = "foundation")
        : m_out(out)
        , m_benchmark(std::move(benchmark))
    {
    }

    void add(Measurement measurement) { m_measurements.push_back(std::move(measurement)); }
    // Starts the details of one benchmark group.
    void section(std::string const& title);
    // A line of detail (a breakdown, a component cost), printed at once: the
    // details of every benchmark come out as it runs, the table at the end.
    void detail(std::string const& line);
    // A failure that makes the run invalid (a wrong checksum, a SIP that trapped).
    void failure(std::string const& line);

    // What the table's times and ratios mean, printed under it (the default
    // speaks of the foundation benchmarks' rows).
    void set_legend(std::string legend) { m_legend = std::move(legend); }

    std::vector<Measurement> const& measurements() const { return m_measurements; }
    std::vector<std::string> const& failures() const { return m_failures; }

    void print_table() const;
    ErrorOr<void> write_json(std::string const& path, std::string const& machine_json) const;

private:
    FILE* m_out;
    std::string m_benchmark;
    std::vector<Measurement> m_measurements;
    std::vector<std::string> m_failures;
    std::string m_legend { "times: medians, except the \"fastest rep\" rows (the fastest repetition of each side).\n"
                           "ratio: linux/signet for the abi call and spawn rows (higher: Signet cheaper), signet/linux for the\n"
                           "time_now and compute rows (lower: Signet faster). A missed target is reported, never a failure." };
};

// The options every benchmark executable takes, and what it does with a report
// once its run is over: `signet-bench-*` mains are these two calls around the
// run of their library.
struct CommonOptions {
    bool quick { false };
    std::string json_path; // empty: no JSON
    int cpu { -1 };        // -1: the last CPU allowed
    std::string store_dir; // empty: the build tree's store
};

// Adds --quick (described by `quick_help`), --json FILE, --cpu N and --store DIR.
void add_common_options(CLI::App&, CommonOptions&, std::string const& quick_help);

// Ends a benchmark executable's run: reports an error that stopped the run, or
// prints the table and `footer`, writes the JSON if asked, and reports failed
// measurements. Returns the exit status: 0, 1, or 2 for bad input.
int finish_run(std::string const& program, ErrorOr<void> const& ran, Report const&, std::string const& machine_json,
    CommonOptions const&, std::string const& footer = {});

// JSON pieces for the reports: a quoted, escaped string; a number (null if not
// finite); a Stats object (median, min, p25, p75, max, count).
std::string json_string(std::string const&);
std::string json_number(double);
std::string json_stats(Stats const&);

// "1.62 ns", "2.10 us", "431.0 us", "12.3 ms": three or four significant digits.
std::string format_duration(double nanoseconds);
std::string format_stats(Stats const&);

} // namespace signet::bench
