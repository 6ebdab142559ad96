// Sealed processes refuse what their policy forbids and still do what it allows.
// Sealing is irreversible, so every test seals a forked child and reads its fate.
#include "kernel/domain/DomainProcess.h"
#include "kernel/domain/DomainZygote.h"
#include "runtime/seal/Seal.h"

#include "DomainTestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <atomic>
#include <functional>
#include <iterator>
#include <vector>
#include <thread>
#include <linux/futex.h>
#include <netinet/in.h>
#include <spawn.h>
#include <string>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

using namespace signet;
using signet::test::in_child;

namespace {


struct Checks {
    int failures { 0 };
    // The call returned -1 with `expected` errno.
    void refused(char const* what, long result, int expected = EPERM)
    {
        int error = errno;
        if (result != -1 || error != expected) {
            std::fprintf(stderr, "%s: expected refusal with %s, got result %ld (%s)\n", what, std::strerror(expected), result,
                result == -1 ? std::strerror(error) : "no error");
            ++failures;
        }
    }
    void allowed(char const* what, bool ok)
    {
        if (!ok) {
            std::fprintf(stderr, "%s: expected to work, failed (%s)\n", what, std::strerror(errno));
            ++failures;
        }
    }
};

bool exited_cleanly(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

// posix_spawn of `path` with no arguments and its output to /dev/null; its
// error (0 if it ran, and then `exit_status` is how it exited).
int spawned(char const* path, int& exit_status)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int fd : { 0, 1, 2 })
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
    char const* argv[] = { path, nullptr };
    char* envp[] = { nullptr };
    pid_t pid = -1;
    int error = ::posix_spawn(&pid, path, &actions, nullptr, const_cast<char**>(argv), envp);
    posix_spawn_file_actions_destroy(&actions);
    if (error == 0) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return error;
}

long map(int prot, int flags, int fd = -1)
{
    void* p = ::mmap(nullptr, 4096, prot, flags, fd, 0);
    return p == MAP_FAILED ? -1 : 0;
}

class ScratchDir {
public:
    ScratchDir()
    {
        char pattern[] = "/tmp/signet-seal-XXXXXX";
        m_path = ::mkdtemp(pattern);
        std::FILE* file = std::fopen((m_path / "inside").c_str(), "w");
        std::fputs("inside\n", file);
        std::fclose(file);
    }
    ~ScratchDir() { std::filesystem::remove_all(m_path); }
    std::filesystem::path const& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

// The three ways a domain seals itself: seal_domain compiling its filter there
// and then, loading one a zygote compiled before forking it, or in two stages
// (a zygote's spare: seal_domain_ahead while it waits, seal_domain once it
// took its request). All three must refuse and allow exactly the same.
enum class SealWay { Compiled, Prepared, Staged };
constexpr SealWay every_way[] = { SealWay::Compiled, SealWay::Prepared, SealWay::Staged };

char const* describe(SealWay way)
{
    switch (way) {
    case SealWay::Compiled:
        return "compiled in the domain";
    case SealWay::Prepared:
        return "prepared ahead, loaded whole";
    case SealWay::Staged:
        return "in two stages";
    }
    return "?";
}

// Seals this (forked) process as a domain, the given way.
ErrorOr<seal::SealReport> seal_domain_the_way(SealWay way)
{
    if (way != SealWay::Compiled)
        TRY(seal::prepare_domain_filter());
    if (way == SealWay::Staged)
        TRY(seal::seal_domain_ahead());
    return seal::seal_domain();
}

// What only a spare may still do between the two stages, and no domain after:
// each kills a sealed domain, however it sealed (the whole filter allows none).
long const spare_only_calls[] = { SYS_recvmsg, SYS_sendto, SYS_prctl, SYS_fcntl, SYS_getppid, SYS_pread64, SYS_timer_create, SYS_timer_settime, SYS_close_range,
    SYS_landlock_create_ruleset, SYS_landlock_add_rule, SYS_landlock_restrict_self, SYS_seccomp };

} // namespace

