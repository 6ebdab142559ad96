#include "kernel/sched/Scheduler.h"
#include "kernel/object/Sip.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace signet {

Scheduler::Scheduler(unsigned worker_count, ThreadEntry entry, ThreadReaper reaper)
    : m_entry(entry)
    , m_reaper(std::move(reaper))
{
    if (worker_count == 0)
        worker_count = 1;
    for (unsigned i = 0; i < worker_count; ++i)
        m_workers.push_back(std::make_unique<Worker>(*this, i));
}

Scheduler::~Scheduler()
{
    stop();
}

void Scheduler::start()
{
    if (m_started)
        return;
    m_started = true;
    for (auto& worker : m_workers)
        worker->start();
}

void Scheduler::stop()
{
    for (auto& worker : m_workers)
        worker->request_stop();
    for (auto& worker : m_workers)
        worker->join();
}

Worker& Scheduler::pick_worker()
{
    // Round robin. SIPs that talk come together later: a single-threaded SIP
    // woken from another worker moves to it (Worker::wake).
    unsigned i = m_next_worker.fetch_add(1, std::memory_order_relaxed);
    return *m_workers[i % m_workers.size()];
}

bool Scheduler::request_steal_for(Worker& thief)
{
    for (auto& worker : m_workers) {
        if (worker.get() != &thief && worker->running_fiber() && worker->has_waiting() && worker->request_steal(thief))
            return true;
    }
    return false;
}

void Scheduler::kick_idle_worker(Worker& busy)
{
    for (auto& worker : m_workers) {
        // A racy read is fine: a missed kick only delays a steal until the next one.
        if (worker.get() != &busy && worker->is_idle()) {
            worker->kick();
            return;
        }
    }
}

bool Scheduler::add_idle_source(Worker::IdleSource const& source)
{
    bool all = true;
    for (auto& worker : m_workers)
        all = worker->add_idle_source(source) && all;
    return all;
}

void Scheduler::prepare(Thread& thread)
{
    Sip& sip = thread.sip();
    uint32_t offset = sip.image().entry().stack_pointer_offset;
    if (offset != SIGNET_IMAGE_NO_STACK_POINTER)
        thread.m_stack_pointer_global = reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(sip.instance()) + offset);
#if defined(__SANITIZE_ADDRESS__)
    // A reused stack still carries the poison of the frames its last fiber
    // left for good; AddressSanitizer would take it for this fiber's.
    __asan_unpoison_memory_region(reinterpret_cast<void*>(thread.stack().low()), thread.stack().high() - thread.stack().low());
#endif
    // make_fcontext puts its own small frame at the top of the stack.
    thread.m_context = fctx::make_fcontext(reinterpret_cast<void*>(thread.stack().high()), thread.stack().usable, &Worker::fiber_main);
}

} // namespace signet
