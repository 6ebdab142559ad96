// The kernel's side of one domain process (docs/protection-domains.md): the
// memory files it shares with it, its doorbells, and a host thread (the pump)
// that watches for its requests and its death and wakes the SIP thread that
// serves it.
#pragma once

#include "base/ErrorOr.h"
#include "runtime/Quantum.h"
#include "runtime/ring/Ring.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <time.h>
#include <vector>

extern "C" {
#include <wasm-rt.h>
}

namespace signet {

// posix_spawn of `executable` (described as `what` in an error) with
// `arguments`, the descriptors `descriptors` (ours, theirs) and nothing else of
// ours, an empty environment, no signal blocked or caught: how the kernel
// starts a domain host or the domain zygote.
ErrorOr<pid_t> spawn_host(std::string const& what, std::string const& executable, std::vector<std::string> arguments,
    std::vector<std::pair<int, int>> const& descriptors);

class Thread;

struct DomainLaunch {
    std::string host_executable; // signet-domain
    // Every image the domain will ever run, in the store: it maps them all before
    // it seals (a shared domain cannot map another afterwards).
    struct ImageFile {
        std::string path;
        std::string module_hash;
    };
    std::vector<ImageFile> images;
    unsigned slots { 1 }; // SIPs it hosts at once: one memory file each
    // Each slot holds a SIP's own memory, up to `memory_bytes`, and the blocks it
    // owns, up to `exchange_bytes` beyond that, as in the kernel, where blocks grow
    // the memory past its limit by what they take (docs/exchange-heap.md).
    uint64_t memory_bytes { 0 };
    uint64_t exchange_bytes { 0 };
    size_t stack_bytes { 0 };
    // The kernel's quantum, which the domain's own preemption keeps (0: no preemption).
    uint64_t quantum_us { uint64_t(default_quantum.count()) };
};

class DomainProcess : public std::enable_shared_from_this<DomainProcess> {
public:
    // Named limit: domain processes alive at once. Starting one more is an error.
    static constexpr unsigned max_domains = 64;
    // A domain that has not said hello by then is killed.
    static constexpr int hello_timeout_ms = 10'000;

    static ErrorOr<std::shared_ptr<DomainProcess>> start(DomainLaunch const&);
    ~DomainProcess();
    DomainProcess(DomainProcess const&) = delete;
    DomainProcess& operator=(DomainProcess const&) = delete;

    // signet-domain beside the running binary, unless a program that hosts the
    // kernel elsewhere (a test, a benchmark) named another.
    static std::string default_host_executable();
    static void set_default_host_executable(std::string);
    // Benchmarks: the CPUs every domain process started from now on runs on
    // (sched_setaffinity as it starts); empty, the default: wherever its starter
    // (the kernel, or the domain zygote) may run.
    static void set_cpus(std::vector<int>);
    static std::vector<int> domain_cpus();
    static unsigned live_count();
    // Domain processes started since this process began (for tests and benchmarks).
    static uint64_t started_count();
    // How often a serving thread waited for its domain (wait()) and how often it
    // then slept on the doorbell instead of finding the next frame by watching
    // the ring, since this process began: what the benchmarks say of the fast path.
    struct WaitCounts {
        uint64_t waits { 0 };
        uint64_t sleeps { 0 };
    };
    static WaitCounts wait_counts();

    int pid() const { return m_pid; }
    ring::Ring& ring() { return *m_ring; }
    // A SIP's linear memory (memory slot `slot`) as the kernel sees it: the same
    // pages as the domain's.
    wasm_rt_memory_t& memory(unsigned slot = 0) { return m_slots[slot].memory; }
    unsigned slot_count() const { return unsigned(m_slots.size()); }
    // Each slot's size: the most a SIP's memory grows to there, blocks included.
    uint64_t slot_bytes() const { return m_memory_bytes; }
    // Empties a slot for its next SIP: size 0, and every page reads zero again.
    void clear_slot(unsigned slot);
    // After the kernel published a frame: rings the domain's doorbell if it
    // sleeps on it (one that watches the ring sees the frame by itself).
    void ring_doorbell() const;