TEST(SealedDomain, RefusesEveryForbiddenCallWithEperm)
{
    for (SealWay way : every_way) {
        SCOPED_TRACE(describe(way));
        int status = in_child([way] {
            auto sealed = seal_domain_the_way(way);
            if (sealed.is_error()) {
                std::fprintf(stderr, "seal_domain: %s\n", sealed.error().message().c_str());
                return 1;
            }
            Checks check;
            char const* argv[] = { "/bin/true", nullptr };
            check.refused("execve", ::execve("/bin/true", const_cast<char**>(argv), environ));
            check.refused("execveat", ::syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, environ, 0));
            check.refused("open", ::syscall(SYS_open, "/etc/passwd", O_RDONLY));
            check.refused("openat", ::openat(AT_FDCWD, "/etc/passwd", O_RDONLY));
            check.refused("creat", ::syscall(SYS_creat, "/tmp/signet-sealed-creat", 0600));
            struct stat status {};
            check.refused("stat a path", ::stat("/etc/passwd", &status));
            check.refused("socket", ::socket(AF_INET, SOCK_STREAM, 0));
            check.refused("socketpair", [] { int fds[2]; return ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds); }());
            check.refused("memfd_create", ::syscall(SYS_memfd_create, "x", 0));
            check.refused("shmget", ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600));
            check.refused("fork", ::syscall(SYS_fork));
            check.refused("clone without CLONE_THREAD", ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
            check.refused("kill", ::kill(1, 0));
            check.refused("ptrace", ::syscall(SYS_ptrace, 0, 0, 0, 0));
            check.refused("personality", ::personality(READ_IMPLIES_EXEC));
            check.refused("mmap anonymous read+exec", map(PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS));
            check.refused("mmap anonymous write+exec", map(PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS));
            void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            check.allowed("mmap anonymous read+write", page != MAP_FAILED);
            check.refused("mprotect to read+exec", ::mprotect(page, 4096, PROT_READ | PROT_EXEC));
            check.refused("pkey_mprotect to exec", ::syscall(SYS_pkey_mprotect, page, 4096, PROT_EXEC, -1));
            int file = int(::syscall(SYS_open, "/proc/self/exe", O_RDONLY)); // refused: -1
            check.refused("mmap of a file, private, read+exec", file < 0 ? map(PROT_READ | PROT_EXEC, MAP_PRIVATE, 0) : -2);
            return check.failures;
        });
        EXPECT_TRUE(exited_cleanly(status)) << "status " << status;
    }
}

TEST(SealedDomain, KeepsWhatItsRuntimeNeeds)
{
    for (SealWay way : every_way) {
        SCOPED_TRACE(describe(way));
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        int status = in_child([&] {
            if (seal_domain_the_way(way).is_error())
                return 1;
            Checks check;
            void* page = ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            check.allowed("mmap read+write", page != MAP_FAILED);
            check.allowed("mprotect to read-only", ::mprotect(page, 4096, PROT_READ) == 0);
            check.allowed("mprotect to none", ::mprotect(page, 4096, PROT_NONE) == 0);
            check.allowed("madvise", ::madvise(page, 1 << 20, MADV_DONTNEED) == 0);
            check.allowed("munmap", ::munmap(page, 1 << 20) == 0);
            check.allowed("malloc", std::malloc(1 << 22) != nullptr);
            check.allowed("write to a held descriptor", ::write(fds[1], "x", 1) == 1);
            char byte = 0;
            check.allowed("read from a held descriptor", ::read(fds[0], &byte, 1) == 1 && byte == 'x');
            int word = 0;
            check.allowed("futex wake", ::syscall(SYS_futex, &word, FUTEX_WAKE, 1, nullptr, nullptr, 0) == 0);
            timespec now {};
            check.allowed("clock_gettime", ::clock_gettime(CLOCK_MONOTONIC, &now) == 0);
            timespec nap { 0, 1000 };
            check.allowed("nanosleep", ::nanosleep(&nap, nullptr) == 0);
            check.allowed("getpid", ::getpid() > 0);
            struct stat status {};
            check.allowed("fstat a held descriptor", ::fstat(fds[0], &status) == 0);
            check.allowed("close", ::close(fds[0]) == 0);
            return check.failures;
        });
        ::close(fds[0]);
        ::close(fds[1]);
        EXPECT_TRUE(exited_cleanly(status)) << "status " << status;
    }
}

TEST(SealedDomain, AnyCallOffTheAllowListKillsTheProcessWithSigsys)
{
    std::vector<long> numbers { SYS_getuid, SYS_uname, SYS_chdir };
    numbers.insert(numbers.end(), std::begin(spare_only_calls), std::end(spare_only_calls));
    for (SealWay way : every_way) {
        for (long number : numbers) {
            int status = in_child([&] {
                if (seal_domain_the_way(way).is_error())
                    return 1;
                ::syscall(number, 0, 0, 0);
                return 2; // still alive: the call was allowed
            });
            EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << describe(way) << ": syscall " << number << ": status " << status;
        }
    }
}

