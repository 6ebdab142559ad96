// The kernel's network poller: SIP threads that wait for a socket.
//
// A socket call of a SIP (kernel/abi/AbiNet.cpp) never blocks its worker: it
// tries without waiting, and when the socket is not ready the thread waits here
// as a fiber, so the worker runs other SIPs meanwhile. One epoll set holds
// every waited-on socket (only while a thread waits for it). An idle worker
// sleeps on that set too (Worker::IdleSource): a socket that becomes ready wakes
// it, and it wakes the waiting threads itself, with no host thread in between
// (on a VM, each host thread hand-off costs microseconds). While every worker
// is busy, the poller's own host thread looks at the set instead, every
// millisecond while it finds sockets ready, backing off to every 32 ms while
// it finds none (an idle worker took them first, or nothing happens).
#pragma once

#include "kernel/Kernel.h"
#include "kernel/sched/Worker.h"

#include <chrono>
#include <condition_variable>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace signet {

class NetPoller {
public:
    static ErrorOr<std::unique_ptr<NetPoller>> create(Kernel&);
    ~NetPoller();

    enum class Direction : uint8_t { Read, Write };
    enum class Wait : uint8_t { Ready, TimedOut, Killed };
    // On a SIP fiber: waits until `fd` is ready for `direction` (or failed: the
    // next call on it says how), the monotonic `deadline_ns` passes (UINT64_MAX:
    // never) or the thread is asked to end. Ready may be spurious: callers try
    // again and wait again.
    Wait wait(int fd, Direction, uint64_t deadline_ns);

    // The two halves of a wait, for a thread that waits for other things too
    // (channel_select): from watch() until unwatch(), `call` is completed (done,
    // its waiter woken) once `fd` is ready for `direction`. One call may watch
    // several sockets. False if epoll cannot watch `fd`: the caller takes it as
    // ready, and its next call on it meets the real error.
    bool watch(int fd, Direction, std::shared_ptr<Kernel::HostCall> const&);
    void unwatch(int fd, std::shared_ptr<Kernel::HostCall> const&);

private:
    // Shared with the host thread, which may outlive the poller for a moment.
    struct State {
        std::mutex lock;
        int epoll { -1 };
        struct Waiters {
            std::vector<std::shared_ptr<Kernel::HostCall>> readers;
            std::vector<std::shared_ptr<Kernel::HostCall>> writers;
        };
        std::map<int, Waiters> watched; // by fd
        // The host thread's sleep between looks (when the workers watch the set).
        std::mutex sleep_lock;
        std::condition_variable sleep;
        bool stopping { false };
        ~State();
        // epoll's interest in `fd` for what its waiters wait for (removed when none waits);
        // false if epoll cannot watch it.
        bool rearm(int fd, Waiters&, bool added);
        // Wakes the threads waiting for sockets that are ready now. Any host
        // thread. Returns the number of ready sockets.
        int harvest();
    };
    NetPoller(Kernel& kernel, std::shared_ptr<State> state)
        : m_kernel(kernel)
        , m_state(std::move(state))
        , m_idle_source { m_state->epoll, &NetPoller::on_idle_ready, m_state.get() }
    {
    }
    // What an idle worker does when the set is ready.
    static void on_idle_ready(void* state);
    // The host thread: looks at the set now and then, for when every worker is busy.
    static void loop(std::shared_ptr<State>);

    // Between looks of the host thread.
    static constexpr auto min_look = std::chrono::milliseconds(1);
    static constexpr auto max_look = std::chrono::milliseconds(32);

    Kernel& m_kernel;
    std::shared_ptr<State> m_state;
    Worker::IdleSource m_idle_source;
    std::thread m_thread;
};

} // namespace signet
