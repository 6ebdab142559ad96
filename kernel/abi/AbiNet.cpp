// signet_v1 network: the TCP ports a driver's manifest declares, for network
// driver SIPs. See docs/abi.md and docs/network.md.
//
// Every socket is non-blocking. A call first tries without waiting, on the
// caller's worker (a recv or send copies between the socket buffer and the
// SIP's memory: no device to wait for); when the socket is not ready the
// calling thread waits in the kernel's network poller as a fiber, so its
// worker runs other SIPs, and tries again when the socket is ready.
#include "kernel/abi/Abi.h"
#include "kernel/NetPoller.h"
#include "kernel/object/Net.h"

#include <algorithm>
#include <cstring>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <sys/socket.h>

using namespace signet;
using namespace signet::abi;

namespace {

// Named limit: the longest port name.
constexpr uint32_t max_port_name = 64;

// After a try that found the socket not ready: waits for it until the call's deadline.
// try_again once it is ready (or may be), killed when the thread was asked to end
// (the caller unwinds once nothing of the call is left on the stack), else the
// status the call returns (TIMED_OUT, or IO if the poller could not start).
constexpr int32_t try_again = -1;
constexpr int32_t killed = -2;
int32_t wait_ready(Sip& sip, int fd, NetPoller::Direction direction, int64_t timeout_ns, uint64_t deadline_ns)
{
    if (timeout_ns == 0)
        return SIGNET_TIMED_OUT;
    NetPoller* poller = sip.kernel().net_poller();
    if (!poller)
        return SIGNET_IO; // The reason is on the diagnostics.
    switch (poller->wait(fd, direction, deadline_ns)) {
    case NetPoller::Wait::Ready:
        return try_again;
    case NetPoller::Wait::TimedOut:
        return SIGNET_TIMED_OUT;
    case NetPoller::Wait::Killed:
        break;
    }
    return killed;
}

// What a failed recv or send on a connection means to the SIP.
int32_t connection_status(int error)
{
    switch (error) {
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case ETIMEDOUT:
    case ECONNABORTED:
    case EHOSTUNREACH:
    case ENETUNREACH:
        return SIGNET_CLOSED;
    default:
        return SIGNET_IO;
    }
}

std::optional<int32_t> accept(Sip& sip, uint32_t handle, int64_t timeout_ns, uint32_t out_connection, uint32_t peer, uint32_t peer_capacity, uint32_t out_peer_length)
{
    GuestMemory memory(sip.runtime());
    auto listener = sip.handles().get_as<Listener>(handle);
    if (!listener)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(out_connection, 4) || !memory.valid(peer, peer_capacity) || !memory.valid(out_peer_length, 4))
        return SIGNET_OUT_OF_BOUNDS;
    uint64_t const deadline = deadline_after(timeout_ns);
    for (;;) {
        // A client is taken only when it can be handed over: else it stays in the backlog.
        if (sip.handles().free_slots() < 1)
            return SIGNET_LIMIT;
        sockaddr_storage address {};
        socklen_t length = sizeof address;
        int fd = ::accept4(listener->fd(), reinterpret_cast<sockaddr*>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            int one = 1;
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            std::string text = describe_address(&address, length);
            uint32_t connection = sip.handles().insert(std::make_shared<Connection>(fd, text));
            VERIFY(connection);
            // The memory was checked before any wait; a sibling thread may have sent away a block that held it since.
            if (!memory.write(out_connection, connection) || !memory.write(out_peer_length, uint32_t(text.size())))
                return SIGNET_OUT_OF_BOUNDS;
            uint32_t shown = std::min<uint32_t>(peer_capacity, uint32_t(text.size()));
            if (uint8_t* to = memory.range(peer, shown); to || shown == 0)
                std::copy_n(text.data(), shown, to);
            return SIGNET_OK;
        }
        int error = errno;
        if (error == EINTR || error == ECONNABORTED || error == EPROTO)
            continue; // A client that left before it was taken: the next one.
        if (error != EAGAIN && error != EWOULDBLOCK) {
            (void)sip.kernel().diagnostics().write("signet: SIP " + std::to_string(sip.id()) + " (" + sip.name() + "): accept on port '"
                + listener->name() + "': " + std::strerror(error) + "\n");
            return SIGNET_IO;
        }
        if (int32_t waited = wait_ready(sip, listener->fd(), NetPoller::Direction::Read, timeout_ns, deadline); waited != try_again)
            return waited == killed ? std::nullopt : std::optional(waited);
    }
}

std::optional<int32_t> receive(Sip& sip, uint32_t handle, uint32_t buffer, uint32_t capacity, int64_t timeout_ns, uint32_t out_received)
{
    GuestMemory memory(sip.runtime());
    auto connection = sip.handles().get_as<Connection>(handle);
    if (!connection)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(buffer, capacity) || !memory.valid(out_received, 4))
        return SIGNET_OUT_OF_BOUNDS;
    if (capacity == 0)
        return SIGNET_INVALID_ARGUMENT;
    uint64_t const deadline = deadline_after(timeout_ns);
    for (;;) {
        // Looked up again after every wait: a sibling thread may have sent away a block that held the buffer.
        uint8_t* data = memory.range(buffer, capacity);
        if (!data)
            return SIGNET_OUT_OF_BOUNDS;
        ssize_t got = ::recv(connection->fd(), data, capacity, MSG_DONTWAIT);
        if (got >= 0) {
            if (!memory.write(out_received, uint32_t(got)))
                return SIGNET_OUT_OF_BOUNDS;
            return SIGNET_OK;
        }
        int error = errno;
        if (error == EINTR)
            continue;
        if (error != EAGAIN && error != EWOULDBLOCK)
            return connection_status(error);
        if (int32_t waited = wait_ready(sip, connection->fd(), NetPoller::Direction::Read, timeout_ns, deadline); waited != try_again)
            return waited == killed ? std::nullopt : std::optional(waited);
    }
}

