// TCP ports and connections for network driver SIPs.
//
// A program's manifest declares the ports it listens on ([[resource]] kind =
// "tcp-listen"); the host side (`signet run --listen NAME=ADDRESS:PORT`,
// `signet boot --listen …`) binds each name to an address before the kernel
// seals itself (a sealed kernel may not bind), so the kernel holds a listening
// socket per name from then on. A SIP takes a port only through net_listen,
// only for a name its own manifest declares, and only while no other handle to
// it is open: one driver serves a port at a time. Closing that handle leaves
// the socket listening, and clients wait in its backlog until a driver (the
// same one restarted, say) listens again. Every other SIP reaches the network
// through the driver's channels (docs/network.md).
#pragma once

#include "base/ErrorOr.h"
#include "kernel/object/KernelObject.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace signet {

// A port a SIP listens on: the registry's socket, lent while the handle lives.
class Listener final : public KernelObject {
public:
    static constexpr ObjectType object_type = ObjectType::Listener;
    ObjectType type() const override { return ObjectType::Listener; }

    Listener(std::string name, int fd)
        : m_name(std::move(name))
        , m_fd(fd)
    {
    }
    std::string const& name() const { return m_name; }
    int fd() const { return m_fd; }

private:
    std::string m_name;
    int m_fd { -1 }; // owned by the registry
};

// One accepted TCP connection; its socket closes with the last reference.
class Connection final : public KernelObject {
public:
    static constexpr ObjectType object_type = ObjectType::Connection;
    ObjectType type() const override { return ObjectType::Connection; }

    Connection(int fd, std::string peer)
        : m_fd(fd)
        , m_peer(std::move(peer))
    {
    }
    ~Connection() override;
    int fd() const { return m_fd; }
    // The client's address and port.
    std::string const& peer() const { return m_peer; }

private:
    int m_fd { -1 };
    std::string m_peer;
};

// A socket the host bound and listens on, not yet given to a kernel: the host
// binds before it seals itself, then hands it over (NetRegistry::add).
class BoundPort {
public:
    BoundPort(std::string name, int fd, std::string address)
        : m_name(std::move(name))
        , m_fd(fd)
        , m_address(std::move(address))
    {
    }
    BoundPort(BoundPort&& other) noexcept
        : m_name(std::move(other.m_name))
        , m_fd(std::exchange(other.m_fd, -1))
        , m_address(std::move(other.m_address))
    {
    }
    BoundPort(BoundPort const&) = delete;
    BoundPort& operator=(BoundPort const&) = delete;
    ~BoundPort();
    std::string const& name() const { return m_name; }
    // Where it listens, with the port it got ("127.0.0.1:40123").
    std::string const& address() const { return m_address; }
    int release() { return std::exchange(m_fd, -1); }

private:
    std::string m_name;
    int m_fd { -1 };
    std::string m_address;
};

// Binds port `name` to `address` ("HOST:PORT", "[V6]:PORT", ":PORT" for every
// address; port 0 picks a free one) and listens on it.
ErrorOr<BoundPort> bind_port(std::string const& name, std::string const& address);

// The kernel's table of ports: name -> listening socket, and the open handle if any.
class NetRegistry {
public:
    // Named limits: ports one kernel holds, and the backlog of each.
    static constexpr size_t max_ports = 64;
    static constexpr int backlog = 512;

    NetRegistry() = default;
    NetRegistry(NetRegistry const&) = delete;
    NetRegistry& operator=(NetRegistry const&) = delete;
    ~NetRegistry();

    // The host gives the kernel a port it bound (before any SIP runs).
    ErrorOr<void> add(BoundPort);
    // For net_listen: NotFound if the host bound nothing to `name`, Exists if a
    // handle to it is open already.
    ErrorOr<std::shared_ptr<Listener>> open(std::string const& name);

private:
    struct Entry {
        int fd { -1 };
        std::string address;
        std::weak_ptr<Listener> open;
    };
    std::mutex m_lock;
    std::map<std::string, Entry> m_ports;
};

// "address:port" ("[address]:port" for IPv6) of a socket address.
std::string describe_address(void const* sockaddr, unsigned length);

} // namespace signet
