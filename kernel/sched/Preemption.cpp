#include "kernel/sched/Preemption.h"
#include "kernel/object/Sip.h"
#include "kernel/object/Thread.h"
#include "kernel/sched/Scheduler.h"
#include "runtime/SipContext.h"

namespace signet {

namespace {

std::atomic<uint64_t> s_preemptions { 0 };

// Where a preempted worker fiber goes (the trampoline calls it, in ordinary context).
void preempt_point()
{
    s_preemptions.fetch_add(1, std::memory_order_relaxed);
    Thread* self = Worker::current_thread();
    if (self && self->kill_requested())
        unwind_current(static_cast<int>(Unwind::Killed));
    // A suspended SIP stops here; the wait was its yield.
    if (self && self->sip().suspended()) {
        Worker::hold_suspended(*self);
        if (self->kill_requested())
            unwind_current(static_cast<int>(Unwind::Killed));
        return;
    }
    // Keep the SIP's turn: a sibling thread must not run in the middle of this one.
    if (self)
        self->set_preempted(true);
    Worker::yield_current_always();
    if (self)
        self->set_preempted(false);
    if (self && self->kill_requested())
        unwind_current(static_cast<int>(Unwind::Killed));
}

} // namespace

void Preemption::install_handler()
{
    PreemptWatchdog::install_handler(preempt_point);
}

Preemption::Preemption(Scheduler& scheduler, std::chrono::microseconds quantum)
{
    install_handler();
    // An idle worker waiting for this one to answer its steal request (at a
    // switch) cuts the quantum short: after one tick.
    m_watchdog.emplace(scheduler.worker_count(), [&scheduler](unsigned index) {
        Worker& worker = scheduler.worker(index);
        return PreemptWatchdog::HostThread { worker.switches(), worker.running_fiber(), worker.steal_requested(), worker.host_tid() };
    }, quantum, scheduler.preempt_doorbell());
}

uint64_t Preemption::preemptions()
{
    return s_preemptions.load(std::memory_order_relaxed);
}

} // namespace signet
