// The exchange-heap round trip (the paper's Table 9, extended to 16 MiB).
//
// Signet side: a client SIP (guests/client.c) creates a server SIP
// (guests/server.c) as its child on a kernel with one worker, and sends a block
// there and back: each side's send and the receive after it are one
// channel_call, so the block leaves the sender's reach only when the call
// returns, and a block that came back never left (docs/exchange-heap.md: after
// its first trip, a round trip changes no page table). The client times its
// loop with signet_time_now. Linux side: two processes and
// two pipes, the same payload each way (native/pipe_pingpong.c). Everything is
// pinned to one CPU, so both sides hand the CPU back and forth the same way.
//
// Then the parts, from a loop with a separate send and receive (where each
// move changes page tables): the client times each send and receive, the server its send
// and its reading of the pages, and the host drives the kernel objects
// themselves (ExchangeBlock::allocate / detach / attach on two memories, no
// channel, no fiber) to price the mapping work alone.
#include "bench/exchange/ExchangeBench.h"
#include "bench/NativeProcess.h"
#include "bench/SipHost.h"
#include "kernel/domain/DomainProcess.h"
#include "kernel/object/ExchangeBlock.h"
#include "kernel/object/ExchangeHeap.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <thread>

namespace signet::bench {

namespace {

constexpr uint64_t kibibyte = 1024;
constexpr uint64_t mebibyte = 1024 * 1024;
std::vector<uint32_t> const s_sizes { 4, 64, 1024, 4 * kibibyte, 64 * kibibyte, mebibyte, 16 * mebibyte };
char const* const s_server_program = "bench-exchange-server";

enum class Touch {
    None, // nobody looks at the payload while it travels
    Read, // each side reads one byte of every page it receives
};

char const* touch_name(Touch touch)
{
    return touch == Touch::Read ? "read" : "none";
}

std::string size_name(uint64_t size)
{
    if (size >= mebibyte && size % mebibyte == 0)
        return std::to_string(size / mebibyte) + " MiB";
    if (size >= kibibyte && size % kibibyte == 0)
        return std::to_string(size / kibibyte) + " KiB";
    return std::to_string(size) + " B";
}

std::string guest_path(std::string const& name)
{
    return std::string(SIGNET_EXCHANGE_BENCH_DIR) + "/bench_exchange_" + name + ".wasm";
}

// What the guests print (see guests/client.c and guests/server.c), by size.
struct GuestParts {
    uint64_t count { 0 };
    double send_ns { 0 }, recv_ns { 0 }, touch_ns { 0 };               // client totals
    uint64_t server_count { 0 };
    double server_send_ns { 0 }, server_touch_ns { 0 };                // server totals
    std::vector<double> alloc_ns, free_ns;
};

struct Samples {
    std::map<uint32_t, std::vector<double>> round_trip; // ns per round trip, one per repetition
    std::map<uint32_t, GuestParts> parts;
};

void parse_lines(std::string const& text, Samples& samples)
{
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string kind;
        uint64_t size = 0, a = 0, b = 0, c = 0, d = 0;
        fields >> kind >> size;
        if (kind == "rt" && fields >> a >> b && a)
            samples.round_trip[uint32_t(size)].push_back(double(b) / double(a));
        else if (kind == "part" && fields >> a >> b >> c >> d) {
            auto& parts = samples.parts[uint32_t(size)];
            parts.count += a;
            parts.send_ns += double(b);
            parts.recv_ns += double(c);
            parts.touch_ns += double(d);
        } else if (kind == "server" && fields >> a >> b >> c) {
            auto& parts = samples.parts[uint32_t(size)];
            parts.server_count += a;
            parts.server_send_ns += double(b);
            parts.server_touch_ns += double(c);
        } else if (kind == "alloc" && fields >> a)
            samples.parts[uint32_t(size)].alloc_ns.push_back(double(a));
        else if (kind == "free" && fields >> a)
            samples.parts[uint32_t(size)].free_ns.push_back(double(a));
    }
}

std::vector<std::string> size_arguments()
{
    std::vector<std::string> args;
    for (uint32_t size : s_sizes)
        args.push_back(std::to_string(size));
    return args;
}

// A SIP's runtime without a SIP: a linear memory and its exchange arena, for
// driving the kernel objects directly from the host thread.
struct BareMemory {
    SipContext context;
    wasm_rt_memory_t memory {};

