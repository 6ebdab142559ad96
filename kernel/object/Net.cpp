#include "kernel/object/Net.h"

#include <arpa/inet.h>
#include <cerrno>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace signet {

Connection::~Connection()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

std::string describe_address(void const* address, unsigned length)
{
    char text[INET6_ADDRSTRLEN] {};
    auto const* any = static_cast<sockaddr const*>(address);
    if (any->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
        auto const* v4 = static_cast<sockaddr_in const*>(address);
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
    }
    if (any->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
        auto const* v6 = static_cast<sockaddr_in6 const*>(address);
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
    }
    return "(unknown address)";
}

NetRegistry::~NetRegistry()
{
    for (auto& [name, entry] : m_ports)
        ::close(entry.fd);
}

BoundPort::~BoundPort()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

ErrorOr<BoundPort> bind_port(std::string const& name, std::string const& address)
{
    std::string const what = "port '" + name + "'";
    // HOST:PORT, [V6]:PORT or :PORT.
    size_t colon = address.rfind(':');
    if (colon == std::string::npos || colon + 1 == address.size())
        return Error::invalid(what + ": '" + address + "' is not ADDRESS:PORT (e.g. 127.0.0.1:8080, [::1]:8080, :8080)");
    std::string host = address.substr(0, colon);
    std::string port = address.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 || std::stoul(port) > 65535)
        return Error::invalid(what + ": '" + port + "' is not a port number (0 to 65535)");

    addrinfo hints {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (int error = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); error != 0)
        return Error::invalid(what + ": cannot resolve '" + address + "': " + gai_strerror(error));
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> results(found, freeaddrinfo);

    int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, found->ai_protocol);
    if (fd < 0)
        return Error::from_errno(what + ": cannot create a socket", errno);
    BoundPort bound(name, fd, {});
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, NetRegistry::backlog) != 0)
        return Error::from_errno(what + ": cannot listen on " + address, errno);
    sockaddr_storage local {};
    socklen_t length = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0)
        return Error::from_errno(what + ": getsockname", errno);
    return BoundPort(name, bound.release(), describe_address(&local, length));
}

ErrorOr<void> NetRegistry::add(BoundPort port)
{
    std::string const what = "port '" + port.name() + "'";
    std::lock_guard guard(m_lock);
    if (m_ports.contains(port.name()))
        return Error(ErrorKind::Exists, what + " is bound already (to " + m_ports.at(port.name()).address + ")");
    if (m_ports.size() >= max_ports)
        return Error(ErrorKind::Limit, what + ": a kernel holds at most " + std::to_string(max_ports) + " ports");
    std::string name = port.name();
    std::string address = port.address();
    m_ports.emplace(std::move(name), Entry { port.release(), std::move(address), {} });
    return {};
}

ErrorOr<std::shared_ptr<Listener>> NetRegistry::open(std::string const& name)
{
    std::lock_guard guard(m_lock);
    auto it = m_ports.find(name);
    if (it == m_ports.end())
        return Error::not_found("port '" + name + "': the host bound no address to it (--listen " + name + "=ADDRESS:PORT)");
    if (!it->second.open.expired())
        return Error(ErrorKind::Exists, "port '" + name + "' is being listened on already");
    auto listener = std::make_shared<Listener>(name, it->second.fd);
    it->second.open = listener;
    return listener;
}

} // namespace signet
