#include "kernel/NetPoller.h"

#include "base/Verify.h"
#include "kernel/sched/Worker.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <sys/epoll.h>
#include <unistd.h>

namespace signet {

namespace {

using Calls = std::vector<std::shared_ptr<Kernel::HostCall>>;

// Marks the calls done and wakes their threads: without the state's lock, so that a
// woken thread that runs at once on this CPU does not find it held.
void complete(Calls& calls)
{
    for (auto& call : calls) {
        std::lock_guard guard(call->lock);
        call->done = true;
        if (call->waiter)
            Worker::wake(*call->waiter);
    }
    calls.clear();
}

// Moves what is in `from` to the end of `to`.
void take(Calls& to, Calls& from)
{
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    from.clear();
}

} // namespace

NetPoller::State::~State()
{
    if (epoll >= 0)
        ::close(epoll);
}

bool NetPoller::State::rearm(int fd, Waiters& waiters, bool added)
{
    uint32_t events = 0;
    if (!waiters.readers.empty())
        events |= EPOLLIN | EPOLLRDHUP;
    if (!waiters.writers.empty())
        events |= EPOLLOUT;
    if (events == 0) {
        if (added)
            (void)epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
        return true;
    }
    // One shot: a ready socket is reported once, to the waiters of that moment.
    epoll_event event {};
    event.events = events | EPOLLONESHOT;
    event.data.fd = fd;
    return epoll_ctl(epoll, added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) == 0;
}

ErrorOr<std::unique_ptr<NetPoller>> NetPoller::create(Kernel& kernel)
{
    auto state = std::make_shared<State>();
    state->epoll = epoll_create1(EPOLL_CLOEXEC);
    if (state->epoll < 0)
        return Error::from_errno("network poller: epoll_create1", errno);
    std::unique_ptr<NetPoller> poller(new NetPoller(kernel, state));
    // The workers are stopped before the poller goes (~Kernel), so the source outlives their runs.
    if (!kernel.scheduler().add_idle_source(poller->m_idle_source))
        (void)kernel.diagnostics().write("signet: network poller: an idle worker cannot watch the sockets (epoll_ctl: "
            + std::string(std::strerror(errno)) + "); they are looked at every 1 to 32 ms instead\n");
    poller->m_thread = std::thread(&NetPoller::loop, state);
    return poller;
}

NetPoller::~NetPoller()
{
    {
        std::lock_guard guard(m_state->sleep_lock);
        m_state->stopping = true;
    }
    m_state->sleep.notify_all();
    m_thread.join();
}

int NetPoller::State::harvest()
{
    epoll_event events[64];
    int count = std::max(0, epoll_wait(epoll, events, 64, 0));
    Calls ready;
    int sockets = 0;
    {
        std::lock_guard guard(lock);
        for (int i = 0; i < count; ++i) {
            int fd = events[i].data.fd;
            auto it = watched.find(fd);
            if (it == watched.end())
                continue;
            ++sockets;
            uint32_t happened = events[i].events;
            if (happened & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                take(ready, it->second.readers);
            if (happened & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                take(ready, it->second.writers);
            if (!rearm(fd, it->second, true)) {
                take(ready, it->second.readers);
                take(ready, it->second.writers);
            }
            if (it->second.readers.empty() && it->second.writers.empty())
                watched.erase(it);
        }
    }
    complete(ready);
    return sockets;
}

void NetPoller::on_idle_ready(void* state)
{
    (void)static_cast<State*>(state)->harvest();
}

void NetPoller::loop(std::shared_ptr<State> state)
{
    // An idle worker takes what is ready as soon as it is: a look that finds
    // nothing means the workers keep up, and the next one comes later.
    auto look = min_look;
    std::unique_lock guard(state->sleep_lock);
    while (!state->stopping) {
        state->sleep.wait_for(guard, look);
        if (state->stopping)
            return;
        guard.unlock();
        int ready = state->harvest();
        guard.lock();
        look = ready > 0 ? min_look : std::min<std::chrono::milliseconds>(look * 2, max_look);
    }
}

bool NetPoller::watch(int fd, Direction direction, std::shared_ptr<Kernel::HostCall> const& call)
{
    std::lock_guard guard(m_state->lock);
    auto [it, inserted] = m_state->watched.try_emplace(fd);
    (direction == Direction::Read ? it->second.readers : it->second.writers).push_back(call);
    if (m_state->rearm(fd, it->second, !inserted))
        return true;
    std::erase(it->second.readers, call);
    std::erase(it->second.writers, call);
    if (it->second.readers.empty() && it->second.writers.empty())
        m_state->watched.erase(it);
    return false;
}

void NetPoller::unwatch(int fd, std::shared_ptr<Kernel::HostCall> const& call)
{
    Calls failed;
    {
        std::lock_guard guard(m_state->lock);
        if (auto it = m_state->watched.find(fd); it != m_state->watched.end()) {
            std::erase(it->second.readers, call);
            std::erase(it->second.writers, call);
            if (!m_state->rearm(fd, it->second, true)) {
                take(failed, it->second.readers);
                take(failed, it->second.writers);
            }
            if (it->second.readers.empty() && it->second.writers.empty())
                m_state->watched.erase(it);
        }
    }
    complete(failed);
}

NetPoller::Wait NetPoller::wait(int fd, Direction direction, uint64_t deadline_ns)
{
    Thread* self = Worker::current_thread();
    VERIFY(self);
    auto call = std::make_shared<Kernel::HostCall>();
    call->waiter = self;
    if (!watch(fd, direction, call))
        return Wait::Ready; // Not a socket epoll can watch: this thread tries again and meets the real error.
    std::shared_ptr<Kernel::HostCall> timer;
    if (deadline_ns != UINT64_MAX)
        timer = m_kernel.arm_timer(*self, deadline_ns);
    Wait result;
    for (;;) {
        bool ready = false;
        bool timed_out = false;
        {
            std::lock_guard guard(call->lock);
            ready = call->done;
        }
        if (timer) {
            std::lock_guard guard(timer->lock);
            timed_out = timer->done;
        }
        if (ready || timed_out || self->kill_requested()) {
            result = ready ? Wait::Ready : timed_out ? Wait::TimedOut : Wait::Killed;
            break;
        }
        Worker::block_current();
    }
    if (timer)
        m_kernel.cancel_timer(timer);
    // No longer a waiter: nothing wakes this thread for the socket from here on (the
    // poller may hold the call already, outside its lock: it then finds no waiter).
    {
        std::lock_guard guard(call->lock);
        call->waiter = nullptr;
    }
    unwatch(fd, call);
    return result;
}

} // namespace signet
