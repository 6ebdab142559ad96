#include "kernel/NetPoller.h"

#include "base/Verify.h"
#include "kernel/sched/Worker.h"

#include <algorithm>
#include <cerrno>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace signet {

namespace {

void complete(std::vector<std::shared_ptr<Kernel::HostCall>>& calls)
{
    for (auto& call : calls) {
        std::lock_guard guard(call->lock);
        call->done = true;
        if (call->waiter)
            Worker::wake(*call->waiter);
    }
    calls.clear();
}

} // namespace

NetPoller::State::~State()
{
    if (epoll >= 0)
        ::close(epoll);
    if (stop >= 0)
        ::close(stop);
}

void NetPoller::State::rearm(int fd, Waiters& waiters, bool added)
{
    uint32_t events = 0;
    if (!waiters.readers.empty())
        events |= EPOLLIN | EPOLLRDHUP;
    if (!waiters.writers.empty())
        events |= EPOLLOUT;
    if (events == 0) {
        if (added)
            (void)epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
        return;
    }
    // One shot: a ready socket is reported once, to the waiters of that moment.
    epoll_event event {};
    event.events = events | EPOLLONESHOT;
    event.data.fd = fd;
    if (epoll_ctl(epoll, added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) != 0) {
        // Not a socket epoll can watch: the waiters try again and meet the real error.
        complete(waiters.readers);
        complete(waiters.writers);
    }
}

ErrorOr<std::unique_ptr<NetPoller>> NetPoller::create(Kernel& kernel)
{
    auto state = std::make_shared<State>();
    state->epoll = epoll_create1(EPOLL_CLOEXEC);
    if (state->epoll < 0)
        return Error::from_errno("network poller: epoll_create1", errno);
    state->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (state->stop < 0)
        return Error::from_errno("network poller: eventfd", errno);
    epoll_event event {};
    event.events = EPOLLIN;
    event.data.fd = state->stop;
    if (epoll_ctl(state->epoll, EPOLL_CTL_ADD, state->stop, &event) != 0)
        return Error::from_errno("network poller: epoll_ctl", errno);
    std::unique_ptr<NetPoller> poller(new NetPoller(kernel, state));
    poller->m_thread = std::thread(&NetPoller::loop, state);
    return poller;
}

NetPoller::~NetPoller()
{
    uint64_t one = 1;
    (void)!::write(m_state->stop, &one, sizeof one);
    m_thread.join();
}

void NetPoller::loop(std::shared_ptr<State> state)
{
    epoll_event events[64];
    for (;;) {
        int count = epoll_wait(state->epoll, events, 64, -1);
        if (count < 0 && errno == EINTR)
            continue;
        if (count < 0)
            return;
        std::lock_guard guard(state->lock);
        for (int i = 0; i < count; ++i) {
            int fd = events[i].data.fd;
            if (fd == state->stop)
                return;
            auto it = state->watched.find(fd);
            if (it == state->watched.end())
                continue;
            uint32_t ready = events[i].events;
            if (ready & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                complete(it->second.readers);
            if (ready & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                complete(it->second.writers);
            state->rearm(fd, it->second, true);
            if (it->second.readers.empty() && it->second.writers.empty())
                state->watched.erase(it);
        }
    }
}

NetPoller::Wait NetPoller::wait(int fd, Direction direction, uint64_t deadline_ns)
{
    Thread* self = Worker::current_thread();
    VERIFY(self);
    auto call = std::make_shared<Kernel::HostCall>();
    call->waiter = self;
    {
        std::lock_guard guard(m_state->lock);
        auto [it, inserted] = m_state->watched.try_emplace(fd);
        (direction == Direction::Read ? it->second.readers : it->second.writers).push_back(call);
        m_state->rearm(fd, it->second, !inserted);
        if (it->second.readers.empty() && it->second.writers.empty())
            m_state->watched.erase(it);
    }
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
    // No longer a waiter: nothing wakes this thread for the socket from here on.
    std::lock_guard guard(m_state->lock);
    if (auto it = m_state->watched.find(fd); it != m_state->watched.end()) {
        std::erase(it->second.readers, call);
        std::erase(it->second.writers, call);
        m_state->rearm(fd, it->second, true);
        if (it->second.readers.empty() && it->second.writers.empty())
            m_state->watched.erase(it);
    }
    return result;
}

} // namespace signet