    static ErrorOr<std::unique_ptr<BareMemory>> create()
    {
        auto bare = std::make_unique<BareMemory>();
        TRY(bare->context.memory.allocate(1));
        bare->memory.data = bare->context.memory.base();
        bare->memory.pages = 1;
        bare->memory.max_pages = LinearMemory::max_pages;
        bare->memory.size = uint32_t(LinearMemory::page_size);
        bare->context.wasm_memory = &bare->memory;
        return bare;
    }
};

struct MappingParts {
    std::vector<double> allocate, detach, attach, touch, free;
    double faults_per_move { 0 };
    double shootdowns_per_move { 0 };
};

// Counters of the host: page faults of this process, TLB shootdown interrupts of all CPUs.
struct HostCounters {
    uint64_t minor_faults { 0 };
    uint64_t tlb_shootdowns { 0 };

    static HostCounters now()
    {
        HostCounters counters;
        rusage usage {};
        ::getrusage(RUSAGE_SELF, &usage);
        counters.minor_faults = uint64_t(usage.ru_minflt);
        std::ifstream interrupts("/proc/interrupts");
        std::string line;
        while (std::getline(interrupts, line)) {
            std::istringstream fields(line);
            std::string name;
            fields >> name;
            if (name != "TLB:")
                continue;
            uint64_t count = 0;
            while (fields >> count)
                counters.tlb_shootdowns += count;
            break;
        }
        return counters;
    }
};

volatile uint8_t s_sink;

void read_pages(uint8_t const* data, uint32_t size)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < size; i += 4096)
        sum += data[i];
    s_sink = sum;
}

// Moves one block back and forth between two bare memories, timing each step with the TSC.
ErrorOr<MappingParts> measure_mapping(uint32_t size, Touch touch, size_t moves)
{
    auto first = TRY(BareMemory::create());
    auto second = TRY(BareMemory::create());
    MappingParts parts;
    BareMemory* owner = first.get();
    BareMemory* other = second.get();
    HostCounters moving {};
    for (size_t round = 0; round < 3; ++round) {
        uint64_t t0 = read_tsc();
        auto block = ExchangeBlock::allocate(owner->context, size);
        uint64_t t1 = read_tsc();
        if (!block)
            return Error(ErrorKind::Limit, "cannot allocate a block of " + size_name(size));
        parts.allocate.push_back(ticks_to_ns(t1 - t0));
        std::memset(owner->context.memory.base() + block->offset(), 0x5a, size);
        HostCounters before = HostCounters::now();
        for (size_t move = 0; move < moves + 2; ++move) {
            uint64_t a = read_tsc();
            block->detach();
            uint64_t b = read_tsc();
            if (!block->attach(other->context))
                return Error(ErrorKind::Limit, "cannot attach a block of " + size_name(size));
            uint64_t c = read_tsc();
            if (touch == Touch::Read)
                read_pages(other->context.memory.base() + block->offset(), size);
            uint64_t d = read_tsc();
            std::swap(owner, other);
            // The first move each way also takes the filled pages' entries out of the first memory.
            if (move < 2)
                continue;
            parts.detach.push_back(ticks_to_ns(b - a));
            parts.attach.push_back(ticks_to_ns(c - b));
            parts.touch.push_back(ticks_to_ns(d - c));
        }
        HostCounters after = HostCounters::now();
        moving.minor_faults += after.minor_faults - before.minor_faults;
        moving.tlb_shootdowns += after.tlb_shootdowns - before.tlb_shootdowns;
        uint64_t e = read_tsc();
        block->free_in_owner();
        block.reset();
        parts.free.push_back(ticks_to_ns(read_tsc() - e));
    }
    parts.faults_per_move = double(moving.minor_faults) / double(3 * (moves + 2));
    parts.shootdowns_per_move = double(moving.tlb_shootdowns) / double(3 * (moves + 2));
    return parts;
}

// A thread of this process kept busy on another CPU. While it runs there, every
// change that takes access away must interrupt that CPU to flush its TLB (a
// shootdown), as it must in a kernel whose workers run on several CPUs. (When
// other processes take that CPU from it, there is nothing to interrupt.)
class Spinner {
public:
    explicit Spinner(int cpu)
        : m_thread([this, cpu] {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            ::sched_setaffinity(0, sizeof one, &one);
            m_running = true;
            while (!m_stop.load(std::memory_order_relaxed)) {
            }
        })
    {
        while (!m_running.load())
            std::this_thread::yield();
    }
    ~Spinner()
    {
        m_stop = true;
        m_thread.join();
    }

private:
    std::atomic<bool> m_stop { false };
    std::atomic<bool> m_running { false };
    std::thread m_thread;
};

