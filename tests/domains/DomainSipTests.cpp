// SIPs in protection domains of their own: they run, print, take arguments,
// exit with their status, trap, talk over channels with the contract enforced
// by the kernel; and a domain that dies or misbehaves ends only its SIP.
#include "installer/Manifest.h"
#include "kernel/Kernel.h"
#include "kernel/domain/DomainProcess.h"
#include "kernel/domain/DomainSip.h"
#include "kernel/object/Channel.h"

#include "DomainTestSupport.h"
#include "ThreadsGuest.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>

using namespace signet;

namespace {

std::string example(std::string const& name) { return std::string(SIGNET_EXAMPLES) + "/" + name + ".wasm"; }
std::string guest(std::string const& name) { return std::string(SIGNET_TEST_GUESTS) + "/" + name + ".wasm"; }

struct Outcome {
    ExitInfo exit;
    std::string out;
    std::string err;
    std::string diagnostics;
};

class DomainTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_diagnostics = std::make_shared<BufferOutputStream>();
        m_kernel = test::create_domain_test_kernel(m_diagnostics);
        ASSERT_TRUE(m_kernel);
    }
    void TearDown() override { m_kernel.reset(); }

    std::shared_ptr<Image> image(std::string const& wasm) { return test::install_image(*m_kernel, wasm); }

    // Registers `wasm` as the program `name`, placed in `domain` (as its manifest would).
    void register_in(std::string const& domain, std::string const& name, std::string const& wasm, std::string principal = {})
    {
        Kernel::ProgramInfo info;
        info.image = image(wasm);
        info.principal = std::move(principal);
        info.domain = domain;
        m_kernel->register_program(name, info);
    }

    SpawnRequest request(std::string const& wasm, std::vector<std::string> args = {})
    {
        return test::buffered_request(image(wasm), std::filesystem::path(wasm).filename().string(), args);
    }

    ErrorOr<std::shared_ptr<Sip>> spawn(SpawnRequest spawn, std::string host = SIGNET_DOMAIN_HOST)
    {
        return spawn_in_domain(*m_kernel, std::move(spawn), DomainPlacement::parse(m_placement), host);
    }

    Outcome run(std::string const& wasm, std::vector<std::string> args = {}, std::string host = SIGNET_DOMAIN_HOST)
    {
        return run(request(wasm, std::move(args)), host);
    }

    Outcome run(SpawnRequest spawned, std::string host = SIGNET_DOMAIN_HOST)
    {
        auto out = std::static_pointer_cast<BufferOutputStream>(spawned.stdio.out);
        auto err = std::static_pointer_cast<BufferOutputStream>(spawned.stdio.err);
        Outcome result;
        // In a shared domain the SIP has company: a sleeper in the same domain
        // process, started first, which must outlive it there untouched.
        std::shared_ptr<Sip> companion;
        if (DomainPlacement::parse(m_placement).kind == DomainPlacement::Kind::Named) {
            Kernel::ProgramInfo info;
            info.image = spawned.image;
            info.domain = m_placement;
            m_kernel->register_program("program-under-test", info);
            auto started = spawn(request(guest("domain_sleeper")), host);
            if (started.is_error()) {
                ADD_FAILURE() << started.error().message();
                return result;
            }
            companion = started.release_value();
        }
        uint64_t domains_before = DomainProcess::started_count();
        auto sip = spawn(std::move(spawned), host);
        if (sip.is_error()) {
            ADD_FAILURE() << sip.error().message();
            if (companion)
                m_kernel->kill(*companion);
            return result;
        }
        if (companion) {
            EXPECT_EQ(DomainProcess::started_count(), domains_before) << "the SIP did not join its companion's domain";
        }
        result.exit = sip.value()->wait_from_host();
        result.out = out->contents();
        result.err = err->contents();
        if (companion) {
            EXPECT_EQ(companion->state(), Sip::State::Running) << "the companion in the shared domain ended with the SIP";
            m_kernel->kill(*companion);
            EXPECT_EQ(companion->wait_from_host().detail, "killed");
        }
        m_kernel->wait_until_idle();
        result.diagnostics = m_diagnostics->contents();
        return result;
    }

    Outcome run_in(std::string const& placement, std::string const& wasm)
    {
        auto saved = std::exchange(m_placement, placement);
        auto result = run(wasm);
        m_placement = saved;
        return result;
    }

    std::unique_ptr<Kernel> m_kernel;
    std::shared_ptr<BufferOutputStream> m_diagnostics;
    std::string m_placement { "own" };
};

} // namespace

