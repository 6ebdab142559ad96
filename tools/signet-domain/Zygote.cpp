// The domain zygote (Zygote.h, runtime/domain/ZygoteProtocol.h): a sealed
// signet-domain that forks domain processes for the kernel, so that starting
// one costs a fork instead of an exec and a dynamic link.
//
// It has one thread (a fork of a process with more would copy locks held by
// the others), and forks with a raw clone(CLONE_PARENT): the C library's fork()
// cannot ask for CLONE_PARENT. Nothing in a single-threaded process needs the
// bookkeeping fork() adds (its at-fork handlers, its lock resets).
//
// With --spare it keeps one domain process forked ahead of demand, which takes
// the next request itself (ZygoteProtocol.h): a start then costs no fork. The
// spare maps the program the last request ran before it announces itself: a
// start of the same program then costs no dlopen either. One that is asked for
// another program unmaps it before it takes the request.
#include "tools/signet-domain/Zygote.h"

#include "runtime/FaultHandler.h"
#include "runtime/Image.h"
#include "runtime/domain/DomainLaunch.h"
#include "runtime/domain/ZygoteProtocol.h"
#include "runtime/seal/Seal.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <memory>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace signet::domain {

namespace {

// Received descriptors are first moved at or above this, clear of every target.
constexpr int staging_fd = 256;

struct Received {
    ZygoteRequest request;
    std::vector<char> arguments;
    std::vector<int> descriptors;
};

// An image as a request names it: signet-domain's arguments after the first
// five are (IMAGE MODULE_HASH) pairs (tools/signet-domain/main.cpp).
struct ImageName {
    std::string path;
    std::string module_hash;
};

// What a spare writes on its pipe when it takes a request, in one write (no
// more than PIPE_BUF bytes, so never split): the request's sequence number and
// its first image, which the next spare maps ahead. A name that does not fit
// is left out (then nothing is mapped ahead).
struct Taken {
    uint64_t sequence { 0 };
    uint16_t path_length { 0 };
    uint16_t hash_length { 0 };
    char text[3072] {};
};
static_assert(sizeof(Taken) <= PIPE_BUF);

void close_all(std::vector<int> const& descriptors)
{
    for (int fd : descriptors)
        ::close(fd);
}

// One request, or an errno. 0 bytes: the kernel closed its end.
int receive(Received& received, bool& closed)
{
    closed = false;
    received.request = {};
    received.arguments.assign(zygote_max_argument_bytes, '\0');
    iovec parts[2] = { { &received.request, sizeof received.request }, { received.arguments.data(), received.arguments.size() } };
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * zygote_max_descriptors)];
    msghdr message {};
    message.msg_iov = parts;
    message.msg_iovlen = 2;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t got;
    do {
        got = ::recvmsg(zygote_socket_fd, &message, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    if (got == 0) {
        closed = true;
        return 0;
    }
    if (got < 0)
        return errno;
    received.descriptors.clear();
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
            received.descriptors.push_back(fd);
        }
    }
    auto const& request = received.request;
    bool valid = size_t(got) >= sizeof request && !(message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) && request.magic == zygote_request_magic
        && request.sequence != 0 && request.descriptor_count <= zygote_max_descriptors && request.descriptor_count == received.descriptors.size()
        && request.argument_count >= 1 && request.argument_bytes == size_t(got) - sizeof request && request.argument_bytes > 0
        && received.arguments[request.argument_bytes - 1] == '\0';
    for (uint32_t i = 0; valid && i < request.descriptor_count; ++i)
        valid = request.targets[i] > STDERR_FILENO && request.targets[i] < staging_fd;
    if (!valid) {
        close_all(received.descriptors);
        return EINVAL;
    }
    received.arguments.resize(request.argument_bytes);
    return 0;
}

// The images a request names.
// The request's arguments, each a NUL-terminated string in `arguments` (at most
// argument_count of them; fewer if the bytes end first).
std::vector<char*> arguments_of(Received& received)
{
    std::vector<char*> words;
    for (size_t at = 0; at < received.arguments.size() && words.size() < received.request.argument_count;) {
        words.push_back(received.arguments.data() + at);
        at += std::strlen(received.arguments.data() + at) + 1;
    }
    return words;
}

std::vector<ImageName> images_of(Received& received)
{
    auto words = arguments_of(received);
    std::vector<ImageName> images;
    for (size_t i = 5; i + 1 < words.size(); i += 2)
        images.push_back({ words[i], words[i + 1] });
    return images;
}

