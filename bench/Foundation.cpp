#include "bench/Foundation.h"
#include "bench/Benchmarks.h"

#include <algorithm>
#include <fstream>
#include <sys/utsname.h>
#include <thread>

namespace signet::bench {

namespace {

std::vector<std::string> split(std::string const& text, char separator)
{
    std::vector<std::string> parts;
    size_t begin = 0;
    while (begin <= text.size()) {
        size_t end = text.find(separator, begin);
        if (end == std::string::npos)
            end = text.size();
        if (end > begin)
            parts.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    return parts;
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

std::string machine_description(int cpu, bool quick, double load_before)
{
    utsname name {};
    ::uname(&name);
    char text[512];
    std::snprintf(text, sizeof text,
        "{\"cpu_model\": \"%s\", \"logical_cpus\": %u, \"pinned_cpu\": %d, \"tsc_ticks_per_ns\": %.4f, \"kernel\": \"%s %s\", "
        "\"load_average_before\": %.2f, \"load_average_after\": %.2f, \"quick\": %s}",
        cpu_model().c_str(), std::thread::hardware_concurrency(), cpu, tsc_ticks_per_ns(), name.sysname, name.release, load_before,
        system_load_average(), quick ? "true" : "false");
    return text;
}

bool wants(FoundationOptions const& options, char const* group)
{
    return options.groups.empty() || std::find(options.groups.begin(), options.groups.end(), group) != options.groups.end();
}

} // namespace

std::string default_store_dir()
{
    return SIGNET_BENCH_STORE_DIR;
}

std::string native_program(std::string const& name)
{
    return std::string(SIGNET_BENCH_NATIVE_DIR) + "/bench_native_" + name;
}

std::string guest_module(std::string const& name)
{
    return std::string(SIGNET_BENCH_GUEST_DIR) + "/bench_guest_" + name + ".wasm";
}

std::vector<std::string> const& compute_kernels()
{
    static auto const kernels = split(SIGNET_BENCH_COMPUTE_KERNELS, ',');
    return kernels;
}

std::vector<std::string> const& guest_names()
{
    static auto const names = [] {
        std::vector<std::string> names { "trivial", "abi_calls" };
        for (auto const& kernel : compute_kernels())
            names.push_back(kernel);
        return names;
    }();
    return names;
}

std::shared_ptr<Image> BenchContext::image(std::string const& name) const
{
    auto it = images.find(name);
    VERIFY(it != images.end());
    return it->second;
}

ErrorOr<void> run_foundation_benchmarks(FoundationOptions const& options, Report& report, std::string& machine_json)
{
    for (auto const& group : options.groups) {
        if (group != "abi" && group != "spawn" && group != "compute")
            return Error::invalid("unknown benchmark group '" + group + "' (expected abi, spawn or compute)");
    }
    std::string store_dir = options.store_dir.empty() ? default_store_dir() : options.store_dir;

    // 1. Install the guests while every CPU may still be used: the installer's C compiler is the slow part.
    report.section("installing " + std::to_string(guest_names().size()) + " guest modules into " + store_dir);
    std::map<std::string, installer::ImageInfo> installed;
    for (auto const& name : guest_names()) {
        uint64_t begin = monotonic_ns();
        auto info = TRY(install_guest(guest_module(name), store_dir));
        report.detail(name + ": " + (info.was_cached ? "cached" : "installed in " + format_duration(double(monotonic_ns() - begin))));
        installed.emplace(name, std::move(info));
    }

    // 2. The spawn benchmark also measures the default configuration (one worker per
    //    core, unpinned), from a kernel that must exist before pinning.
    auto original_affinity = TRY(Affinity::of_calling_thread());
    std::unique_ptr<SipHost> unpinned_sips;
    std::shared_ptr<Image> unpinned_trivial;
    if (wants(options, "spawn")) {
        unpinned_sips = TRY(SipHost::create(0));
        unpinned_trivial = TRY(unpinned_sips->load(installed.at("trivial")));
    }

    // 3. Pin before the measured kernel exists: its workers inherit this thread's CPU
    //    set, so the host thread, the worker and every Linux child share one CPU.
    int cpu = TRY(pin_to_cpu(options.cpu));
    calibrate_tsc(options.quick ? 20'000'000 : 200'000'000);
    double load_before = system_load_average();
    char summary[256];
    std::snprintf(summary, sizeof summary, "pinned to CPU %d of %u (%s); TSC %.4f ticks/ns; one kernel worker; load average %.2f", cpu,
        std::thread::hardware_concurrency(), cpu_model().c_str(), tsc_ticks_per_ns(), load_before);
    report.section(summary);
    if (load_before > 0.5 * std::thread::hardware_concurrency())
        report.detail("warning: the machine is busy; other processes preempt the measurements, which lifts medians more than minimums");

    // 4. One worker: on one CPU, a second would only take turns with the first.
    auto sips = TRY(SipHost::create(1));
    BenchContext context { .quick = options.quick,
        .cpu = cpu,
        .sips = *sips,
        .images = {},
        .report = report,
        .unpinned_sips = unpinned_sips.get(),
        .unpinned_trivial = unpinned_trivial,
        .original_affinity = original_affinity };
    for (auto const& [name, info] : installed)
        context.images[name] = TRY(sips->load(info));

    if (wants(options, "abi"))
        run_abi_call_bench(context);
    if (wants(options, "spawn"))
        run_spawn_bench(context);
    if (wants(options, "compute"))
        run_compute_bench(context);
    machine_json = machine_description(cpu, options.quick, load_before);
    report.detail("load average after: " + std::to_string(system_load_average()).substr(0, 4));
    return {};
}

} // namespace signet::bench
