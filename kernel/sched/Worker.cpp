#include "kernel/sched/Worker.h"
#include "kernel/object/Sip.h"
#include "kernel/sched/Scheduler.h"
#include "runtime/FaultHandler.h"

#include <cstdio>
#include <ctime>
#include <unistd.h>

namespace signet {

namespace {

// Per-switch CPU accounting must be cheap: the TSC, scaled once to nanoseconds.
uint64_t cpu_clock_ns()
{
    static double const ns_per_tick = [] {
        timespec a {}, b {};
        clock_gettime(CLOCK_MONOTONIC, &a);
        uint64_t t0 = __builtin_ia32_rdtsc();
        timespec pause { 0, 2'000'000 };
        nanosleep(&pause, nullptr);
        clock_gettime(CLOCK_MONOTONIC, &b);
        uint64_t t1 = __builtin_ia32_rdtsc();
        double ns = double(b.tv_sec - a.tv_sec) * 1e9 + double(b.tv_nsec - a.tv_nsec);
        return t1 > t0 ? ns / double(t1 - t0) : 1.0;
    }();
    return static_cast<uint64_t>(double(__builtin_ia32_rdtsc()) * ns_per_tick);
}

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
    {
        std::lock_guard guard(m_lock);
        VERIFY(&thread.worker() == this);
        thread.m_state = Thread::State::Runnable;
        thread.m_next_in_queue = nullptr;
        if (m_queue_tail)
            m_queue_tail->m_next_in_queue = &thread;
        else
            m_queue_head = &thread;
        m_queue_tail = &thread;
    }
    // Notify after unlocking, so the woken worker does not wake into a held mutex.
    m_idle.notify_one();
    if (m_running_fiber.load(std::memory_order_relaxed))
        m_scheduler.kick_idle_worker(*this);
}

void Worker::wake(Thread& thread)
{
    // The thread may be stolen by another worker while we look: lock the worker
    // it belongs to, and check it still does.
    Worker* owner = &thread.worker();
    std::unique_lock guard(owner->m_lock);
    while (&thread.worker() != owner) {
        guard.unlock();
        owner = &thread.worker();
        guard = std::unique_lock(owner->m_lock);
    }
    if (owner != this) {
        guard.unlock();
        owner->wake(thread);
        return;
    }
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
    guard.unlock();
    m_idle.notify_one();
    if (m_running_fiber.load(std::memory_order_relaxed))
        m_scheduler.kick_idle_worker(*this);
}

Thread* Worker::steal_one_from(Worker& victim)
{
    // Both queue locks, in worker order, so two thieves cannot deadlock.
    Worker& first = m_index < victim.m_index ? *this : victim;
    Worker& second = m_index < victim.m_index ? victim : *this;
    std::scoped_lock guard(first.m_lock, second.m_lock);
    // Only from a worker that is busy running something else, and only a whole
    // SIP: one with a single thread, which is waiting in that queue.
    if (!victim.m_running_fiber.load(std::memory_order_relaxed))
        return nullptr;
    Thread* previous = nullptr;
    for (Thread* thread = victim.m_queue_head; thread; previous = thread, thread = thread->m_next_in_queue) {
        Sip& sip = thread->sip();
        // A SIP preempted there keeps its turn, which only keeps its own threads
        // out of its way: with a single thread, it may move all the same.
        if (sip.m_thread_count.load(std::memory_order_relaxed) != 1)
            continue;
        if (previous)
            previous->m_next_in_queue = thread->m_next_in_queue;
        else
            victim.m_queue_head = thread->m_next_in_queue;
        if (victim.m_queue_tail == thread)
            victim.m_queue_tail = previous;
        thread->m_next_in_queue = nullptr;
        thread->m_worker.store(this, std::memory_order_release);
        sip.m_home_worker = this;
        if (m_queue_tail)
            m_queue_tail->m_next_in_queue = thread;
        else
            m_queue_head = thread;
        m_queue_tail = thread;
        m_steals.fetch_add(1, std::memory_order_relaxed);
        return thread;
    }
    return nullptr;
}

Thread* Worker::pop_or_wait()
{
    std::unique_lock guard(m_lock);
    for (;;) {
        while (!m_queue_head && !m_stop) {
            // Idle: take work from a busy worker, or sleep until kicked.
            guard.unlock();
            bool stole = m_scheduler.steal_for(*this);
            guard.lock();
            if (stole || m_queue_head || m_stop)
                break;
            m_is_idle = true;
            m_idle.wait(guard);
            m_is_idle = false;
        }
        if (m_stop)
            return nullptr;
        // The first thread whose SIP is not in the middle of a sibling's turn (a
        // preempted sibling holds it; that sibling is queued too, so this ends).
        Thread* previous = nullptr;
        for (Thread* thread = m_queue_head; thread; previous = thread, thread = thread->m_next_in_queue) {
            Thread* turn = thread->sip().m_turn;
            if (turn && turn != thread)
                continue;
            if (previous)
                previous->m_next_in_queue = thread->m_next_in_queue;
            else
                m_queue_head = thread->m_next_in_queue;
            if (m_queue_tail == thread)
                m_queue_tail = previous;
            thread->m_next_in_queue = nullptr;
            return thread;
        }
        VERIFY_NOT_REACHED();
    }
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
        bool preempted = switch_to(*thread);
        after_switch(*thread, preempted);
    }
    t_worker = nullptr;
}