// In the forked child: the descriptors at their targets, nothing else of the
// zygote's, then the domain host. Never returns.
[[noreturn]] void become_domain(Received& received, HostMain host_main)
{
    ::close(zygote_socket_fd);
    ::prctl(PR_SET_NAME, host_executable_name);
    auto const& request = received.request;
    std::vector<int> staged;
    for (int fd : received.descriptors) {
        int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, staging_fd);
        if (moved < 0)
            ::_exit(127);
        ::close(fd);
        staged.push_back(moved);
    }
    for (uint32_t i = 0; i < request.descriptor_count; ++i) {
        if (::dup2(staged[i], request.targets[i]) < 0)
            ::_exit(127);
    }
    close_all(staged);
    // As posix_spawn leaves an exec'd host: no signal blocked.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    auto argv = arguments_of(received);
    if (argv.size() != request.argument_count)
        ::_exit(127);
    argv.push_back(nullptr);
    ::_exit(host_main(int(request.argument_count), argv.data()));
}

void reply(ZygoteReply answer)
{
    ssize_t sent;
    do {
        sent = ::send(zygote_socket_fd, &answer, sizeof answer, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
}

void answer(uint64_t sequence, int32_t pid, int32_t error) { reply({ pid, error, ZygoteReplyKind::Domain, 0, sequence }); }

enum class Next { Serve, Skip, Closed };

// Reads one request: Serve it, Skip it (an invalid one is answered with its
// errno, one sent again after `last_served` dropped: ZygoteProtocol.h), or the
// kernel Closed its end.
Next read_request(Received& received, uint64_t last_served)
{
    bool closed = false;
    int error = receive(received, closed);
    if (closed)
        return Next::Closed;
    if (error) {
        answer(received.request.sequence, -1, error);
        return Next::Skip;
    }
    if (received.request.sequence <= last_served) {
        close_all(received.descriptors);
        return Next::Skip;
    }
    return Next::Serve;
}

// In a spare: announce itself, then take the next request to serve and become
// the domain for it, telling the zygote on `taken` the request's sequence
// number (its end of file alone means the spare died without having taken
// one, or before it could say so). Never returns.
[[noreturn]] void run_spare(int taken, uint64_t last_served, HostMain host_main, ImageName const& ahead)
{
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1)
        ::_exit(0);
    ::prctl(PR_SET_NAME, zygote_spare_name);
    // What every domain host does first and holds nothing of a SIP: its fault
    // handler and signal stack (run_domain_host finds them made), and the first
    // stage of its seccomp filter (seal_domain then loads only the short second).
    (void)prepare_thread_for_sip_code();
    (void)seal::seal_domain_ahead();
    // The program the last request ran, mapped ahead (its code, checked against
    // its module hash; nothing of any SIP): the host's own dlopen of it then
    // finds it mapped. Only in the spare; the zygote maps no image.
    std::shared_ptr<Image> mapped;
    if (!ahead.path.empty()) {
        if (auto image = Image::load(ahead.path, ahead.module_hash); !image.is_error())
            mapped = image.release_value();
    }
    reply({ int32_t(::getpid()), 0, ZygoteReplyKind::Spare });
    Received received;
    for (;;) {
        auto next = read_request(received, last_served);
        if (next == Next::Closed)
            ::_exit(0); // the kernel stopped the zygote
        if (next == Next::Serve)
            break;
    }
#ifdef SIGNET_ZYGOTE_FAULT_SPARE_DIES_ON_TAKE
    // Tests only (tests/domains): the spare dies with the request it took.
    ::_exit(70);
#endif
    auto images = images_of(received);
    if (mapped && std::none_of(images.begin(), images.end(), [&](ImageName const& image) { return image.path == mapped->path() && image.module_hash == mapped->module_hash(); })) {
        // Another program: a domain maps the code it runs and no other. If the
        // mapping outlived dlclose, die with the request: the kernel sends it
        // again (SpareLost) and the zygote forks a domain for it.
        std::string path = mapped->path();
        mapped.reset();
        if (::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD))
            ::_exit(71);
    }
    answer(received.request.sequence, int32_t(::getpid()), 0);
    Taken told;
    told.sequence = received.request.sequence;
    if (!images.empty() && images[0].path.size() + images[0].module_hash.size() <= sizeof told.text) {
        told.path_length = uint16_t(images[0].path.size());
        told.hash_length = uint16_t(images[0].module_hash.size());
        std::memcpy(told.text, images[0].path.data(), told.path_length);
        std::memcpy(told.text + told.path_length, images[0].module_hash.data(), told.hash_length);
    }
    size_t length = offsetof(Taken, text) + told.path_length + told.hash_length;
    while (::write(taken, &told, length) < 0 && errno == EINTR) { }
    ::close(taken);
    become_domain(received, host_main);
}

int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Whether the kernel closed (or shut down) its end.
bool kernel_gone(short revents) { return revents & (POLLHUP | POLLRDHUP | POLLERR); }

} // namespace

