// A thread of a SIP: one fiber with its own guarded stack and trap target.
#pragma once

#include "kernel/object/KernelObject.h"
#include "kernel/sched/Stack.h"
#include "runtime/SipContext.h"

#include <atomic>
#include <boost/context/detail/fcontext.hpp>
#include <cstdint>
#include <memory>
#include <vector>

namespace signet {

class Sip;
class Worker;

// What a handle on a SIP thread names: whether it ended, and how.
class ThreadHandle final : public KernelObject {
public:
    static constexpr ObjectType object_type = ObjectType::Thread;
    ObjectType type() const override { return ObjectType::Thread; }

    // Guarded by the SIP's lock.
    bool done { false };
    int32_t status { 0 };
    std::vector<class Thread*> joiners;
};

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
    // The worker the thread belongs to. It changes only while the thread is in
    // its worker's run queue (a steal, done by that worker) or parked (a wake-up
    // from another worker that takes it along, done by the waker that unparked it).
    Worker& worker() const { return *m_worker.load(std::memory_order_acquire); }
    Stack const& stack() const { return m_stack; }
    TrapTarget& trap_target() { return m_trap_target; }
    uint64_t id() const { return m_id; }

    bool kill_requested() const { return m_kill_requested.load(std::memory_order_acquire); }

    // The SIP's first thread instantiates the module and runs `_start`; the others
    // run a function of the module's table with one argument.
    bool is_main() const { return !m_handle; }
    struct Entry {
        void (*function)(void* instance, uint32_t argument) { nullptr };
        void* instance { nullptr };
        uint32_t argument { 0 };
    };
    Entry const& entry() const { return m_entry; }
    std::shared_ptr<ThreadHandle> const& handle() const { return m_handle; }
    void make_secondary(Entry entry, std::shared_ptr<ThreadHandle> handle, uint32_t stack_pointer)
    {
        m_entry = entry;
        m_handle = std::move(handle);
        m_stack_pointer = stack_pointer;
        m_stack_pointer_valid = true;
    }
    // While set (a domain's call running on this proxy thread), Worker::block_current
    // writes 1 there while the thread is blocked and 0 once it runs again: the
    // domain's hint that its answer waits in the kernel on something else
    // (ring::Hint, docs/protection-domains.md).
    void set_blocked_hint(std::atomic<uint32_t>* hint) { m_blocked_hint = hint; }
    std::atomic<uint32_t>* blocked_hint() const { return m_blocked_hint; }
    // Set by the preemption path: the thread did not give the worker up by itself.
    void set_preempted(bool preempted) { m_preempted = preempted; }

private:
    friend class Worker;
    friend class Scheduler;
    friend class Kernel;
    friend class Sip;

    Sip& m_sip;
    std::atomic<Worker*> m_worker;
    Stack m_stack;
    TrapTarget m_trap_target;
    fctx::fcontext_t m_context { nullptr };
    uint64_t m_id { 0 };

    // Scheduling state. m_state is written by the thread's own worker, or by
    // the waker that unparked it (nobody else touches a parked thread).
    // m_sleep is how wake-ups meet blocks, from any host thread: Awake (running,
    // runnable, or about to block), WakePending (a wake-up came while Awake: the
    // next block returns at once) or Parked (blocked and switched out: whoever
    // moves it back to Awake makes it runnable). See Worker::wake.
    enum Sleep : uint8_t { Awake, WakePending, Parked };
    State m_state { State::Runnable };
    std::atomic<uint8_t> m_sleep { Awake };
    std::atomic<bool> m_kill_requested { false };
    Thread* m_next_in_queue { nullptr };

    Entry m_entry;
    std::shared_ptr<ThreadHandle> m_handle;
    // This thread's value of the module's shadow-stack pointer while it is switched out,
    // and where the module keeps it (a global in the SIP's instance; null if none).
    uint32_t m_stack_pointer { 0 };
    uint32_t* m_stack_pointer_global { nullptr };
    bool m_stack_pointer_valid { false };
    bool m_preempted { false };
    std::atomic<uint32_t>* m_blocked_hint { nullptr };
    bool m_holding { false }; // in Sip::hold_while_suspended (Worker::hold_suspended)
};

} // namespace signet