TEST(SealedDomain, TheAheadStageLetsASpareTakeItsRequestAndMapItsImagesButNoOtherCode)
{
    int status = in_child([] {
        int ends[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
            return 1;
        // Its request, with a descriptor, sent by "the kernel".
        int passed = ::dup(ends[0]);
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] {};
        char byte = 'r';
        iovec part { &byte, 1 };
        msghdr message {};
        message.msg_iov = &part;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        cmsghdr* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(header), &passed, sizeof passed);
        if (::sendmsg(ends[1], &message, 0) != 1)
            return 3;
        if (seal::prepare_domain_filter().is_error() || seal::seal_domain_ahead().is_error())
            return 2;
        Checks check;
        check.allowed("the ahead stage twice is an error", seal::seal_domain_ahead().is_error());
        // It takes the request and answers.
        check.allowed("recvmsg of a descriptor", ::recvmsg(ends[0], &message, MSG_CMSG_CLOEXEC) == 1 && byte == 'r');
        check.allowed("send", ::send(ends[0], "a", 1, MSG_NOSIGNAL) == 1);
        check.allowed("prctl(PR_SET_NAME)", ::prctl(PR_SET_NAME, "signet-test") == 0);
        check.allowed("prctl(PR_SET_PDEATHSIG)", ::prctl(PR_SET_PDEATHSIG, SIGKILL) == 0);
        int moved = ::fcntl(passed, F_DUPFD_CLOEXEC, 200);
        check.allowed("fcntl(F_DUPFD_CLOEXEC)", moved >= 200);
        check.allowed("getppid", ::getppid() > 0);
        timer_t timer {};
        sigevent event {};
        event.sigev_notify = SIGEV_NONE;
        check.allowed("timer_create", ::timer_create(CLOCK_THREAD_CPUTIME_ID, &event, &timer) == 0);
        itimerspec once {};
        check.allowed("timer_settime", ::timer_settime(timer, 0, &once, nullptr) == 0);
        // Its image: opened, read, mapped privately and executable.
        int image = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        check.allowed("open an image", image >= 0);
        unsigned char elf[4] {};
        check.allowed("pread an image", ::pread(image, elf, sizeof elf, 0) == 4 && elf[1] == 'E');
        check.allowed("mmap of a file, private, read+exec", map(PROT_READ | PROT_EXEC, MAP_PRIVATE, image) == 0);
        // No code any other way.
        check.refused("mmap of a file, private, write+exec", map(PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, image));
        check.refused("mmap of a file, shared, read+exec", map(PROT_READ | PROT_EXEC, MAP_SHARED, image));
        check.refused("mmap anonymous read+exec", map(PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS));
        void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        check.refused("mprotect to read+exec", ::mprotect(page, 4096, PROT_READ | PROT_EXEC));
        char const* argv[] = { "/bin/true", nullptr };
        check.refused("execve", ::execve("/bin/true", const_cast<char**>(argv), environ));
        check.refused("socket", ::socket(AF_INET, SOCK_STREAM, 0));
        check.refused("fork", ::syscall(SYS_fork));
        check.allowed("close_range", ::close_range(unsigned(moved), unsigned(moved), 0) == 0);
        // Then the final stage, and the domain's filter holds whole.
        check.allowed("seal_domain", !seal::seal_domain().is_error());
        check.refused("open after the seal", ::syscall(SYS_openat, AT_FDCWD, "/proc/self/exe", O_RDONLY));
        check.refused("mmap of a file, private, read+exec, after the seal", map(PROT_READ | PROT_EXEC, MAP_PRIVATE, image));
        check.allowed("mmap of a file, private, read-only, after the seal", map(PROT_READ, MAP_PRIVATE, image) == 0);
        return check.failures;
    });
    EXPECT_TRUE(exited_cleanly(status)) << "status " << status;
}

TEST(SealedDomain, WithoutAPreparedFilterTheAheadStageIsRefusedAndTheSealIsWhole)
{
    int status = in_child([] {
        Checks check;
        check.allowed("the ahead stage with nothing prepared is an error", seal::seal_domain_ahead().is_error());
        check.allowed("seal_domain", !seal::seal_domain().is_error());
        check.refused("openat", ::openat(AT_FDCWD, "/etc/passwd", O_RDONLY));
        check.refused("mmap anonymous read+exec", map(PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS));
        ::syscall(SYS_getppid);
        return 100; // alive: getppid was allowed
    });
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << "status " << status;
}

