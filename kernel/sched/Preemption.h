// Preemption of SIP code that computes without blocking.
//
// A watchdog thread looks at every worker each tick (a fraction of the
// quantum). A worker that has run the same SIP thread for a whole quantum
// gets a signal; the handler acts only if the interrupted instruction is in
// that SIP's own image (pure wasm code holds no kernel locks and no
// half-updated kernel state), and then redirects it to a trampoline that
// yields the worker. Interrupted kernel or C library code is left alone and
// retried at the next tick. Well-behaved SIPs cost nothing: no timer fires
// for a worker that switches fibers on its own.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace signet {

class Scheduler;

class Preemption {
public:
    static constexpr std::chrono::milliseconds default_quantum { 10 };

    Preemption(Scheduler&, std::chrono::microseconds quantum = default_quantum);
    ~Preemption();

    // Installs the signal handler (once per process).
    static void install_handler();

    // Counters, for tests and `signet bench`.
    static uint64_t signals_sent();
    static uint64_t preemptions();

private:
    void watch();

    Scheduler& m_scheduler;
    std::chrono::microseconds m_quantum;
    std::mutex m_lock;
    std::condition_variable m_stop_requested;
    bool m_stop { false };
    std::thread m_thread;
};

} // namespace signet
