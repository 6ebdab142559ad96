#include "runtime/Preempt.h"
#include "runtime/SipContext.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <vector>

extern "C" void signet_preempt_trampoline();

namespace signet {

namespace {

constexpr int preempt_signal = SIGURG;
// The trampoline and the host's preempt point need a few KiB of the fiber's stack.
constexpr uintptr_t required_headroom = 16 * 1024;
constexpr uintptr_t red_zone = 128;
// A parking watchdog sleeps for good after this many ticks with no fiber running.
constexpr unsigned park_after_idle_ticks = 40;

std::atomic<uint64_t> s_signals_sent { 0 };
void (*s_preempt_point)() = nullptr;

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

void PreemptWatchdog::install_handler(void (*preempt_point)())
{
    static std::once_flag once;
    std::call_once(once, [preempt_point] {
        s_preempt_point = preempt_point;
        struct sigaction action {};
        action.sa_sigaction = preempt_handler;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigemptyset(&action.sa_mask);
        sigaction(preempt_signal, &action, nullptr);
    });
}

uint64_t PreemptWatchdog::signals_sent()
{
    return s_signals_sent.load(std::memory_order_relaxed);
}

PreemptWatchdog::PreemptWatchdog(unsigned host_threads, Look look, std::chrono::microseconds quantum, Parking parking)
    : m_host_threads(host_threads)
    , m_look(std::move(look))
    , m_quantum(quantum)
    , m_parking(parking)
{
    m_thread = std::thread([this] { watch(); });
}

PreemptWatchdog::~PreemptWatchdog()
{
    {
        std::lock_guard guard(m_lock);
        m_stop = true;
        m_stop_requested.notify_all();
    }
    wake();
    m_thread.join();
}

void PreemptWatchdog::wake()
{
    if (m_parked.exchange(0, std::memory_order_seq_cst))
        m_parked.notify_one();
}

void PreemptWatchdog::watch()
{
    // A host thread is signalled once it ran the same fiber for `quantum`; ticks are a quarter of that.
    auto tick = std::max(m_quantum / 4, std::chrono::microseconds(250));
    unsigned const ticks_per_quantum = static_cast<unsigned>(std::max<int64_t>(1, m_quantum / tick));
    struct Seen {
        uint64_t switches { 0 };
        unsigned ticks { 0 };
    };
    std::vector<Seen> seen(m_host_threads);
    unsigned idle_ticks = 0;
    pid_t process = ::getpid();
    std::unique_lock guard(m_lock);
    while (!m_stop) {
        m_stop_requested.wait_for(guard, tick);
        if (m_stop)
            break;
        bool any_running = false;
        for (unsigned i = 0; i < seen.size(); ++i) {
            HostThread host = m_look(i);
            if (!host.running_fiber || host.switches != seen[i].switches) {
                any_running |= host.running_fiber;
                seen[i] = { host.switches, 0 };
                continue;
            }
            any_running = true;
            if (++seen[i].ticks < (host.cut_short ? 1u : ticks_per_quantum))
                continue;
            if (host.tid > 0) {
                ::syscall(SYS_tgkill, process, host.tid, preempt_signal);
                s_signals_sent.fetch_add(1, std::memory_order_relaxed);
            }
            // Keep signalling each tick until it switches: the first signal may land outside SIP code.
            seen[i].ticks = ticks_per_quantum - 1;
        }
        if (m_parking == Parking::Never || any_running || ++idle_ticks < park_after_idle_ticks)
            continue;
        idle_ticks = 0;
        // Park. A host thread stores running_fiber and then reads m_parked (nudge);
        // here the order is the reverse, so one of the two sees the other.
        m_parked.store(1, std::memory_order_seq_cst);
        bool running = false;
        for (unsigned i = 0; i < seen.size(); ++i)
            running |= m_look(i).running_fiber;
        if (running) {
            m_parked.store(0, std::memory_order_relaxed);
            continue;
        }
        guard.unlock();
        m_parked.wait(1, std::memory_order_seq_cst);
        guard.lock();
    }
}

} // namespace signet

// Called by the trampoline on the preempted fiber, in ordinary (not signal) context.
extern "C" void signet_preempt_point()
{
    signet::s_preempt_point();
}
