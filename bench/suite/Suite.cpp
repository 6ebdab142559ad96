#include "bench/suite/Suite.h"
#include "bench/Foundation.h"
#include "bench/NativeProcess.h"
#include "bench/channels/ChannelBench.h"
#include "bench/domains/DomainBench.h"
#include "bench/exchange/ExchangeBench.h"
#include "bench/net/NetBench.h"
#include "bench/scheduler/SchedulerBench.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

namespace signet::bench {

namespace {

// What the paper printed (Hunt et al., "Sealing OS Processes to Improve
// Dependability and Safety", EuroSys 2007, Tables 7-9): Singularity's
// and Linux's cycles for an operation. The ratio is Linux / Singularity.
struct PaperNumbers {
    char const* source;
    double singularity_cycles;
    double linux_cycles;
};

// Table 8: an Athlon 64 X2 3800+ at 2 GHz, one core; the Linux column is identical
// to the one of the authors' earlier paper on an Athlon 64 3000+ at 1.8 GHz.
constexpr PaperNumbers paper_abi_call { "Table 8: API call", 91, 437 };
constexpr PaperNumbers paper_yield { "Table 8: thread yield", 346, 906 };
constexpr PaperNumbers paper_ping_pong { "Table 8: message ping/pong", 803, 5797 };
constexpr PaperNumbers paper_create { "Table 8: create process", 352873, 719447 };

// Table 9: a message with a payload from one process to another.
struct PaperPayload {
    uint64_t bytes;
    double singularity_cycles;
    double linux_cycles;
};
constexpr PaperPayload paper_payloads[] = {
    { 4, 933, 5544 },
    { 16, 928, 5379 },
    { 64, 942, 5549 },
    { 256, 929, 5519 },
    { 1024, 926, 5971 },
    { 4096, 919, 8032 },
    { 16384, 928, 19167 },
    { 65536, 920, 87941 },
};

// Table 7: whole and tree-shaken code, in KB.
struct PaperCodeSize {
    char const* program;
    double whole_kb;
    double shaken_kb;
};
constexpr PaperCodeSize paper_code_sizes[] = {
    { "Kernel", 2371, 1291 },
    { "Web Server", 2731, 765 },
    { "SPECweb99 Plug-in", 2144, 502 },
    { "Ide Disk Driver", 1846, 455 },
};

// The rows of the Table 8 analogue, in the order they print; the area's
// measurement name, the label this table gives it, and the paper's numbers.
struct Table8Row {
    char const* area;
    char const* measurement;
    char const* operation;
    char const* chart_label; // short, for table8.png
    PaperNumbers const* paper;
};
constexpr Table8Row table8_rows[] = {
    { "foundation", "abi call (abi_version) vs getpid", "ABI call vs syscall", "ABI call", &paper_abi_call },
    { "scheduler", "yield round trip, 2 threads of a SIP", "thread yield round trip", "yield", &paper_yield },
    { "channels", "round trip 4 B vs pipe (fastest rep)", "message round trip, 1 core, vs pipe", "1 core\\nvs pipe", &paper_ping_pong },
    { "channels", "round trip 4 B vs futex (fastest rep)", "message round trip, 1 core, vs futex", "1 core\\nvs futex", nullptr },
    { "crosscore", "round trip 4 B across cores vs pipe", "message round trip, 2 cores, vs pipe", "2 cores\\nvs pipe", nullptr },
    { "crosscore", "round trip 4 B across cores vs futex", "message round trip, 2 cores, vs futex", "2 cores\\nvs futex", nullptr },
    { "crosscore", "round trip 4 B, 2 CPUs free, vs pipe", "message round trip, 2 cores free, vs pipe", "2 cores free\\nvs pipe", nullptr },
    { "crosscore", "round trip 4 B, 2 CPUs free, vs futex", "message round trip, 2 cores free, vs futex", "2 cores free\\nvs futex", nullptr },
    { "foundation", "sip spawn+exit vs fork+exec", "process create+exit vs fork+exec+wait", "process\\nvs fork+exec", &paper_create },
    { "foundation", "sip spawn+exit vs posix_spawn", "process create+exit vs posix_spawn+wait", "process\\nvs posix_spawn", &paper_create },
};

// "4 B", "16 KiB", "1 MiB" at the start of `text`: the bytes, or 0.
uint64_t parse_size(std::string const& text)
{
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    if (digits == 0 || digits > 9)
        return 0;
    uint64_t value = std::stoull(text.substr(0, digits));
    std::string unit = text.substr(digits);
    if (unit.rfind(" B", 0) == 0)
        return value;
    if (unit.rfind(" KiB", 0) == 0)
        return value * 1024;
    if (unit.rfind(" MiB", 0) == 0)
        return value * 1024 * 1024;
    return 0;
}

double paper_payload_ratio(uint64_t bytes)
{
    for (auto const& row : paper_payloads) {
        if (row.bytes == bytes)
            return row.linux_cycles / row.singularity_cycles;
    }
    return 0;
}

std::string printf_string(char const* format, double value)
{
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

std::string ratio_text(double ratio)
{
    if (!std::isfinite(ratio) || ratio <= 0)
        return "-";
    if (ratio >= 100)
        return printf_string("%.0fx", ratio);
    if (ratio >= 10)
        return printf_string("%.1fx", ratio);
    return printf_string("%.2fx", ratio);
}

std::string cycles_text(double ns)
{
    if (!std::isfinite(ns) || ns <= 0)
        return "-";
    double cycles = ns * tsc_ticks_per_ns();
    if (cycles >= 1e9)
        return printf_string("%.2fG", cycles / 1e9);
    if (cycles >= 1e7)
        return printf_string("%.1fM", cycles / 1e6);
    return printf_string("%.0f", cycles);
}

// Files a measurement of `area` under the paper's tables.
SuiteRow classify(std::string const& area, Measurement measurement)
{
    SuiteRow row;
    row.table = "other";
    row.area = area;
    row.measurement = std::move(measurement);
    std::string const& name = row.measurement.name;
    for (auto const& entry : table8_rows) {
        if (area == entry.area && name == entry.measurement) {
            row.table = "8";
            // The 4-byte ping-pong is also the first point of the inline payload sweep.
            if (area == "channels" && name == "round trip 4 B vs pipe (fastest rep)") {
                row.payload_bytes = 4;
                row.payload_kind = "inline";
            }
            if (entry.paper) {
                row.paper_ratio = entry.paper->linux_cycles / entry.paper->singularity_cycles;
                row.paper_source = std::string(entry.paper->source) + " (" + printf_string("%.0f", entry.paper->singularity_cycles) + " vs "
                    + printf_string("%.0f", entry.paper->linux_cycles) + " cycles)";
            }
            return row;
        }
    }
    std::string const prefix = "round trip ";
    if ((area == "exchange" || area == "channels") && name.rfind(prefix, 0) == 0) {
        std::string rest = name.substr(prefix.size());
        uint64_t bytes = parse_size(rest);
        size_t unit_end = rest.find(' ', rest.find(' ') + 1);
        std::string after = unit_end == std::string::npos ? "" : rest.substr(unit_end);
        bool is_payload = bytes > 0
            && ((area == "exchange" && after.empty()) || (area == "channels" && after == " vs pipe (fastest rep)"));
        if (is_payload) {
            row.table = "9";
            row.payload_bytes = bytes;
            row.payload_kind = area == "exchange" ? "block" : "inline";
            row.paper_ratio = paper_payload_ratio(bytes);
            if (row.paper_ratio > 0)
                row.paper_source = "Table 9: " + std::to_string(bytes) + " bytes";
            return row;
        }
    }
    if (area == "foundation" && name.rfind("compute ", 0) == 0)
        row.table = "compute";
    if (area == "domains")
        row.table = "isolation";
    if (area == "net")
        row.table = "files";
    return row;
}

std::string cpu_model()
{
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos)
                return line.substr(std::min(line.size(), colon + 2));
        }
    }
    return "unknown";
}

