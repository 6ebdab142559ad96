// The scheduler: a fixed set of workers (one per core by default) and the
// placement of new threads on them.
#pragma once

#include "kernel/sched/Worker.h"
#include "runtime/Preempt.h"

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace signet {

class Scheduler {
public:
    // Called on the fiber when a new thread first runs.
    using ThreadEntry = void (*)(Thread&);
    // Called on the worker (not a fiber) after a thread died and its stack is released.
    using ThreadReaper = std::function<void(Thread&)>;

    Scheduler(unsigned worker_count, ThreadEntry entry, ThreadReaper reaper);
    ~Scheduler();

    void start();
    void stop();

    Worker& pick_worker();
    unsigned worker_count() const { return static_cast<unsigned>(m_workers.size()); }
    Worker& worker(unsigned i) { return *m_workers[i]; }

    // An idle worker asks a busy one for a SIP; true if it asked.
    bool request_steal_for(Worker& thief);
    // `busy` got more work than it can run now: wake an idle worker to steal it.
    void kick_idle_worker(Worker& busy);
    // Every worker also waits for `source` when idle (Worker::add_idle_source); false if one cannot.
    bool add_idle_source(Worker::IdleSource const& source);

    // Prepares a thread's fiber context on its stack; enqueue it to run.
    void prepare(Thread&);

    ThreadEntry entry() const { return m_entry; }
    ThreadReaper const& reaper() const { return m_reaper; }

    // Rung by a worker that starts running a fiber after its idle context: the
    // preemption watchdog sleeps while every worker is idle (kernel/sched/Preemption.h).
    std::shared_ptr<PreemptDoorbell> const& preempt_doorbell() const { return m_preempt_doorbell; }

private:
    std::vector<std::unique_ptr<Worker>> m_workers;
    std::atomic<unsigned> m_next_worker { 0 };
    ThreadEntry m_entry;
    ThreadReaper m_reaper;
    // Made with the scheduler and never replaced, so a worker may ring it at any time.
    std::shared_ptr<PreemptDoorbell> m_preempt_doorbell { std::make_shared<PreemptDoorbell>() };
    bool m_started { false };
};

} // namespace signet