TEST(SealedDomain, LandlockLeavesNoFileAndNoNetwork)
{
    int abi = seal::landlock_abi_version();
    if (abi == 0)
        GTEST_SKIP() << "this Linux has no Landlock; seal_domain says so and relies on seccomp alone";
    int status = in_child([abi] {
        auto report = seal::restrict_with_landlock({});
        if (report.is_error() || !report.value().filesystem_restricted)
            return 1;
        Checks check;
        check.refused("open /etc/passwd", ::open("/etc/passwd", O_RDONLY), EACCES);
        check.refused("open /tmp for writing", ::open("/tmp/signet-landlock-probe", O_WRONLY | O_CREAT, 0600), EACCES);
        if (abi >= 4) {
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in address {};
            address.sin_family = AF_INET;
            address.sin_port = htons(9);
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            check.refused("connect tcp", ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), EACCES);
            check.refused("bind tcp", ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), EACCES);
        }
        return check.failures;
    });
    EXPECT_TRUE(exited_cleanly(status)) << "status " << status;
}

TEST(SealedKernel, MapsCodeOnlyFromFilesReadOnlyAndPrivately)
{
    ScratchDir store;
    int status = in_child([&] {
        auto sealed = seal::seal_kernel({ .paths = { { store.path().string(), seal::PathGrant::Access::Read } } });
        if (sealed.is_error()) {
            std::fprintf(stderr, "seal_kernel: %s\n", sealed.error().message().c_str());
            return 1;
        }
        Checks check;
        int image = ::open((store.path() / "inside").c_str(), O_RDONLY);
        check.allowed("open a file in the store", image >= 0);
        check.allowed("mmap a store file read+exec, private", map(PROT_READ | PROT_EXEC, MAP_PRIVATE, image) == 0);
        check.refused("mmap a store file read+exec, shared", map(PROT_READ | PROT_EXEC, MAP_SHARED, image));
        check.refused("mmap a file write+exec", map(PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, image));
        check.refused("mmap anonymous read+exec", map(PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS));
        check.refused("mmap anonymous write+exec", map(PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS));
        void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        check.allowed("mmap anonymous read+write", page != MAP_FAILED);
        check.refused("mprotect to read+exec", ::mprotect(page, 4096, PROT_READ | PROT_EXEC));
        check.refused("personality", ::personality(READ_IMPLIES_EXEC));
        check.refused("shmget", ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600));
        check.refused("ptrace", ::syscall(SYS_ptrace, 0, 0, 0, 0));
        // What the kernel still does after boot: memory files for rings, threads, processes.
        int memory = int(::syscall(SYS_memfd_create, "ring", MFD_CLOEXEC));
        check.allowed("memfd_create", memory >= 0);
        check.allowed("size a memory file", ::ftruncate(memory, 4096) == 0);
        check.allowed("mmap a memory file read+write, shared", map(PROT_READ | PROT_WRITE, MAP_SHARED, memory) == 0);
        return check.failures;
    });
    EXPECT_TRUE(exited_cleanly(status)) << "status " << status;
}

