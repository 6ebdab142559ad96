#include "kernel/sched/Preemption.h"
#include "kernel/object/Thread.h"
#include "kernel/sched/Scheduler.h"
#include "runtime/SipContext.h"

#include <cerrno>
#include <csignal>
#include <mutex>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <vector>

extern "C" void signet_preempt_trampoline();

namespace signet {

namespace {

constexpr int preempt_signal = SIGURG;
// The trampoline and the yield below it need a few KiB of the fiber's stack.
constexpr uintptr_t required_headroom = 16 * 1024;
constexpr uintptr_t red_zone = 128;

std::atomic<uint64_t> s_signals_sent { 0 };
std::atomic<uint64_t> s_preemptions { 0 };

void preempt_handler(int, siginfo_t*, void* raw_context)
{
    int saved_errno = errno;
    auto* context = static_cast<ucontext_t*>(raw_context);
    SipContext* sip = current_sip_context;
    auto& registers = context->uc_mcontext.gregs;
    auto pc = static_cast<uintptr_t>(registers[REG_RIP]);
    auto sp = static_cast<uintptr_t>(registers[REG_RSP]);
    // Act only on pure SIP code with room on its stack; anything else is retried next tick.
    if (sip && sip->pc_in_code(pc) && sp >= sip->stack.low + required_headroom && sp <= sip->stack.high) {
        sp -= red_zone;
        sp -= sizeof(uintptr_t);
        *reinterpret_cast<uintptr_t*>(sp) = pc;
        registers[REG_RSP] = static_cast<greg_t>(sp);
        registers[REG_RIP] = reinterpret_cast<greg_t>(&signet_preempt_trampoline);
    }
    errno = saved_errno;
}

} // namespace

void Preemption::install_handler()
{
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction action {};
        action.sa_sigaction = preempt_handler;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigemptyset(&action.sa_mask);
        sigaction(preempt_signal, &action, nullptr);
    });
}

Preemption::Preemption(Scheduler& scheduler, std::chrono::microseconds quantum)
    : m_scheduler(scheduler)
    , m_quantum(quantum)
{
    install_handler();
    m_thread = std::thread([this] { watch(); });
}

Preemption::~Preemption()
{
    {
        std::lock_guard guard(m_lock);
        m_stop = true;
        m_stop_requested.notify_all();
    }
    m_thread.join();
}

void Preemption::watch()
{
    // A worker is signalled once it ran the same fiber for `quantum`; ticks are a quarter of that.
    auto tick = std::max(m_quantum / 4, std::chrono::microseconds(250));
    unsigned const ticks_per_quantum = static_cast<unsigned>(std::max<int64_t>(1, m_quantum / tick));
    struct Seen {
        uint64_t switches { 0 };
        unsigned ticks { 0 };
    };
    std::vector<Seen> seen(m_scheduler.worker_count());
    pid_t process = ::getpid();
    std::unique_lock guard(m_lock);
    while (!m_stop) {
        m_stop_requested.wait_for(guard, tick);
        if (m_stop)
            break;
        for (unsigned i = 0; i < seen.size(); ++i) {
            Worker& worker = m_scheduler.worker(i);
            uint64_t switches = worker.switches();
            if (!worker.running_fiber() || switches != seen[i].switches) {
                seen[i] = { switches, 0 };
                continue;
            }
            // An idle worker waiting for this one to answer its steal request
            // (at a switch) cuts the quantum short: after one tick.
            if (++seen[i].ticks < (worker.steal_requested() ? 1u : ticks_per_quantum))
                continue;
            pid_t target = worker.host_tid();
            if (target > 0) {
                ::syscall(SYS_tgkill, process, target, preempt_signal);
                s_signals_sent.fetch_add(1, std::memory_order_relaxed);
            }
            // Keep signalling each tick until the worker switches: the first signal may land in kernel code.
            seen[i].ticks = ticks_per_quantum - 1;
        }
    }
}

uint64_t Preemption::signals_sent()
{
    return s_signals_sent.load(std::memory_order_relaxed);
}

uint64_t Preemption::preemptions()
{
    return s_preemptions.load(std::memory_order_relaxed);
}

} // namespace signet

// Called by the trampoline on the preempted fiber, in ordinary (not signal) context.
extern "C" void signet_preempt_point()
{
    using namespace signet;
    s_preemptions.fetch_add(1, std::memory_order_relaxed);
    Thread* self = Worker::current_thread();
    if (self && self->kill_requested())
        unwind_current(static_cast<int>(Unwind::Killed));
    // Keep the SIP's turn: a sibling thread must not run in the middle of this one.
    if (self)
        self->set_preempted(true);
    Worker::yield_current_always();
    if (self)
        self->set_preempted(false);
    if (self && self->kill_requested())
        unwind_current(static_cast<int>(Unwind::Killed));
}
