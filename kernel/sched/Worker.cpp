#include "kernel/sched/Worker.h"
#include "kernel/object/Sip.h"
#include "kernel/sched/Scheduler.h"
#include "runtime/FaultHandler.h"

#include <cstdio>
#include <unistd.h>

namespace signet {

namespace {

thread_local Worker* t_worker __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local Thread* t_current __attribute__((tls_model("initial-exec"))) = nullptr;

} // namespace

Worker::Worker(Scheduler& scheduler, unsigned index)
    : m_scheduler(scheduler)
    , m_index(index)
{
}

Worker::~Worker()
{
    request_stop();
    join();
}

void Worker::start()
{
    m_host_thread = std::thread([this] { run(); });
}

void Worker::request_stop()
{
    std::lock_guard guard(m_lock);
    m_stop = true;
    m_idle.notify_all();
}

void Worker::join()
{
    if (m_host_thread.joinable())
        m_host_thread.join();
}

void Worker::enqueue(Thread& thread)
{
    std::lock_guard guard(m_lock);
    thread.m_state = Thread::State::Runnable;
    thread.m_next_in_queue = nullptr;
    if (m_queue_tail)
        m_queue_tail->m_next_in_queue = &thread;
    else
        m_queue_head = &thread;
    m_queue_tail = &thread;
    m_idle.notify_one();
}

void Worker::wake(Thread& thread)
{
    std::lock_guard guard(m_lock);
    if (!thread.m_parked) {
        // Running, runnable, or between deciding to block and switching out:
        // the block will see the pending wake and not park.
        thread.m_wake_pending = true;
        return;
    }
    thread.m_parked = false;
    thread.m_state = Thread::State::Runnable;
    // Hand-off: a thread woken by a thread of the same worker (a reply, a
    // message) runs next, while what it needs is hot in the cache. Others wait
    // their turn at the tail, and so does every 32nd hand-off, so that a pair
    // of SIPs talking to each other cannot starve the rest of the queue.
    if (t_worker == this && m_queue_head && ++m_handoff_streak % 32 != 0) {
        thread.m_next_in_queue = m_queue_head;
        m_queue_head = &thread;
        if (!m_queue_tail)
            m_queue_tail = &thread;
        return;
    }
    thread.m_next_in_queue = nullptr;
    if (m_queue_tail)
        m_queue_tail->m_next_in_queue = &thread;
    else
        m_queue_head = &thread;
    m_queue_tail = &thread;
    m_idle.notify_one();
}

Thread* Worker::pop_or_wait()
{
    std::unique_lock guard(m_lock);
    while (!m_queue_head && !m_stop)
        m_idle.wait(guard);
    if (m_stop)
        return nullptr;
    Thread* thread = m_queue_head;
    m_queue_head = thread->m_next_in_queue;
    if (!m_queue_head)
        m_queue_tail = nullptr;
    thread->m_next_in_queue = nullptr;
    return thread;
}

void Worker::run()
{
    t_worker = this;
    m_host_tid.store(::gettid(), std::memory_order_relaxed);
    if (auto result = prepare_thread_for_sip_code(); result.is_error()) {
        std::fprintf(stderr, "signet: worker %u: %s\n", m_index, result.error().message().c_str());
        return;
    }
    while (Thread* thread = pop_or_wait()) {
        switch_to(*thread);
        after_switch(*thread);
    }
    t_worker = nullptr;
}

void Worker::switch_to(Thread& thread)
{
    // 1. Point the runtime at the SIP and the fiber about to run, so traps and
    //    faults are attributed to them.
    SipContext& context = thread.sip().runtime();
    context.trap_target = &thread.m_trap_target;
    context.stack = { thread.m_stack.guard_low(), thread.m_stack.low(), thread.m_stack.high() };
    thread.m_state = Thread::State::Running;
    t_current = &thread;
    current_sip_context = &context;
    m_switches.fetch_add(1, std::memory_order_relaxed);
    m_running_fiber.store(true, std::memory_order_relaxed);

    // 2. Run the fiber until it yields, blocks or dies; it hands back its context.
    fctx::transfer_t back = fctx::jump_fcontext(thread.m_context, &thread);
    thread.m_context = back.fctx;

    // 3. Back in kernel context.
    m_running_fiber.store(false, std::memory_order_relaxed);
    current_sip_context = nullptr;
    t_current = nullptr;
}

void Worker::after_switch(Thread& thread)
{
    switch (thread.m_state) {
    case Thread::State::Runnable:
        enqueue(thread);
        return;
    case Thread::State::Blocked: {
        std::lock_guard guard(m_lock);
        if (thread.m_wake_pending) {
            thread.m_wake_pending = false;
            thread.m_state = Thread::State::Runnable;
            thread.m_next_in_queue = nullptr;
            if (m_queue_tail)
                m_queue_tail->m_next_in_queue = &thread;
            else
                m_queue_head = &thread;
            m_queue_tail = &thread;
        } else {
            thread.m_parked = true;
        }
        return;
    }
    case Thread::State::Dead:
        // The fiber will never run again: its stack is free to reuse.
        m_scheduler.reaper()(thread);
        return;
    case Thread::State::Running:
        VERIFY_NOT_REACHED();
    }
}

void Worker::switch_to_scheduler(Thread::State state)
{
    Thread* self = t_current;
    VERIFY(self);
    self->m_state = state;
    fctx::transfer_t back = fctx::jump_fcontext(t_worker->m_scheduler_context, nullptr);
    // Resumed, possibly on another worker: refresh what we know of it.
    t_worker->m_scheduler_context = back.fctx;
}

void Worker::fiber_main(fctx::transfer_t transfer)
{
    // `transfer.fctx` is the scheduler context that resumed this new fiber.
    t_worker->m_scheduler_context = transfer.fctx;
    auto* self = static_cast<Thread*>(transfer.data);
    t_worker->m_scheduler.entry()(*self);
    VERIFY_NOT_REACHED();
}

void Worker::yield_current()
{
    Worker* worker = t_worker;
    {
        std::lock_guard guard(worker->m_lock);
        if (!worker->m_queue_head)
            return; // Nobody else to run: keep going.
    }
    switch_to_scheduler(Thread::State::Runnable);
}

void Worker::block_current()
{
    Thread* self = t_current;
    {
        std::lock_guard guard(self->m_worker->m_lock);
        if (self->m_wake_pending) {
            self->m_wake_pending = false;
            return;
        }
    }
    switch_to_scheduler(Thread::State::Blocked);
}

Thread* Worker::current_thread()
{
    return t_current;
}

void Worker::exit_current()
{
    switch_to_scheduler(Thread::State::Dead);
    VERIFY_NOT_REACHED();
}

} // namespace signet