std::string utc_now()
{
    time_t now = ::time(nullptr);
    tm parts {};
    ::gmtime_r(&now, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &parts);
    return text;
}

// The source tree's commit, if it is a git checkout and git is at hand.
std::string source_commit()
{
    std::string command = std::string("git -C '") + SIGNET_BENCH_SOURCE_DIR + "' rev-parse --short HEAD 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe)
        return "unknown";
    char text[64] = {};
    bool got = std::fgets(text, sizeof text, pipe) != nullptr;
    ::pclose(pipe);
    std::string commit = got ? text : "unknown";
    while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r'))
        commit.pop_back();
    return commit.empty() ? "unknown" : commit;
}

bool wants(SuiteOptions const& options, char const* part)
{
    return options.only.empty() || std::find(options.only.begin(), options.only.end(), part) != options.only.end();
}

std::string find_in_path(std::string const& program)
{
    char const* path = std::getenv("PATH");
    std::string directories = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t begin = 0;
    while (begin <= directories.size()) {
        size_t end = directories.find(':', begin);
        if (end == std::string::npos)
            end = directories.size();
        std::string candidate = (end > begin ? directories.substr(begin, end - begin) : ".") + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        begin = end + 1;
    }
    return {};
}

} // namespace

std::vector<std::string> const& suite_parts()
{
    static std::vector<std::string> const parts { "abi", "spawn", "compute", "yield", "channels", "crosscore", "exchange", "domains", "net", "treeshake" };
    return parts;
}

