#include "kernel/sched/Worker.h"
#include "base/Hot.h"
#include "kernel/object/Sip.h"
#include "kernel/sched/Scheduler.h"
#include "runtime/SwitchContext.h"
#include "runtime/FaultHandler.h"

#include <cstdio>
#include <cstring>
#include <ctime>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#define SIGNET_ASAN_FIBERS 1
#endif

namespace signet {

namespace {

// Per-switch CPU accounting must be cheap: the worker reads the TSC and adds
// ticks; they become nanoseconds only when somebody asks (tsc_ticks_to_ns).
uint64_t tsc_ticks_to_ns(uint64_t ticks)
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
    return static_cast<uint64_t>(double(ticks) * ns_per_tick);
}

// Hand-off fairness: a thread woken by a fiber of its own worker runs next,
// except every 32nd, which waits its turn at the back of the queue, so that
// SIPs that keep waking each other cannot starve the rest.
constexpr uint32_t handoff_fairness = 32;
// Switches between threads of one SIP charge nothing, except every 64th, so
// that a SIP whose threads only pass the worker among themselves still has its
// time counted and its CPU limit checked.
constexpr uint32_t same_sip_charge_interval = 64;

thread_local Worker* t_worker __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local Thread* t_current __attribute__((tls_model("initial-exec"))) = nullptr;

// Reads the worker of the calling host thread. Not inlined, so that no TLS
// address computed before a fiber switch is reused after it: a fiber may
// resume on another worker (a stolen or woken-along thread).
__attribute__((noinline)) SIGNET_HOT Worker* this_worker()
{
    return t_worker;
}

} // namespace

Worker::Worker(Scheduler& scheduler, unsigned index)
    : m_scheduler(scheduler)
    , m_index(index)
{
    // Failure (no descriptors left) is reported by run(), which then does not start.
    m_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    m_idle_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (m_wake_fd >= 0 && m_idle_epoll >= 0) {
        epoll_event event {};
        event.events = EPOLLIN;
        event.data.ptr = nullptr; // the wake-up; an idle source's is its IdleSource
        if (epoll_ctl(m_idle_epoll, EPOLL_CTL_ADD, m_wake_fd, &event) != 0) {
            ::close(m_idle_epoll);
            m_idle_epoll = -1;
        }
    }
}

Worker::~Worker()
{
    request_stop();
    join();
    if (m_idle_epoll >= 0)
        ::close(m_idle_epoll);
    if (m_wake_fd >= 0)
        ::close(m_wake_fd);
}

bool Worker::add_idle_source(IdleSource const& source)
{
    if (m_idle_epoll < 0)
        return false;
    epoll_event event {};
    event.events = EPOLLIN;
    event.data.ptr = const_cast<IdleSource*>(&source);
    return epoll_ctl(m_idle_epoll, EPOLL_CTL_ADD, source.fd, &event) == 0;
}

void Worker::signal_idle()
{
    uint64_t one = 1;
    (void)!::write(m_wake_fd, &one, sizeof one);
}

void Worker::sleep_idle()
{
    epoll_event events[8];
    int count = epoll_wait(m_idle_epoll, events, 8, -1);
    for (int i = 0; i < count; ++i) {
        if (auto const* source = static_cast<IdleSource const*>(events[i].data.ptr)) {
            source->ready(source->context);
        } else {
            uint64_t value;
            (void)!::read(m_wake_fd, &value, sizeof value);
        }
    }
}

void Worker::start()
{
    m_host_thread = std::thread([this] { run(); });
}

void Worker::request_stop()
{
    m_stop.store(true, std::memory_order_relaxed);
    {
        std::lock_guard guard(m_lock);
        m_kicked = true;
    }
    signal_idle();
}

void Worker::join()
{
    if (m_host_thread.joinable())
        m_host_thread.join();
}

// --- The run queue (this worker's host thread only) -------------------------

