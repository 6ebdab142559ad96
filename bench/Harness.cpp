#include "bench/Harness.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>

namespace signet::bench {

namespace {

double s_ticks_per_ns = 0;

// Linear interpolation between closest ranks, as numpy's default percentile.
double percentile(std::vector<double> const& sorted, double fraction)
{
    if (sorted.empty())
        return 0;
    double position = fraction * double(sorted.size() - 1);
    size_t below = static_cast<size_t>(position);
    size_t above = std::min(below + 1, sorted.size() - 1);
    double weight = position - double(below);
    return sorted[below] * (1 - weight) + sorted[above] * weight;
}

std::string printf_string(char const* format, double value)
{
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

} // namespace

// Measurement names and notes are ours, but keep the JSON valid whatever they hold.
std::string json_string(std::string const& text)
{
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
                out += escaped;
            } else
                out += c;
        }
    }
    return out + "\"";
}

std::string json_number(double value)
{
    if (!std::isfinite(value))
        return "null";
    return printf_string("%.6g", value);
}

std::string json_stats(Stats const& stats)
{
    return "{\"median\": " + json_number(stats.median) + ", \"min\": " + json_number(stats.min) + ", \"p25\": " + json_number(stats.p25)
        + ", \"p75\": " + json_number(stats.p75) + ", \"max\": " + json_number(stats.max) + ", \"count\": " + std::to_string(stats.count) + "}";
}

uint64_t monotonic_ns()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

double system_load_average()
{
    double load = -1;
    if (FILE* file = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(file, "%lf", &load) != 1)
            load = -1;
        std::fclose(file);
    }
    return load;
}

void calibrate_tsc(uint64_t window_ns)
{
    // Bracket both clocks twice and take the rate over the whole window; the
    // error of the end points is a few tens of ns against a window of ms.
    uint64_t ns_begin = monotonic_ns();
    uint64_t ticks_begin = read_tsc();
    while (monotonic_ns() - ns_begin < window_ns) {
    }
    uint64_t ticks_end = read_tsc();
    uint64_t ns_end = monotonic_ns();
    s_ticks_per_ns = double(ticks_end - ticks_begin) / double(ns_end - ns_begin);
}

double tsc_ticks_per_ns()
{
    VERIFY(s_ticks_per_ns > 0);
    return s_ticks_per_ns;
}

Stats Stats::of(std::vector<double> samples)
{
    Stats stats;
    if (samples.empty())
        return stats;
    std::sort(samples.begin(), samples.end());
    stats.count = samples.size();
    stats.min = samples.front();
    stats.max = samples.back();
    stats.p25 = percentile(samples, 0.25);
    stats.median = percentile(samples, 0.5);
    stats.p75 = percentile(samples, 0.75);
    return stats;
}

ErrorOr<Affinity> Affinity::of_calling_thread()
{
    Affinity affinity;
    CPU_ZERO(&affinity.cpus);
    if (sched_getaffinity(0, sizeof affinity.cpus, &affinity.cpus) != 0)
        return Error::from_errno("sched_getaffinity", errno);
    return affinity;
}

ErrorOr<void> Affinity::apply_to_calling_thread() const
{
    if (sched_setaffinity(0, sizeof cpus, &cpus) != 0)
        return Error::from_errno("sched_setaffinity", errno);
    return {};
}

ErrorOr<int> pin_to_cpu(int cpu)
{
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return Error::from_errno("sched_getaffinity", errno);
    if (cpu < 0) {
        for (int i = CPU_SETSIZE - 1; i >= 0; --i) {
            if (CPU_ISSET(i, &allowed)) {
                cpu = i;
                break;
            }
        }
    }
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed))
        return Error::invalid("CPU " + std::to_string(cpu) + " is not one this process may run on");
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        return Error::from_errno("sched_setaffinity to CPU " + std::to_string(cpu), errno);
    return cpu;
}

double Measurement::ratio() const
{
    if (signet_ns() <= 0 || linux_ns() <= 0)
        return NAN;
    if (goal == Goal::SignetCheaper)
        return linux_ns() / signet_ns();
    return signet_ns() / linux_ns();
}

bool Measurement::target_met() const
{
    if (!has_target())
        return true;
    double r = ratio();
    return goal == Goal::SignetCheaper ? r >= target : r <= target;
}

std::string Measurement::ratio_text() const
{
    double r = ratio();
    if (!std::isfinite(r))
        return "-";
    if (r >= 100)
        return printf_string("%.0fx", r);
    if (r >= 10)
        return printf_string("%.1fx", r);
    return printf_string("%.2fx", r);
}

std::string Measurement::target_text() const
{
    if (!has_target())
        return "";
    return printf_string(goal == Goal::SignetCheaper ? ">=%gx" : "<=%gx", target);
}

