// A worker: one host thread that runs SIP threads (fibers) from its run queue.
//
// Switches go straight from one fiber to the next (Worker::switch_to): a
// fiber that yields, blocks or sends to a thread it woke picks its successor
// itself and jumps to it. The worker's own host stack (its "idle context")
// runs only when nothing is runnable, and to reap a fiber that died.
//
// The run queue is owned by the worker's host thread and touched by nobody
// else, so it takes no lock. Other host threads reach a worker through its
// inbox (locked): wake-ups of its threads from elsewhere, new threads, and
// SIPs an idle worker asked it for (work stealing is a request the victim
// answers at its next switch). A thread's sleep state is one atomic word, so
// a wake-up racing with a block is never lost: a blocked thread is parked only
// once its fiber has fully switched out (see Worker::finish_switch).
#pragma once

#include "kernel/object/Thread.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <sys/types.h>
#include <thread>

namespace signet {

class Scheduler;

class Worker {
public:
    Worker(Scheduler& scheduler, unsigned index);
    ~Worker();

    void start();
    void request_stop();
    void join();

    // Makes a new thread runnable on this worker. Callable from any host thread.
    void enqueue(Thread&);
    // Wakes a blocked thread (or records the wake if it has not parked yet).
    // Callable from any host thread. Returns true if the thread was handed off:
    // it is now first in the calling worker's run queue, so the caller (a
    // fiber) may switch to it at once with hand_off().
    static bool wake(Thread&);

    unsigned index() const { return m_index; }
    uint64_t switches() const { return m_switches.load(std::memory_order_relaxed); }
    // Whether a fiber runs on this worker right now (read by the preemption watchdog).
    bool running_fiber() const { return m_running_fiber.load(std::memory_order_relaxed); }
    pid_t host_tid() const { return m_host_tid.load(std::memory_order_relaxed); }
    bool is_idle() const { return m_is_idle.load(std::memory_order_relaxed); }
    uint64_t steals() const { return m_steals.load(std::memory_order_relaxed); }
    // Threads this worker's fibers woke that stayed on (and were queued to) another worker.
    uint64_t remote_wakes() const { return m_remote_wakes.load(std::memory_order_relaxed); }
    // Threads waiting in the run queue (racy when read from elsewhere).
    uint32_t queue_length() const { return m_queue_length.load(std::memory_order_relaxed); }
    // Threads waiting here: in the run queue or the inbox (racy when read from elsewhere).
    bool has_waiting() const { return queue_length() > 0 || m_has_inbox.load(std::memory_order_relaxed); }
    // Work stealing: asks this (busy) worker to give `thief` a SIP at its next switch.
    bool request_steal(Worker& thief);
    // Whether a thief waits for an answer (the preemption watchdog then ends the running fiber's turn early).
    bool steal_requested() const { return m_thief.load(std::memory_order_relaxed) != nullptr; }
    // Wakes this worker if it is idle, so that it looks for work to steal.
    void kick();

    // Something an idle worker waits for besides work: when `fd` is readable, the
    // worker calls `ready(context)` from its idle context, which may wake threads
    // (the kernel's network poller, whose epoll set it is: a socket that becomes
    // ready wakes an idle worker directly, with no host thread in between). The
    // source must outlive the worker's run. Callable from any host thread.
    struct IdleSource {
        int fd;
        void (*ready)(void* context);
        void* context;
    };
    bool add_idle_source(IdleSource const&);

