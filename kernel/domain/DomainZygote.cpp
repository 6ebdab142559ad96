// Starting, asking and stopping the domain zygote (DomainZygote.h).
#include "kernel/domain/DomainZygote.h"
#include "kernel/domain/DomainProcess.h"

#include "runtime/domain/ZygoteProtocol.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace signet {

namespace {

// Named limit: a zygote that has not answered a request by then is taken for
// dead (it answers as soon as it has forked).
constexpr int reply_timeout_ms = 5'000;

std::mutex s_lock; // guards everything below, and serialises requests
int s_socket = -1;
pid_t s_pid = -1;
std::string s_host; // the executable the zygote runs
std::atomic<uint64_t> s_forked { 0 };
std::atomic<bool> s_required { false };

// Under s_lock: forget the zygote and reap it. It exits once its socket closes.
void forget_locked()
{
    if (s_socket >= 0)
        ::close(s_socket);
    s_socket = -1;
    if (s_pid > 0) {
        int status = 0;
        while (::waitpid(s_pid, &status, 0) < 0 && errno == EINTR) { }
    }
    s_pid = -1;
    s_host.clear();
}

} // namespace

ErrorOr<void> DomainZygote::start(Options const& options)
{
    std::lock_guard guard(s_lock);
    if (s_socket >= 0)
        return Error::invalid("the domain zygote is running already (" + s_host + ")");
    if (::access(options.host_executable.c_str(), X_OK) != 0)
        return Error::from_errno("domain host " + options.host_executable, errno);
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
        return Error::from_errno("socketpair for the domain zygote", errno);
    // The zygote's end at zygote_socket_fd, nothing else but the standard streams.
    std::vector<std::string> arguments { options.host_executable, domain::zygote_flag };
    arguments.insert(arguments.end(), options.read_paths.begin(), options.read_paths.end());
    auto pid = spawn_host("the domain zygote", options.host_executable, std::move(arguments), { { ends[1], domain::zygote_socket_fd } });
    ::close(ends[1]);
    if (pid.is_error()) {
        ::close(ends[0]);
        return pid.release_error();
    }
    s_socket = ends[0];
    s_pid = pid.value();
    s_host = options.host_executable;
    return {};
}

void DomainZygote::stop()
{
    std::lock_guard guard(s_lock);
    forget_locked();
}

bool DomainZygote::running()
{
    std::lock_guard guard(s_lock);
    return s_socket >= 0;
}

bool DomainZygote::serves(std::string const& host_executable)
{
    std::lock_guard guard(s_lock);
    return s_socket >= 0 && s_host == host_executable;
}

uint64_t DomainZygote::forked_count() { return s_forked.load(std::memory_order_relaxed); }

void DomainZygote::make_required() { s_required.store(true, std::memory_order_release); }

bool DomainZygote::required() { return s_required.load(std::memory_order_acquire); }

ErrorOr<pid_t> DomainZygote::fork_domain(std::vector<std::string> const& arguments, std::vector<std::pair<int, int>> const& descriptors)
{
    // 1. Check everything before asking.
    if (arguments.empty())
        return Error::invalid("a domain needs at least its program name as argument");
    if (descriptors.size() > domain::zygote_max_descriptors)
        return Error(ErrorKind::Limit, "a domain gets at most " + std::to_string(domain::zygote_max_descriptors) + " descriptors from the zygote, not "
            + std::to_string(descriptors.size()));
    domain::ZygoteRequest request;
    std::string text;
    for (auto const& argument : arguments) {
        if (argument.find('\0') != std::string::npos)
            return Error::invalid("a domain's argument holds a NUL byte");
        text += argument;
        text += '\0';
    }
    if (text.size() > domain::zygote_max_argument_bytes)
        return Error(ErrorKind::Limit, "a domain's arguments take " + std::to_string(text.size()) + " bytes, over the zygote's limit of "
            + std::to_string(domain::zygote_max_argument_bytes));
    request.argument_count = uint32_t(arguments.size());
    request.argument_bytes = uint32_t(text.size());
    request.descriptor_count = uint32_t(descriptors.size());
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * domain::zygote_max_descriptors)] {};
    for (size_t i = 0; i < descriptors.size(); ++i) {
        request.targets[i] = descriptors[i].second;
        std::memcpy(CMSG_DATA(reinterpret_cast<cmsghdr*>(control)) + i * sizeof(int), &descriptors[i].first, sizeof(int));
    }

    // 2. One request and its reply at a time.
    std::lock_guard guard(s_lock);
    if (s_socket < 0)
        return Error(ErrorKind::NotFound, "the domain zygote is not running");
    iovec parts[2] = { { &request, sizeof request }, { text.data(), text.size() } };
    msghdr message {};
    message.msg_iov = parts;
    message.msg_iovlen = 2;
    if (!descriptors.empty()) {
        message.msg_control = control;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * descriptors.size());
        cmsghdr* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * descriptors.size());
    }
    ssize_t sent;
    do {
        sent = ::sendmsg(s_socket, &message, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        int error = errno;
        forget_locked();
        return Error::from_errno("the domain zygote is gone; asking it for a domain", error);
    }
    pollfd entry { s_socket, POLLIN, 0 };
    int ready;
    do {
        ready = ::poll(&entry, 1, reply_timeout_ms);
    } while (ready < 0 && errno == EINTR);
    domain::ZygoteReply reply;
    ssize_t got = ready > 0 ? ::recv(s_socket, &reply, sizeof reply, 0) : -1;
    if (got != ssize_t(sizeof reply)) {
        if (ready == 0)
            ::kill(s_pid, SIGKILL);
        forget_locked();
        return Error::io(ready == 0 ? "the domain zygote did not answer within " + std::to_string(reply_timeout_ms / 1000) + " s; it was stopped"
                                    : std::string("the domain zygote is gone"));
    }
    if (reply.pid <= 0)
        return Error::from_errno("the domain zygote could not fork a domain", reply.error ? reply.error : EIO);
    s_forked.fetch_add(1, std::memory_order_relaxed);
    return pid_t(reply.pid);
}

} // namespace signet
