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
#include <mutex>
#include <sys/types.h>
#include <thread>

namespace signet {

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

    PreemptWatchdog(unsigned host_threads, Look, std::chrono::microseconds quantum);
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

private:
    void watch();

    unsigned m_host_threads;
    Look m_look;
    std::chrono::microseconds m_quantum;
    std::mutex m_lock;
    std::condition_variable m_stop_requested;
    bool m_stop { false };
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