    // On the calling fiber: give the worker to the next runnable thread.
    // Returns whether the thread was asked to end meanwhile (it must leave).
    static bool yield_current();
    // The preemption path: the thread goes to the back of the queue and keeps its
    // SIP's turn; its time is accounted even if nothing else is runnable.
    static void yield_current_always();
    // On the calling fiber, right after wake() returned true: run the woken
    // thread now; the caller runs next.
    static void hand_off();
    // On the calling fiber: sleep until wake(). Returns early (and possibly
    // spuriously): callers re-check their condition in a loop.
    static void block_current();
    // On the calling fiber, `self`: sleeps while its SIP is suspended (and it is
    // not killed). Every switch back to a fiber ends here when its SIP is
    // suspended; so do preemption and a yield with nothing else to run.
    static void hold_suspended(Thread& self);
    // The thread running on this host thread, or null in kernel context.
    static Thread* current_thread();
    // On a fiber: the TSC ticks its worker has run since it last charged a SIP.
    // All of them are the running SIP's (a worker charges whenever it passes
    // from one SIP to another, or to or from its idle context).
    static uint64_t uncharged_ticks();
    // Ends the calling fiber. Called once, from the fiber's entry function.
    [[noreturn]] static void exit_current();

    // The entry point of every fiber (see Scheduler::prepare).
    static void fiber_main(fctx::transfer_t);

private:
    void run();
    // The idle context: waits for work, stealing if it can; null once stopped.
    Thread* wait_for_work();
    // The next thread to run, or null. Drains the inbox and answers a thief first.
    Thread* pick_next();
    // Leaves the current context (a fiber or the idle loop) for `next` (null: the idle loop).
    void switch_to(Thread* next);
    // In the context just resumed, on the worker that switched to it (the
    // switch passes it as its data): what the context left (m_leaving) needs
    // done now that its stack is free (save its context; park, re-queue or reap
    // its thread).
    void finish_switch(fctx::fcontext_t left);
    // The running thread stops (yield, block, exit) or, with nothing to switch to, goes on.
    static void stop_running(Thread&, Thread::State);
    static void keep_running(Thread&);
    // Reads the clock and charges the time since the last charge to the SIP
    // of `previous` (null: the idle context), checking its CPU limit.
    void charge(Thread* previous);

    // The run queue, touched only by this worker's host thread.
    void push_back(Thread&);
    void push_front(Thread&);
    // A thread that became runnable on this worker, from this worker: the
    // hand-off rule decides where it goes; returns whether it went first.
    bool push_woken(Thread&);
    // From any other host thread: into the inbox.
    void push_remote(Thread&);
    void drain_inbox();
    void answer_thief();
    void after_push();
    // The idle wait: until signal_idle(), or an idle source is ready (whose work it then does).
    void sleep_idle();
    void signal_idle();

    Scheduler& m_scheduler;
    unsigned m_index;
    std::thread m_host_thread;

    // Owner-only state.
    Thread* m_current { nullptr };
    Thread* m_queue_head { nullptr };
    Thread* m_queue_tail { nullptr };
    uint32_t m_handoff_streak { 0 };
    uint32_t m_same_sip_switches { 0 };
    uint64_t m_charged_until { 0 };
    fctx::fcontext_t m_idle_context { nullptr };
    Thread* m_leaving { nullptr }; // the thread switch_to leaves (null: the idle context), for finish_switch
#if defined(__SANITIZE_ADDRESS__)
    void* m_host_stack { nullptr }; // this host thread's stack, for AddressSanitizer's fiber switches
    size_t m_host_stack_size { 0 };
#endif

    // Shared with other host threads.
    std::mutex m_lock; // guards the inbox, m_kicked and the idle wait
    // The idle wait: an epoll set of an eventfd that others write to wake this
    // worker (signal_idle) and of the idle sources.
    int m_wake_fd { -1 };
    int m_idle_epoll { -1 };
    Thread* m_inbox_head { nullptr };
    Thread* m_inbox_tail { nullptr };
    bool m_kicked { false };
    std::atomic<bool> m_has_inbox { false };
    std::atomic<bool> m_stop { false };
    std::atomic<bool> m_is_idle { false };
    std::atomic<Worker*> m_thief { nullptr };
    std::atomic<uint32_t> m_queue_length { 0 };
    std::atomic<uint64_t> m_steals { 0 };
    std::atomic<uint64_t> m_remote_wakes { 0 };
    std::atomic<uint64_t> m_switches { 0 };
    std::atomic<bool> m_running_fiber { false };
    std::atomic<pid_t> m_host_tid { 0 };
};

} // namespace signet
