// Preemption of SIP code that computes without blocking, on the kernel's
// workers: the watchdog, the signal handler and the trampoline are the
// runtime's (runtime/Preempt.h, shared with the domain host); this is what is
// the kernel's own. The watchdog looks at every worker each tick; a worker
// that has run the same SIP thread for a whole quantum gets a signal, and the
// handler redirects SIP code (only) to signet_preempt_point below it, which
// yields the worker, keeping the SIP's turn. Well-behaved SIPs cost nothing:
// no signal goes to a worker that switches fibers on its own. An idle kernel
// costs nothing either: once no worker has run a fiber for a quantum the
// watchdog sleeps, until a worker that starts running one rings the
// scheduler's doorbell (Scheduler::preempt_doorbell).
#pragma once

#include "runtime/Preempt.h"
#include "runtime/Quantum.h"

#include <chrono>
#include <optional>

namespace signet {

class Scheduler;

class Preemption {
public:
    Preemption(Scheduler&, std::chrono::microseconds quantum = default_quantum);

    // Installs the signal handler (once per process).
    static void install_handler();

    // Counters, for tests and `signet bench`.
    static uint64_t signals_sent() { return PreemptWatchdog::signals_sent(); }
    static uint64_t preemptions();
    static uint64_t watchdog_ticks() { return PreemptWatchdog::ticks(); }

private:
    std::optional<PreemptWatchdog> m_watchdog;
};

} // namespace signet