ErrorOr<std::string> check_gnuplot()
{
    std::string gnuplot = find_in_path("gnuplot");
    if (gnuplot.empty())
        return Error(ErrorKind::NotFound, "--plot needs gnuplot, which is not on PATH (Debian: apt-get install gnuplot-nox; scripts/setup installs it)");
    auto run = TRY(run_process(gnuplot, { "gnuplot", "-e", "set print '-'; print GPVAL_TERMINALS" }));
    std::string terminals = " " + run.out;
    for (char& c : terminals) {
        if (c == '\n' || c == '\t')
            c = ' ';
    }
    if (run.exit_status == 0 && terminals.find(" pngcairo ") != std::string::npos)
        return std::string("pngcairo");
    if (run.exit_status == 0 && terminals.find(" png ") != std::string::npos)
        return std::string("png");
    return Error(ErrorKind::NotFound, gnuplot + " cannot draw PNG files (neither the pngcairo nor the png terminal); Debian's gnuplot-nox can");
}

ErrorOr<SuiteResult> run_suite(SuiteOptions const& options, FILE* out)
{
    for (auto const& part : options.only) {
        if (std::find(suite_parts().begin(), suite_parts().end(), part) == suite_parts().end()) {
            std::string known;
            for (auto const& name : suite_parts())
                known += (known.empty() ? "" : ", ") + name;
            return Error::invalid("unknown benchmark '" + part + "' (expected " + known + ")");
        }
    }
    SuiteResult result;
    uint64_t begin = monotonic_ns();
    double load_before = system_load_average();
    // Every area pins itself; each starts from the CPUs this process was given.
    auto original = TRY(Affinity::of_calling_thread());
    calibrate_tsc(options.quick ? 20'000'000 : 200'000'000);

    auto collect = [&](std::string const& area, Report const& report, ErrorOr<void> const& ran) {
        if (ran.is_error())
            result.failures.push_back(area + ": " + ran.error().message());
        for (auto const& failure : report.failures())
            result.failures.push_back(area + ": " + failure);
        for (auto const& measurement : report.measurements())
            result.rows.push_back(classify(area, measurement));
        (void)original.apply_to_calling_thread();
    };
    auto banner = [&](char const* title) {
        std::fprintf(out, "\n=== %s ===\n", title);
        std::fflush(out);
    };

    std::vector<std::string> foundation_groups;
    for (char const* group : { "abi", "spawn", "compute" }) {
        if (wants(options, group))
            foundation_groups.push_back(group);
    }
    if (!foundation_groups.empty()) {
        banner("foundation: ABI calls, process creation, compute");
        Report report(out, "foundation");
        std::string machine;
        auto ran = run_foundation_benchmarks({ .quick = options.quick, .cpu = -1, .store_dir = {}, .groups = foundation_groups }, report, machine);
        collect("foundation", report, ran);
    }
    if (wants(options, "yield")) {
        banner("scheduler: thread yield");
        Report report(out, "scheduler");
        SchedulerBenchOptions scheduler_options;
        scheduler_options.quick = options.quick;
        scheduler_options.groups = { "yield" };
        std::string machine;
        auto ran = run_scheduler_benchmarks(scheduler_options, report, machine);
        collect("scheduler", report, ran);
    }
    if (wants(options, "channels")) {
        banner("channels: message round trips on one core, payloads inline");
        Report report(out, "channels");
        std::string machine;
        auto ran = run_channel_benchmarks({ .quick = options.quick, .cpu = -1, .store_dir = {} }, report, machine);
        collect("channels", report, ran);
    }
    if (wants(options, "crosscore")) {
        banner("message round trips across cores");
        Report report(out, "crosscore");
        run_cross_core_bench(options.quick, report);
        collect("crosscore", report, ErrorOr<void> {});
    }
    if (wants(options, "exchange")) {
        banner("exchange heap: payloads 4 B to 16 MiB in blocks");
        Report report(out, "exchange");
        std::string machine;
        auto ran = run_exchange_benchmark({ .quick = options.quick, .cpu = -1, .store_dir = {} }, report, machine);
        collect("exchange", report, ran);
    }
    if (wants(options, "domains")) {
        banner("protection domains: what isolation costs");
        Report report(out, "domains");
        auto ran = run_domain_benchmarks({ .quick = options.quick, .cpu = -1, .store_dir = {}, .parts = {} }, report);
        collect("domains", report, ran);
    }
    if (wants(options, "net")) {
        banner("file serving: HTTP through the net, httpd, fs and blockdev SIPs, and a Linux server");
        Report report(out, "net");
        std::string machine;
        auto ran = run_net_benchmark({ .quick = options.quick, .cpu = -1, .image_dir = {}, .workers = 1, .servers = {} }, report, machine);
        collect("net", report, ran);
    }
    if (wants(options, "treeshake")) {
        banner("tree shaking");
        Report report(out, "treeshake");
        result.code_sizes = measure_code_sizes(report);
        collect("treeshake", report, ErrorOr<void> {});
    }

    result.seconds = double(monotonic_ns() - begin) / 1e9;
    utsname name {};
    ::uname(&name);
    std::string model = cpu_model();
    std::string commit = source_commit();
    std::string when = utc_now();
    double load_after = system_load_average();
    char summary[512];
    std::snprintf(summary, sizeof summary,
        "%s; %u logical CPUs; %s %s; TSC %.3f GHz; load average %.2f before, %.2f after; commit %s; %s; %s run, %.0f s", model.c_str(),
        std::thread::hardware_concurrency(), name.sysname, name.release, tsc_ticks_per_ns(), load_before, load_after, commit.c_str(), when.c_str(),
        options.quick ? "quick" : "full", result.seconds);
    result.machine_summary = summary;
    result.machine_json = "{\"cpu_model\": " + json_string(model) + ", \"logical_cpus\": " + std::to_string(std::thread::hardware_concurrency())
        + ", \"kernel\": " + json_string(std::string(name.sysname) + " " + name.release) + ", \"tsc_ticks_per_ns\": " + json_number(tsc_ticks_per_ns())
        + ", \"load_average_before\": " + json_number(load_before) + ", \"load_average_after\": " + json_number(load_after)
        + ", \"commit\": " + json_string(commit) + ", \"date\": " + json_string(when) + ", \"quick\": " + (options.quick ? "true" : "false")
        + ", \"seconds\": " + json_number(result.seconds) + "}";
    return result;
}

