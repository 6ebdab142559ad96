#include "bench/net/LoadGenerator.h"
#include "bench/Harness.h"
#include "bench/net/FilePattern.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace signet::bench {

namespace {

// The status line and headers of a response may take this much; more is an error.
constexpr size_t header_limit = 8192;

class Fd {
public:
    explicit Fd(int fd = -1)
        : m_fd(fd)
    {
    }
    Fd(Fd&& other) noexcept
        : m_fd(other.m_fd)
    {
        other.m_fd = -1;
    }
    Fd& operator=(Fd&& other) noexcept
    {
        if (this != &other) {
            if (m_fd >= 0)
                ::close(m_fd);
            m_fd = other.m_fd;
            other.m_fd = -1;
        }
        return *this;
    }
    ~Fd()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    int get() const { return m_fd; }

private:
    int m_fd;
};

struct Connection {
    Fd socket;
    unsigned index { 0 };
    uint64_t responses { 0 }; // answered so far, warm-up included
    enum class State { Idle, Headers, Body } state { State::Idle };
    std::string headers;      // what arrived of the status line and headers
    uint64_t body_received { 0 };
    uint64_t sent_ns { 0 };
};

// The value of header `name` in a header block (lines after the status line), or empty.
std::string header_value(std::string const& block, char const* name)
{
    size_t name_length = std::strlen(name);
    size_t line = block.find("\r\n");
    while (line != std::string::npos && line + 2 < block.size()) {
        size_t begin = line + 2;
        size_t end = block.find("\r\n", begin);
        if (end == std::string::npos || end == begin)
            break;
        if (end - begin > name_length && block[begin + name_length] == ':' && strncasecmp(block.data() + begin, name, name_length) == 0) {
            size_t value = begin + name_length + 1;
            while (value < end && (block[value] == ' ' || block[value] == '\t'))
                ++value;
            size_t value_end = end;
            while (value_end > value && (block[value_end - 1] == ' ' || block[value_end - 1] == '\t'))
                --value_end;
            return block.substr(value, value_end - value);
        }
        line = end;
    }
    return {};
}

class Load {
public:
    explicit Load(LoadSpec const& spec)
        : m_spec(spec)
        , m_request("GET " + spec.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: signet-bench-net\r\n\r\n")
    {
        m_expected.resize(spec.file_size);
        for (uint64_t i = 0; i < spec.file_size; ++i)
            m_expected[i] = file_pattern_byte(i);
    }

    ErrorOr<LoadResult> run()
    {
        Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
        if (epoll.get() < 0)
            return Error::from_errno("epoll_create1", errno);
        m_epoll = epoll.get();
        for (unsigned i = 0; i < m_spec.connections; ++i)
            m_connections.push_back(TRY(connect(i)));

        uint64_t const begin = monotonic_ns();
        m_window_begin = begin + m_spec.warmup_ns;
        m_window_end = m_window_begin + m_spec.duration_ns;
        m_result.latency_ns.reserve(1 << 16);
        m_result.per_connection.assign(m_connections.size(), 0);
        for (auto& connection : m_connections)
            TRY(send_request(connection));

        // Until the window closes; then every connection finishes the response it waits for.
        uint64_t last_progress = begin;
        size_t waiting = m_connections.size();
        epoll_event events[64];
        while (waiting > 0) {
            int ready = ::epoll_wait(m_epoll, events, 64, 100);
            if (ready < 0) {
                if (errno == EINTR)
                    continue;
                return Error::from_errno("epoll_wait", errno);
            }
            uint64_t now = monotonic_ns();
            if (ready == 0 && now - last_progress > m_spec.stall_ns)
                return Error::io("the server answered nothing for " + std::to_string(m_spec.stall_ns / 1'000'000'000) + " s (" + std::to_string(waiting)
                    + " of " + std::to_string(m_connections.size()) + " connections waiting for a response to GET " + m_spec.path + ")");
            for (int i = 0; i < ready; ++i) {
                auto& connection = m_connections[events[i].data.u32];
                bool done = TRY(receive(connection));
                last_progress = monotonic_ns();
                if (!done)
                    continue;
                if (last_progress < m_window_end)
                    TRY(send_request(connection));
                else
                    --waiting;
            }
        }
        m_result.seconds = double(m_spec.duration_ns) / 1e9;
        return std::move(m_result);
    }

private:
    ErrorOr<Connection> connect(unsigned index)
    {
        Connection connection;
        connection.index = index;
        connection.socket = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (connection.socket.get() < 0)
            return Error::from_errno("socket", errno);
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(m_spec.port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // Blocking: the connection is made once the server's kernel has it queued.
        if (::connect(connection.socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            return Error::from_errno("connect to 127.0.0.1:" + std::to_string(m_spec.port) + " (connection " + std::to_string(index) + ")", errno);
        int one = 1;
        ::setsockopt(connection.socket.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (::fcntl(connection.socket.get(), F_SETFL, O_NONBLOCK) != 0)
            return Error::from_errno("fcntl O_NONBLOCK", errno);
        epoll_event event {};
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.u32 = index;
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, connection.socket.get(), &event) != 0)
            return Error::from_errno("epoll_ctl", errno);
        return connection;
    }

    std::string where(Connection const& connection) const
    {
        return "connection " + std::to_string(connection.index) + ", response " + std::to_string(connection.responses + 1) + " to GET " + m_spec.path;
    }

    ErrorOr<void> send_request(Connection& connection)
    {
        connection.state = Connection::State::Headers;
        connection.headers.clear();
        connection.body_received = 0;
        connection.sent_ns = monotonic_ns();
        // A request of ~80 bytes on a socket with nothing outstanding goes out whole.
        ssize_t sent = ::send(connection.socket.get(), m_request.data(), m_request.size(), MSG_NOSIGNAL);
        if (sent < 0)
            return Error::from_errno(where(connection) + ": cannot send the request", errno);
        if (size_t(sent) != m_request.size())
            return Error::io(where(connection) + ": the request went out in part (" + std::to_string(sent) + " bytes)");
        return {};
    }

    // Checks the status line and headers once they are complete.
    ErrorOr<void> check_headers(Connection const& connection) const
    {
        std::string const& headers = connection.headers;
        std::string status_line = headers.substr(0, headers.find("\r\n"));
        if (status_line.rfind("HTTP/1.1 200 ", 0) != 0 && status_line != "HTTP/1.1 200")
            return Error::io(where(connection) + ": the status line is \"" + status_line + "\", expected HTTP/1.1 200");
        std::string length = header_value(headers, "Content-Length");
        if (length.empty())
            return Error::io(where(connection) + ": no Content-Length");
        if (length != std::to_string(m_spec.file_size))
            return Error::io(where(connection) + ": Content-Length " + length + ", expected " + std::to_string(m_spec.file_size));
        std::string connection_header = header_value(headers, "Connection");
        if (strcasecmp(connection_header.c_str(), "close") == 0)
            return Error::io(where(connection) + ": the server closes the connection (Connection: close), expected keep-alive");
        return {};
    }

    // Takes body bytes; a body larger than the file, or one that differs from it, is an error.
    ErrorOr<void> take_body(Connection& connection, char const* data, size_t length)
    {
        if (connection.body_received + length > m_spec.file_size)
            return Error::io(where(connection) + ": " + std::to_string(connection.body_received + length - m_spec.file_size)
                + " bytes more than the Content-Length " + std::to_string(m_spec.file_size));
        if (std::memcmp(data, m_expected.data() + connection.body_received, length) != 0) {
            size_t at = 0;
            while (data[at] == m_expected[connection.body_received + at])
                ++at;
            return Error::io(where(connection) + ": the body differs from the file at byte " + std::to_string(connection.body_received + at));
        }
        connection.body_received += length;
        return {};
    }

    void finish(Connection& connection)
    {
        uint64_t now = monotonic_ns();
        ++connection.responses;
        ++m_result.responses;
        connection.state = Connection::State::Idle;
        if (now >= m_window_begin && now < m_window_end) {
            ++m_result.requests;
            m_result.body_bytes += m_spec.file_size;
            m_result.latency_ns.push_back(double(now - connection.sent_ns));
            ++m_result.per_connection[connection.index];
        }
    }

    // Reads what arrived. Returns true once the response is complete.
    ErrorOr<bool> receive(Connection& connection)
    {
        for (;;) {
            ssize_t got = ::recv(connection.socket.get(), m_buffer, sizeof m_buffer, 0);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return false;
            if (got < 0)
                return Error::from_errno(where(connection) + ": recv", errno);
            if (got == 0) {
                if (connection.state == Connection::State::Idle)
                    return Error::io("connection " + std::to_string(connection.index) + ": the server closed a kept-alive connection");
                return Error::io(where(connection) + ": the server closed the connection after " + std::to_string(connection.headers.size())
                    + " bytes of headers and " + std::to_string(connection.body_received) + " of " + std::to_string(m_spec.file_size) + " bytes of body");
            }
            char const* data = m_buffer;
            size_t length = size_t(got);
            if (connection.state == Connection::State::Idle)
                return Error::io("connection " + std::to_string(connection.index) + ": " + std::to_string(length) + " bytes arrived that nobody asked for");
            if (connection.state == Connection::State::Headers) {
                size_t before = connection.headers.size();
                connection.headers.append(data, length);
                size_t end = connection.headers.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
                if (end == std::string::npos) {
                    if (connection.headers.size() > header_limit)
                        return Error::io(where(connection) + ": no end of the headers in " + std::to_string(connection.headers.size()) + " bytes");
                    continue;
                }
                connection.headers.resize(end + 4);
                TRY(check_headers(connection));
                size_t body_start = end + 4 - before;
                data += body_start;
                length -= body_start;
                connection.state = Connection::State::Body;
            }
            TRY(take_body(connection, data, length));
            if (connection.body_received == m_spec.file_size) {
                // Bytes after the body in the same read were refused by take_body.
                finish(connection);
                return true;
            }
        }
    }

    LoadSpec m_spec;
    std::string m_request;
    std::vector<char> m_expected;
    std::vector<Connection> m_connections;
    int m_epoll { -1 };
    uint64_t m_window_begin { 0 };
    uint64_t m_window_end { 0 };
    LoadResult m_result;
    char m_buffer[65536];
};

} // namespace

ErrorOr<LoadResult> run_load(LoadSpec const& spec)
{
    if (spec.port == 0 || spec.connections == 0 || spec.path.empty() || spec.path[0] != '/')
        return Error::invalid("a load needs a port, a path starting with '/' and at least one connection");
    auto load = std::make_unique<Load>(spec);
    return load->run();
}

} // namespace signet::bench
