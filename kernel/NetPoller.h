// The kernel's network poller: SIP threads that wait for a socket.
//
// A socket call of a SIP (kernel/abi/AbiNet.cpp) never blocks its worker: it
// tries without waiting, and when the socket is not ready the thread waits here
// as a fiber, so the worker runs other SIPs meanwhile. One host thread watches
// every waited-on socket with epoll and wakes the threads whose socket became
// ready. A socket is watched only while a thread waits for it.
#pragma once

#include "kernel/Kernel.h"

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

private:
    // Shared with the host thread, which may outlive the poller for a moment.
    struct State {
        std::mutex lock;
        int epoll { -1 };
        int stop { -1 }; // an eventfd
        struct Waiters {
            std::vector<std::shared_ptr<Kernel::HostCall>> readers;
            std::vector<std::shared_ptr<Kernel::HostCall>> writers;
        };
        std::map<int, Waiters> watched; // by fd
        ~State();
        // epoll's interest in `fd` for what its waiters wait for (removed when none waits);
        // false if epoll cannot watch it.
        bool rearm(int fd, Waiters&, bool added);
    };
    NetPoller(Kernel& kernel, std::shared_ptr<State> state)
        : m_kernel(kernel)
        , m_state(std::move(state))
    {
    }
    static void loop(std::shared_ptr<State>);

    Kernel& m_kernel;
    std::shared_ptr<State> m_state;
    std::thread m_thread;
};

} // namespace signet
