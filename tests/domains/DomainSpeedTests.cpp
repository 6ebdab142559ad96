// The fast paths of protection domains (docs/protection-domains.md, "What a
// domain costs") keep every guarantee of the slow ones: the ring's waiting
// handshake never loses a frame and never spins beside its peer on one CPU;
// an idle domain sleeps; the domain zygote is sealed, and the domains it forks
// run, are sealed, and are watched as the kernel's own children.
#include "kernel/Kernel.h"
#include "kernel/domain/DomainProcess.h"
#include "kernel/domain/DomainSip.h"
#include "kernel/domain/DomainZygote.h"
#include "runtime/ring/Ring.h"
#include "runtime/seal/Seal.h"

#include "DomainTestSupport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sched.h>
#include <set>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>

using namespace signet;
using signet::test::in_child;

namespace {

struct Region {
    std::unique_ptr<uint8_t[]> bytes { new (std::align_val_t(64)) uint8_t[ring::region_bytes] };
    Region() { ring::Ring::initialize(bytes.get()); }
};

struct EventFd {
    int fd { ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
    ~EventFd() { ::close(fd); }
    // Whether it was rung since the last look.
    bool rung() const
    {
        uint64_t count = 0;
        return ::read(fd, &count, sizeof count) == sizeof count;
    }
};

TEST(RingWaiting, AProducerRingsOnlyAPeerThatSaysItSleeps)
{
    Region region;
    ring::Ring kernel(ring::Side::Kernel, region.bytes.get());
    ring::Ring domain(ring::Side::Domain, region.bytes.get());
    EventFd to_domain;
    uint8_t const payload[8] = {};
    // Until a side says it watches the ring, it is rung.
    EXPECT_TRUE(kernel.peer_sleeps());
    EXPECT_TRUE(domain.peer_sleeps());
    ASSERT_TRUE(kernel.try_send(17, 1, payload).value());
    kernel.notify(ring::Doorbell(to_domain.fd));
    EXPECT_TRUE(to_domain.rung());
    // Watching: no doorbell, and the frame is there all the same.
    domain.set_sleeping(false);
    EXPECT_FALSE(kernel.peer_sleeps());
    ASSERT_TRUE(kernel.try_send(17, 2, payload).value());
    kernel.notify(ring::Doorbell(to_domain.fd));
    EXPECT_FALSE(to_domain.rung());
    EXPECT_TRUE(domain.peer_published());
    EXPECT_EQ(domain.receive().value()->sequence, 1u);
    EXPECT_EQ(domain.receive().value()->sequence, 2u);
    EXPECT_FALSE(domain.peer_published());
    // Asleep again: rung again.
    domain.set_sleeping(true);
    ASSERT_TRUE(kernel.try_send(17, 3, payload).value());
    kernel.notify(ring::Doorbell(to_domain.fd));
    EXPECT_TRUE(to_domain.rung());
}

TEST(RingWaiting, AWaiterOnAnotherThreadReceivesEveryFrameInOrder)
{
    // Many round trips between two threads that spin, then sleep: the handshake
    // must never leave both asleep (the test would hang) nor lose a frame.
    Region region;
    EventFd to_kernel, to_domain;
    uint32_t const rounds = 20'000;
    std::atomic<uint32_t> domain_received { 0 };
    std::thread domain_side([&] {
        ring::Ring domain(ring::Side::Domain, region.bytes.get());
        uint8_t payload[24] = {};
        for (uint32_t i = 1; i <= rounds; ++i) {
            std::memcpy(payload, &i, sizeof i);
            ASSERT_TRUE(domain.try_send(2, i, payload).value());
            domain.notify(ring::Doorbell(to_kernel.fd));
            for (;;) {
                auto frame = domain.receive();
                ASSERT_FALSE(frame.is_error());
                if (frame.value()) {
                    ASSERT_EQ(frame.value()->sequence, i);
                    domain_received.store(i);
                    break;
                }
                // Every 64th round the domain dawdles, so the kernel also sleeps.
                if (i % 64 == 0)
                    ::usleep(50);
                domain.wait(ring::Doorbell(to_domain.fd), 1000);
            }
        }
    });
    ring::Ring kernel(ring::Side::Kernel, region.bytes.get());
    for (uint32_t i = 1; i <= rounds; ++i) {
        for (;;) {
            auto frame = kernel.receive();
            ASSERT_FALSE(frame.is_error());
            if (frame.value()) {
                ASSERT_EQ(frame.value()->sequence, i);
                uint32_t carried = 0;
                std::memcpy(&carried, frame.value()->payload.data(), sizeof carried);
                ASSERT_EQ(carried, i);
                break;
            }
            kernel.wait(ring::Doorbell(to_kernel.fd), 1000);
        }
        if (i % 97 == 0)
            ::usleep(30);
        ASSERT_TRUE(kernel.try_send(17, i, {}).value());
        kernel.notify(ring::Doorbell(to_domain.fd));
    }
    domain_side.join();
    EXPECT_EQ(domain_received.load(), rounds);
}

TEST(RingWaiting, NobodySpinsBesideItsPeerOnOneCpu)
{
    cpu_set_t original;
    ASSERT_EQ(::sched_getaffinity(0, sizeof original, &original), 0);
    int cpu = ::sched_getcpu();
    ASSERT_GE(cpu, 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
    Region region;
    ring::Ring kernel(ring::Side::Kernel, region.bytes.get());
    ring::Ring domain(ring::Side::Domain, region.bytes.get());
    // The domain waits first (nothing is published), on this CPU: it says where.
    unsigned domain_looks = 0;
    EXPECT_FALSE(domain.spin_for_peer(100'000, [&] { return ++domain_looks < 4; }));
    EXPECT_GT(domain_looks, 0u); // it spun: the kernel had not waited anywhere yet
    // Now the kernel, on the same CPU: it does not spin at all.
    unsigned kernel_looks = 0;
    EXPECT_FALSE(kernel.spin_for_peer(100'000, [&] { return ++kernel_looks < 4; }));
    EXPECT_EQ(kernel_looks, 0u);
    ASSERT_EQ(::sched_setaffinity(0, sizeof original, &original), 0);
}

// signet-domain processes that are children of this process and alive.
std::set<pid_t> domain_children()
{
    auto live = test::live_domains();
    return { live.begin(), live.end() };
}

uint64_t cpu_time_ns(clockid_t clock)
{
    timespec used {};
    ::clock_gettime(clock, &used);
    return uint64_t(used.tv_sec) * 1'000'000'000ull + uint64_t(used.tv_nsec);
}

uint64_t now_ns()
{
    timespec now {};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return uint64_t(now.tv_sec) * 1'000'000'000ull + uint64_t(now.tv_nsec);
}

class DomainSpeedTest : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override
    {
        m_kernel = test::create_domain_test_kernel(std::make_shared<BufferOutputStream>());
        ASSERT_TRUE(m_kernel);
        if (zygote()) {
            ASSERT_FALSE(DomainZygote::running());
            auto started = DomainZygote::start({ SIGNET_DOMAIN_HOST, { test::domain_test_store() } });
            ASSERT_FALSE(started.is_error()) << started.error().message();
        }
    }
    void TearDown() override
    {
        m_kernel.reset();
        DomainZygote::stop();
    }
    bool zygote() const { return GetParam(); }

    SpawnRequest request(std::string const& wasm, std::vector<std::string> args = {})
    {
        return test::buffered_request(test::install_image(*m_kernel, wasm), std::filesystem::path(wasm).stem().string(), args);
    }

    std::unique_ptr<Kernel> m_kernel;
};

TEST_P(DomainSpeedTest, ASipRunsInAFreshDomainAndPrints)
{
    uint64_t forked = DomainZygote::forked_count();
    auto spawned = request(std::string(SIGNET_EXAMPLES) + "/hello.wasm", { "fast" });
    auto out = std::static_pointer_cast<BufferOutputStream>(spawned.stdio.out);
    auto sip = spawn_in_domain(*m_kernel, std::move(spawned), DomainPlacement::parse("own"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Exited) << exit.detail;
    EXPECT_EQ(out->contents(), "Hello from a sealed process!\narg 1: fast\n");
    EXPECT_EQ(DomainZygote::forked_count(), forked + (zygote() ? 1 : 0));
}

TEST_P(DomainSpeedTest, AnIdleDomainCostsNoCpuAndItsDeathIsNoticedAtOnce)
{
    auto before = domain_children();
    // The sleeper waits 60 s inside one kernel call: its domain has nothing to do.
    auto sip = spawn_in_domain(*m_kernel, request(std::string(SIGNET_TEST_GUESTS) + "/domain_sleeper.wasm"), DomainPlacement::parse("own"),
        SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    pid_t pid = -1;
    for (int i = 0; i < 500 && pid < 0; ++i) {
        for (pid_t child : domain_children()) {
            if (!before.count(child))
                pid = child;
        }
        if (pid < 0)
            ::usleep(10'000);
    }
    ASSERT_GT(pid, 0) << "no new domain process";
    // Its parent is this process, zygote or not: the kernel reaps it.
    clockid_t clock;
    ASSERT_EQ(::clock_getcpuclockid(pid, &clock), 0);
    ::usleep(200'000); // past its start and its hello
    uint64_t cpu_before = cpu_time_ns(clock);
    uint64_t wall_before = now_ns();
    ::usleep(1'000'000);
    uint64_t cpu_used = cpu_time_ns(clock) - cpu_before;
    uint64_t wall = now_ns() - wall_before;
    // A domain that spun while idle would use about all of it; one that sleeps, about nothing.
    EXPECT_LT(cpu_used, wall / 2) << "the idle domain used " << cpu_used / 1000 << " us of CPU in " << wall / 1000 << " us";
    EXPECT_EQ(sip.value()->state(), Sip::State::Running);
    // Killed from outside, it is noticed at once (its pidfd), whoever forked it.
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Killed);
    EXPECT_NE(exit.detail.find("its domain process died: killed by signal 9"), std::string::npos) << exit.detail;
}

INSTANTIATE_TEST_SUITE_P(StartedBy, DomainSpeedTest, ::testing::Values(false, true),
    [](auto const& info) { return info.param ? std::string("Zygote") : std::string("Exec"); });


TEST(SealedZygote, ForksOnlyForTheKernelReadsOnlyItsPathsAndExecutesNothing)
{
    if (seal::landlock_abi_version() == 0)
        GTEST_SKIP() << "this Linux has no Landlock; seal_zygote says so and relies on seccomp alone";
    std::string readable = std::string(SIGNET_TEST_BINARY_DIR) + "/zygote-readable";
    std::filesystem::create_directories(readable);
    std::ofstream(readable + "/file") << "x";
    // The child tells the pid of the process it clones for us, which we reap.
    int cloned[2];
    ASSERT_EQ(::pipe(cloned), 0);
    int status = in_child([&] {
        int failures = 0;
        auto check = [&](bool ok, char const* what) {
            if (!ok) {
                std::fprintf(stderr, "zygote seal: %s\n", what);
                ++failures;
            }
        };
        auto sealed = seal::seal_zygote({ readable });
        if (sealed.is_error()) {
            std::fprintf(stderr, "seal_zygote: %s\n", sealed.error().message().c_str());
            return 100;
        }
        int fd = ::open((readable + "/file").c_str(), O_RDONLY | O_CLOEXEC);
        check(fd >= 0, "cannot read beneath its read path");
        ::close(fd);
        check(::open((readable + "/file").c_str(), O_WRONLY | O_CLOEXEC) < 0, "writes beneath its read path");
        check(::open("/etc/passwd", O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES, "reads outside its read paths");
        char* argv[] = { const_cast<char*>("/bin/true"), nullptr };
        check(::execve("/bin/true", argv, nullptr) < 0 && errno == EPERM, "execve not refused with EPERM");
        check(::socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EPERM, "socket not refused with EPERM");
        check(::syscall(SYS_fork) < 0 && errno == EPERM, "fork not refused with EPERM");
        check(::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, 0) < 0 && errno == EPERM, "clone of a child of its own not refused");
        check(::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED, "an anonymous executable mapping");
        // A domain for the kernel (CLONE_PARENT) is allowed; it is the test's child, not this one's.
        long child = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
        if (child == 0)
            ::_exit(0);
        check(child > 0, "clone(CLONE_PARENT) refused");
        pid_t pid = pid_t(child);
        check(::write(cloned[1], &pid, sizeof pid) == sizeof pid, "cannot tell the clone's pid");
        return failures;
    });
    EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    // The CLONE_PARENT child is ours: reap it.
    pid_t pid = -1;
    if (::read(cloned[0], &pid, sizeof pid) == sizeof pid && pid > 0) {
        EXPECT_EQ(::waitpid(pid, nullptr, 0), pid);
    }
    ::close(cloned[0]);
    ::close(cloned[1]);
}

TEST(SealedZygote, ADomainForkedAfterTheFilterWasPreparedIsSealedWithItsOwnPid)
{
    // The zygote compiles the domain filter once; a domain it forks puts its own
    // pid in. If it did not, signalling itself (abort) would kill it (SIGSYS).
    int status = in_child([] {
        if (auto prepared = seal::prepare_domain_filter(); prepared.is_error()) {
            std::fprintf(stderr, "prepare_domain_filter: %s\n", prepared.error().message().c_str());
            return 100;
        }
        pid_t domain = ::fork();
        if (domain == 0) {
            if (seal::seal_domain().is_error())
                ::_exit(90);
            int failures = 0;
            if (::syscall(SYS_tgkill, ::getpid(), ::gettid(), 0) != 0)
                ++failures;
            if (::syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY) != -1 || errno != EPERM)
                ++failures;
            if (::syscall(SYS_fork) != -1 || errno != EPERM)
                ++failures;
            ::_exit(failures);
        }
        int domain_status = 0;
        ::waitpid(domain, &domain_status, 0);
        if (!WIFEXITED(domain_status)) {
            std::fprintf(stderr, "the domain died with signal %d\n", WIFSIGNALED(domain_status) ? WTERMSIG(domain_status) : 0);
            return 1;
        }
        return WEXITSTATUS(domain_status);
    });
    EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SealedZygote, AZygoteThatIsGoneIsAnErrorNamingIt)
{
    ASSERT_FALSE(DomainZygote::running());
    auto missing = DomainZygote::start({ "/nonexistent/signet-domain", {} });
    ASSERT_TRUE(missing.is_error());
    EXPECT_NE(missing.error().message().find("/nonexistent/signet-domain"), std::string::npos) << missing.error().message();
    auto unasked = DomainZygote::fork_domain({ "signet-domain" }, {});
    ASSERT_TRUE(unasked.is_error());
    EXPECT_NE(unasked.error().message().find("zygote is not running"), std::string::npos) << unasked.error().message();
}


// The zygote's spare (runtime/domain/ZygoteProtocol.h): a domain process forked
// before it is asked for, which must hold nothing of any SIP until a request
// makes it one SIP's domain.
class SpareDomain : public ::testing::Test {
protected:
    explicit SpareDomain(char const* host = SIGNET_DOMAIN_HOST)
        : m_host(host)
    {
    }

    void SetUp() override
    {
        m_kernel = test::create_domain_test_kernel(std::make_shared<BufferOutputStream>());
        ASSERT_TRUE(m_kernel);
        ASSERT_FALSE(DomainZygote::running());
        auto started = DomainZygote::start({ m_host, { test::domain_test_store() }, DomainZygote::Options::Spare::Yes });
        ASSERT_FALSE(started.is_error()) << started.error().message();
    }
    void TearDown() override
    {
        m_kernel.reset();
        DomainZygote::stop();
    }

    // The waiting spare, other than `not_this`; -1 if none came within 5 s.
    static pid_t wait_for_spare(pid_t not_this = -1)
    {
        for (int i = 0; i < 500; ++i) {
            for (pid_t spare : DomainZygote::spares()) {
                if (spare != not_this && ::kill(spare, 0) == 0)
                    return spare;
            }
            ::usleep(10'000);
        }
        return -1;
    }

    std::string run_hello(std::string const& argument)
    {
        auto spawned = test::buffered_request(test::install_image(*m_kernel, std::string(SIGNET_EXAMPLES) + "/hello.wasm"), "hello", { argument });
        auto out = std::static_pointer_cast<BufferOutputStream>(spawned.stdio.out);
        auto sip = spawn_in_domain(*m_kernel, std::move(spawned), DomainPlacement::parse("own"), m_host);
        if (sip.is_error())
            return "spawn failed: " + sip.error().message();
        auto exit = sip.value()->wait_from_host();
        // Its waiters see the SIP's end before its process is reaped (DomainProcess::kill).
        m_kernel->wait_until_idle();
        if (exit.how != ExitInfo::How::Exited)
            return "did not exit: " + exit.detail;
        return out->contents();
    }

    std::string m_host;
    std::unique_ptr<Kernel> m_kernel;
};

// A domain host whose every spare dies with the request it takes, before it
// answers (a spare killed at the worst moment).
class SpareDiesOnTake : public SpareDomain {
protected:
    SpareDiesOnTake()
        : SpareDomain(SIGNET_SPARE_DIES_HOST)
    {
    }
};

std::string read_text(std::filesystem::path const& path)
{
    std::ifstream in(path);
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

TEST_F(SpareDomain, ASpareHoldsNothingOfAnySipAndServesTheNextStart)
{
    pid_t spare = wait_for_spare();
    ASSERT_GT(spare, 0) << "the zygote announced no spare";
    auto proc = std::filesystem::path("/proc") / std::to_string(spare);
    EXPECT_EQ(read_text(proc / "comm"), "signet-spare\n");
    // Only what every fork of the zygote holds: the standard streams, the
    // zygote's socket and its own pipe to the zygote. No ring, no memory file,
    // no doorbell, no image.
    unsigned descriptors = 0;
    for (auto const& entry : std::filesystem::directory_iterator(proc / "fd")) {
        std::error_code error;
        auto target = std::filesystem::read_symlink(entry.path(), error).string();
        EXPECT_EQ(target.find("memfd:"), std::string::npos) << target;
        EXPECT_EQ(target.find("eventfd"), std::string::npos) << target;
        ++descriptors;
    }
    EXPECT_LE(descriptors, 5u);
    auto maps = read_text(proc / "maps");
    EXPECT_EQ(maps.find("image.so"), std::string::npos);
    EXPECT_EQ(maps.find("memfd:"), std::string::npos);

    uint64_t from_spare = DomainZygote::from_spare_count();
    EXPECT_EQ(run_hello("spare"), "Hello from a sealed process!\narg 1: spare\n");
    EXPECT_EQ(DomainZygote::from_spare_count(), from_spare + 1);
    // It became that SIP's domain, which ended with it; the zygote makes another.
    EXPECT_NE(::kill(spare, 0), 0);
    pid_t next = wait_for_spare(spare);
    EXPECT_GT(next, 0) << "no new spare after the first was taken";
    EXPECT_EQ(run_hello("again"), "Hello from a sealed process!\narg 1: again\n");
    EXPECT_EQ(DomainZygote::from_spare_count(), from_spare + 2);
}

TEST_F(SpareDomain, ASpareMapsTheLastProgramAheadAndADomainOfAnotherMapsOnlyItsOwn)
{
    auto hello = test::install_image(*m_kernel, std::string(SIGNET_EXAMPLES) + "/hello.wasm");
    auto sleeper = test::install_image(*m_kernel, std::string(SIGNET_TEST_GUESTS) + "/domain_sleeper.wasm");
    ASSERT_TRUE(hello && sleeper);
    auto maps_of = [](pid_t pid) { return read_text(std::filesystem::path("/proc") / std::to_string(pid) / "maps"); };
    // After a start of hello, the next spare has hello's code mapped (its dlopen
    // in the domain then finds it mapped), and nothing of any SIP.
    pid_t first = wait_for_spare();
    ASSERT_GT(first, 0);
    EXPECT_EQ(run_hello("one"), "Hello from a sealed process!\narg 1: one\n");
    pid_t spare = wait_for_spare(first);
    ASSERT_GT(spare, 0);
    auto maps = maps_of(spare);
    EXPECT_NE(maps.find(hello->path()), std::string::npos) << "the spare did not map the last program ahead:\n" << maps;
    EXPECT_EQ(maps.find("memfd:"), std::string::npos);
    // Asked for another program, it unmaps hello first: a domain maps only the code it runs.
    uint64_t from_spare = DomainZygote::from_spare_count();
    auto sip = spawn_in_domain(*m_kernel, test::buffered_request(sleeper, "sleeper", {}), DomainPlacement::parse("own"), m_host);
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    EXPECT_EQ(DomainZygote::from_spare_count(), from_spare + 1);
    for (int i = 0; i < 500 && maps_of(spare).find(sleeper->path()) == std::string::npos; ++i)
        ::usleep(10'000);
    maps = maps_of(spare);
    EXPECT_NE(maps.find(sleeper->path()), std::string::npos) << maps;
    EXPECT_EQ(maps.find(hello->path()), std::string::npos) << "a domain of another program still maps hello:\n" << maps;
    m_kernel->kill(*sip.value());
    EXPECT_EQ(sip.value()->wait_from_host().how, ExitInfo::How::Killed);
    m_kernel->wait_until_idle();
    // And the next spare maps the sleeper's code, not hello's.
    pid_t next = wait_for_spare(spare);
    ASSERT_GT(next, 0);
    maps = maps_of(next);
    EXPECT_NE(maps.find(sleeper->path()), std::string::npos) << maps;
    EXPECT_EQ(maps.find(hello->path()), std::string::npos) << maps;
}

TEST_F(SpareDomain, ASpareThatDiesUnusedIsReapedAndTheZygoteForksTheNextDomain)
{
    pid_t spare = wait_for_spare();
    ASSERT_GT(spare, 0) << "the zygote announced no spare";
    ASSERT_EQ(::kill(spare, SIGKILL), 0);
    // kill() returns before the spare has died. Until it runs again it still
    // waits in recv on the zygote's socket, and a request sent now could be
    // taken by it as it dies (SpareDiesOnTake covers that): wait for the
    // zombie, so that this test sees the zygote serve the request itself.
    auto stat = std::filesystem::path("/proc") / std::to_string(spare) / "stat";
    auto dead = [&] {
        std::string text = read_text(stat);
        auto end_of_name = text.rfind(')');
        return end_of_name == std::string::npos || text.compare(end_of_name, 3, ") Z") == 0;
    };
    for (int i = 0; i < 500 && !dead(); ++i)
        ::usleep(10'000);
    ASSERT_TRUE(dead()) << "the spare did not die";
    uint64_t from_spare = DomainZygote::from_spare_count();
    uint64_t forked = DomainZygote::forked_count();
    EXPECT_EQ(run_hello("after"), "Hello from a sealed process!\narg 1: after\n");
    EXPECT_EQ(DomainZygote::forked_count(), forked + 1);
    EXPECT_EQ(DomainZygote::from_spare_count(), from_spare);
    // The zygote said the spare was lost and the kernel asked again; the
    // request was served once, by the zygote, and its copy dropped.
    EXPECT_TRUE(test::live_domains().empty());
    // Reaped by the kernel's side: no zombie left, nothing left to wait for.
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path("/proc") / std::to_string(spare)));
    EXPECT_EQ(::waitpid(spare, nullptr, WNOHANG), -1);
    // And a start served without a spare is followed by a new one.
    EXPECT_GT(wait_for_spare(spare), 0);
}

TEST_F(SpareDiesOnTake, ARequestTheSpareDiedWithIsSentAgainAndServedOnce)
{
    for (int round = 0; round < 3; ++round) {
        pid_t spare = wait_for_spare();
        ASSERT_GT(spare, 0) << "the zygote announced no spare in round " << round;
        uint64_t from_spare = DomainZygote::from_spare_count();
        uint64_t forked = DomainZygote::forked_count();
        std::string argument = "round " + std::to_string(round);
        // Without the resend the kernel would wait 5 s, stop the zygote and fail.
        EXPECT_EQ(run_hello(argument), "Hello from a sealed process!\narg 1: " + argument + "\n");
        EXPECT_TRUE(DomainZygote::running());
        EXPECT_EQ(DomainZygote::from_spare_count(), from_spare);
        EXPECT_EQ(DomainZygote::forked_count(), forked + 1);
        // Served once: the zygote dropped whichever copy of the request came
        // second, so no second domain process runs it.
        EXPECT_TRUE(test::live_domains().empty());
    }
}

TEST_F(SpareDomain, StoppingTheZygoteEndsAndReapsItsSpare)
{
    pid_t spare = wait_for_spare();
    ASSERT_GT(spare, 0) << "the zygote announced no spare";
    DomainZygote::stop();
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path("/proc") / std::to_string(spare)));
    EXPECT_TRUE(DomainZygote::spares().empty());
    EXPECT_TRUE(test::live_domains().empty());
}

TEST_F(SpareDomain, AZygoteWithoutSparesMakesNone)
{
    DomainZygote::stop();
    auto started = DomainZygote::start({ SIGNET_DOMAIN_HOST, { test::domain_test_store() }, DomainZygote::Options::Spare::No });
    ASSERT_FALSE(started.is_error()) << started.error().message();
    uint64_t from_spare = DomainZygote::from_spare_count();
    EXPECT_EQ(run_hello("cold"), "Hello from a sealed process!\narg 1: cold\n");
    ::usleep(50'000); // several refill delays
    EXPECT_TRUE(DomainZygote::spares().empty());
    EXPECT_EQ(DomainZygote::from_spare_count(), from_spare);
}

} // namespace
