// Starting, asking and stopping the domain zygote (DomainZygote.h).
#include "kernel/domain/DomainZygote.h"
#include "kernel/domain/DomainProcess.h"

#include "runtime/domain/ZygoteProtocol.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <mutex>
#include <optional>
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
std::atomic<uint64_t> s_from_spare { 0 };
std::atomic<bool> s_required { false };
uint64_t s_sequence = 0; // the last request's number (ZygoteProtocol.h)
// Spares announced and not taken. A spare is this process's child (CLONE_PARENT):
// one that dies unused is reaped here, never by a DomainProcess.
std::vector<pid_t> s_spares;

enum class Spares : bool { DeadOnes, All };

// Under s_lock: reap the spares that died unused, or end and reap all of them.
void reap_spares_locked(Spares which)
{
    std::erase_if(s_spares, [&](pid_t spare) {
        if (which == Spares::All)
            ::kill(spare, SIGKILL);
        int status = 0;
        pid_t reaped;
        do {
            reaped = ::waitpid(spare, &status, which == Spares::All ? 0 : WNOHANG);
        } while (reaped < 0 && errno == EINTR);
        return reaped != 0;
    });
}

// Under s_lock: one message from the zygote or its spare, within `timeout_ms`
// (-1: forever). Records spares as they announce themselves and returns the
// first other message (an answer, or a spare lost); nullopt if none came
// (ready is then 0 on a timeout).
std::optional<domain::ZygoteReply> next_answer_locked(int timeout_ms, int& ready)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        int left = timeout_ms < 0 ? -1 : int(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
        pollfd entry { s_socket, POLLIN, 0 };
        do {
            ready = ::poll(&entry, 1, left);
        } while (ready < 0 && errno == EINTR);
        if (ready <= 0)
            return std::nullopt;
        domain::ZygoteReply reply;
        ssize_t got = ::recv(s_socket, &reply, sizeof reply, 0);
        if (got != ssize_t(sizeof reply)) {
            ready = -1;
            return std::nullopt;
        }
        if (reply.kind == domain::ZygoteReplyKind::Spare) {
            if (reply.pid > 0)
                s_spares.push_back(reply.pid);
            continue;
        }
        return reply;
    }
}

// Under s_lock: forget the zygote and reap it and its spare. Both exit once the
// socket's end of file reaches them; the announcements still on their way are
// read first, so that no spare is left unreaped.
void forget_locked()
{
    if (s_socket >= 0) {
        ::shutdown(s_socket, SHUT_WR);
        int ready = 0;
        while (next_answer_locked(reply_timeout_ms, ready) || ready > 0) { }
        if (ready == 0 && s_pid > 0)
            ::kill(s_pid, SIGKILL); // it did not go within the limit
        ::close(s_socket);
    }
    s_socket = -1;
    if (s_pid > 0) {
        int status = 0;
        while (::waitpid(s_pid, &status, 0) < 0 && errno == EINTR) { }
    }
    s_pid = -1;
    s_host.clear();
    reap_spares_locked(Spares::All);
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
    if (options.spare == Options::Spare::Yes)
        arguments.insert(arguments.begin() + 2, domain::zygote_spare_flag);
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

uint64_t DomainZygote::from_spare_count() { return s_from_spare.load(std::memory_order_relaxed); }

std::vector<pid_t> DomainZygote::spares()
{
    std::lock_guard guard(s_lock);
    // No request is under way (it would hold the lock): whatever waits on the
    // socket is an announcement.
    if (s_socket >= 0) {
        int ready = 0;
        while (next_answer_locked(0, ready)) { }
    }
    return s_spares;
}

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
    request.sequence = ++s_sequence;
    auto send = [&]() -> ErrorOr<void> {
        ssize_t sent;
        do {
            sent = ::sendmsg(s_socket, &message, MSG_NOSIGNAL);
        } while (sent < 0 && errno == EINTR);
        if (sent >= 0)
            return {};
        int error = errno;
        forget_locked();
        return Error::from_errno("the domain zygote is gone; asking it for a domain", error);
    };
    TRY(send());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(reply_timeout_ms);
    std::optional<domain::ZygoteReply> reply;
    while (!reply) {
        int left = int(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
        int ready = 0;
        reply = next_answer_locked(left, ready);
        if (!reply) {
            if (ready == 0)
                ::kill(s_pid, SIGKILL);
            forget_locked();
            return Error::io(ready == 0 ? "the domain zygote did not answer within " + std::to_string(reply_timeout_ms / 1000) + " s; it was stopped"
                                        : std::string("the domain zygote is gone"));
        }
        if (reply->kind == domain::ZygoteReplyKind::SpareLost) {
            // The spare may have died with this request: ask again; a request
            // already served is not served twice (ZygoteProtocol.h).
            reply.reset();
            TRY(send());
            continue;
        }
        // Ours, or an error about a request the zygote could not read (it
        // knows no number then). No other request is outstanding.
        bool ours = reply->sequence == request.sequence || (reply->sequence == 0 && reply->pid <= 0);
        if (!ours)
            reply.reset();
    }
    if (reply->pid <= 0)
        return Error::from_errno("the domain zygote could not fork a domain", reply->error ? reply->error : EIO);
    // A spare that took the request is a domain from now on; any other that
    // died unused is reaped (none of them has been handed out).
    if (auto taken = std::find(s_spares.begin(), s_spares.end(), reply->pid); taken != s_spares.end()) {
        s_spares.erase(taken);
        s_from_spare.fetch_add(1, std::memory_order_relaxed);
    }
    reap_spares_locked(Spares::DeadOnes);
    s_forked.fetch_add(1, std::memory_order_relaxed);
    return pid_t(reply->pid);
}

} // namespace signet