int run_zygote(int read_path_count, char** read_paths, HostMain host_main)
{
    bool const keep_spare = read_path_count > 0 && std::strcmp(read_paths[0], zygote_spare_flag) == 0;
    if (keep_spare) {
        --read_path_count;
        ++read_paths;
    }
    // 1. Its name, which its forks keep until they name themselves (ZygoteProtocol.h).
    //    If the kernel goes, so does the zygote (and its socket reads end of file).
    ::prctl(PR_SET_NAME, zygote_name);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1)
        return 64;
    int type = 0;
    socklen_t length = sizeof type;
    if (::getsockopt(zygote_socket_fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_SEQPACKET) {
        std::fprintf(stderr, "signet-domain: --zygote needs its socket at descriptor %d\n", zygote_socket_fd);
        return 64;
    }
    // Nothing else of the kernel's: only the socket and the standard streams.
    ::close_range(zygote_socket_fd + 1, ~0u, 0);
    // One malloc arena for every thread of every domain: a domain's preemption
    // watchdog thread then maps no arena of its own at each start.
    ::mallopt(M_ARENA_MAX, 1);

    // 2. The domains' seccomp filter compiled once, for all of them (each only
    //    puts its pid in); then sealed for good before the first request.
    if (auto prepared = seal::prepare_domain_filter(); prepared.is_error())
        std::fprintf(stderr, "signet-domain: note: each domain compiles its own filter: %s\n", prepared.error().message().c_str());
    std::vector<std::string> paths(read_paths, read_paths + read_path_count);
    auto sealed = seal::seal_zygote(paths);
    if (sealed.is_error()) {
        std::fprintf(stderr, "signet-domain: the zygote cannot seal itself: %s\n", sealed.error().message().c_str());
        return 67;
    }

    // 3. Serve: one fork per request, or a spare that takes the next one.
    //    Only one process reads the socket at a time: the spare while there is
    //    one, else the zygote.
    Received received;
    uint64_t last_served = 0;  // the sequence number of the last request served
    int spare = -1;            // the read end of the waiting spare's pipe
    pid_t spare_pid = -1;
    int64_t refill_at = keep_spare ? 0 : -1; // when to fork the next spare; -1: not now
    ImageName ahead;           // what the next spare maps ahead: the last request's first image
    for (;;) {
        if (spare < 0 && refill_at >= 0 && now_ms() >= refill_at) {
            refill_at = -1;
            int ends[2];
            if (::pipe2(ends, O_CLOEXEC) == 0) {
                long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
                if (pid == 0) {
                    ::close(ends[0]);
                    run_spare(ends[1], last_served, host_main, ahead);
                }
                ::close(ends[1]);
                if (pid > 0) {
                    spare = ends[0];
                    spare_pid = pid_t(pid);
                } else {
                    ::close(ends[0]);
                }
            }
        }
        if (spare >= 0) {
            // The spare reads the requests: wait until it is taken or gone, or the kernel is.
            pollfd entries[2] = { { spare, POLLIN, 0 }, { zygote_socket_fd, POLLRDHUP, 0 } };
            if (::poll(entries, 2, -1) < 0)
                continue;
            if (kernel_gone(entries[1].revents))
                return 0;
            if (!entries[0].revents)
                continue;
            Taken told;
            ssize_t got;
            do {
                got = ::read(spare, &told, sizeof told);
            } while (got < 0 && errno == EINTR);
            ::close(spare);
            spare = -1;
            bool taken = got >= ssize_t(offsetof(Taken, text));
            if (taken) {
                last_served = told.sequence;
                if (size_t(got) == offsetof(Taken, text) + told.path_length + told.hash_length && told.path_length)
                    ahead = { std::string(told.text, told.path_length), std::string(told.text + told.path_length, told.hash_length) };
            } else
                reply({ spare_pid, 0, ZygoteReplyKind::SpareLost, 0, 0 });
            // Taken: the next one once the start it served has had the CPU. Died
            // unused: no more until a request was served without one (no loop of
            // spares that die at once).
            refill_at = taken ? now_ms() + zygote_refill_delay_ms : -1;
            continue;
        }
        int timeout = refill_at < 0 ? -1 : int(std::max<int64_t>(0, refill_at - now_ms()));
        pollfd entry { zygote_socket_fd, POLLIN, 0 };
        int ready = ::poll(&entry, 1, timeout);
        if (ready == 0 || (ready < 0 && errno == EINTR))
            continue; // time for a spare
        auto next = read_request(received, last_served);
        if (next == Next::Closed)
            return 0;
        if (next == Next::Skip)
            continue;
        if (auto images = images_of(received); !images.empty())
            ahead = images[0];
        long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
        if (pid == 0)
            become_domain(received, host_main);
        int clone_error = pid < 0 ? errno : 0;
        close_all(received.descriptors);
        last_served = received.request.sequence;
        answer(received.request.sequence, int32_t(pid < 0 ? -1 : pid), clone_error);
        if (keep_spare)
            refill_at = now_ms() + zygote_refill_delay_ms;
    }
}

} // namespace signet::domain
