// A thread of a SIP: one fiber with its own guarded stack and trap target.
#pragma once

#include "kernel/sched/Stack.h"
#include "runtime/SipContext.h"

#include <atomic>
#include <boost/context/detail/fcontext.hpp>
#include <cstdint>

namespace signet {

class Sip;
class Worker;

namespace fctx = boost::context::detail;

class Thread {
public:
    enum class State : uint8_t {
        Runnable, // in a run queue
        Running,  // on a worker right now
        Blocked,  // waiting for a wake()
        Dead,     // finished; its worker frees it
    };

    Thread(Sip& sip, Worker& worker, Stack stack)
        : m_sip(sip)
        , m_worker(&worker)
        , m_stack(stack)
    {
    }
    ~Thread() { Stack::release(m_stack); }

    Sip& sip() const { return m_sip; }
    Worker& worker() const { return *m_worker; }
    Stack const& stack() const { return m_stack; }
    TrapTarget& trap_target() { return m_trap_target; }
    uint64_t id() const { return m_id; }

    bool kill_requested() const { return m_kill_requested.load(std::memory_order_acquire); }

private:
    friend class Worker;
    friend class Scheduler;
    friend class Kernel;

    Sip& m_sip;
    Worker* m_worker;
    Stack m_stack;
    TrapTarget m_trap_target;
    fctx::fcontext_t m_context { nullptr };
    uint64_t m_id { 0 };

    // Scheduling state. m_state is written by the thread's own worker only;
    // m_parked and m_wake_pending are guarded by the worker's queue lock.
    State m_state { State::Runnable };
    bool m_parked { false };
    bool m_wake_pending { false };
    std::atomic<bool> m_kill_requested { false };
    Thread* m_next_in_queue { nullptr };
};

} // namespace signet