void print_suite_tables(SuiteResult const& result, FILE* out)
{
    auto header = [&] {
        std::fprintf(out, "%-44s %12s %10s %12s %10s  %-24s %8s %8s\n", "operation", "signet cyc", "signet", "linux cyc", "linux", "linux equivalent",
            "ratio", "paper");
    };
    auto print_row = [&](std::string const& operation, SuiteRow const& row) {
        auto const& m = row.measurement;
        std::fprintf(out, "%-44s %12s %10s %12s %10s  %-24s %8s %8s\n", operation.c_str(), cycles_text(m.signet_ns()).c_str(),
            format_duration(m.signet_ns()).c_str(), cycles_text(m.linux_ns()).c_str(), format_duration(m.linux_ns()).c_str(), m.linux_label.c_str(),
            ratio_text(m.ratio()).c_str(), ratio_text(row.paper_ratio).c_str());
    };

    std::fprintf(out, "\n\nsignet bench: %s\n", result.machine_summary.c_str());
    std::fprintf(out, "cycles: TSC ticks (%.3f per ns). paper: Linux / Singularity in the paper's cycles.\n", tsc_ticks_per_ns());

    std::fprintf(out, "\nTable 8 analogue: basic operations (ratio = linux / signet: higher, Signet cheaper)\n");
    header();
    for (auto const& entry : table8_rows) {
        for (auto const& row : result.rows) {
            if (row.table == "8" && row.area == entry.area && row.measurement.name == entry.measurement)
                print_row(entry.operation, row);
        }
    }

    std::fprintf(out, "\nTable 9 analogue: round trip by payload (ratio = linux / signet)\n");
    header();
    for (char const* kind : { "block", "inline" }) {
        std::vector<SuiteRow const*> rows;
        for (auto const& row : result.rows) {
            if (row.payload_kind == kind)
                rows.push_back(&row);
        }
        std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->payload_bytes < b->payload_bytes; });
        for (auto const* row : rows) {
            std::string size = row->measurement.name.substr(std::string("round trip ").size());
            size = size.substr(0, size.find(' ', size.find(' ') + 1));
            print_row(std::string(kind) == "block" ? size + ", exchange-heap block" : size + ", inline in the message (fastest)", *row);
        }
    }

    std::fprintf(out, "\nCompute: the same C program as a SIP and as a static Linux executable (ratio = signet / linux: lower, Signet faster)\n");
    header();
    for (auto const& row : result.rows) {
        if (row.table == "compute")
            print_row(row.measurement.name, row);
    }

    bool any_isolation = std::any_of(result.rows.begin(), result.rows.end(), [](auto const& row) { return row.table == "isolation"; });
    if (any_isolation) {
        std::fprintf(out, "\nIsolation cost: SIPs in the kernel domain and in domains of their own (sealed processes), next to Linux processes\n"
                          "(ratio as the row says: linux/signet for calls and round trips, signet/linux for workloads and starts)\n");
        header();
        for (auto const& row : result.rows) {
            if (row.table == "isolation")
                print_row(row.measurement.name, row);
        }
    }

    bool any_files = std::any_of(result.rows.begin(), result.rows.end(), [](auto const& row) { return row.table == "files"; });
    if (any_files) {
        std::fprintf(out, "\nFile serving: Signet's SIPs (net -> httpd -> fs -> blockdev) next to a Linux epoll server, the same load\n"
                          "(\"per request\": 1 / throughput, so ratio = signet/linux requests per second; \"latency\": linux/signet)\n");
        header();
        for (auto const& row : result.rows) {
            if (row.table == "files")
                print_row(row.measurement.name, row);
        }
        std::fprintf(out, "paper (Table 1, SPECweb99, 6 SIPs): Singularity held 244 conforming connections, Windows/IIS 519 (0.47x);\n"
                          "average response 348.1 ms and 332.1 ms. Not the same measurement: see docs/evaluation.md.\n");
    }

    if (!result.code_sizes.empty()) {
        std::fprintf(out, "\nTable 7 analogue: code size before and after the installer's tree shaking (to _start)\n");
        std::fprintf(out, "%-32s %-8s %12s %12s %10s %14s %10s\n", "program", "kind", "whole", "shaken", "reduction", "open process", "vs open");
        for (auto const& row : result.code_sizes) {
            if (!row.problem.empty()) {
                std::fprintf(out, "%-32s %-8s %s\n", row.program.c_str(), row.kind.c_str(), ("not measured: " + row.problem).c_str());
                continue;
            }
            std::string open = row.open_bytes ? printf_string(">=%.0f KB", double(row.open_bytes) / 1024) : "-";
            std::string from_open = row.open_bytes ? printf_string(">=%.1f%%", 100 * row.reduction_from_open()) : "-";
            std::fprintf(out, "%-32s %-8s %10.1f KB %10.1f KB %9.1f%% %14s %10s\n", row.program.c_str(), row.kind.c_str(),
                double(row.whole_bytes) / 1024, double(row.shaken_bytes) / 1024, 100 * row.reduction(), open.c_str(), from_open.c_str());
        }
        std::fprintf(out, "open process: the whole of wasi-libc, every symbol exported (its own code comes on top), for programs on\n"
                          "the C library: what a process that may load code later must carry.\n");
        std::fprintf(out, "paper (Table 7):");
        for (auto const& row : paper_code_sizes)
            std::fprintf(out, " %s %.0f -> %.0f KB (-%.0f%%);", row.program, row.whole_kb, row.shaken_kb, 100 * (1 - row.shaken_kb / row.whole_kb));
        std::fprintf(out, "\n");
    }

    std::fprintf(out, "\nOther measurements (ratio: see its meaning)\n");
    header();
    for (auto const& row : result.rows) {
        if (row.table != "other")
            continue;
        print_row(row.area + ": " + row.measurement.name, row);
    }
    std::fprintf(out, "\ntimes: medians after warm-up, except rows marked \"fastest\" (the fastest repetition of each side).\n"
                      "Nothing here is a pass or a fail: a ratio is what this machine measured in this run.\n");
    if (!result.failures.empty()) {
        std::fprintf(out, "\nFAILED measurements (their rows are missing):\n");
        for (auto const& failure : result.failures)
            std::fprintf(out, "  %s\n", failure.c_str());
    }
    std::fflush(out);
}

