// A worker: one host thread that runs SIP threads (fibers) from its run queue.
//
// Fibers always switch back to the worker's scheduler context when they
// yield, block or die; the scheduler then picks the next one. A blocked
// thread is "parked" only once its fiber has fully switched out, so a wake-up
// that races with the block is never lost (see Worker::after_switch).
#pragma once

#include "kernel/object/Thread.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
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

    // Makes a new or woken thread runnable. Callable from any host thread.
    void enqueue(Thread&);
    // Wakes a blocked thread (or records the wake if it has not parked yet).
    void wake(Thread&);

    unsigned index() const { return m_index; }
    uint64_t switches() const { return m_switches.load(std::memory_order_relaxed); }
    // Whether a fiber runs on this worker right now (read by the preemption watchdog).
    bool running_fiber() const { return m_running_fiber.load(std::memory_order_relaxed); }
    pid_t host_tid() const { return m_host_tid.load(std::memory_order_relaxed); }
    bool is_idle() const { return m_is_idle; }
    uint64_t steals() const { return m_steals.load(std::memory_order_relaxed); }
    // Work stealing: moves one runnable single-threaded SIP from `victim` to this worker.
    Thread* steal_one_from(Worker& victim);
    void kick() { m_idle.notify_one(); }

    // On the calling fiber: give the worker to the next runnable thread.
    static void yield_current();
    // Switches to the scheduler even when nothing else is runnable, so the
    // thread's time is accounted and its limits checked (the preemption path).
    static void yield_current_always();
    // On the calling fiber: sleep until wake(). Returns early (and possibly
    // spuriously): callers re-check their condition in a loop.
    static void block_current();
    // The thread running on this host thread, or null in kernel context.
    static Thread* current_thread();
    // Ends the calling fiber. Called once, from the fiber's entry function.
    [[noreturn]] static void exit_current();

    // The entry point of every fiber (see Scheduler::prepare).
    static void fiber_main(fctx::transfer_t);

private:
    void run();
    Thread* pop_or_wait();
    // Runs `thread` until it gives the worker back; returns whether it was preempted.
    bool switch_to(Thread&);
    void after_switch(Thread&, bool preempted);
    static void switch_to_scheduler(Thread::State);

    Scheduler& m_scheduler;
    unsigned m_index;
    std::thread m_host_thread;

    std::mutex m_lock;
    std::condition_variable m_idle;
    Thread* m_queue_head { nullptr };
    Thread* m_queue_tail { nullptr };
    bool m_stop { false };
    uint32_t m_handoff_streak { 0 };
    std::atomic<bool> m_is_idle { false };
    std::atomic<uint64_t> m_steals { 0 };

    fctx::fcontext_t m_scheduler_context { nullptr };
    std::atomic<uint64_t> m_switches { 0 };
    std::atomic<bool> m_running_fiber { false };
    std::atomic<pid_t> m_host_tid { 0 };
};

} // namespace signet