double median(std::vector<double> values)
{
    return Stats::of(std::move(values)).median;
}

double mean(std::vector<double> const& values)
{
    double sum = 0;
    for (double value : values)
        sum += value;
    return values.empty() ? 0 : sum / double(values.size());
}

std::string cpu_model()
{
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
            return line.substr(std::min(line.size(), line.find(':') + 2));
    }
    return "unknown";
}

std::string machine_description(int cpu, bool quick)
{
    utsname name {};
    ::uname(&name);
    char text[512];
    std::snprintf(text, sizeof text,
        "{\"cpu_model\": \"%s\", \"logical_cpus\": %u, \"pinned_cpu\": %d, \"tsc_ticks_per_ns\": %.4f, \"kernel\": \"%s %s\", \"quick\": %s}",
        cpu_model().c_str(), std::thread::hardware_concurrency(), cpu, tsc_ticks_per_ns(), name.sysname, name.release,
        quick ? "true" : "false");
    return text;
}

} // namespace

std::string default_exchange_store_dir()
{
    return SIGNET_EXCHANGE_BENCH_STORE_DIR;
}

ErrorOr<void> run_exchange_benchmark(ExchangeOptions const& options, Report& report, std::string& machine_json)
{
    std::string store_dir = options.store_dir.empty() ? default_exchange_store_dir() : options.store_dir;
    unsigned const repetitions = options.quick ? 3 : 15;
    unsigned const rounds = options.quick ? 1 : 3;
    // Round trips per repetition: BUDGET / size, within [4, 2000].
    uint64_t const budget = options.quick ? 1 * mebibyte : 8 * mebibyte;

    // 1. Install the guests while every CPU may still be used.
    report.section("installing the client and server guests into " + store_dir);
    auto client_info = TRY(install_guest(guest_path("client"), store_dir));
    auto server_info = TRY(install_guest(guest_path("server"), store_dir));

    // 2. Pin first: the kernel's worker, this thread and the Linux processes share one CPU.
    auto allowed = TRY(Affinity::of_calling_thread());
    int cpu = TRY(pin_to_cpu(options.cpu));
    calibrate_tsc(options.quick ? 20'000'000 : 200'000'000);
    auto sips = TRY(SipHost::create(1));
    auto client = TRY(sips->load(client_info));
    Kernel::ProgramInfo server;
    server.image = TRY(sips->load(server_info));
    server.domain = options.server_domain;
    if (options.server_domain != "kernel")
        DomainProcess::set_default_host_executable(SIGNET_EXCHANGE_DOMAIN_HOST);
    sips->kernel().register_program(s_server_program, std::move(server));
    char summary[256];
    std::snprintf(summary, sizeof summary, "pinned to CPU %d of %u (%s); one kernel worker; %u rounds of %u repetitions per size; the server in %s", cpu,
        std::thread::hardware_concurrency(), cpu_model().c_str(), rounds, repetitions,
        options.server_domain == "kernel" ? "the kernel domain" : "a domain process of its own");
    report.section(summary);

    // 3. Signet and Linux in turns, round by round.
    std::map<Touch, Samples> signet;
    std::map<Touch, HostCounters> signet_counters; // summed over the client runs
    Samples linux_pipes;
    std::string pipe_program = std::string(SIGNET_EXCHANGE_BENCH_DIR) + "/bench_exchange_pipe";
    for (unsigned round = 0; round < rounds; ++round) {
        for (Touch touch : { Touch::None, Touch::Read }) {
            std::vector<std::string> args { "client", s_server_program, touch_name(touch), std::to_string(repetitions), std::to_string(budget) };
            for (auto const& size : size_arguments())
                args.push_back(size);
            HostCounters before = HostCounters::now();
            auto run = TRY(sips->run(client, args));
            HostCounters after = HostCounters::now();
            signet_counters[touch].minor_faults += after.minor_faults - before.minor_faults;
            signet_counters[touch].tlb_shootdowns += after.tlb_shootdowns - before.tlb_shootdowns;
            if (run.exit.how != ExitInfo::How::Exited || run.exit.status != 0) {
                report.failure(std::string("the client (touch ") + touch_name(touch) + ") " + describe_exit(run.exit));
                return {};
            }
            parse_lines(run.out, signet[touch]);
        }
        std::vector<std::string> args { "pipe_pingpong", "none", std::to_string(repetitions), std::to_string(budget) };
        for (auto const& size : size_arguments())
            args.push_back(size);
        auto pipes = TRY(run_process(pipe_program, args));
        if (pipes.exit_status != 0) {
            report.failure("pipe_pingpong exited with " + std::to_string(pipes.exit_status));
            return {};
        }
        parse_lines(pipes.out, linux_pipes);
    }
    for (Touch touch : { Touch::None, Touch::Read }) {
        if (signet[touch].round_trip[0].size() != rounds * repetitions) {
            report.failure("the client printed " + std::to_string(signet[touch].round_trip[0].size()) + " round trips without a block");
            return {};
        }
    }
    for (uint32_t size : s_sizes) {
        for (Touch touch : { Touch::None, Touch::Read }) {
            if (signet[touch].round_trip[size].size() != rounds * repetitions) {
                report.failure("the client printed " + std::to_string(signet[touch].round_trip[size].size()) + " round trips of "
                    + size_name(size) + ", expected " + std::to_string(rounds * repetitions));
                return {};
            }
        }
        if (linux_pipes.round_trip[size].size() != rounds * repetitions) {
            report.failure("pipe_pingpong printed no round trips of " + size_name(size));
            return {};
        }
    }

    // 4. The details: each side's round trips, then the parts of Signet's.
    report.section("round trips (ns per round trip; medians of " + std::to_string(rounds * repetitions) + " repetitions)");
    report.detail("signet, no block (Tick/Tock): " + format_stats(Stats::of(signet[Touch::None].round_trip[0])));
    for (uint32_t size : s_sizes) {
        report.detail(size_name(size) + ":");
        report.detail("  signet, untouched:   " + format_stats(Stats::of(signet[Touch::None].round_trip[size])));
        report.detail("  signet, pages read:  " + format_stats(Stats::of(signet[Touch::Read].round_trip[size])));
        report.detail("  linux pipes:         " + format_stats(Stats::of(linux_pipes.round_trip[size])));
    }

    for (Touch touch : { Touch::None, Touch::Read }) {
        uint64_t round_trips = 0;
        for (auto const& [size, parts] : signet[touch].parts) {
            // Each client run: a warm-up of count/4 + 2, the repetitions, and one loop of parts.
            uint64_t count = parts.count / rounds;
            round_trips += rounds * ((count / 4 + 2) + uint64_t(repetitions) * count + count);
        }
        char line[200];
        std::snprintf(line, sizeof line, "client runs, %s: %.3f page faults and %.4f TLB shootdown interrupts per round trip (all sizes, spawns included)",
            touch_name(touch), double(signet_counters[touch].minor_faults) / double(round_trips),
            double(signet_counters[touch].tlb_shootdowns) / double(round_trips));
        report.detail(line);
    }

    report.section("where a Signet round trip goes, from the guests (per round trip; client's send / recv, server's send / reading)");
    for (Touch touch : { Touch::None, Touch::Read }) {
        for (uint32_t size : s_sizes) {
            auto const& parts = signet[touch].parts[size];
            if (!parts.count || !parts.server_count)
                continue;
            double n = double(parts.count), m = double(parts.server_count);
            char line[320];
            std::snprintf(line, sizeof line,
                "%-8s %-6s client send %s, recv %s, read %s | server send %s, read %s | block_alloc %s, block_free %s",
                size_name(size).c_str(), touch_name(touch), format_duration(parts.send_ns / n).c_str(), format_duration(parts.recv_ns / n).c_str(),
                format_duration(parts.touch_ns / n).c_str(), format_duration(parts.server_send_ns / m).c_str(),
                format_duration(parts.server_touch_ns / m).c_str(), format_duration(median(parts.alloc_ns)).c_str(),
                format_duration(median(parts.free_ns)).c_str());
            report.detail(line);
        }
    }

    report.section("the mapping work alone: ExchangeBlock driven from the host between two memories, no channel, no fiber (medians)");
    std::map<std::pair<Touch, uint32_t>, MappingParts> mapping;
    for (Touch touch : { Touch::None, Touch::Read }) {
        for (uint32_t size : s_sizes) {
            size_t moves = size >= 16 * mebibyte ? (options.quick ? 8 : 32) : (options.quick ? 50 : 300);
            auto parts = measure_mapping(size, touch, moves);
            if (parts.is_error()) {
                report.failure("mapping " + size_name(size) + ": " + parts.error().message());
                return {};
            }
            auto const& p = parts.value();
            char line[320];
            std::snprintf(line, sizeof line,
                "%-8s %-6s allocate %s, detach %s, attach %s, read pages %s, free %s | %.1f page faults, %.2f TLB shootdowns per move",
                size_name(size).c_str(), touch_name(touch), format_duration(median(p.allocate)).c_str(), format_duration(median(p.detach)).c_str(),
                format_duration(median(p.attach)).c_str(), format_duration(median(p.touch)).c_str(), format_duration(median(p.free)).c_str(),
                p.faults_per_move, p.shootdowns_per_move);
            report.detail(line);
            mapping[{ touch, size }] = p;
        }
    }
    // TLB shootdowns: none above, everything shares one CPU. With a thread of the
    // process on another CPU, taking access away must interrupt it.
    int other_cpu = -1;
    for (int i = 0; i < CPU_SETSIZE && other_cpu < 0; ++i) {
        if (i != cpu && CPU_ISSET(i, &allowed.cpus))
            other_cpu = i;
    }
    if (other_cpu >= 0) {
        Spinner spinner(other_cpu);
        for (uint32_t size : { 64 * kibibyte, mebibyte }) {
            auto parts = measure_mapping(size, Touch::Read, options.quick ? 50 : 300);
            if (parts.is_error())
                continue;
            auto const& p = parts.value();
            char line[256];
            std::snprintf(line, sizeof line, "%-8s read, a thread busy on CPU %d: detach %s, attach %s | %.2f TLB shootdowns per move",
                size_name(size).c_str(), other_cpu, format_duration(median(p.detach)).c_str(), format_duration(median(p.attach)).c_str(),
                p.shootdowns_per_move);
            report.detail(line);
        }
    }
    // The decomposition is of the loop with a separate send and receive, the
    // path whose every move changes page tables; the timed round trips are
    // calls, in which a block that comes back changes none.
    double channel_only = Stats::of(signet[Touch::None].round_trip[0]).median;
    for (Touch touch : { Touch::None, Touch::Read }) {
        for (uint32_t size : { 4 * kibibyte, 64 * kibibyte, mebibyte, 16 * mebibyte }) {
            auto const& p = mapping[{ touch, size }];
            auto const& guest = signet[touch].parts[size];
            if (!guest.count)
                continue;
            // Moves alternate between the two memories (one filled the block, one did not): means, not medians.
            double moving = 2 * (mean(p.detach) + mean(p.attach) + mean(p.touch));
            double round_trip = (guest.send_ns + guest.recv_ns + guest.touch_ns) / double(guest.count);
            double as_call = Stats::of(signet[touch].round_trip[size]).median;
            report.detail(size_name(size) + ", " + touch_name(touch) + ": round trip as send + recv " + format_duration(round_trip)
                + " = channel round trip " + format_duration(channel_only) + " + moving the block there and back " + format_duration(moving)
                + (touch == Touch::Read ? " (reading its pages included)" : "") + " + the rest " + format_duration(round_trip - channel_only - moving)
                + "; as calls " + format_duration(as_call) + " (no page-table change)");
        }
    }

    // 5. The rows.
    report.add({ .name = "round trip, no block",
        .linux_label = "pipe 4 B, 2 processes",
        .signet = Stats::of(signet[Touch::None].round_trip[0]),
        .linux_side = Stats::of(linux_pipes.round_trip[4]),
        .goal = Goal::SignetCheaper,
        .target = 0,
        .note = {} });
    for (Touch touch : { Touch::None, Touch::Read }) {
        for (uint32_t size : s_sizes) {
            report.add({ .name = "round trip " + size_name(size) + (touch == Touch::Read ? ", pages read" : ""),
                .linux_label = "pipe, 2 processes",
                .signet = Stats::of(signet[touch].round_trip[size]),
                .linux_side = Stats::of(linux_pipes.round_trip[size]),
                .goal = Goal::SignetCheaper,
                .target = size == 64 * kibibyte ? 10.0 : 0.0,
                .note = {} });
        }
    }
    for (Touch touch : { Touch::None, Touch::Read }) {
        report.add({ .name = std::string("16 MiB vs 64 KiB round trip") + (touch == Touch::Read ? ", pages read" : ""),
            .linux_label = "signet, 64 KiB",
            .signet = Stats::of(signet[touch].round_trip[16 * mebibyte]),
            .linux_side = Stats::of(signet[touch].round_trip[64 * kibibyte]),
            .goal = Goal::SignetNoSlower,
            .target = 10,
            .note = {} });
    }
    machine_json = machine_description(cpu, options.quick);
    return {};
}

} // namespace signet::bench