std::optional<int32_t> send(Sip& sip, uint32_t handle, uint32_t data, uint32_t length, int64_t timeout_ns, uint32_t out_sent)
{
    GuestMemory memory(sip.runtime());
    auto connection = sip.handles().get_as<Connection>(handle);
    if (!connection)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(data, length) || !memory.valid(out_sent, 4))
        return SIGNET_OUT_OF_BOUNDS;
    uint64_t const deadline = deadline_after(timeout_ns);
    uint32_t sent = 0;
    auto finish = [&](int32_t status) -> int32_t {
        if (!memory.write(out_sent, sent))
            return SIGNET_OUT_OF_BOUNDS;
        return status;
    };
    while (sent < length) {
        uint8_t const* bytes = memory.range(data + sent, length - sent);
        if (!bytes)
            return finish(SIGNET_OUT_OF_BOUNDS);
        ssize_t went = ::send(connection->fd(), bytes, length - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (went >= 0) {
            sent += uint32_t(went);
            continue;
        }
        int error = errno;
        if (error == EINTR)
            continue;
        if (error != EAGAIN && error != EWOULDBLOCK)
            return finish(connection_status(error));
        if (int32_t waited = wait_ready(sip, connection->fd(), NetPoller::Direction::Write, timeout_ns, deadline); waited != try_again)
            return waited == killed ? std::nullopt : std::optional(finish(waited));
    }
    return finish(SIGNET_OK);
}

} // namespace

extern "C" {

uint32_t Z_signet_v1Z_net_listen(void* host, uint32_t name, uint32_t name_length, uint32_t out_listener)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(name, name_length) || !memory.valid(out_listener, 4))
        return SIGNET_OUT_OF_BOUNDS;
    if (name_length == 0 || name_length > max_port_name)
        return SIGNET_INVALID_ARGUMENT;
    std::string wanted(reinterpret_cast<char const*>(memory.range(name, name_length)), name_length);
    // Only a port the SIP's own manifest declares, whatever the host has bound.
    if (std::find(sip.ports().begin(), sip.ports().end(), wanted) == sip.ports().end())
        return SIGNET_DENIED;
    if (sip.handles().free_slots() < 1)
        return SIGNET_LIMIT;
    auto listener = sip.kernel().ports().open(wanted);
    if (listener.is_error())
        return listener.error().kind() == ErrorKind::NotFound ? SIGNET_NOT_FOUND : SIGNET_WOULD_BLOCK;
    uint32_t handle = sip.handles().insert(listener.release_value());
    VERIFY(handle);
    memory.write(out_listener, handle);
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_net_accept(void* host, uint32_t listener, uint64_t timeout_ns, uint32_t out_connection, uint32_t peer, uint32_t peer_capacity,
    uint32_t out_peer_length)
{
    require_stack_headroom();
    std::optional<int32_t> status = accept(sip_from(host), listener, int64_t(timeout_ns), out_connection, peer, peer_capacity, out_peer_length);
    if (!status)
        unwind_current(static_cast<int>(Unwind::Killed)); // nothing of accept() is left on the stack
    return uint32_t(*status);
}

uint32_t Z_signet_v1Z_net_recv(void* host, uint32_t connection, uint32_t buffer, uint32_t capacity, uint64_t timeout_ns, uint32_t out_received)
{
    require_stack_headroom();
    std::optional<int32_t> status = receive(sip_from(host), connection, buffer, capacity, int64_t(timeout_ns), out_received);
    if (!status)
        unwind_current(static_cast<int>(Unwind::Killed)); // nothing of receive() is left on the stack
    return uint32_t(*status);
}

uint32_t Z_signet_v1Z_net_send(void* host, uint32_t connection, uint32_t data, uint32_t length, uint64_t timeout_ns, uint32_t out_sent)
{
    require_stack_headroom();
    std::optional<int32_t> status = send(sip_from(host), connection, data, length, int64_t(timeout_ns), out_sent);
    if (!status)
        unwind_current(static_cast<int>(Unwind::Killed)); // nothing of send() is left on the stack
    return uint32_t(*status);
}

uint32_t Z_signet_v1Z_net_shutdown(void* host, uint32_t handle)
{
    Sip& sip = sip_from(host);
    auto connection = sip.handles().get_as<Connection>(handle);
    if (!connection)
        return SIGNET_BAD_HANDLE;
    if (::shutdown(connection->fd(), SHUT_WR) != 0)
        return connection_status(errno);
    return SIGNET_OK;
}

} // extern "C"
