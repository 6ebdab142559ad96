// SIP create + start + exit vs Linux process creation.
//
// The Signet side spawns an installed trivial program (guests/trivial.c, a
// `_start` that returns) from the host thread and waits for it with
// Sip::wait_from_host, one at a time, with the image already mapped: that is
// Kernel::create_sip + start, a worker picking the thread up, instantiation
// (linear memory from the pool), the run, the reap (memory scrubbed back into
// the pool) and the host seeing the SIP finished. The Linux side runs
// posix_spawn / fork+exec / vfork+exec + waitpid of a static `return 0`
// (native/trivial.c) from a small static parent (native/spawn_baseline.c).
#include "bench/Benchmarks.h"
#include "bench/NativeProcess.h"
#include "kernel/sched/Stack.h"
#include "runtime/LinearMemory.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

namespace signet::bench {

namespace {

SpawnRequest trivial_request(std::shared_ptr<Image> const& image)
{
    SpawnRequest request;
    request.image = image;
    request.name = "trivial";
    request.args = { "trivial" };
    request.stdio = Stdio::host();
    return request;
}

// What the host_entry of the phase run saw, written on the worker and read by
// the host after wait_from_host (whose lock orders the two).
struct EntryMarks {
    uint64_t entry_tsc { 0 };
    uint64_t committed_bytes { 0 };
};

struct SpawnSamples {
    std::vector<double> round_trip;
    std::vector<double> create, start, start_to_entry, entry_to_finished, destroy;
    std::vector<double> batched;
    uint64_t memory_bytes { 0 };
};

// One SIP at a time: spawn, wait, drop; ns per round trip.
ErrorOr<void> measure_round_trips(Kernel& kernel, std::shared_ptr<Image> const& image, size_t warm_up, size_t count, SpawnSamples& out)
{
    for (size_t i = 0; i < warm_up + count; ++i) {
        uint64_t begin = read_tsc();
        auto sip = TRY(kernel.spawn(trivial_request(image)));
        ExitInfo exit = sip->wait_from_host();
        sip.reset();
        uint64_t end = read_tsc();
        if (exit.how != ExitInfo::How::Exited || exit.status != 0)
            return Error(ErrorKind::Internal, "the trivial SIP " + describe_exit(exit));
        if (i >= warm_up)
            out.round_trip.push_back(ticks_to_ns(end - begin));
    }
    return {};
}

// The same round trip cut into phases, with a host_entry in place of `_start`
// (the trivial `_start` does nothing either) to mark when the guest began.
ErrorOr<void> measure_phases(Kernel& kernel, std::shared_ptr<Image> const& image, size_t warm_up, size_t count, SpawnSamples& out)
{
    EntryMarks marks;
    for (size_t i = 0; i < warm_up + count; ++i) {
        auto request = trivial_request(image);
        request.host_entry = [&marks](Sip& sip) {
            marks.entry_tsc = read_tsc();
            marks.committed_bytes = sip.runtime().memory.committed_bytes();
        };
        uint64_t t0 = read_tsc();
        auto sip = TRY(kernel.create_sip(std::move(request)));
        uint64_t t1 = read_tsc();
        TRY(kernel.start(*sip));
        uint64_t t2 = read_tsc();
        ExitInfo exit = sip->wait_from_host();
        uint64_t t3 = read_tsc();
        sip.reset();
        uint64_t t4 = read_tsc();
        if (exit.how != ExitInfo::How::Exited)
            return Error(ErrorKind::Internal, "the trivial SIP " + describe_exit(exit));
        if (i < warm_up)
            continue;
        out.create.push_back(ticks_to_ns(t1 - t0));
        out.start.push_back(ticks_to_ns(t2 - t1));
        // The worker may run the SIP before start() returns to us (it shares our CPU),
        // so the guest's entry is measured from the beginning of start().
        out.start_to_entry.push_back(ticks_to_ns(marks.entry_tsc - t1));
        out.entry_to_finished.push_back(ticks_to_ns(t3 - marks.entry_tsc));
        out.destroy.push_back(ticks_to_ns(t4 - t3));
        out.memory_bytes = marks.committed_bytes;
    }
    return {};
}

// Throughput: spawn a batch, then wait for all of it; ns per SIP.
ErrorOr<void> measure_batches(Kernel& kernel, std::shared_ptr<Image> const& image, size_t batch, size_t rounds, SpawnSamples& out)
{
    std::vector<std::shared_ptr<Sip>> sips;
    sips.reserve(batch);
    for (size_t round = 0; round <= rounds; ++round) {
        uint64_t begin = read_tsc();
        for (size_t i = 0; i < batch; ++i)
            sips.push_back(TRY(kernel.spawn(trivial_request(image))));
        bool all_exited = true;
        for (auto& sip : sips)
            all_exited = sip->wait_from_host().how == ExitInfo::How::Exited && all_exited;
        sips.clear();
        if (!all_exited)
            return Error(ErrorKind::Internal, "a trivial SIP of a batch did not exit normally");
        uint64_t end = read_tsc();
        if (round > 0) // the first round is the warm-up
            out.batched.push_back(ticks_to_ns(end - begin) / double(batch));
    }
    return {};
}

// Per-operation cost of `body`, in samples of `per_sample` calls.
template<typename Body>
Stats time_per_call(size_t samples, size_t per_sample, Body body)
{
    std::vector<double> ns;
    for (size_t s = 0; s <= samples; ++s) {
        uint64_t begin = read_tsc();
        for (size_t i = 0; i < per_sample; ++i)
            body();
        uint64_t end = read_tsc();
        if (s > 0)
            ns.push_back(ticks_to_ns(end - begin) / double(per_sample));
    }
    return Stats::of(ns);
}

// A condition-variable round trip between two host threads on this (pinned)
// CPU: the wake-up a host thread and a kernel worker pay to hand a SIP over
// and back, which a spawn + wait_from_host round trip contains twice.
Stats measure_thread_handoff(size_t samples, size_t per_sample)
{
    std::mutex lock;
    std::condition_variable changed;
    uint64_t turn = 0; // even: the partner's move; odd: ours
    bool stop = false;
    std::thread partner([&] {
        std::unique_lock guard(lock);
        for (;;) {
            changed.wait(guard, [&] { return stop || turn % 2 == 0; });
            if (stop)
                return;
            ++turn;
            changed.notify_one();
        }
    });
    auto stats = time_per_call(samples, per_sample, [&] {
        std::unique_lock guard(lock);
        ++turn; // now even: the partner's move
        if (turn % 2 != 0)
            ++turn;
        changed.notify_one();
        changed.wait(guard, [&] { return turn % 2 == 1; });
    });
    {
        std::lock_guard guard(lock);
        stop = true;
        changed.notify_one();
    }
    partner.join();
    return stats;
}

ErrorOr<std::vector<double>> linux_spawn(std::string const& method, size_t warm_up, size_t count)
{
    auto result = TRY(run_process(native_program("spawn_baseline"),
        { "spawn_baseline", method, std::to_string(warm_up + count), native_program("trivial") }));
    if (result.exit_status != 0)
        return Error(ErrorKind::Internal, "spawn_baseline " + method + " exited with " + std::to_string(result.exit_status));
    std::vector<double> samples;
    std::istringstream lines(result.out);
    uint64_t ns = 0;
    for (size_t i = 0; lines >> ns; ++i) {
        if (i >= warm_up)
            samples.push_back(double(ns));
    }
    if (samples.size() != count)
        return Error(ErrorKind::Internal, "spawn_baseline " + method + " printed " + std::to_string(samples.size()) + " samples");
    return samples;
}

} // namespace

void run_spawn_bench(BenchContext& context)
{
    Report& report = context.report;
    Kernel& kernel = context.sips.kernel();
    auto image = context.image("trivial");
    // The work is cut into blocks, Signet's and Linux's in turn, so that a busy
    // phase of the machine lands on both sides rather than on one.
    size_t const blocks = context.quick ? 2 : 10;
    size_t const warm_up = context.quick ? 20 : 50;      // per block
    size_t const count = context.quick ? 150 : 500;      // round trips per block
    size_t const batch = 32;
    size_t const rounds = context.quick ? 5 : 10;        // batches per block
    size_t const linux_warm_up = 3;                      // per block and method
    size_t const linux_count = context.quick ? 20 : 30;  // spawns per block and method

    report.section("sip spawn: " + std::to_string(blocks * count) + " round trips (spawn + wait_from_host) of the installed trivial program, "
        + std::to_string(blocks * rounds) + " batches of " + std::to_string(batch) + "; " + std::to_string(blocks * linux_count)
        + " Linux spawns of its static twin per method; in " + std::to_string(blocks) + " interleaved blocks");

    SpawnSamples samples;
    std::vector<double> posix_spawn_ns, fork_exec_ns, vfork_exec_ns;
    for (size_t block = 0; block < blocks; ++block) {
        auto measured = measure_round_trips(kernel, image, warm_up, count, samples);
        if (!measured.is_error())
            measured = measure_phases(kernel, image, warm_up, count, samples);
        if (!measured.is_error())
            measured = measure_batches(kernel, image, batch, rounds, samples);
        if (measured.is_error()) {
            report.failure("sip spawn: " + measured.error().message());
            return;
        }
        for (auto [method, out] : { std::pair { "posix_spawn", &posix_spawn_ns }, { "fork_exec", &fork_exec_ns }, { "vfork_exec", &vfork_exec_ns } }) {
            auto linux_block = linux_spawn(method, linux_warm_up, linux_count);
            if (linux_block.is_error()) {
                report.failure(std::string("linux spawn: ") + linux_block.error().message());
                return;
            }
            out->insert(out->end(), linux_block.value().begin(), linux_block.value().end());
        }
    }
    // The default configuration: the host thread free again, the kernel's workers one
    // per core and unpinned, the Linux parent (and so its children) unpinned too.
    std::vector<double> unpinned_round_trip, unpinned_posix_spawn_ns;
    if (context.unpinned_sips) {
        size_t const unpinned_count = context.quick ? 100 : 1000;
        auto measured = context.original_affinity.apply_to_calling_thread();
        SpawnSamples unpinned;
        if (!measured.is_error())
            measured = measure_round_trips(context.unpinned_sips->kernel(), context.unpinned_trivial, warm_up, unpinned_count, unpinned);
        auto linux_block = linux_spawn("posix_spawn", linux_warm_up, blocks * linux_count);
        auto pinned = pin_to_cpu(context.cpu);
        if (pinned.is_error()) {
            report.failure("cannot pin again: " + pinned.error().message());
            return;
        }
        if (measured.is_error() || linux_block.is_error()) {
            report.failure("unpinned spawn: " + (measured.is_error() ? measured.error() : linux_block.error()).message());
            return;
        }
        unpinned_round_trip = std::move(unpinned.round_trip);
        unpinned_posix_spawn_ns = linux_block.release_value();
    }

    auto posix_spawn = Stats::of(posix_spawn_ns);
    auto fork_exec = Stats::of(fork_exec_ns);
    auto vfork_exec = Stats::of(vfork_exec_ns);

    auto round_trip = Stats::of(samples.round_trip);
    auto batched = Stats::of(samples.batched);
    report.detail("sip spawn + wait_from_host:  " + format_stats(round_trip));
    report.detail("sip spawn, batched (per SIP): " + format_stats(batched));
    report.detail("phases of one round trip (medians; host_entry marks the guest's start):");
    report.detail("  Kernel::create_sip                       " + format_duration(Stats::of(samples.create).median));
    report.detail("  Kernel::start                            " + format_duration(Stats::of(samples.start).median));
    report.detail("  start() begun -> guest entry             " + format_duration(Stats::of(samples.start_to_entry).median)
        + "  (start, worker wake-up, fiber switch, instantiate)");
    report.detail("  guest entry -> host sees it finished     " + format_duration(Stats::of(samples.entry_to_finished).median)
        + "  (return, reap, scrub memory, notify, host wake-up)");
    report.detail("  drop the last Sip reference              " + format_duration(Stats::of(samples.destroy).median));

    // The parts the phases are made of, measured alone.
    uint32_t pages = static_cast<uint32_t>(samples.memory_bytes / LinearMemory::page_size);
    bool allocated = true;
    auto memory = time_per_call(context.quick ? 20 : 100, 64, [pages, &allocated] {
        LinearMemory m;
        allocated = !m.allocate(pages).is_error() && allocated;
        m.release();
    });
    auto stack = time_per_call(context.quick ? 20 : 100, 64, [&allocated] {
        auto s = Stack::allocate(SipLimits {}.stack_bytes);
        if (s.is_error()) {
            allocated = false;
            return;
        }
        Stack::release(s.value());
    });
    if (!allocated) {
        report.failure("sip spawn components: the host refused a linear memory or a stack");
        return;
    }
    auto handoff = measure_thread_handoff(context.quick ? 20 : 100, 32);
    report.detail("components:");
    report.detail("  linear memory of " + std::to_string(pages) + " pages from the pool + scrub: " + format_duration(memory.median));
    report.detail("  fiber stack from the pool + release:        " + format_duration(stack.median));
    report.detail("  host thread <-> thread wake-up round trip, same CPU (condition variable): " + format_duration(handoff.median));
    report.detail("linux posix_spawn + waitpid:  " + format_stats(posix_spawn));
    report.detail("linux fork + exec + waitpid:  " + format_stats(fork_exec));
    report.detail("linux vfork + exec + waitpid: " + format_stats(vfork_exec));

    report.add({ .name = "sip spawn+exit vs posix_spawn",
        .linux_label = "static, + waitpid",
        .signet = round_trip,
        .linux_side = posix_spawn,
        .goal = Goal::SignetCheaper,
        .target = 100,
        .note = {} });
    report.add({ .name = "sip spawn+exit vs fork+exec",
        .linux_label = "static, + waitpid",
        .signet = round_trip,
        .linux_side = fork_exec,
        .goal = Goal::SignetCheaper,
        .target = 100,
        .note = {} });
    if (!unpinned_round_trip.empty()) {
        auto workers = std::to_string(context.unpinned_sips->kernel().scheduler().worker_count());
        report.detail("unpinned, " + workers + " workers: sip spawn + wait_from_host: " + format_stats(Stats::of(unpinned_round_trip)));
        report.detail("unpinned: linux posix_spawn + waitpid:       " + format_stats(Stats::of(unpinned_posix_spawn_ns)));
    }
    report.add({ .name = "sip spawn+exit batched vs posix_spawn",
        .linux_label = "static, + waitpid",
        .signet = batched,
        .linux_side = posix_spawn,
        .goal = Goal::SignetCheaper,
        .target = 0,
        .note = {} });
    if (!unpinned_round_trip.empty()) {
        report.add({ .name = "sip spawn+exit vs posix_spawn, unpinned",
            .linux_label = "static, + waitpid",
            .signet = Stats::of(unpinned_round_trip),
            .linux_side = Stats::of(unpinned_posix_spawn_ns),
            .goal = Goal::SignetCheaper,
            .target = 0,
            .note = "the default configuration (one worker per core, nothing pinned): the host thread and the worker "
                    "that runs the SIP wake each other across vCPUs" });
    }
}

} // namespace signet::bench
