// Channel round trips between two SIPs next to the Linux equivalents.
//
// The Signet side is guests/pingpong.c: a client SIP creates a PingPong
// channel, starts itself as the echo server with the exporter end, and times
// batches of round trips with signet_time_now. Both SIPs share one kernel
// worker, pinned to one CPU: every round trip is two sends, two receives and
// two switches between fibers on that worker. The same guest also times the
// four channel calls alone, with both ends in one SIP (no switch), and the
// floor under any round trip between the two SIPs: the same two SIPs
// switching to each other (each yields from a loop of its own) with no message.
//
// The Linux side is native/pingpong.c, run with the same CPU affinity: two
// processes echoing the payload through a pair of pipes, and two threads
// handing a turn back and forth through a futex word.
//
// The table compares each side's fastest batch: this runs on shared machines,
// where preemption by other processes only ever adds time. Medians are in the
// details.
#include "bench/channels/ChannelBench.h"
#include "bench/NativeProcess.h"
#include "bench/SipHost.h"

#include <cstdio>
#include <map>
#include <sstream>
#include <thread>

namespace signet::bench {

namespace {

// Singularity's Table 9 payload sizes; PingPong has a message for each.
constexpr uint32_t payload_sizes[] = { 4, 16, 64, 256, 1024, 4096, 16384, 65536 };

struct Samples {
    // ns per round trip, per batch: by kind ("channel", "same-sip", "pipe", "futex") and payload size.
    std::map<std::pair<std::string, uint32_t>, std::vector<double>> batches;
};

// Parses "<kind> <size> <rounds> <nanoseconds>" lines.
size_t parse_batches(std::string const& text, Samples& samples)
{
    std::istringstream lines(text);
    std::string kind;
    uint64_t size = 0, rounds = 0, nanoseconds = 0;
    size_t parsed = 0;
    while (lines >> kind >> size >> rounds >> nanoseconds) {
        if (!rounds)
            continue;
        samples.batches[{ kind, static_cast<uint32_t>(size) }].push_back(double(nanoseconds) / double(rounds));
        ++parsed;
    }
    return parsed;
}

double load_average()
{
    double load = -1;
    if (FILE* file = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(file, "%lf", &load) != 1)
            load = -1;
        std::fclose(file);
    }
    return load;
}

std::string size_text(uint32_t size)
{
    return size >= 1024 ? std::to_string(size / 1024) + " KiB" : std::to_string(size) + " B";
}

} // namespace

std::string default_channel_store_dir()
{
    return SIGNET_BENCH_CHANNELS_STORE_DIR;
}