void Worker::push_back(Thread& thread)
{
    thread.m_next_in_queue = nullptr;
    if (m_queue_tail)
        m_queue_tail->m_next_in_queue = &thread;
    else
        m_queue_head = &thread;
    m_queue_tail = &thread;
    m_queue_length.store(m_queue_length.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Worker::push_front(Thread& thread)
{
    thread.m_next_in_queue = m_queue_head;
    m_queue_head = &thread;
    if (!m_queue_tail)
        m_queue_tail = &thread;
    m_queue_length.store(m_queue_length.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// More is runnable here than runs: an idle worker may come and take some.
void Worker::after_push()
{
    if (m_queue_length.load(std::memory_order_relaxed) >= 2)
        m_scheduler.kick_idle_worker(*this);
}

SIGNET_HOT bool Worker::push_woken(Thread& thread)
{
    thread.m_state = Thread::State::Runnable;
    bool first = m_current && ++m_handoff_streak % handoff_fairness != 0;
    if (first)
        push_front(thread);
    else
        push_back(thread);
    after_push();
    return first;
}

SIGNET_HOT Thread* Worker::pick_next()
{
    if (m_stop.load(std::memory_order_relaxed))
        return nullptr;
    if (m_has_inbox.load(std::memory_order_relaxed))
        drain_inbox();
    // The first thread whose SIP is not in the middle of a sibling's turn. A
    // preempted sibling holds it, and is queued too (so one is found), unless it
    // is the caller, preempted right now: then there may be none.
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
        m_queue_length.store(m_queue_length.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
        return thread;
    }
    // Nothing, or only threads whose SIP's turn the preempted caller holds.
    return nullptr;
}

// --- The inbox (any host thread) ----------------------------------------------

void Worker::push_remote(Thread& thread)
{
    bool idle;
    {
        std::lock_guard guard(m_lock);
        thread.m_state = Thread::State::Runnable;
        thread.m_next_in_queue = nullptr;
        if (m_inbox_tail)
            m_inbox_tail->m_next_in_queue = &thread;
        else
            m_inbox_head = &thread;
        m_inbox_tail = &thread;
        m_has_inbox.store(true, std::memory_order_relaxed);
        idle = m_is_idle.load(std::memory_order_relaxed);
    }
    if (idle)
        signal_idle();
    else if (m_running_fiber.load(std::memory_order_relaxed))
        m_scheduler.kick_idle_worker(*this);
}

void Worker::drain_inbox()
{
    Thread* thread;
    {
        std::lock_guard guard(m_lock);
        thread = m_inbox_head;
        m_inbox_head = m_inbox_tail = nullptr;
        m_has_inbox.store(false, std::memory_order_relaxed);
    }
    while (thread) {
        Thread* next = thread->m_next_in_queue;
        push_back(*thread);
        thread = next;
    }
    after_push();
}

void Worker::enqueue(Thread& thread)
{
    VERIFY(&thread.worker() == this);
    if (this_worker() != this) {
        push_remote(thread);
        return;
    }
    thread.m_state = Thread::State::Runnable;
    push_back(thread);
    after_push();
}

SIGNET_HOT bool Worker::wake(Thread& thread)
{
    // 1. Claim the wake-up: a parked thread becomes ours to make runnable; any
    //    other just learns that its next block must return at once.
    uint8_t sleep = thread.m_sleep.load(std::memory_order_acquire);
    for (;;) {
        if (sleep == Thread::WakePending)
            return false;
        uint8_t desired = sleep == Thread::Parked ? Thread::Awake : Thread::WakePending;
        if (thread.m_sleep.compare_exchange_weak(sleep, desired, std::memory_order_acq_rel, std::memory_order_acquire)) {
            if (desired == Thread::WakePending)
                return false;
            break;
        }
    }
    // 2. Nobody else touches a parked thread. Woken from another worker, a
    //    single-threaded SIP comes along to the waker's worker: SIPs that talk
    //    end up sharing one (cross-core wake-ups cost tens of microseconds),
    //    and a pair split by a steal joins up again at its next message.
    Worker* here = this_worker();
    Worker* owner = thread.m_worker.load(std::memory_order_acquire);
    if (here && here != owner && !here->m_stop.load(std::memory_order_relaxed)
        && thread.sip().m_thread_count.load(std::memory_order_relaxed) == 1) {
        thread.m_worker.store(here, std::memory_order_release);
        thread.sip().m_home_worker = here;
        owner = here;
    }
    if (owner == here)
        return here->push_woken(thread);
    if (here)
        here->m_remote_wakes.fetch_add(1, std::memory_order_relaxed);
    owner->push_remote(thread);
    return false;
}

// --- Work stealing ----------------------------------------------------------

bool Worker::request_steal(Worker& thief)
{
    Worker* none = nullptr;
    return m_thief.compare_exchange_strong(none, &thief, std::memory_order_acq_rel);
}

void Worker::kick()
{
    if (!m_is_idle.load(std::memory_order_relaxed) || !m_is_idle.exchange(false, std::memory_order_relaxed))
        return;
    {
        std::lock_guard guard(m_lock);
        m_kicked = true;
    }
    signal_idle();
}

void Worker::answer_thief()
{
    Worker* thief = m_thief.exchange(nullptr, std::memory_order_acq_rel);
    if (!thief || thief == this)
        return;
    if (m_has_inbox.load(std::memory_order_relaxed))
        drain_inbox();
    // A whole SIP, and only one with a single thread (a SIP's threads share a
    // worker): the last one in the queue, which would wait longest here. Only
    // when more than one waits, or the one waiting was preempted: a lone thread
    // just woken by its partner runs next anyway, and moving it would split the pair.
    Thread* chosen = nullptr;
    Thread* before_chosen = nullptr;
    for (Thread *previous = nullptr, *thread = m_queue_head; thread; previous = thread, thread = thread->m_next_in_queue) {
        if (thread->sip().m_thread_count.load(std::memory_order_relaxed) == 1) {
            chosen = thread;
            before_chosen = previous;
        }
    }
    if (!chosen || (m_queue_length.load(std::memory_order_relaxed) < 2 && !chosen->m_preempted))
        return;
    if (before_chosen)
        before_chosen->m_next_in_queue = chosen->m_next_in_queue;
    else
        m_queue_head = chosen->m_next_in_queue;
    if (m_queue_tail == chosen)
        m_queue_tail = before_chosen;
    m_queue_length.store(m_queue_length.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    chosen->m_worker.store(thief, std::memory_order_release);
    chosen->sip().m_home_worker = thief;
    thief->m_steals.fetch_add(1, std::memory_order_relaxed);
    thief->push_remote(*chosen);
}

// --- Switching --------------------------------------------------------------

void Worker::stop_running(Thread& thread, Thread::State state)
{
    // The thread gives up its SIP's turn, unless it was preempted: then no
    // sibling may run in the middle of it.
    thread.m_state = state;
    Sip& sip = thread.sip();
    if (!thread.m_preempted && sip.m_turn == &thread)
        sip.m_turn = nullptr;
}

void Worker::keep_running(Thread& thread)
{
    thread.m_state = Thread::State::Running;
    thread.sip().m_turn = &thread;
}

void Worker::run()
{
    t_worker = this;
#ifdef SIGNET_ASAN_FIBERS
    // AddressSanitizer is told of every switch, with the stack it goes to: the
    // fibers' and, for the idle context, this host thread's.
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
        pthread_attr_getstack(&attributes, &m_host_stack, &m_host_stack_size);
        pthread_attr_destroy(&attributes);
    }
#endif
    m_host_tid.store(::gettid(), std::memory_order_relaxed);
    if (m_wake_fd < 0 || m_idle_epoll < 0) {
        std::fprintf(stderr, "signet: worker %u: no descriptors for its idle wait (eventfd, epoll)\n", m_index);
        return;
    }
    if (auto result = prepare_thread_for_sip_code(); result.is_error()) {
        std::fprintf(stderr, "signet: worker %u: %s\n", m_index, result.error().message().c_str());
        return;
    }
    while (Thread* next = wait_for_work())
        switch_to(next);
    t_worker = nullptr;
}

Thread* Worker::wait_for_work()
{
    for (;;) {
        if (m_stop.load(std::memory_order_relaxed))
            return nullptr;
        if (m_thief.load(std::memory_order_relaxed))
            answer_thief();
        if (Thread* next = pick_next())
            return next;
        // Idle: ask a busy worker for a SIP (it answers at its next switch, into
        // the inbox), and sleep until something arrives, someone kicks us or an
        // idle source (a socket) is ready. A wake-up between the check and the
        // sleep is not lost: it leaves the eventfd readable.
        m_scheduler.request_steal_for(*this);
        std::unique_lock guard(m_lock);
        m_is_idle.store(true, std::memory_order_relaxed);
        if (!m_kicked && !m_inbox_head && !m_stop.load(std::memory_order_relaxed)) {
            guard.unlock();
            sleep_idle();
            guard.lock();
        }
        m_kicked = false;
        m_is_idle.store(false, std::memory_order_relaxed);
    }
}

SIGNET_HOT void Worker::charge(Thread* previous)
{
    uint64_t now = __builtin_ia32_rdtsc();
    uint64_t spent = now - m_charged_until;
    m_charged_until = now;
    if (!previous)
        return;
    Sip& sip = previous->sip();
    // One writer at a time (the SIP's threads run one at a time): no read-modify-write.
    uint64_t ticks = sip.m_cpu_ticks.load(std::memory_order_relaxed) + spent;
    sip.m_cpu_ticks.store(ticks, std::memory_order_relaxed);
    if (sip.over_cpu_limit() && previous->m_state != Thread::State::Dead && !previous->kill_requested())
        sip.end_over_cpu_limit();
}

SIGNET_HOT void Worker::switch_to(Thread* next)
{
    Thread* previous = m_current;
    // The clock is read when the worker passes from one SIP to another (or to
    // or from its idle context), not between threads of one SIP.
    if (!previous || !next || &previous->sip() != &next->sip() || ++m_same_sip_switches % same_sip_charge_interval == 0)
        charge(previous);
    // Each thread of a SIP has its own shadow stack in linear memory: the SIP's
    // stack-pointer global is saved with the thread that leaves and restored
    // for the one that comes.
    if (previous && previous->m_stack_pointer_global && previous->m_state != Thread::State::Dead) {
        previous->m_stack_pointer = *previous->m_stack_pointer_global;
        previous->m_stack_pointer_valid = true;
    }
    m_switches.store(m_switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    fctx::fcontext_t target;
    if (next) {
        // Point the runtime at the SIP and the fiber about to run, so traps and
        // faults are attributed to them.
        Sip& sip = next->sip();
        SipContext& context = sip.runtime();
        sip.m_turn = next;
        if (next->m_stack_pointer_global && next->m_stack_pointer_valid)
            *next->m_stack_pointer_global = next->m_stack_pointer;
        context.trap_target = &next->m_trap_target;
        context.stack = { next->m_stack.guard_low(), next->m_stack.low(), next->m_stack.high() };
        next->m_state = Thread::State::Running;
        current_sip_context = &context;
        if (!previous) {
            m_running_fiber.store(true, std::memory_order_relaxed);
            m_scheduler.preempt_doorbell()->ring(); // a sleeping watchdog ticks again
        }
        target = next->m_context;
    } else {
        current_sip_context = nullptr;
        m_running_fiber.store(false, std::memory_order_relaxed);
        target = m_idle_context;
    }
    m_current = next;
    t_current = next;
    m_leaving = previous;
#ifdef SIGNET_ASAN_FIBERS
    void* fake_stack = nullptr; // this context's, kept in its own frame until it resumes
    bool leaving_for_good = previous && previous->m_state == Thread::State::Dead;
    if (next)
        __sanitizer_start_switch_fiber(leaving_for_good ? nullptr : &fake_stack, reinterpret_cast<void*>(next->m_stack.low()),
            next->m_stack.high() - next->m_stack.low());
    else
        __sanitizer_start_switch_fiber(leaving_for_good ? nullptr : &fake_stack, m_host_stack, m_host_stack_size);
#endif
    fctx::transfer_t back = signet_switch_context(target, this);
#ifdef SIGNET_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
    // Resumed, possibly on another worker: the one that switched here.
    static_cast<Worker*>(back.data)->finish_switch(back.fctx);
    // A thread of a suspended SIP goes no further than the switch that resumes it.
    if (Sip::any_suspended() && previous && previous->sip().suspended()) [[unlikely]]
        hold_suspended(*previous);
}

void Worker::hold_suspended(Thread& self)
{
    if (self.m_holding || self.kill_requested())
        return; // already held (woken for something else), or leaving
    self.m_holding = true;
    self.sip().hold_while_suspended(self);
    self.m_holding = false;
}

SIGNET_HOT void Worker::finish_switch(fctx::fcontext_t left)
{
    Thread* previous = m_leaving;
    if (!previous) {
        m_idle_context = left;
    } else {
        previous->m_context = left;
        switch (previous->m_state) {
        case Thread::State::Runnable:
            break; // Queued before the switch.
        case Thread::State::Blocked: {
            // Park it now that its stack is free; a wake-up that came meanwhile
            // makes it runnable again instead.
            uint8_t awake = Thread::Awake;
            if (!previous->m_sleep.compare_exchange_strong(awake, Thread::Parked, std::memory_order_acq_rel)) {
                previous->m_sleep.store(Thread::Awake, std::memory_order_relaxed);
                previous->m_state = Thread::State::Runnable;
                push_back(*previous);
            }
            break;
        }
        case Thread::State::Dead:
            // Dead fibers switch to the idle context, whose stack this is.
            VERIFY(!m_current);
            m_scheduler.reaper()(*previous);
            break;
        case Thread::State::Running:
            VERIFY_NOT_REACHED();
        }
    }
    if (m_thief.load(std::memory_order_relaxed))
        answer_thief();
}

void Worker::fiber_main(fctx::transfer_t transfer)
{
#ifdef SIGNET_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
    auto* worker = static_cast<Worker*>(transfer.data);
    worker->finish_switch(transfer.fctx);
    Thread* self = t_current;
    worker->m_scheduler.entry()(*self);
    VERIFY_NOT_REACHED();
}

// A yield is flattened: the run-queue step, the switch and what follows it
// become one function, with no calls between them (20.3 -> ~18 ns a round
// trip). It reads its worker inline: it reads none after the switch (where the
// fiber may be on another worker).
__attribute__((flatten)) bool Worker::yield_current()
{
    Worker* worker = t_worker;
    Thread* self = worker->m_current;
    if (!worker->m_queue_head && !worker->m_has_inbox.load(std::memory_order_relaxed)) {
        // Nobody else to run: keep going (unless its SIP is suspended: a switch would have held it).
        if (Sip::any_suspended() && self->sip().suspended()) [[unlikely]]
            hold_suspended(*self);
        return self->kill_requested();
    }
    stop_running(*self, Thread::State::Runnable);
    Thread* next = worker->pick_next();
    if (!next && !worker->m_stop.load(std::memory_order_relaxed)) {
        keep_running(*self);
        return self->kill_requested();
    }
    worker->push_back(*self);
    worker->switch_to(next);
    return self->kill_requested();
}

void Worker::yield_current_always()
{
    Worker* worker = this_worker();
    Thread* self = t_current;
    stop_running(*self, Thread::State::Runnable);
    Thread* next = worker->pick_next();
    if (!next && !worker->m_stop.load(std::memory_order_relaxed)) {
        // Alone here: account the time and check the limits, and go on.
        keep_running(*self);
        worker->m_switches.store(worker->m_switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        worker->charge(self);
        // Nothing here for a thief either: let it know by clearing its request.
        if (worker->m_thief.load(std::memory_order_relaxed))
            worker->answer_thief();
        return;
    }
    worker->push_back(*self);
    // Preempted with others waiting: more is runnable here than this worker can run.
    worker->m_scheduler.kick_idle_worker(*worker);
    worker->switch_to(next);
}

void Worker::hand_off()
{
    Worker* worker = this_worker();
    Thread* self = t_current;
    if (!self)
        return;
    stop_running(*self, Thread::State::Runnable);
    Thread* next = worker->pick_next();
    if (!next) {
        if (!worker->m_stop.load(std::memory_order_relaxed)) {
            keep_running(*self);
            return;
        }
        worker->push_back(*self);
    } else {
        worker->push_front(*self);
    }
    worker->switch_to(next);
}

SIGNET_HOT void Worker::block_current()
{
    Thread* self = t_current;
    // Only this thread moves its word out of WakePending: no race here.
    if (self->m_sleep.load(std::memory_order_acquire) == Thread::WakePending) {
        self->m_sleep.store(Thread::Awake, std::memory_order_relaxed);
        return;
    }
    Worker* worker = this_worker();
    std::atomic<uint32_t>* hint = self->blocked_hint();
    if (hint)
        hint->store(1, std::memory_order_relaxed);
    stop_running(*self, Thread::State::Blocked);
    worker->switch_to(worker->pick_next());
    if (hint)
        hint->store(0, std::memory_order_relaxed);
}

uint64_t Sip::cpu_time_ns() const
{
    return tsc_ticks_to_ns(m_cpu_ticks.load(std::memory_order_relaxed));
}

uint64_t Worker::uncharged_ticks()
{
    Worker* worker = this_worker();
    uint64_t now = __builtin_ia32_rdtsc();
    return now > worker->m_charged_until ? now - worker->m_charged_until : 0;
}

// Never goes back for its SIP's threads: a SIP's threads run one at a time, so
// between two reads only the reader's own worker charges the SIP, and a charge
// moves the ticks from uncharged_ticks() to m_cpu_ticks, leaving the sum as it
// was. A SIP that moves to another worker was charged when it left the first,
// and the second counts from when it switched to it, on the same clock.
uint64_t Sip::cpu_clock_ns() const
{
    if (domain_cpu_time)
        return domain_cpu_time();
    uint64_t ticks = m_cpu_ticks.load(std::memory_order_relaxed);
    if (Thread* current = t_current; current && &current->sip() == this)
        ticks += Worker::uncharged_ticks();
    return tsc_ticks_to_ns(ticks);
}

SIGNET_HOT Thread* Worker::current_thread()
{
    return t_current;
}

void Worker::exit_current()
{
    Worker* worker = this_worker();
    Thread* self = t_current;
    stop_running(*self, Thread::State::Dead);
    // The reaper frees the stack we are on: it runs on the idle context's.
    worker->switch_to(nullptr);
    VERIFY_NOT_REACHED();
}

} // namespace signet