ErrorOr<void> write_suite_json(SuiteResult const& result, SuiteOptions const& options, std::string const& path)
{
    std::string text = "{\n  \"benchmark\": \"signet bench\",\n  \"machine\": " + result.machine_json + ",\n  \"measurements\": [";
    bool first = true;
    double ticks = tsc_ticks_per_ns();
    for (auto const& row : result.rows) {
        auto const& m = row.measurement;
        text += first ? "\n" : ",\n";
        first = false;
        text += "    {\"name\": " + json_string(m.name) + ", \"area\": " + json_string(row.area) + ", \"table\": " + json_string(row.table)
            + ", \"linux_label\": " + json_string(m.linux_label) + ", \"signet_ns\": " + json_number(m.signet_ns())
            + ", \"linux_ns\": " + json_number(m.linux_ns()) + ", \"signet_cycles\": " + json_number(m.signet_ns() * ticks)
            + ", \"linux_cycles\": " + json_number(m.linux_ns() * ticks) + ", \"ratio\": " + json_number(m.ratio())
            + ", \"ratio_meaning\": \"" + (m.goal == Goal::SignetCheaper ? "linux/signet" : "signet/linux") + "\""
            + ", \"statistic\": \"" + (m.statistic == Statistic::Median ? "median" : "min") + "\""
            + ", \"paper_ratio\": " + (row.paper_ratio > 0 ? json_number(row.paper_ratio) : "null")
            + ", \"paper_source\": " + (row.paper_source.empty() ? "null" : json_string(row.paper_source))
            + ", \"payload_bytes\": " + (row.payload_bytes ? std::to_string(row.payload_bytes) : "null")
            + ", \"repetitions\": {\"signet\": " + std::to_string(m.signet.count) + ", \"linux\": " + std::to_string(m.linux_side.count) + "}"
            + ", \"spread\": {\"signet\": " + json_stats(m.signet) + ", \"linux\": " + json_stats(m.linux_side) + "}}";
    }
    text += "\n  ],\n  \"code_size\": [";
    first = true;
    for (auto const& row : result.code_sizes) {
        text += first ? "\n" : ",\n";
        first = false;
        text += "    {\"name\": " + json_string("tree shaking " + row.program) + ", \"program\": " + json_string(row.program)
            + ", \"kind\": " + json_string(row.kind) + ", \"module\": " + json_string(row.module_path)
            + ", \"file_bytes\": " + std::to_string(row.file_bytes) + ", \"whole_bytes\": " + std::to_string(row.whole_bytes)
            + ", \"shaken_bytes\": " + std::to_string(row.shaken_bytes)
            + ", \"open_process_min_bytes\": " + (row.open_bytes ? std::to_string(row.open_bytes) : "null")
            + ", \"reduction_from_open_min\": " + (row.open_bytes ? json_number(row.reduction_from_open()) : "null")
            + ", \"reduction\": " + (row.problem.empty() ? json_number(row.reduction()) : "null")
            + ", \"problem\": " + (row.problem.empty() ? "null" : json_string(row.problem)) + "}";
    }
    text += "\n  ],\n  \"parts\": [";
    first = true;
    for (auto const& part : suite_parts()) {
        if (!wants(options, part.c_str()))
            continue;
        text += (first ? "" : ", ") + json_string(part);
        first = false;
    }
    text += "],\n  \"failures\": [";
    first = true;
    for (auto const& failure : result.failures) {
        text += (first ? "" : ", ") + json_string(failure);
        first = false;
    }
    text += "]\n}\n";
    std::ofstream file(path, std::ios::trunc);
    file << text;
    file.close();
    if (!file)
        return Error::io("cannot write " + path);
    return {};
}

