#include "runtime/Preempt.h"
#include "runtime/SipContext.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <sys/syscall.h>
#include <time.h>
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

std::atomic<uint64_t> s_signals_sent { 0 };
std::atomic<uint64_t> s_ticks { 0 };
void (*s_preempt_point)() = nullptr;

// PreemptTimer's view of its one host thread; set before the timer is armed,
// then touched only by the handler on that thread.
struct TimerTicks {
    std::atomic<uint64_t> const* switches { nullptr };
    std::atomic<bool> const* running_fiber { nullptr };
    uint64_t quantum_ns { 0 };
    uint64_t last_switches { 0 };
    uint64_t since_ns { 0 }; // the thread's CPU time when the tick first saw this fiber
};
TimerTicks s_timer;

uint64_t thread_cpu_ns()
{
    timespec now {};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return uint64_t(now.tv_sec) * 1'000'000'000 + uint64_t(now.tv_nsec);
}

// With PreemptTimer: whether this tick ends the running fiber's quantum. Linux
// checks CPU-time timers at its scheduler tick (4 ms at 250 Hz), so the ticks
// come late and are not counted: the thread's CPU clock says how long the fiber
// has run, to within a tick.
bool timer_says_preempt()
{
    uint64_t switches = s_timer.switches->load(std::memory_order_relaxed);
    uint64_t now = thread_cpu_ns();
    if (!s_timer.running_fiber->load(std::memory_order_relaxed) || switches != s_timer.last_switches) {
        s_timer.last_switches = switches;
        s_timer.since_ns = now;
        return false;
    }
    if (now - s_timer.since_ns < s_timer.quantum_ns)
        return false;
    // Every tick from now until it switches: this one may land outside SIP code.
    s_signals_sent.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void preempt_handler(int, siginfo_t* info, void* raw_context)
{
    int saved_errno = errno;
    if (info->si_code == SI_TIMER && s_timer.switches && !timer_says_preempt()) {
        errno = saved_errno;
        return;
    }
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

ErrorOr<void> PreemptTimer::start(std::chrono::microseconds quantum, std::atomic<uint64_t> const& switches, std::atomic<bool> const& running_fiber)
{
    if (s_timer.switches)
        return Error::invalid("preemption timer: started already in this process");
    auto tick = std::max(quantum / 4, std::chrono::microseconds(250));
    s_timer.quantum_ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(quantum).count());
    s_timer.last_switches = switches.load(std::memory_order_relaxed);
    s_timer.since_ns = thread_cpu_ns();
    s_timer.running_fiber = &running_fiber;
    s_timer.switches = &switches;
    sigevent event {};
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = preempt_signal;
    event._sigev_un._tid = static_cast<pid_t>(::syscall(SYS_gettid));
    timer_t timer {};
    if (::timer_create(CLOCK_THREAD_CPUTIME_ID, &event, &timer) != 0)
        return Error::from_errno("preemption timer: timer_create", errno);
    auto const ns = std::chrono::duration_cast<std::chrono::nanoseconds>(tick).count();
    itimerspec every {};
    every.it_interval = { static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000) };
    every.it_value = every.it_interval;
    if (::timer_settime(timer, 0, &every, nullptr) != 0)
        return Error::from_errno("preemption timer: timer_settime", errno);
    return {};
}

uint64_t PreemptWatchdog::signals_sent()
{
    return s_signals_sent.load(std::memory_order_relaxed);
}

uint64_t PreemptWatchdog::ticks()
{
    return s_ticks.load(std::memory_order_relaxed);
}

PreemptWatchdog::PreemptWatchdog(unsigned host_threads, Look look, std::chrono::microseconds quantum, std::shared_ptr<PreemptDoorbell> doorbell)
    : m_host_threads(host_threads)
    , m_look(std::move(look))
    , m_quantum(quantum)
    , m_doorbell(std::move(doorbell))
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
    if (m_doorbell)
        m_doorbell->wake();
    m_thread.join();
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
    pid_t process = ::getpid();
    unsigned idle_ticks = 0; // in a row, with no host thread running a fiber
    std::unique_lock guard(m_lock);
    while (!m_stop) {
        m_stop_requested.wait_for(guard, tick);
        if (m_stop)
            break;
        s_ticks.fetch_add(1, std::memory_order_relaxed);
        bool any_running = false;
        for (unsigned i = 0; i < seen.size(); ++i) {
            HostThread host = m_look(i);
            any_running |= host.running_fiber;
            if (!host.running_fiber || host.switches != seen[i].switches) {
                seen[i] = { host.switches, 0 };
                continue;
            }
            if (++seen[i].ticks < (host.cut_short ? 1u : ticks_per_quantum))
                continue;
            if (host.tid > 0) {
                ::syscall(SYS_tgkill, process, host.tid, preempt_signal);
                s_signals_sent.fetch_add(1, std::memory_order_relaxed);
            }
            // Keep signalling each tick until it switches: the first signal may land outside SIP code.
            seen[i].ticks = ticks_per_quantum - 1;
        }
        idle_ticks = any_running ? 0 : idle_ticks + 1;
        if (m_doorbell && idle_ticks >= ticks_per_quantum) {
            guard.unlock();
            sleep_while_idle();
            guard.lock();
            idle_ticks = 0;
        }
    }
}

void PreemptWatchdog::sleep_while_idle()
{
    PreemptDoorbell& doorbell = *m_doorbell;
    doorbell.m_asleep.store(true, std::memory_order_relaxed);
    // Paired with the fence in PreemptDoorbell::ring.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (unsigned i = 0; i < m_host_threads; ++i) {
        if (m_look(i).running_fiber) {
            doorbell.m_asleep.store(false, std::memory_order_relaxed);
            return;
        }
    }
    std::unique_lock guard(doorbell.m_lock);
    doorbell.m_woken.wait(guard, [&] { return !doorbell.m_asleep.load(std::memory_order_relaxed) || m_stop.load(std::memory_order_relaxed); });
    doorbell.m_asleep.store(false, std::memory_order_relaxed);
}

} // namespace signet

// Called by the trampoline on the preempted fiber, in ordinary (not signal) context.
extern "C" void signet_preempt_point()
{
    signet::s_preempt_point();
}