ErrorOr<void> run_channel_benchmarks(ChannelBenchOptions const& options, Report& report, std::string& machine_json)
{
    std::string store_dir = options.store_dir.empty() ? default_channel_store_dir() : options.store_dir;
    std::string const guest = SIGNET_BENCH_CHANNELS_GUEST;
    std::string const native = SIGNET_BENCH_CHANNELS_NATIVE;

    // 1. Install while every CPU may still be used: the installer's C compiler is the slow part.
    report.section("installing the ping-pong guest into " + store_dir);
    uint64_t begin = monotonic_ns();
    auto installed = TRY(install_guest(guest, store_dir));
    report.detail(std::string("pingpong: ") + (installed.was_cached ? "cached" : "installed in " + format_duration(double(monotonic_ns() - begin))));

    // 2. Pin before the kernel exists: its worker inherits this thread's CPU, and so do the Linux processes.
    int cpu = TRY(pin_to_cpu(options.cpu));
    calibrate_tsc(options.quick ? 20'000'000 : 200'000'000);
    double load_before = load_average();
    char summary[256];
    std::snprintf(summary, sizeof summary, "pinned to CPU %d of %u; one kernel worker; load average %.2f", cpu, std::thread::hardware_concurrency(),
        load_before);
    report.section(summary);
    if (load_before > 0.5 * std::thread::hardware_concurrency())
        report.detail("warning: the machine is busy; other processes preempt the measurements (the table compares fastest batches)");

    auto sips = TRY(SipHost::create(1));
    auto image = TRY(sips->load(installed));
    sips->kernel().register_program("pingpong", image);

    // 3. Interleave the two sides, block by block, so a burst of load hits both.
    uint32_t const rounds = options.quick ? 10'000 : 50'000;
    uint32_t const repetitions = options.quick ? 3 : 7;
    uint32_t const blocks = options.quick ? 1 : 3;
    report.section("round trips: " + std::to_string(blocks) + " block(s) of " + std::to_string(repetitions) + " batches of "
        + std::to_string(rounds) + " (fewer above 1 KiB), each side after a warm-up batch");
    Samples samples;
    auto run_signet = [&](std::vector<std::string> args) -> bool {
        args.insert(args.begin(), { "pingpong", std::to_string(rounds), std::to_string(repetitions) });
        auto run = sips->run(image, args);
        if (run.is_error()) {
            report.failure("pingpong: " + run.error().message());
            return false;
        }
        if (run.value().exit.how != ExitInfo::How::Exited || run.value().exit.status != 0) {
            report.failure("pingpong " + args[3] + " " + describe_exit(run.value().exit));
            return false;
        }
        return parse_batches(run.value().out, samples) == repetitions;
    };
    auto run_linux = [&](std::vector<std::string> args) -> bool {
        args.insert(args.begin() + 1, { std::to_string(rounds), std::to_string(repetitions) });
        args.insert(args.begin(), "pingpong");
        auto run = run_process(native, args);
        if (run.is_error()) {
            report.failure("native pingpong: " + run.error().message());
            return false;
        }
        if (run.value().exit_status != 0) {
            report.failure("native pingpong " + args[1] + " exited with " + std::to_string(run.value().exit_status));
            return false;
        }
        return parse_batches(run.value().out, samples) == repetitions;
    };
    for (uint32_t block = 0; block < blocks; ++block) {
        bool ok = run_signet({ "same-sip" }) && run_signet({ "switch" }) && run_linux({ "futex" });
        for (uint32_t size : payload_sizes)
            ok = ok && run_signet({ std::to_string(size) }) && run_linux({ "pipe", std::to_string(size) });
        if (!ok) {
            report.failure("a ping-pong printed too few batches");
            return {};
        }
    }

    // 4. Details, then the rows: each side's fastest batch.
    auto stats = [&](char const* kind, uint32_t size) { return Stats::of(samples.batches[{ kind, size }]); };
    report.detail("channel, 2 SIPs, 4 B:         " + format_stats(stats("channel", 4)));
    report.detail("channel calls only, 1 SIP:    " + format_stats(stats("same-sip", 4)) + "  (2 sends + 2 receives, no switch)");
    report.detail("switches only, 2 SIPs:        " + format_stats(stats("switch", 0)) + "  (2 switches, no message)");
    report.detail("futex, 2 threads:             " + format_stats(stats("futex", 4)));
    report.detail("pipe, 2 processes, 4 B:       " + format_stats(stats("pipe", 4)));
    report.add({ .name = "round trip 4 B vs pipe (fastest rep)",
        .linux_label = "2 processes, pipes",
        .signet = stats("channel", 4),
        .linux_side = stats("pipe", 4),
        .goal = Goal::SignetCheaper,
        .target = 50,
        .note = {},
        .statistic = Statistic::Minimum });
    // What the 50x target allows a round trip, against what the two switches alone take.
    auto pipe4 = stats("pipe", 4), switches = stats("switch", 0);
    char floor_line[200];
    std::snprintf(floor_line, sizeof floor_line,
        "50x the pipe is %s a round trip; two SIPs switching to each other, with no message, take %s (%.1fx the pipe)",
        format_duration(pipe4.min / 50).c_str(), format_duration(switches.min).c_str(), switches.min > 0 ? pipe4.min / switches.min : 0.0);
    report.detail(floor_line);
    report.add({ .name = "floor, switches only (fastest rep)",
        .linux_label = "2 processes, pipes",
        .signet = switches,
        .linux_side = pipe4,
        .goal = Goal::SignetCheaper,
        .target = 0,
        .note = "two SIPs switching to each other with no message: what every round trip between them pays before it sends",
        .statistic = Statistic::Minimum });
    report.add({ .name = "round trip 4 B vs futex (fastest rep)",
        .linux_label = "2 threads, futex",
        .signet = stats("channel", 4),
        .linux_side = stats("futex", 4),
        .goal = Goal::SignetCheaper,
        .target = 0,
        .note = {},
        .statistic = Statistic::Minimum });
    for (uint32_t size : payload_sizes) {
        auto channel = stats("channel", size);
        auto pipe = stats("pipe", size);
        char line[160];
        std::snprintf(line, sizeof line, "%-6s channel median %s, pipe median %s; fastest: channel %s, pipe %s", size_text(size).c_str(),
            format_duration(channel.median).c_str(), format_duration(pipe.median).c_str(), format_duration(channel.min).c_str(),
            format_duration(pipe.min).c_str());
        report.detail(line);
        if (size == 4)
            continue; // the first row already compares 4 B with pipes
        report.add({ .name = "round trip " + size_text(size) + " vs pipe (fastest rep)",
            .linux_label = "2 processes, pipes",
            .signet = channel,
            .linux_side = pipe,
            .goal = Goal::SignetCheaper,
            .target = 0,
            .note = {},
            .statistic = Statistic::Minimum });
    }

    char machine[256];
    std::snprintf(machine, sizeof machine,
        "{\"logical_cpus\": %u, \"pinned_cpu\": %d, \"tsc_ticks_per_ns\": %.4f, \"load_average_before\": %.2f, "
        "\"load_average_after\": %.2f, \"quick\": %s}",
        std::thread::hardware_concurrency(), cpu, tsc_ticks_per_ns(), load_before, load_average(), options.quick ? "true" : "false");
    machine_json = machine;
    return {};
}

} // namespace signet::bench