std::string format_duration(double ns)
{
    if (!std::isfinite(ns))
        return "-";
    if (ns < 10)
        return printf_string("%.2f ns", ns);
    if (ns < 1000)
        return printf_string("%.1f ns", ns);
    if (ns < 10'000)
        return printf_string("%.2f us", ns / 1e3);
    if (ns < 1'000'000)
        return printf_string("%.1f us", ns / 1e3);
    if (ns < 10'000'000)
        return printf_string("%.2f ms", ns / 1e6);
    return printf_string("%.1f ms", ns / 1e6);
}

std::string format_stats(Stats const& stats)
{
    return "median " + format_duration(stats.median) + " (" + printf_string("%.0f", stats.median * tsc_ticks_per_ns()) + " ticks), IQR "
        + format_duration(stats.p25) + " .. " + format_duration(stats.p75) + ", min " + format_duration(stats.min) + ", max "
        + format_duration(stats.max) + ", n=" + std::to_string(stats.count);
}

void Report::section(std::string const& title)
{
    std::fprintf(m_out, "\n%s\n", title.c_str());
    std::fflush(m_out);
}

void Report::detail(std::string const& line)
{
    std::fprintf(m_out, "  %s\n", line.c_str());
    std::fflush(m_out);
}

void Report::failure(std::string const& line)
{
    m_failures.push_back(line);
    std::fprintf(m_out, "  FAILED: %s\n", line.c_str());
    std::fflush(m_out);
}

void Report::print_table() const
{
    // Column widths fit the names we use; a longer one just pushes its row right.
    std::fprintf(m_out, "\n%-44s %12s %14s %-24s %8s %8s\n", "operation", "signet", "linux", "", "ratio", "target");
    for (auto const& m : m_measurements) {
        std::string verdict = !m.has_target() ? "" : m.target_met() ? "" : "  MISSED";
        std::fprintf(m_out, "%-44s %12s %14s %-24s %8s %8s%s\n", m.name.c_str(), format_duration(m.signet_ns()).c_str(),
            format_duration(m.linux_ns()).c_str(), ("(" + m.linux_label + ")").c_str(), m.ratio_text().c_str(),
            m.target_text().c_str(), verdict.c_str());
    }
    std::fprintf(m_out, "%s\n", m_legend.c_str());
    bool any_note = false;
    for (auto const& m : m_measurements) {
        if (m.note.empty())
            continue;
        if (!any_note)
            std::fprintf(m_out, "\n");
        any_note = true;
        std::fprintf(m_out, "note: %s: %s\n", m.name.c_str(), m.note.c_str());
    }
    std::fflush(m_out);
}

ErrorOr<void> Report::write_json(std::string const& path, std::string const& machine_json) const
{
    std::string text = "{\n  \"benchmark\": " + json_string(m_benchmark) + ",\n  \"machine\": " + machine_json + ",\n  \"measurements\": [";
    bool first = true;
    for (auto const& m : m_measurements) {
        text += first ? "\n" : ",\n";
        first = false;
        char const* meaning = m.goal == Goal::SignetCheaper ? "linux/signet" : "signet/linux";
        text += "    {\"name\": " + json_string(m.name) + ", \"linux_label\": " + json_string(m.linux_label)
            + ", \"signet_ns\": " + json_number(m.signet_ns()) + ", \"linux_ns\": " + json_number(m.linux_ns())
            + ", \"statistic\": \"" + (m.statistic == Statistic::Median ? "median" : "min") + "\""
            + ", \"ratio\": " + json_number(m.ratio()) + ", \"ratio_meaning\": \"" + meaning + "\""
            + ", \"target\": " + (m.has_target() ? json_string(m.target_text()) : "null")
            + ", \"target_met\": " + (m.has_target() ? (m.target_met() ? "true" : "false") : "null")
            + ", \"repetitions\": {\"signet\": " + std::to_string(m.signet.count) + ", \"linux\": " + std::to_string(m.linux_side.count) + "}"
            + ", \"spread\": {\"signet\": " + json_stats(m.signet) + ", \"linux\": " + json_stats(m.linux_side) + "}"
            + ", \"note\": " + json_string(m.note) + "}";
    }
    text += "\n  ],\n  \"failures\": [";
    first = true;
    for (auto const& failure : m_failures) {
        text += (first ? "" : ", ") + json_string(failure);
        first = false;
    }
    text += "]\n}\n";
    FILE* file = std::fopen(path.c_str(), "w");
    if (!file)
        return Error::from_errno("cannot write " + path, errno);
    bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
    ok = std::fclose(file) == 0 && ok;
    if (!ok)
        return Error::io("cannot write " + path);
    return {};
}

void add_common_options(CLI::App& app, CommonOptions& options, std::string const& quick_help)
{
    app.add_flag("--quick", options.quick, quick_help);
    app.add_option("--json", options.json_path, "Also write the measurements to FILE as JSON")->option_text("FILE");
    app.add_option("--cpu", options.cpu, "Pin to this CPU (default: the last one allowed)")->option_text("N");
    app.add_option("--store", options.store_dir, "Install the guests into this store (default: the build tree's)")->option_text("DIR");
}

int finish_run(std::string const& program, ErrorOr<void> const& ran, Report const& report, std::string const& machine_json,
    CommonOptions const& options, std::string const& footer)
{
    if (ran.is_error()) {
        std::fprintf(stderr, "%s: %s\n", program.c_str(), ran.error().message().c_str());
        // As the signet CLI: 2 for bad input, 1 for anything else.
        return ran.error().kind() == ErrorKind::InvalidInput ? 2 : 1;
    }
    report.print_table();
    if (!footer.empty())
        std::printf("%s\n", footer.c_str());
    std::fflush(stdout);
    if (!options.json_path.empty()) {
        if (auto written = report.write_json(options.json_path, machine_json); written.is_error()) {
            std::fprintf(stderr, "%s: %s\n", program.c_str(), written.error().message().c_str());
            return 1;
        }
    }
    if (!report.failures().empty()) {
        std::fprintf(stderr, "%s: %zu measurement(s) failed; their rows are missing\n", program.c_str(), report.failures().size());
        return 1;
    }
    return 0;
}

} // namespace signet::bench