TEST(SealedKernel, OnceTheZygoteRunsItExecutesNothingAndMapsNoCodeWhileTheZygoteStillForksDomains)
{
    ScratchDir store;
    int status = in_child([&] {
        // As `signet run` does: seal, start the zygote, then the second filter.
        auto grants = seal::system_image_grants(SIGNET_DOMAIN_HOST);
        grants.push_back({ store.path().string(), seal::PathGrant::Access::Read });
        auto sealed = seal::seal_kernel({ .paths = grants });
        if (sealed.is_error()) {
            std::fprintf(stderr, "seal_kernel: %s\n", sealed.error().message().c_str());
            return 1;
        }
        Checks check;
        // What the first filter leaves: the domain host runs (without arguments it
        // says how it is started and exits with status 64).
        int exit_status = -1;
        check.allowed("the domain host runs under the first filter", spawned(SIGNET_DOMAIN_HOST, exit_status) == 0 && exit_status == 64);
        auto zygote = DomainZygote::start({ SIGNET_DOMAIN_HOST, { store.path().string() } });
        check.allowed("the zygote starts under the first filter", !zygote.is_error());
        auto second = seal::seal_kernel_against_new_code();
        if (second.is_error()) {
            std::fprintf(stderr, "seal_kernel_against_new_code: %s\n", second.error().message().c_str());
            return check.failures + 1;
        }
        DomainZygote::make_required();

        // What the second filter takes away: any program, any code.
        char const* argv[] = { SIGNET_DOMAIN_HOST, nullptr };
        check.refused("execve of the domain host", ::execve(SIGNET_DOMAIN_HOST, const_cast<char**>(argv), environ));
        check.refused("execveat of the domain host", ::syscall(SYS_execveat, AT_FDCWD, SIGNET_DOMAIN_HOST, argv, environ, 0));
        int spawn_error = spawned(SIGNET_DOMAIN_HOST, exit_status);
        errno = spawn_error;
        check.refused("posix_spawn of the domain host", spawn_error ? -1 : 0);
        int image = ::open((store.path() / "inside").c_str(), O_RDONLY);
        check.allowed("open a file in the store", image >= 0);
        check.refused("mmap a store file read+exec, private", map(PROT_READ | PROT_EXEC, MAP_PRIVATE, image));
        check.refused("mmap anonymous read+exec", map(PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS));
        int memory = int(::syscall(SYS_memfd_create, "ring", MFD_CLOEXEC));
        check.allowed("memfd_create", memory >= 0);
        check.allowed("size a memory file", ::ftruncate(memory, 4096) == 0);
        check.refused("mmap a memory file read+exec, private", map(PROT_READ | PROT_EXEC, MAP_PRIVATE, memory));
        void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        check.refused("mprotect to read+exec", ::mprotect(page, 4096, PROT_READ | PROT_EXEC));

        // What the kernel still does: memory files shared with domains, reading the
        // store, threads, and domains forked by the zygote as its own children.
        check.allowed("mmap a memory file read+write, shared", map(PROT_READ | PROT_WRITE, MAP_SHARED, memory) == 0);
        check.allowed("mmap a store file read-only, private", map(PROT_READ, MAP_PRIVATE, image) == 0);
        std::atomic<bool> ran { false };
        std::thread([&] { ran = true; }).join();
        check.allowed("start a thread", ran.load());
        // A domain host given no arguments exits with status 64 at once: enough to
        // show that the zygote forked it and that it is this process's child.
        auto domain = DomainZygote::fork_domain({ SIGNET_DOMAIN_HOST }, {});
        int domain_status = 0;
        check.allowed("the zygote forks a domain", !domain.is_error() && ::waitpid(domain.value(), &domain_status, 0) == domain.value()
                && WIFEXITED(domain_status) && WEXITSTATUS(domain_status) == 64);

        // With the zygote gone, a domain is an error that says why, not a refused exec.
        DomainZygote::stop();
        DomainLaunch launch;
        launch.host_executable = SIGNET_DOMAIN_HOST;
        launch.images.push_back({ (store.path() / "inside").string(), "0" });
        launch.memory_bytes = 1 << 20;
        launch.stack_bytes = 1 << 20;
        auto refused = DomainProcess::start(launch);
        check.allowed("a domain without the zygote is refused", refused.is_error());
        if (refused.is_error() && refused.error().message().find("the domain zygote is gone, and this kernel sealed itself against executing a program")
                == std::string::npos) {
            std::fprintf(stderr, "the refusal does not say why: %s\n", refused.error().message().c_str());
            ++check.failures;
        }
        return check.failures;
    });
    EXPECT_TRUE(exited_cleanly(status)) << "status " << status;
}

TEST(SealedKernel, OpensFilesOnlyWhereItWasGranted)
{
    if (seal::landlock_abi_version() == 0)
        GTEST_SKIP() << "this Linux has no Landlock; seal_kernel says so and restricts code mappings only";
    ScratchDir store;
    ScratchDir granted;
    int status = in_child([&] {
        auto sealed = seal::seal_kernel({ .paths = {
                                              { store.path().string(), seal::PathGrant::Access::Read },
                                              { granted.path().string(), seal::PathGrant::Access::ReadWrite },
                                          } });
        if (sealed.is_error())
            return 1;
        Checks check;
        check.allowed("read in the store", ::open((store.path() / "inside").c_str(), O_RDONLY) >= 0);
        check.refused("write in the store", ::open((store.path() / "inside").c_str(), O_WRONLY), EACCES);
        check.refused("create in the store", ::open((store.path() / "new").c_str(), O_WRONLY | O_CREAT, 0600), EACCES);
        check.allowed("create in a granted directory", ::open((granted.path() / "new").c_str(), O_WRONLY | O_CREAT, 0600) >= 0);
        check.refused("read outside", ::open("/etc/passwd", O_RDONLY), EACCES);
        return check.failures;
    });
    EXPECT_TRUE(exited_cleanly(status)) << "status " << status;
}