bool Worker::switch_to(Thread& thread)
{
    // 1. Point the runtime at the SIP and the fiber about to run, so traps and
    //    faults are attributed to them.
    Sip& sip = thread.sip();
    SipContext& context = sip.runtime();
    sip.m_turn = &thread;
    // Each thread of a SIP has its own shadow stack in linear memory.
    uint32_t stack_pointer_offset = sip.image().entry().stack_pointer_offset;
    auto* stack_pointer = stack_pointer_offset != SIGNET_IMAGE_NO_STACK_POINTER
        ? reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(sip.instance()) + stack_pointer_offset)
        : nullptr;
    if (stack_pointer && thread.m_stack_pointer_valid)
        *stack_pointer = thread.m_stack_pointer;
    context.trap_target = &thread.m_trap_target;
    context.stack = { thread.m_stack.guard_low(), thread.m_stack.low(), thread.m_stack.high() };
    thread.m_state = Thread::State::Running;
    t_current = &thread;
    current_sip_context = &context;
    m_switches.fetch_add(1, std::memory_order_relaxed);
    m_running_fiber.store(true, std::memory_order_relaxed);

    // 2. Run the fiber until it yields, blocks or dies; it hands back its context.
    uint64_t started = cpu_clock_ns();
    fctx::transfer_t back = fctx::jump_fcontext(thread.m_context, &thread);
    thread.m_context = back.fctx;

    // 3. Back in kernel context. Account the time and keep the thread's stack pointer.
    m_running_fiber.store(false, std::memory_order_relaxed);
    current_sip_context = nullptr;
    t_current = nullptr;
    sip.m_cpu_time_ns += cpu_clock_ns() - started;
    if (stack_pointer && thread.m_state != Thread::State::Dead) {
        thread.m_stack_pointer = *stack_pointer;
        thread.m_stack_pointer_valid = true;
    }
    // A preempted thread keeps its SIP's turn; one that gave the worker up does not.
    bool preempted = thread.m_preempted && thread.m_state == Thread::State::Runnable;
    if (!preempted)
        sip.m_turn = nullptr;
    thread.m_preempted = false;
    uint64_t limit = sip.limits().cpu_time_ns;
    if (limit && sip.m_cpu_time_ns > limit && thread.m_state != Thread::State::Dead && !thread.kill_requested()) {
        sip.record_exit({ ExitInfo::How::Killed, 0, TrapKind::None,
            "exceeded its CPU time limit of " + std::to_string(limit / 1'000'000) + " ms" });
        sip.request_kill();
    }
    return preempted;
}

void Worker::after_switch(Thread& thread, bool preempted)
{
    switch (thread.m_state) {
    case Thread::State::Runnable: {
        bool others_waiting = false;
        if (preempted) {
            std::lock_guard guard(m_lock);
            others_waiting = m_queue_head != nullptr;
        }
        enqueue(thread);
        // Preempted with others waiting: this worker has more to run than it can,
        // and a re-queue from here (no fiber running) kicks no idle worker by itself.
        if (preempted && others_waiting)
            m_scheduler.kick_idle_worker(*this);
        return;
    }
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

// Reads the worker of the calling host thread. Not inlined, so that no TLS
// address computed before a fiber switch is reused after it: a fiber may
// resume on another worker (a stolen thread).
__attribute__((noinline)) static Worker* this_worker()
{
    return t_worker;
}

void Worker::switch_to_scheduler(Thread::State state)
{
    Thread* self = t_current;
    VERIFY(self);
    self->m_state = state;
    fctx::transfer_t back = fctx::jump_fcontext(this_worker()->m_scheduler_context, nullptr);
    // Resumed, possibly on another worker: refresh what we know of it.
    this_worker()->m_scheduler_context = back.fctx;
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

void Worker::yield_current_always()
{
    switch_to_scheduler(Thread::State::Runnable);
}

void Worker::block_current()
{
    Thread* self = t_current;
    {
        std::lock_guard guard(self->worker().m_lock);
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
