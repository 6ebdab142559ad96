// Preemption of SIP code that computes without calling out, shared by the
// kernel's workers (kernel/sched/Preemption.h) and the domain host
// (runtime/domain/DomainHost.cpp): both run SIP threads as fibers on host
// threads, and both need a fiber that spins to give its host thread back at
// the end of its quantum (docs/scheduler.md, "Preemption").
//
// 1. A watchdog thread (PreemptWatchdog) looks at each host thread every tick
//    (a quarter quantum). One that has run the same fiber for a whole quantum
//    gets SIGURG (tgkill to a thread of this process), every tick until it
//    switches: the first signal may land outside SIP code. A process with a
//    single host thread (a domain) needs no watchdog: PreemptTimer arms a timer
//    on that thread's own CPU time that sends it SIGURG every tick, and the
//    handler itself reads the thread's CPU clock to see how long a fiber ran.
// 2. The handler acts only if the interrupted instruction lies in the running
//    SIP's own image (current_sip_context) and the fiber has stack to spare:
//    pure wasm code holds no lock and no half-updated state of its host.
// 3. It does not switch fibers: it rewrites the context so that, after
//    sigreturn, the fiber calls signet_preempt_trampoline (PreemptTrampoline.S),
//    which saves everything and calls the host's preempt point (the function
//    given to install_handler) in ordinary context on the fiber's own stack.
#pragma once

#include "base/ErrorOr.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <sys/types.h>
#include <thread>

namespace signet {

// How a host thread that starts running a fiber wakes a watchdog that sleeps
// because none ran: with every host thread idle, a watchdog that has a doorbell
// stops ticking (an idle kernel makes no wake-ups) until one rings it.
class PreemptDoorbell {
public:
    // Called by a host thread right after it marked itself running a fiber
    // (HostThread::running_fiber). Costs a fence, and a wake-up only when the
    // watchdog sleeps: the first fiber after a quantum of idleness.
    void ring()
    {
        // Paired with the fence in PreemptWatchdog::sleep_while_idle: either this
        // thread sees the watchdog asleep, or the watchdog sees the fiber running.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (m_asleep.load(std::memory_order_relaxed))
            wake();
    }

private:
    friend class PreemptWatchdog;
    void wake()
    {
        std::lock_guard guard(m_lock);
        m_asleep.store(false, std::memory_order_relaxed);
        m_woken.notify_one();
    }

    std::atomic<bool> m_asleep { false };
    std::mutex m_lock;
    std::condition_variable m_woken;
};

class PreemptWatchdog {
public:
    // What the watchdog reads of one host thread at a tick (racy reads are fine:
    // a wrong guess costs one signal the handler ignores, or one tick).
    struct HostThread {
        uint64_t switches { 0 };      // changes whenever it switches fibers
        bool running_fiber { false }; // a SIP fiber runs on it now
        bool cut_short { false };     // end the running fiber's quantum after one tick
        pid_t tid { 0 };              // its Linux thread id; 0: not started yet
    };
    using Look = std::function<HostThread(unsigned index)>;

    // With a doorbell, the watchdog sleeps once no host thread has run a fiber
    // for a quantum, until the doorbell rings (see PreemptDoorbell).
    PreemptWatchdog(unsigned host_threads, Look, std::chrono::microseconds quantum, std::shared_ptr<PreemptDoorbell> = nullptr);
    ~PreemptWatchdog();
    PreemptWatchdog(PreemptWatchdog const&) = delete;
    PreemptWatchdog& operator=(PreemptWatchdog const&) = delete;

    // Installs the SIGURG handler once per process. `preempt_point` runs on a
    // preempted fiber, in ordinary context, on its own stack; it may switch
    // fibers, or never return (the thread ends). A process hosts SIP fibers one
    // way only (the kernel's workers, or a domain host), so the first caller's
    // preempt point stands.
    static void install_handler(void (*preempt_point)());
    // Signals sent by every watchdog of this process (tests, `signet bench`).
    static uint64_t signals_sent();
    // Ticks of every watchdog of this process: what it costs an idle process.
    static uint64_t ticks();

private:
    void watch();
    // With every host thread idle: sleeps until the doorbell rings (or the
    // watchdog stops), unless a fiber started running meanwhile.
    void sleep_while_idle();

    unsigned m_host_threads;
    Look m_look;
    std::chrono::microseconds m_quantum;
    std::shared_ptr<PreemptDoorbell> m_doorbell;
    std::mutex m_lock;
    std::condition_variable m_stop_requested;
    std::atomic<bool> m_stop { false };
    std::thread m_thread;
};

// Preemption for a process whose SIP fibers all run on one host thread (a
// domain process), with no thread of its own: a POSIX timer on the calling
// thread's CPU time sends it SIGURG every tick (a quarter quantum, at least
// 250 us), so a thread that waits costs nothing and one that computes is looked
// at as often as a watchdog would. The handler (PreemptWatchdog::install_handler,
// called first) acts once the same fiber ran for a whole quantum of the
// thread's CPU time (its CPU clock, read at each tick: Linux delivers
// CPU-time timers at its own scheduler tick): `switches` has not changed and
// `running_fiber` held at every tick since, as the watchdog would see them.
class PreemptTimer {
public:
    // Once per process, on the host thread, after install_handler.
    static ErrorOr<void> start(std::chrono::microseconds quantum, std::atomic<uint64_t> const& switches, std::atomic<bool> const& running_fiber);
};

} // namespace signet