TEST(SealedKernel, AfterItsThreadsStartedItStillLosesExecutableMappingsInEveryThread)
{
    int status = in_child([] {
        // A thread that exists before the seal, as the kernel's workers do.
        std::atomic<int> result { 0 };
        std::atomic<bool> sealed { false };
        std::thread worker([&] {
            while (!sealed.load())
                std::this_thread::yield();
            result = int(map(PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS)) == -1 && errno == EPERM ? 1 : 2;
        });
        auto report = seal::seal_kernel({ .paths = {}, .files = seal::KernelSealOptions::Files::Leave });
        sealed = true;
        worker.join();
        if (report.is_error() || report.value().filesystem_restricted || report.value().notes.empty())
            return 1;
        Checks check;
        check.allowed("open a file (files are not restricted)", ::open("/etc/passwd", O_RDONLY) >= 0);
        check.refused("mmap anonymous read+exec", map(PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS));
        return check.failures + (result == 1 ? 0 : 1);
    });
    EXPECT_TRUE(exited_cleanly(status)) << "status " << status;
}

TEST(SealedKernel, RefusesToRestrictFilesOnceOtherThreadsRun)
{
    int status = in_child([] {
        std::atomic<bool> done { false };
        std::thread worker([&] {
            while (!done.load())
                std::this_thread::yield();
        });
        auto sealed = seal::seal_kernel({ .paths = {} });
        done = true;
        worker.join();
        Checks check;
        check.allowed("sealing is refused", sealed.is_error());
        check.allowed("the refusal says why", sealed.is_error() && sealed.error().message().find("threads") != std::string::npos);
        check.allowed("and nothing was restricted", ::open("/etc/passwd", O_RDONLY) >= 0);
        return check.failures;
    });
    EXPECT_TRUE(exited_cleanly(status)) << "status " << status;
}

TEST(SealedKernel, TheSystemImageIsTheDomainHostItsLoaderTheLibrariesAndDevNull)
{
    auto grants = seal::system_image_grants(SIGNET_DOMAIN_HOST);
    auto find = [&](std::string const& path) {
        return std::find_if(grants.begin(), grants.end(), [&](auto const& grant) { return grant.path == path; });
    };
    auto host = find(SIGNET_DOMAIN_HOST);
    ASSERT_NE(host, grants.end());
    EXPECT_EQ(host->access, seal::PathGrant::Access::ReadExecute);
    // Exactly two things are executable: the host and the interpreter it names.
    EXPECT_EQ(std::count_if(grants.begin(), grants.end(), [](auto const& grant) { return grant.access == seal::PathGrant::Access::ReadExecute; }), 2);
    auto null = find("/dev/null");
    ASSERT_NE(null, grants.end());
    EXPECT_EQ(null->access, seal::PathGrant::Access::File);
    // The system libraries, however this host links /lib and /usr/lib.
    auto libraries = std::filesystem::canonical("/usr/lib");
    EXPECT_TRUE(std::any_of(grants.begin(), grants.end(), [&](auto const& grant) {
        std::error_code error;
        return std::filesystem::canonical(grant.path, error) == libraries && grant.access == seal::PathGrant::Access::Read;
    }));
}

TEST(SealedKernel, AWritableHostPathMayNotOverlapTheSystemImage)
{
    ScratchDir store;
    std::vector<seal::PathGrant> code = seal::system_image_grants(SIGNET_DOMAIN_HOST);
    code.push_back({ store.path().string(), seal::PathGrant::Access::Read });
    for (std::string path : { std::string("/"), std::string("/usr"), std::string("/usr/lib/x86_64-linux-gnu"), (store.path() / "inside").string(),
             std::filesystem::path(SIGNET_DOMAIN_HOST).parent_path().string() }) {
        auto checked = seal::check_grants(code, { { path, seal::PathGrant::Access::ReadWrite } });
        ASSERT_TRUE(checked.is_error()) << path;
        EXPECT_NE(checked.error().message().find("overlaps"), std::string::npos) << checked.error().message();
    }
    ScratchDir elsewhere;
    EXPECT_FALSE(seal::check_grants(code, { { elsewhere.path().string(), seal::PathGrant::Access::ReadWrite } }).is_error());
}