// The kernel's hostile guest (tests/kernel/guests/abi_chaos.c), each in a domain
// of its own, then eight at once in one shared domain: the ring is a second way
// into the kernel, with its own decoding of every call. Each ends (killed if it
// blocked for good on a channel of its own), and no SIP, domain or channel is left.
TEST_F(DomainTest, HostileSipsInDomainsEndAndLeaveNothingBehind)
{
    uint64_t channels_before = Channel::live_count();
    m_kernel->register_program("abi-chaos", image(example("hello_native")));
    auto chaos = image(guest("domain_abi_chaos"));
    ASSERT_TRUE(chaos);
    // Ends `sip` by `deadline`, killing it if it blocked for good on something of its own.
    auto end_by = [&](Sip& sip, std::chrono::steady_clock::time_point deadline) {
        while (sip.state() != Sip::State::Finished && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (sip.state() != Sip::State::Finished)
            m_kernel->kill(sip);
        sip.wait_from_host();
    };
    uint32_t ended = 0;
    for (uint32_t seed = 1; seed <= 40; ++seed) {
        auto spawned = spawn(test::buffered_request(chaos, "abi-chaos", { std::to_string(seed), "3000" }));
        ASSERT_FALSE(spawned.is_error()) << "seed " << seed << ": " << spawned.error().message();
        end_by(*spawned.value(), std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
        ++ended;
    }
    EXPECT_EQ(ended, 40u);
    // And eight at once in one shared domain.
    m_placement = "chaos";
    std::vector<std::shared_ptr<Sip>> together;
    for (uint32_t seed = 41; seed <= 48; ++seed) {
        auto spawned = spawn(test::buffered_request(chaos, "abi-chaos", { std::to_string(seed), "3000" }));
        ASSERT_FALSE(spawned.is_error()) << "seed " << seed << ": " << spawned.error().message();
        together.push_back(spawned.release_value());
    }
    auto together_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (auto& sip : together)
        end_by(*sip, together_deadline);
    together.clear();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((m_kernel->live_sip_count() || !test::live_domains().empty()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(m_kernel->live_sip_count(), 0u);
    EXPECT_TRUE(test::live_domains().empty());
    m_kernel.reset();
    EXPECT_EQ(Channel::live_count(), channels_before) << "channels outlived their SIPs";
}

TEST_F(DomainTest, AWasiProgramRunsInADomainOfItsOwnAndPrints)
{
    auto result = run(example("hello"), { "from", "a", "domain" });
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_EQ(result.exit.status, 0);
    EXPECT_NE(result.out.find("Hello"), std::string::npos) << result.out << result.err;
    EXPECT_TRUE(test::live_domains().empty());
}

TEST_F(DomainTest, LimitsPastWhatALinearMemoryCanHoldGiveASlotOfThatMostNotMore)
{
    // A slot larger than the domain's guarded reservation (8 GiB) would be mapped
    // over the domain's own mappings; it is held to 65535 pages instead.
    auto spawned = request(example("hello"), { "big" });
    spawned.limits.memory_bytes = 9ull << 30;
    spawned.limits.exchange_bytes = 1ull << 30;
    auto result = run(std::move(spawned));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_NE(result.out.find("arg 1: big"), std::string::npos) << result.out << result.err;
}

TEST_F(DomainTest, ANativeProgramRunsInADomainOfItsOwn)
{
    auto result = run(example("hello_native"));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_EQ(result.exit.status, 0);
    EXPECT_FALSE(result.out.empty()) << result.err;
}

TEST_F(DomainTest, ATrapInTheDomainEndsTheSipWithItsKind)
{
    auto result = run(example("trap_out_of_bounds"));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Trapped) << result.exit.detail;
    EXPECT_EQ(result.exit.trap, TrapKind::OutOfBounds);
    auto divide = run(example("trap_divide_by_zero"));
    EXPECT_EQ(divide.exit.how, ExitInfo::How::Trapped) << divide.exit.detail;
    EXPECT_EQ(divide.exit.trap, TrapKind::DivideByZero);
    auto stack = run(example("trap_stack_exhausted"));
    EXPECT_EQ(stack.exit.how, ExitInfo::How::Trapped) << stack.exit.detail;
    EXPECT_EQ(stack.exit.trap, TrapKind::StackExhausted);
    EXPECT_TRUE(test::live_domains().empty());
}

TEST_F(DomainTest, ASigkillFromOutsideIsNoticedAtOnceAndEndsOnlyThatSip)
{
    auto spawned = request(example("compute"), { "1000000", "1000000000" });
    auto sip = spawn(std::move(spawned));
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    std::vector<pid_t> domains;
    for (int i = 0; i < 200 && domains.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        domains = test::live_domains();
    }
    ASSERT_EQ(domains.size(), 1u);
    // Meanwhile a SIP in the kernel domain goes on.
    auto bystander = m_kernel->spawn(request(example("hello")));
    ASSERT_FALSE(bystander.is_error());
    ::kill(domains.front(), SIGKILL);
    auto started = std::chrono::steady_clock::now();
    ExitInfo exit = sip.value()->wait_from_host();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_EQ(exit.how, ExitInfo::How::Killed);
    EXPECT_NE(exit.detail.find("its domain process died: killed by signal 9 (SIGKILL)"), std::string::npos) << exit.detail;
    EXPECT_EQ(bystander.value()->wait_from_host().how, ExitInfo::How::Exited);
    m_kernel->wait_until_idle();
    EXPECT_NE(m_diagnostics->contents().find("its domain process died"), std::string::npos) << m_diagnostics->contents();
}

TEST_F(DomainTest, KillingTheSipEndsItsDomainProcess)
{
    auto sip = spawn(request(example("compute"), { "1000000", "1000000000" }));
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    m_kernel->kill(*sip.value());
    EXPECT_EQ(sip.value()->wait_from_host().how, ExitInfo::How::Killed);
    m_kernel->wait_until_idle();
    EXPECT_TRUE(test::live_domains().empty());
}

TEST_F(DomainTest, ADomainsTeardownWaitsForTheReaperNotTheSipsWaitersAndIdleWaitsForIt)
{
    // Reaping a killed domain process waits for Linux to tear it down, and
    // destroying the kernel's side unmaps and frees its memory: the domain reaper
    // does both, on a host thread of its own. Held, it does nothing, and yet the
    // SIP's end is seen and the workers go on; the kernel is idle only after.
    unsigned const live_before = DomainProcess::live_count();
    auto sip = spawn(request(guest("domain_sleeper")));
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    DomainProcess::hold_reaper(true);
    m_kernel->kill(*sip.value());
    EXPECT_EQ(sip.value()->wait_from_host().how, ExitInfo::How::Killed);
    auto other = spawn(request(example("hello")));
    ASSERT_FALSE(other.is_error()) << other.error().message();
    EXPECT_EQ(other.value()->wait_from_host().how, ExitInfo::How::Exited);
    // Both domains' kernel sides are still there, waiting for the reaper, even
    // once nothing refers to them (the last reference hands them to it).
    sip = ErrorOr<std::shared_ptr<Sip>>(nullptr);
    other = ErrorOr<std::shared_ptr<Sip>>(nullptr);
    EXPECT_EQ(DomainProcess::live_count(), live_before + 2);
    std::atomic<bool> idle { false };
    std::thread waiter([&] {
        m_kernel->wait_until_idle();
        idle = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(idle.load()) << "idle while the reaper still holds two domains";
    DomainProcess::hold_reaper(false);
    waiter.join();
    EXPECT_EQ(DomainProcess::live_count(), live_before);
    EXPECT_TRUE(test::live_domains().empty());
}

TEST_F(DomainTest, AHostThatIsNotADomainIsRefusedWithAReason)
{
    auto missing = spawn(request(example("hello")), "/nonexistent/signet-domain");
    ASSERT_TRUE(missing.is_error());
    EXPECT_NE(missing.error().message().find("/nonexistent/signet-domain"), std::string::npos);
    // A host that exits at once: the SIP ends, saying how its domain went.
    auto result = run(example("hello"), {}, "/bin/false");
    EXPECT_EQ(result.exit.how, ExitInfo::How::Killed);
    EXPECT_NE(result.exit.detail.find("its domain process died: exited with status 1"), std::string::npos) << result.exit.detail;
}

TEST_F(DomainTest, SipsOfSeveralProgramsShareANamedDomainProcessWhichEndsWithTheLast)
{
    register_in("drivers", "hello", example("hello"));
    uint64_t before = DomainProcess::started_count();
    // A sleeper (60 s in a kernel call) starts it.
    auto first = spawn_in_domain(*m_kernel, request(guest("domain_sleeper")), DomainPlacement::parse("drivers"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(first.is_error()) << first.error().message();
    // Two more SIPs of another program join the same process, and run while it sleeps.
    auto out = std::make_shared<BufferOutputStream>();
    auto spawned = request(example("hello"), { "joined" });
    spawned.stdio.out = out;
    auto second = spawn_in_domain(*m_kernel, std::move(spawned), DomainPlacement::parse("drivers"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(second.is_error()) << second.error().message();
    auto third = spawn_in_domain(*m_kernel, request(example("hello")), DomainPlacement::parse("drivers"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(third.is_error()) << third.error().message();
    EXPECT_EQ(second.value()->wait_from_host().how, ExitInfo::How::Exited);
    EXPECT_EQ(out->contents(), "Hello from a sealed process!\narg 1: joined\n");
    EXPECT_EQ(third.value()->wait_from_host().how, ExitInfo::How::Exited);
    EXPECT_EQ(DomainProcess::started_count(), before + 1);
    // Its process lives on with the first SIP, and only with it.
    EXPECT_EQ(test::live_domains().size(), 1u);
    EXPECT_EQ(first.value()->state(), Sip::State::Running);
    // An image it did not start with cannot join: a sealed domain maps no new code.
    auto refused = spawn_in_domain(*m_kernel, request(example("hello_native")), DomainPlacement::parse("drivers"), SIGNET_DOMAIN_HOST);
    ASSERT_TRUE(refused.is_error());
    EXPECT_NE(refused.error().message().find("maps only the images it started with ("), std::string::npos) << refused.error().message();
    m_kernel->kill(*first.value());
    EXPECT_EQ(first.value()->wait_from_host().how, ExitInfo::How::Killed);
    m_kernel->wait_until_idle();
    EXPECT_TRUE(test::live_domains().empty());
    // The next SIP naming it starts it afresh, and may bring a new image.
    EXPECT_EQ(run_in("drivers", example("hello_native")).exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(DomainProcess::started_count(), before + 2);
}

TEST_F(DomainTest, TwoSipsOfASharedDomainTalkOverAChannel)
{
    register_in("pair", "calculator-server", example("calculator_server"), "signet-examples/calculator-server");
    uint64_t before = DomainProcess::started_count();
    // The client in domain 'pair'; the server it creates joins it there.
    auto result = run_in("pair", example("calculator_client"));
    EXPECT_EQ(result.exit.status, 0) << result.out << result.err << result.diagnostics;
    EXPECT_NE(result.out.find("2 + 40 = 42\n"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("server exited with status 0"), std::string::npos) << result.out;
    EXPECT_EQ(DomainProcess::started_count(), before + 1);
    EXPECT_TRUE(test::live_domains().empty());
}

TEST_F(DomainTest, ASigkillOfASharedDomainEndsAllItsSipsAndABystanderGoesOn)
{
    auto first = spawn_in_domain(*m_kernel, request(guest("domain_sleeper")), DomainPlacement::parse("victims"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(first.is_error()) << first.error().message();
    auto second = spawn_in_domain(*m_kernel, request(guest("domain_sleeper")), DomainPlacement::parse("victims"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(second.is_error()) << second.error().message();
    // A bystander in a domain of its own.
    auto bystander = spawn_in_domain(*m_kernel, request(guest("domain_sleeper")), DomainPlacement::parse("own"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(bystander.is_error()) << bystander.error().message();
    std::vector<pid_t> domains;
    for (int i = 0; i < 300 && domains.size() < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        domains = test::live_domains();
    }
    ASSERT_EQ(domains.size(), 2u);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The shared one holds more memory slots than the first (descriptor 7 on).
    pid_t shared = std::filesystem::exists("/proc/" + std::to_string(domains[0]) + "/fd/7") ? domains[0] : domains[1];
    ASSERT_TRUE(std::filesystem::exists("/proc/" + std::to_string(shared) + "/fd/7"));
    ::kill(shared, SIGKILL);
    for (auto const& sip : { first.value(), second.value() }) {
        ExitInfo exit = sip->wait_from_host();
        EXPECT_EQ(exit.how, ExitInfo::How::Killed);
        EXPECT_NE(exit.detail.find("its domain process died: killed by signal 9 (SIGKILL)"), std::string::npos) << exit.detail;
    }
    EXPECT_EQ(bystander.value()->state(), Sip::State::Running);
    m_kernel->kill(*bystander.value());
    EXPECT_EQ(bystander.value()->wait_from_host().detail, "killed");
    m_kernel->wait_until_idle();
    EXPECT_TRUE(test::live_domains().empty());
    // The kernel goes on: a new SIP naming the domain starts it again.
    EXPECT_EQ(run_in("victims", example("hello")).exit.how, ExitInfo::How::Exited);
}

TEST_F(DomainTest, AHostileDomainEndsOnlyItsOwnSipWithTheReason)
{
    auto directory = std::filesystem::temp_directory_path() / ("signet-hostile-" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory);
    struct Case {
        char const* name;
        char const* says;
    };
    Case const cases[] = {
        // Which field the kernel finds wrong first depends on how far the garbage got when it looked.
        { "hostile-garbage", "its domain process broke its ring: ring: " },
        { "hostile-unsealed", "its domain process did not seal itself" },
        { "hostile-eager", "its domain process sent a request before its hello" },
        { "hostile-caller", "its domain process sent a malformed message: ring message 2 (sequence 1): function 9999 does not exist" },
        { "hostile-crash", "its domain process died: killed by signal 6 (SIGABRT)" },
        { "hostile-stranger", "its domain process sent a message for SIP 99, which is not in the domain" },
        { "hostile-threadless", "its domain process sent a message for thread 7 of SIP 1, which has no such thread" },
        { "hostile-twice", "its domain process sent a second message for thread 1 of SIP 1 before the first was answered" },
        // CPU-time reports: never trusted beyond the process's clock, never going back, well formed.
        { "hostile-overclaim", "its domain process claimed 3600000000000 ns of CPU time for SIP 1, which makes 0 + 3600000000000 ns for its SIPs, more than its process has used (" },
        { "hostile-backwards", "its domain process reported 10 ns of CPU time for SIP 1, less than the 1000 ns it reported before" },
        { "hostile-short-report", "its domain process sent a malformed message: ring message 6 (sequence 0): a CPU-used payload is 16 bytes, got 12" },
    };
    for (auto const& c : cases) {
        auto host = directory / c.name;
        std::filesystem::remove(host);
        std::filesystem::create_symlink(SIGNET_HOSTILE_DOMAIN, host);
        auto result = run(example("hello"), {}, host.string());
        EXPECT_EQ(result.exit.how, ExitInfo::How::Killed) << c.name;
        bool garbled = std::string(c.name) == "hostile-garbage" && result.exit.detail.find("its domain process sent a malformed message: ") != std::string::npos;
        EXPECT_TRUE(result.exit.detail.find(c.says) != std::string::npos || garbled) << c.name << ": " << result.exit.detail;
        EXPECT_TRUE(result.out.empty()) << c.name;
    }
    std::filesystem::remove_all(directory);
    // The kernel is unharmed: the same SIP runs in a proper domain, and in the kernel.
    auto other = spawn(request(example("hello")));
    ASSERT_FALSE(other.is_error()) << other.error().message();
    EXPECT_EQ(other.value()->wait_from_host().how, ExitInfo::How::Exited);
    auto in_kernel = m_kernel->spawn(request(example("hello")));
    ASSERT_FALSE(in_kernel.is_error());
    EXPECT_EQ(in_kernel.value()->wait_from_host().how, ExitInfo::How::Exited);
}

TEST_F(DomainTest, ASipInADomainTalksOverChannelsToSipsInTheKernel)
{
    m_kernel->register_program("calculator-server", image(example("calculator_server")));
    auto result = run(example("calculator_client"));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_EQ(result.exit.status, 0) << result.out << result.err;
    EXPECT_NE(result.out.find(" + "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("server exited with status 0"), std::string::npos) << result.out;
}

TEST_F(DomainTest, TheKernelStillEnforcesContractsOnASipInADomain)
{
    auto result = run(guest("domain_rude"));
    EXPECT_NE(result.out.find("first Add: status 0"), std::string::npos) << result.out << result.err;
    EXPECT_EQ(result.out.find("let a second Add through"), std::string::npos) << result.out;
    EXPECT_EQ(result.exit.how, ExitInfo::How::Trapped) << result.exit.detail;
    EXPECT_EQ(result.exit.trap, TrapKind::ProtocolViolation);
    EXPECT_NE(result.diagnostics.find("contract Calculator, Imp end"), std::string::npos) << result.diagnostics;
    EXPECT_TRUE(test::live_domains().empty());
}

TEST(DomainManifest, PlacesItsProgramInTheKernelUnlessItSaysOtherwise)
{
    std::string const base = "[program]\nname = \"p\"\nversion = \"1\"\npublisher = \"acme\"\n%DOMAIN%\n[code]\nmodule = \"p.wasm\"\nabi = \"signet_v1\"\npersonality = \"native\"\n";
    auto with = [&](std::string const& line) {
        std::string text = base;
        text.replace(text.find("%DOMAIN%"), 8, line);
        return installer::parse_manifest_text(text, "/apps/p.toml");
    };
    auto plain = with("");
    ASSERT_FALSE(plain.is_error()) << plain.error().message();
    EXPECT_EQ(plain.value().domain, "kernel");
    auto own = with("domain = \"own\"");
    ASSERT_FALSE(own.is_error());
    EXPECT_EQ(own.value().domain, "own");
    EXPECT_EQ(DomainPlacement::parse(own.value().domain).kind, DomainPlacement::Kind::Own);
    auto named = with("domain = \"drivers\"");
    ASSERT_FALSE(named.is_error());
    EXPECT_EQ(DomainPlacement::parse(named.value().domain).kind, DomainPlacement::Kind::Named);
    auto bad = with("domain = \"not a name!\"");
    ASSERT_TRUE(bad.is_error());
    EXPECT_NE(bad.error().message().find("program.domain"), std::string::npos) << bad.error().message();
    auto wrong_type = with("domain = 3");
    ASSERT_TRUE(wrong_type.is_error());
}

// Every SIP-visible feature, once in each placement: a program cannot tell where it runs.
class EveryPlacement : public DomainTest, public ::testing::WithParamInterface<char const*> {
protected:
    void SetUp() override
    {
        DomainTest::SetUp();
        m_placement = GetParam();
    }
};

TEST_P(EveryPlacement, EveryAbiFunctionReturnsEveryDocumentedStatus)
{
    auto spawned = request(guest("domain_abi_conformance"), { "second" });
    spawned.stdio.in = std::make_shared<BufferInputStream>(std::string("input!"));
    auto result = run(std::move(spawned));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_EQ(result.exit.status, 42) << result.out;
    EXPECT_NE(result.out.find(" 0 failed"), std::string::npos) << result.out;
    EXPECT_EQ(result.out.find("FAIL"), std::string::npos) << result.out;
    EXPECT_EQ(result.err, "to stderr\n");
    EXPECT_NE(result.diagnostics.find("] conformance\n"), std::string::npos) << result.diagnostics;
}

TEST_P(EveryPlacement, TheWasiPersonalityGrantsOnlyWhatWasGiven)
{
    auto spawned = request(guest("domain_wasi_conformance"), { "one", "two" });
    spawned.environment = { "GREETING=hi" };
    auto result = run(std::move(spawned));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_EQ(result.exit.status, 0) << result.out;
    EXPECT_NE(result.out.find("direct\n"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find(", 0 failed"), std::string::npos) << result.out;
}

TEST_P(EveryPlacement, HelloPrintsItsArgumentsAndOnlyTheGivenEnvironment)
{
    auto spawned = request(example("hello"), { "a b", "c" });
    spawned.environment = { "GREETING=salut" };
    auto result = run(std::move(spawned));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(result.out, "Hello from a sealed process!\narg 1: a b\narg 2: c\nGREETING=salut\n");
}

TEST_P(EveryPlacement, MemoryGrowthStopsAtTheSipsLimit)
{
    auto spawned = request(guest("domain_grower"));
    spawned.limits.memory_bytes = 4ull << 20; // 64 pages
    auto result = run(std::move(spawned));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_EQ(result.out, "pages=64\n");
}

TEST_P(EveryPlacement, TrapsKeepTheirKind)
{
    struct Case {
        char const* program;
        TrapKind kind;
    };
    for (auto [program, kind] : { Case { "trap_out_of_bounds", TrapKind::OutOfBounds }, Case { "trap_unreachable", TrapKind::Unreachable },
             Case { "trap_integer_overflow", TrapKind::IntegerOverflow }, Case { "trap_bad_indirect_call", TrapKind::BadIndirectCall } }) {
        auto result = run(example(program));
        EXPECT_EQ(result.exit.how, ExitInfo::How::Trapped) << program << ": " << result.exit.detail;
        EXPECT_EQ(result.exit.trap, kind) << program;
    }
}

TEST_P(EveryPlacement, ChannelsToAChildWork)
{
    m_kernel->register_program("calculator-server", image(example("calculator_server")));
    auto result = run(example("calculator_client"));
    EXPECT_EQ(result.exit.status, 0) << result.out << result.err;
    EXPECT_NE(result.out.find("2 + 40 = 42\n"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("server exited with status 0"), std::string::npos) << result.out;
}

TEST_P(EveryPlacement, BreakingAProtocolIsStoppedByTheKernel)
{
    auto result = run(guest("domain_rude"));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Trapped) << result.exit.detail;
    EXPECT_EQ(result.exit.trap, TrapKind::ProtocolViolation);
}

TEST_P(EveryPlacement, ThreadsCreateJoinLockAndWaitWithoutBlockingTheirSiblings)
{
    auto result = run(guest("domain_threads"));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_EQ(result.exit.status, 0) << result.out;
    EXPECT_EQ(result.out, signet::testing::threads_guest_output);
}

TEST_P(EveryPlacement, TheThreadQuotaHolds)
{
    auto spawned = request(guest("domain_threads"));
    spawned.limits.threads = 4; // main + 3: the fourth worker thread is refused
    auto result = run(std::move(spawned));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_EQ(result.exit.status, 1);
    EXPECT_NE(result.out.find("cannot start thread 3"), std::string::npos) << result.out;
}

// Alone in a shared domain, a SIP whose calls are answered on its own fiber
// never goes back to the domain's scheduler while it computes: its CPU time is
// still reported (at its calls), so its CPU-time clock advances. (How fine its
// steps are depends on the placement: only the first line holds in every one.)
TEST_P(EveryPlacement, TheSipsCpuClockAdvancesWhileItComputesMakingOnlyCalls)
{
    auto spawned = request(guest("domain_cpu_clock"));
    auto out = std::static_pointer_cast<BufferOutputStream>(spawned.stdio.out);
    auto sip = spawn(std::move(spawned));
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Exited) << exit.detail;
    EXPECT_EQ(out->contents().substr(0, out->contents().find('\n') + 1), "advanced over 30 ms: 1\n") << out->contents();
}

INSTANTIATE_TEST_SUITE_P(Placements, EveryPlacement, ::testing::Values("kernel", "own", "shared"), [](auto const& info) {
    std::string placement = info.param;
    return placement == "own" ? std::string("OwnDomain") : placement == "shared" ? std::string("SharedDomain") : std::string("KernelDomain");
});

TEST_F(DomainTest, AChildRunsWhereItsManifestPlacesIt)
{
    register_in("own", "calculator-server", example("calculator_server"), "signet-examples/calculator-server");
    uint64_t before = DomainProcess::started_count();
    // The client in the kernel domain; the server it creates, in a domain of its own.
    auto spawned = request(example("calculator_client"));
    spawned.may_create_children = true;
    auto out = std::static_pointer_cast<BufferOutputStream>(spawned.stdio.out);
    auto client_err = std::static_pointer_cast<BufferOutputStream>(spawned.stdio.err);
    auto sip = m_kernel->spawn(std::move(spawned));
    ASSERT_FALSE(sip.is_error());
    EXPECT_EQ(sip.value()->wait_from_host().status, 0) << out->contents() << client_err->contents() << m_diagnostics->contents();
    EXPECT_NE(out->contents().find("2 + 40 = 42\n"), std::string::npos) << out->contents();
    m_kernel->wait_until_idle();
    EXPECT_EQ(DomainProcess::started_count(), before + 1);
    EXPECT_TRUE(test::live_domains().empty());

    // A named domain: started for the child, ended with it.
    register_in("drivers", "calculator-server", example("calculator_server"), "signet-examples/calculator-server");
    auto named = request(example("calculator_client"));
    auto named_out = std::static_pointer_cast<BufferOutputStream>(named.stdio.out);
    auto client = m_kernel->spawn(std::move(named));
    ASSERT_FALSE(client.is_error());
    EXPECT_EQ(client.value()->wait_from_host().status, 0) << named_out->contents() << m_diagnostics->contents();
    EXPECT_NE(named_out->contents().find("2 + 40 = 42\n"), std::string::npos) << named_out->contents();
    m_kernel->wait_until_idle();
    EXPECT_EQ(DomainProcess::started_count(), before + 2);
    EXPECT_TRUE(test::live_domains().empty());
}

TEST_F(DomainTest, ADomainHoldsOnlyItsRingMemoryAndDoorbells)
{
    // A descriptor the kernel's process opened without O_CLOEXEC must not reach the domain.
    int leaked = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(leaked, 0);
    auto sip = spawn(request(example("compute"), { "1000000", "1000000000" }));
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    std::vector<pid_t> domains;
    std::set<int> held;
    // Wait until it runs the SIP (its image is mapped and /dev/null is open no more).
    for (int i = 0; i < 300; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        domains = test::live_domains();
        if (domains.size() != 1)
            continue;
        std::string status;
        std::ifstream file("/proc/" + std::to_string(domains.front()) + "/status");
        for (std::string line; std::getline(file, line);) {
            if (line.rfind("Seccomp:", 0) == 0)
                status = line;
        }
        if (status.find('2') == std::string::npos)
            continue; // not sealed yet
        held.clear();
        std::error_code error;
        for (auto const& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(domains.front()) + "/fd", error))
            held.insert(std::stoi(entry.path().filename().string()));
        break;
    }
    ::close(leaked);
    m_kernel->kill(*sip.value());
    sip.value()->wait_from_host();
    EXPECT_EQ(held, (std::set<int> { 0, 1, 2, 3, 4, 5, 6 }));
}

TEST_F(DomainTest, ADeathWhileTheSipWaitsInsideAKernelCallIsNoticedAtOnce)
{
    // The sleeper waits 60 s inside signet_sleep, a call the kernel is executing for it.
    auto sip = spawn(request(guest("domain_sleeper")));
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    std::vector<pid_t> domains;
    for (int i = 0; i < 300 && domains.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        domains = test::live_domains();
    }
    ASSERT_EQ(domains.size(), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::kill(domains.front(), SIGKILL);
    auto started = std::chrono::steady_clock::now();
    ExitInfo exit = sip.value()->wait_from_host();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_EQ(exit.how, ExitInfo::How::Killed);
    EXPECT_NE(exit.detail.find("its domain process died: killed by signal 9 (SIGKILL)"), std::string::npos) << exit.detail;
}

TEST_F(DomainTest, TheCpuTimeLimitCoversWhatTheSipComputesInItsDomain)
{
    auto spawned = request(example("compute"), { "1000000", "1000000000" });
    spawned.limits.cpu_time_ns = 200'000'000;
    auto started = std::chrono::steady_clock::now();
    auto sip = spawn(std::move(spawned));
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    ExitInfo exit = sip.value()->wait_from_host();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
    EXPECT_EQ(exit.how, ExitInfo::How::Killed);
    EXPECT_NE(exit.detail.find("exceeded its CPU time limit of 200 ms (in its domain)"), std::string::npos) << exit.detail;
    m_kernel->wait_until_idle();
    EXPECT_TRUE(test::live_domains().empty());
}

// A SIP's CPU-time limit holds what it computes in its domain and what its
// calls cost the kernel (on its proxy threads) together: a SIP that does
// nothing but call the kernel ends once the two add up to its limit, though
// neither alone has reached it. In a domain of its own (the process's clock)
// and in a shared one (the domain's reports).
TEST_F(DomainTest, TheCpuTimeLimitHoldsTheDomainsTimeAndTheKernelsTogether)
{
    register_in("callers", "caller", guest("domain_caller"));
    uint64_t const limit = 1'000'000'000;
    for (char const* placement : { "own", "callers" }) {
        SCOPED_TRACE(placement);
        auto spawned = request(guest("domain_caller"));
        spawned.limits.cpu_time_ns = limit;
        auto sip = spawn_in_domain(*m_kernel, std::move(spawned), DomainPlacement::parse(placement), SIGNET_DOMAIN_HOST);
        ASSERT_FALSE(sip.is_error()) << sip.error().message();
        ExitInfo exit = sip.value()->wait_from_host();
        EXPECT_EQ(exit.how, ExitInfo::How::Killed);
        EXPECT_NE(exit.detail.find("exceeded its CPU time limit of 1000 ms"), std::string::npos) << exit.detail;
        uint64_t in_kernel = sip.value()->cpu_time_ns();
        uint64_t in_domain = sip.value()->cpu_in_domain_ns();
        EXPECT_GT(in_kernel + in_domain, limit);
        EXPECT_LT(in_kernel, limit) << "in the domain: " << in_domain << " ns";
        EXPECT_LT(in_domain, limit) << "in the kernel: " << in_kernel << " ns";
    }
    m_kernel->wait_until_idle();
}

// The threads of domain process `pid` once it waits for the kernel (its host
// thread asleep: after its hello, so its preemption timer, if any, is armed);
// 0 if it never does within 10 s.
static size_t threads_once_waiting(pid_t pid)
{
    std::string const proc = "/proc/" + std::to_string(pid);
    for (int tries = 0; tries < 1000; ++tries) {
        std::ifstream stat(proc + "/stat");
        std::string id, name, state;
        if (stat >> id >> name >> state && state == "S") {
            std::error_code error;
            auto tasks = std::filesystem::directory_iterator(proc + "/task", error);
            return error ? 0 : size_t(std::distance(std::filesystem::begin(tasks), std::filesystem::end(tasks)));
        }
        ::usleep(10'000);
    }
    return 0;
}

// The POSIX timers of process `pid` (/proc/PID/timers), one line each: "signal
// clock", e.g. "23 -2" for SIGURG on the CPU-time clock of the thread it names.
static std::vector<std::string> posix_timers(pid_t pid)
{
    std::ifstream timers("/proc/" + std::to_string(pid) + "/timers");
    std::vector<std::string> found;
    std::string line, signal;
    while (std::getline(timers, line)) {
        if (line.rfind("signal: ", 0) == 0)
            signal = line.substr(8, line.find('/') - 8);
        else if (line.rfind("ClockID: ", 0) == 0)
            found.push_back(signal + " " + line.substr(9));
    }
    return found;
}

TEST(DomainQuantum, ADomainPreemptsWithItsKernelsQuantumAndNotAtAllWithout)
{
    // A domain preempts with a timer on its host thread's CPU time and no thread
    // of its own: armed with the kernel's default quantum, absent when the kernel
    // preempts nothing (quantum 0).
    for (auto quantum : { KernelConfig {}.quantum, std::chrono::microseconds(0) }) {
        auto kernel = test::create_domain_test_kernel(std::make_shared<BufferOutputStream>(), quantum);
        ASSERT_TRUE(kernel);
        auto sleeper = test::install_image(*kernel, guest("domain_sleeper"));
        auto sip = spawn_in_domain(*kernel, test::buffered_request(sleeper, "sleeper", {}), DomainPlacement::parse("own"), SIGNET_DOMAIN_HOST);
        ASSERT_FALSE(sip.is_error()) << sip.error().message();
        auto domains = test::live_domains();
        ASSERT_EQ(domains.size(), 1u);
        EXPECT_EQ(threads_once_waiting(domains.front()), 1u) << "quantum " << quantum.count() << " us";
        if (std::filesystem::exists("/proc/self/timers")) {
            auto timers = posix_timers(domains.front());
            if (quantum.count()) {
                ASSERT_EQ(timers.size(), 1u);
                EXPECT_EQ(timers.front(), std::to_string(SIGURG) + " -2") << "SIGURG, on the CPU time of the thread that made it";
            } else {
                EXPECT_TRUE(timers.empty());
            }
        }
        // Either way its SIP's call reached the kernel (it sleeps there), and a kill ends it.
        kernel->kill(*sip.value());
        EXPECT_EQ(sip.value()->wait_from_host().detail, "killed");
        kernel->wait_until_idle();
        EXPECT_TRUE(test::live_domains().empty());
    }
}

TEST_F(DomainTest, ASipThatSpinsInASharedDomainDoesNotStallTheOthersThere)
{
    // Every program of the domain is registered before it starts (its images are fixed then).
    register_in("busy", "calculator-server", example("calculator_server"), "signet-examples/calculator-server");
    register_in("busy", "calculator-client", example("calculator_client"));
    register_in("busy", "turns", std::string(SIGNET_SCHEDULER_GUESTS) + "/test_sched_turns.wasm");
    uint64_t before = DomainProcess::started_count();
    // The spinner starts the domain and computes forever without a kernel call:
    // without preemption in the domain, nothing else there would ever run.
    auto spinner = spawn_in_domain(*m_kernel, request(guest("domain_spinner")), DomainPlacement::parse("busy"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(spinner.is_error()) << spinner.error().message();
    // A client and the server it creates, in the same process: round trips and prints.
    auto talker = request(example("calculator_client"));
    auto talker_out = std::static_pointer_cast<BufferOutputStream>(talker.stdio.out);
    auto talking = spawn_in_domain(*m_kernel, std::move(talker), DomainPlacement::parse("busy"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(talking.is_error()) << talking.error().message();
    ExitInfo talked = talking.value()->wait_from_host();
    EXPECT_EQ(talked.how, ExitInfo::How::Exited) << talked.detail;
    EXPECT_EQ(talked.status, 0);
    EXPECT_NE(talker_out->contents().find("2 + 40 = 42\n"), std::string::npos) << talker_out->contents();
    // A SIP of two threads whose writer computes for several quanta per round:
    // preempted there, it keeps its SIP's turn, so its observer never finds a round half done.
    auto writer = request(std::string(SIGNET_SCHEDULER_GUESTS) + "/test_sched_turns.wasm", { "6", "30000000" });
    auto writer_out = std::static_pointer_cast<BufferOutputStream>(writer.stdio.out);
    auto writing = spawn_in_domain(*m_kernel, std::move(writer), DomainPlacement::parse("busy"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(writing.is_error()) << writing.error().message();
    ExitInfo wrote = writing.value()->wait_from_host();
    EXPECT_EQ(wrote.how, ExitInfo::How::Exited) << wrote.detail;
    EXPECT_EQ(wrote.status, 0) << writer_out->contents();
    EXPECT_NE(writer_out->contents().find("6 rounds, "), std::string::npos) << writer_out->contents();
    EXPECT_NE(writer_out->contents().find(" 0 torn"), std::string::npos) << writer_out->contents();
    // All in the one process, where the spinner still spins until it is killed.
    EXPECT_EQ(DomainProcess::started_count(), before + 1);
    EXPECT_EQ(spinner.value()->state(), Sip::State::Running);
    m_kernel->kill(*spinner.value());
    EXPECT_EQ(spinner.value()->wait_from_host().detail, "killed");
    m_kernel->wait_until_idle();
    EXPECT_TRUE(test::live_domains().empty());
}

TEST_F(DomainTest, ASipThatSpinsInASharedDomainIsHeldToItsOwnCpuLimitWhileTheOthersThereGoOn)
{
    register_in("metered", "spinner", guest("domain_spinner"));
    register_in("metered", "hello", example("hello"));
    uint64_t before = DomainProcess::started_count();
    auto sleeper = spawn_in_domain(*m_kernel, request(guest("domain_sleeper")), DomainPlacement::parse("metered"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(sleeper.is_error()) << sleeper.error().message();
    // Two spinners: one with no limit, which keeps the process's clock running for
    // both, and one held to 200 ms of what it computes itself.
    auto free_spinner = spawn_in_domain(*m_kernel, request(guest("domain_spinner")), DomainPlacement::parse("metered"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(free_spinner.is_error()) << free_spinner.error().message();
    auto limited = request(guest("domain_spinner"));
    limited.limits.cpu_time_ns = 200'000'000;
    auto limited_spinner = spawn_in_domain(*m_kernel, std::move(limited), DomainPlacement::parse("metered"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(limited_spinner.is_error()) << limited_spinner.error().message();
    ExitInfo exit = limited_spinner.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Killed);
    EXPECT_NE(exit.detail.find("exceeded its CPU time limit of 200 ms (in its domain)"), std::string::npos) << exit.detail;
    // The others go on in the same process, and a newcomer runs there.
    EXPECT_EQ(sleeper.value()->state(), Sip::State::Running);
    EXPECT_EQ(free_spinner.value()->state(), Sip::State::Running);
    auto greeting = request(example("hello"), { "metered" });
    auto greeting_out = std::static_pointer_cast<BufferOutputStream>(greeting.stdio.out);
    auto greeter = spawn_in_domain(*m_kernel, std::move(greeting), DomainPlacement::parse("metered"), SIGNET_DOMAIN_HOST);
    ASSERT_FALSE(greeter.is_error()) << greeter.error().message();
    EXPECT_EQ(greeter.value()->wait_from_host().how, ExitInfo::How::Exited);
    EXPECT_EQ(greeting_out->contents(), "Hello from a sealed process!\narg 1: metered\n");
    EXPECT_EQ(DomainProcess::started_count(), before + 1);
    for (auto const& sip : { free_spinner.value(), sleeper.value() }) {
        m_kernel->kill(*sip);
        EXPECT_EQ(sip->wait_from_host().detail, "killed");
    }
    m_kernel->wait_until_idle();
    EXPECT_TRUE(test::live_domains().empty());
}

TEST_F(DomainTest, ADomainThatNeverSaysHelloIsKilledAfterTheHelloTimeout)
{
    auto directory = std::filesystem::temp_directory_path() / ("signet-silent-" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory);
    auto host = directory / "hostile-silent";
    std::filesystem::create_symlink(SIGNET_HOSTILE_DOMAIN, host);
    auto started = std::chrono::steady_clock::now();
    auto result = run(example("hello"), {}, host.string());
    auto waited = std::chrono::steady_clock::now() - started;
    std::filesystem::remove_all(directory);
    EXPECT_EQ(result.exit.how, ExitInfo::How::Killed);
    EXPECT_NE(result.exit.detail.find("its domain process died: it did not say hello within 10 s"), std::string::npos) << result.exit.detail;
    EXPECT_GE(waited, std::chrono::milliseconds(DomainProcess::hello_timeout_ms));
    EXPECT_LT(waited, std::chrono::milliseconds(DomainProcess::hello_timeout_ms + 5000));
    EXPECT_TRUE(test::live_domains().empty());
}