    // On the serving SIP thread: returns once the domain published something,
    // died, or the thread was asked to end. It first watches the ring for
    // ring::spin_ns while the worker has nothing else to run (the hot path: no
    // pump, no wake-up), then blocks the fiber until the pump sees the doorbell.
    void wait();
    // The domain said hello: stop the hello timeout.
    void mark_hello() { m_hello.store(true, std::memory_order_release); }
    // Why the process is gone, once it is.
    std::optional<std::string> death() const;
    // Whether it is (one load, for a look at every call).
    bool dead() const { return m_dead.load(std::memory_order_acquire); }
    // Runs on the pump thread when the process dies, unless terminate() ran first:
    // the serving thread may be blocked inside an ABI call (a channel receive, a
    // sleep) where wait() cannot see the death, so the SIP must be ended from here.
    void on_death(std::function<void(std::string const&)>);
    // Enforces a CPU-time limit on a domain of one SIP: from now on the pump
    // samples the process's CPU clock every 20 ms and hands each sample to
    // `over_limit` (under the same rules as on_death), which says whether the SIP
    // is past its limit; the first time it is, the process is killed and
    // `over_limit` is not called again.
    void limit_cpu(std::function<bool(uint64_t process_ns)> over_limit);
    // The process's CPU clock (every thread of it, the living and the ended), in
    // nanoseconds; nothing if Linux gave no clock for it.
    std::optional<uint64_t> cpu_time_ns() const;

    // Kills the process and reaps it (idempotent), waiting for Linux to tear it
    // down. The memory stays mapped until destruction.
    void terminate();
    // Kills the process and returns at once: the domain reaper, a host thread of
    // its own, reaps it (terminate()), and destroys the object once the last
    // reference goes, wherever that is. A kernel worker never waits for a
    // domain's teardown (its exit_mmap, the unmapping of its memory, the pump's
    // end), which grows with the domain's memory. From then on its death is
    // expected: on_death and limit_cpu's callback are not called again.
    void kill();
    // Waits until every domain process killed or dropped so far is reaped and
    // destroyed (Kernel::wait_until_idle: "idle" means every resource is back).
    static void await_reaped();
    // Tests: while held, the reaper reaps and destroys nothing (what it is given waits).
    static void hold_reaper(bool held);

private:
    class Reaper;
    DomainProcess() = default;
    bool signal_kill();
    void pump();
    void note_death(std::string);

    int m_pid { -1 };
    int m_pidfd { -1 };
    int m_ring_fd { -1 };
    int m_to_kernel { -1 };
    int m_to_domain { -1 };
    int m_stop { -1 }; // eventfd that stops the pump
    uint8_t* m_region { nullptr };
    struct Slot {
        int fd { -1 };
        uint8_t* view { nullptr };
        wasm_rt_memory_t memory {};
    };
    std::vector<Slot> m_slots;
    uint64_t m_memory_bytes { 0 };
    std::optional<ring::Ring> m_ring;
    std::atomic<bool> m_hello { false };
    std::atomic<bool> m_stopping { false };
    std::thread m_pump;

    mutable std::mutex m_lock;
    Thread* m_waiter { nullptr }; // guarded: the fiber blocked in wait(), only while blocked
    bool m_event { false };       // guarded: something happened since the last wait()
    std::optional<std::string> m_death; // guarded
    std::atomic<bool> m_dead { false };  // set once m_death is
    std::function<void(std::string const&)> m_on_death; // guarded; cleared by terminate()
    std::function<bool(uint64_t)> m_on_cpu_sample;      // guarded; cleared by terminate() and once over the limit: sampling stops
    clockid_t m_cpu_clock {};
    bool m_has_cpu_clock { false };
    bool m_reaped { false };            // guarded
};

} // namespace signet