ErrorOr<void> write_suite_plots(SuiteResult const& result, std::string const& directory)
{
    std::string terminal = TRY(check_gnuplot());
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error)
        return Error::io("cannot create " + directory + ": " + error.message());
    std::string const dir = std::filesystem::absolute(directory).string();
    double ticks = tsc_ticks_per_ns();
    auto write = [](std::string const& path, std::string const& text) -> ErrorOr<void> {
        std::ofstream file(path, std::ios::trunc);
        file << text;
        file.close();
        if (!file)
            return Error::io("cannot write " + path);
        return {};
    };

    // The payload sweep, in cycles so that the paper's Table 9 sits on the same axes.
    std::map<std::string, std::vector<SuiteRow const*>> sweeps;
    for (auto const& row : result.rows) {
        if (!row.payload_kind.empty())
            sweeps[row.payload_kind].push_back(&row);
    }
    for (auto& [kind, rows] : sweeps) {
        std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->payload_bytes < b->payload_bytes; });
        std::string text = "# bytes signet_cycles linux_pipe_cycles\n";
        for (auto const* row : rows)
            text += std::to_string(row->payload_bytes) + " " + json_number(row->measurement.signet_ns() * ticks) + " "
                + json_number(row->measurement.linux_ns() * ticks) + "\n";
        TRY(write(dir + "/payload-" + kind + ".dat", text));
    }
    std::string paper = "# bytes singularity_cycles linux_cycles (the paper's Table 9)\n";
    for (auto const& row : paper_payloads)
        paper += std::to_string(row.bytes) + " " + printf_string("%.0f", row.singularity_cycles) + " " + printf_string("%.0f", row.linux_cycles) + "\n";
    TRY(write(dir + "/payload-paper.dat", paper));

    // Table 8: this run's ratio next to the paper's, one cluster per operation.
    std::string table8 = "# operation this_run_linux_over_signet paper_linux_over_singularity\n";
    for (auto const& entry : table8_rows) {
        for (auto const& row : result.rows) {
            if (row.table == "8" && row.area == entry.area && row.measurement.name == entry.measurement) {
                double ratio = row.measurement.ratio();
                table8 += std::string("\"") + entry.chart_label + "\" " + (std::isfinite(ratio) ? json_number(ratio) : "?") + " "
                    + (row.paper_ratio > 0 ? json_number(row.paper_ratio) : "?") + "\n";
            }
        }
    }
    TRY(write(dir + "/table8.dat", table8));

    std::string font = terminal == "pngcairo" ? " font 'Sans,10'" : "";
    std::string script = "# Drawn by `signet bench --plot`.\nset terminal " + terminal + " noenhanced size 1100,620" + font + "\nset datafile missing '?'\n";
    script += "set output '" + dir + "/payload.png'\n"
              "set title 'Round trip by payload size: Signet vs Linux pipes (this run), and the paper'\n"
              "set logscale xy\nset grid\nset key top left\n"
              "set xlabel 'payload (bytes)'\nset ylabel 'round trip (cycles: TSC ticks here, CPU cycles in the paper)'\n"
              "set xtics ('4 B' 4, '64 B' 64, '1 KiB' 1024, '16 KiB' 16384, '256 KiB' 262144, '4 MiB' 4194304, '16 MiB' 16777216)\n"
              "plot ";
    std::vector<std::string> series;
    if (sweeps.count("block")) {
        series.push_back("'" + dir + "/payload-block.dat' using 1:2 with linespoints lw 2 pt 7 title 'Signet, exchange-heap block'");
        series.push_back("'" + dir + "/payload-block.dat' using 1:3 with linespoints lw 2 pt 5 title 'Linux, pipe between 2 processes'");
    }
    if (sweeps.count("inline")) {
        series.push_back("'" + dir + "/payload-inline.dat' using 1:2 with linespoints lw 1 pt 6 title 'Signet, payload inline (fastest)'");
        series.push_back("'" + dir + "/payload-inline.dat' using 1:3 with linespoints lw 1 pt 4 title 'Linux, pipe (fastest, beside inline)'");
    }
    series.push_back("'" + dir + "/payload-paper.dat' using 1:2 with linespoints dt 2 pt 1 lc rgb 'dark-orange' title 'Singularity (paper, Table 9)'");
    series.push_back("'" + dir + "/payload-paper.dat' using 1:3 with linespoints dt 2 pt 2 lc rgb 'dark-green' title 'Linux (paper, Table 9)'");
    for (size_t i = 0; i < series.size(); ++i)
        script += (i ? ", \\\n     " : "") + series[i];
    script += "\n\nreset\nset datafile missing '?'\n";
    script += "set output '" + dir + "/table8.png'\n"
              "set title 'Table 8: how many times cheaper than Linux (Linux / Signet, Linux / Singularity)'\n"
              "set style data histogram\nset style histogram cluster gap 1\nset style fill solid 0.8 border -1\nset boxwidth 0.9\n"
              "set logscale y\nset yrange [0.1:*]\nset grid ytics\nset key outside top center horizontal\nset ylabel 'ratio (log scale; above 1: cheaper than Linux)'\n"
              "set xtics scale 0 font ',8'\nset bmargin 4\n"
              "plot '" + dir + "/table8.dat' using 2:xtic(1) title 'Signet vs Linux, this run', '' using 3 title 'Singularity vs Linux, paper'\n";
    TRY(write(dir + "/plots.gnuplot", script));
    auto run = TRY(run_process(find_in_path("gnuplot"), { "gnuplot", dir + "/plots.gnuplot" }));
    if (run.exit_status != 0)
        return Error::io("gnuplot failed on " + dir + "/plots.gnuplot (exit status " + std::to_string(run.exit_status) + ")");
    for (char const* png : { "payload.png", "table8.png" }) {
        if (!std::filesystem::exists(dir + "/" + png))
            return Error::io("gnuplot drew no " + dir + "/" + png);
    }
    return {};
}

} // namespace signet::bench
