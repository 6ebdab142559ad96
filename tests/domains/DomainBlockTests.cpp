// Exchange-heap blocks across the domain boundary: the exchange conformance
// guests (tests/exchange) with SIPs in domains of their own. Every status,
// the single owner, use after send and reclamation are the same as in the
// kernel; what differs is that blocks are copied into and out of a domain's
// memory (docs/exchange-heap.md, docs/protection-domains.md).
#include "kernel/Kernel.h"
#include "kernel/abi/Abi.h"
#include "kernel/domain/DomainSip.h"
#include "kernel/object/Channel.h"
#include "kernel/object/ExchangeBlock.h"
#include "kernel/object/ExchangeHeap.h"

#include "DomainTestSupport.h"
#include "exchange.h"

#include <gtest/gtest.h>

#include <csignal>
#include <unistd.h>

using namespace signet;

namespace {

std::string exchange_guest(std::string const& name) { return std::string(SIGNET_EXCHANGE_GUESTS) + "/test_exchange_" + name + ".wasm"; }

struct Guest {
    std::shared_ptr<Sip> sip;
    std::shared_ptr<BufferOutputStream> out;

    std::string output() const { return out->contents(); }
    ExitInfo exit() const { return sip->exit_info(); }
    // It exited with 0 and every check passed.
    ::testing::AssertionResult passed() const
    {
        ExitInfo info = exit();
        std::string text = output();
        if (info.how == ExitInfo::How::Exited && info.status == 0 && text.find(" checks, 0 failed") != std::string::npos && text.find("FAIL") == std::string::npos)
            return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << sip->name() << " ended " << int(info.how) << "/" << info.status << " " << trap_kind_name(info.trap) << " "
                                             << info.detail << "\nstdout:\n"
                                             << text;
    }
};

class DomainBlockTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_kernel = test::create_domain_test_kernel(std::make_shared<BufferOutputStream>());
        ASSERT_TRUE(m_kernel);
        m_heap_before = ExchangeHeap::the().bytes_in_use();
        // The ownership guest creates itself as a child, in the kernel domain.
        m_kernel->register_program("exchange-ownership", image(exchange_guest("ownership")));
    }
    void TearDown() override
    {
        m_kernel->wait_until_idle();
        m_kernel.reset();
        EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), m_heap_before) << "blocks outlived their SIPs";
    }

    std::shared_ptr<Image> image(std::string const& wasm) { return test::install_image(*m_kernel, wasm); }

    std::pair<std::shared_ptr<Endpoint>, std::shared_ptr<Endpoint>> channel(uint8_t const* descriptor, size_t size)
    {
        auto type = m_kernel->contract_type({ descriptor, size });
        VERIFY(!type.is_error());
        return Channel::create(type.release_value());
    }

    // A guest of tests/exchange in `placement` ("kernel" or "own"), with its startup handles, not started.
    Guest create(std::string const& placement, std::string const& program, std::vector<std::string> args, std::vector<std::shared_ptr<Endpoint>> handles = {},
        SipLimits limits = {})
    {
        SpawnRequest request;
        request.image = image(exchange_guest(program));
        request.name = program + "@" + placement;
        request.args = { program };
        request.args.insert(request.args.end(), args.begin(), args.end());
        request.stdio.in = std::make_shared<BufferInputStream>(std::string {});
        auto out = std::make_shared<BufferOutputStream>();
        request.stdio.out = out;
        request.stdio.err = out;
        request.principal = "test/" + program;
        request.limits = limits;
        auto placed = place_in_domain(*m_kernel, request, DomainPlacement::parse(placement));
        VERIFY(!placed.is_error());
        auto sip = m_kernel->create_sip(std::move(request));
        VERIFY(!sip.is_error());
        for (auto& handle : handles)
            sip.value()->adopt_startup_handle(std::move(handle));
        return { sip.release_value(), out };
    }

    void run(std::vector<Guest*> const& guests)
    {
        for (auto* guest : guests)
            ASSERT_FALSE(m_kernel->start(*guest->sip).is_error());
        for (auto* guest : guests)
            guest->sip->wait_from_host();
    }

    std::unique_ptr<Kernel> m_kernel;
    uint64_t m_heap_before { 0 };
};

// Both ends of a pair of guests, each in its placement.
struct Pair {
    char const* first;
    char const* second;
};

class DomainBlockPairTest : public DomainBlockTest, public ::testing::WithParamInterface<Pair> { };

std::string pair_name(::testing::TestParamInfo<Pair> const& info)
{
    auto name = [](std::string const& placement) { return placement == "own" ? std::string("Domain") : std::string("Kernel"); };
    return name(info.param.first) + "To" + name(info.param.second);
}

} // namespace

TEST_F(DomainBlockTest, EveryOwnershipRuleIsTheSameStatusInADomain)
{
    uint64_t copied = ExchangeBlock::bytes_copied();
    Guest guest = create("own", "ownership", {});
    run({ &guest });
    EXPECT_TRUE(guest.passed());
    EXPECT_NE(guest.output().find("ownership child: "), std::string::npos) << guest.output();
    // Blocks crossed both ways: to itself in the domain, to and from its child in the kernel.
    EXPECT_GT(ExchangeBlock::bytes_copied(), copied);
}

TEST_F(DomainBlockTest, TheExchangeQuotaIsALimitStatusInADomainAndSentBlocksNoLongerCount)
{
    SipLimits limits;
    limits.exchange_bytes = 1 << 20;
    Guest guest = create("own", "quota", { std::to_string(1 << 20) }, {}, limits);
    run({ &guest });
    EXPECT_TRUE(guest.passed());
    EXPECT_NE(guest.output().find("200 blocks of 256 KiB went through a quota of 1024 KiB"), std::string::npos) << guest.output();
}

TEST_F(DomainBlockTest, BlocksHaveTheirQuotaApartFromTheMemoryLimitInEveryPlacement)
{
    // Its own memory grown to its limit, then the whole quota allocated, sent and
    // received, over and over: blocks grow the memory past the limit by what they
    // take, in a domain as in the kernel.
    for (char const* placement : { "kernel", "own" }) {
        SipLimits limits;
        limits.memory_bytes = 4 << 20;
        limits.exchange_bytes = 1 << 20;
        Guest guest = create(placement, "quota", { std::to_string(1 << 20), "full" }, {}, limits);
        run({ &guest });
        EXPECT_TRUE(guest.passed()) << placement;
        EXPECT_NE(guest.output().find("its own memory is full at 64 pages"), std::string::npos) << placement << ": " << guest.output();
        EXPECT_NE(guest.output().find("200 blocks of 256 KiB went through a quota of 1024 KiB"), std::string::npos) << placement << ": " << guest.output();
    }
}

TEST_F(DomainBlockTest, AReceiverInADomainWithAFullQuotaGetsLimitAndTheMessageStaysQueued)
{
    auto [importer, exporter] = channel(Conveyor_descriptor, Conveyor_DESCRIPTOR_SIZE);
    Guest sender = create("kernel", "sender", { "load", "1", std::to_string(64 * 1024) }, { importer });
    SipLimits small;
    small.exchange_bytes = 1 << 20;
    Guest receiver = create("own", "receiver", { "quota", std::to_string(1 << 20) }, { exporter }, small);
    run({ &sender, &receiver });
    EXPECT_TRUE(receiver.passed());
    EXPECT_NE(receiver.output().find("received a block of 65536 bytes after freeing the ballast"), std::string::npos);
    EXPECT_TRUE(sender.passed());
    EXPECT_NE(sender.output().find("unloaded 1"), std::string::npos) << sender.output();
}

TEST_P(DomainBlockPairTest, ABlockGoesToAnEchoAndBackIntactEveryTime)
{
    for (uint32_t size : { 100u, 64u * 1024, 4u << 20 }) {
        for (char const* echo_mode : { "echo", "echo-call" }) {
            auto [importer, exporter] = channel(Echo_descriptor, Echo_DESCRIPTOR_SIZE);
            Guest client = create(GetParam().first, "sender", { "bounce", std::to_string(size), "12" }, { importer });
            Guest echo = create(GetParam().second, "stage", { echo_mode }, { exporter });
            run({ &client, &echo });
            EXPECT_TRUE(client.passed()) << size << " " << echo_mode;
            EXPECT_NE(client.output().find("of 12 times"), std::string::npos) << client.output();
            EXPECT_TRUE(echo.passed()) << size << " " << echo_mode;
        }
    }
}

TEST_P(DomainBlockPairTest, ABlockHandedAlongAChainArrivesIntact)
{
    auto [head_imp, head_exp] = channel(Chain_descriptor, Chain_DESCRIPTOR_SIZE);
    auto [tail_imp, tail_exp] = channel(Chain_descriptor, Chain_DESCRIPTOR_SIZE);
    Guest head = create(GetParam().first, "sender", { "chain", std::to_string(3 * 4096 + 5) }, { head_imp });
    Guest relay = create(GetParam().second, "stage", { "relay" }, { head_exp, tail_imp });
    Guest sink = create(GetParam().first, "stage", { "sink" }, { tail_exp });
    run({ &head, &relay, &sink });
    EXPECT_TRUE(head.passed());
    EXPECT_TRUE(relay.passed());
    EXPECT_TRUE(sink.passed());
}

INSTANTIATE_TEST_SUITE_P(Placements, DomainBlockPairTest,
    ::testing::Values(Pair { "own", "kernel" }, Pair { "kernel", "own" }, Pair { "own", "own" }), pair_name);

TEST_F(DomainBlockTest, UseAfterSendTrapsTheSenderInItsDomainWhileTheReceiverKeepsTheBlock)
{
    for (char const* mode : { "use-after-send", "call-use-after-send" }) {
        auto [importer, exporter] = channel(Chain_descriptor, Chain_DESCRIPTOR_SIZE);
        Guest sender = create("own", "sender", { mode, "8192" }, { importer });
        Guest sink = create("kernel", "stage", { "sink" }, { exporter });
        run({ &sender, &sink });
        EXPECT_EQ(sender.exit().how, ExitInfo::How::Trapped) << mode << ": " << sender.output();
        EXPECT_EQ(sender.exit().trap, TrapKind::UseAfterSend) << mode << ": " << sender.exit().detail;
        EXPECT_NE(sender.output().find("sent\n"), std::string::npos) << mode;
        EXPECT_TRUE(sink.passed()) << mode;
    }
}

TEST_F(DomainBlockTest, AStalePointerInADomainIsOutOfBoundsForTheKernelAndTrapsInAFill)
{
    {
        auto [importer, exporter] = channel(Chain_descriptor, Chain_DESCRIPTOR_SIZE);
        Guest sender = create("own", "sender", { "stale-abi" }, { importer });
        Guest sink = create("kernel", "stage", { "sink" }, { exporter });
        run({ &sender, &sink });
        EXPECT_TRUE(sender.passed());
        EXPECT_TRUE(sink.passed());
    }
    {
        auto [importer, exporter] = channel(Chain_descriptor, Chain_DESCRIPTOR_SIZE);
        Guest sender = create("own", "sender_bulk", { "stale-fill" }, { importer });
        Guest sink = create("kernel", "stage", { "sink" }, { exporter });
        run({ &sender, &sink });
        EXPECT_EQ(sender.exit().how, ExitInfo::How::Trapped) << sender.output();
        EXPECT_EQ(sender.exit().trap, TrapKind::UseAfterSend) << sender.exit().detail;
        EXPECT_TRUE(sink.passed());
    }
}

TEST_F(DomainBlockTest, BlocksADomainSipHoldsGoBackToTheHeapWhenItEnds)
{
    // It traps holding four blocks of its own and those it received.
    {
        auto [importer, exporter] = channel(Conveyor_descriptor, Conveyor_DESCRIPTOR_SIZE);
        Guest sender = create("kernel", "sender", { "load", "3", "70000" }, { importer });
        Guest hoarder = create("own", "receiver", { "hoard", "trap" }, { exporter });
        run({ &sender, &hoarder });
        EXPECT_EQ(hoarder.exit().how, ExitInfo::How::Trapped);
        m_kernel->wait_until_idle();
        EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), m_heap_before);
    }
    // Its domain process is killed from outside while it holds them.
    {
        auto [importer, exporter] = channel(Conveyor_descriptor, Conveyor_DESCRIPTOR_SIZE);
        auto [probe_imp, probe_exp] = channel(Probe_descriptor, Probe_DESCRIPTOR_SIZE);
        Guest sender = create("kernel", "sender", { "load", "2", "70000" }, { importer });
        Guest hoarder = create("own", "receiver", { "hoard", "wait" }, { exporter, probe_imp });
        for (auto* guest : { &sender, &hoarder })
            ASSERT_FALSE(m_kernel->start(*guest->sip).is_error());
        // It owns its four blocks and the two it received (in whole pages), then waits
        // at a checkpoint the test never answers.
        uint64_t const hoard = (4 << 20) + 2 * 73728;
        auto owned = [&] { return hoarder.sip->runtime().blocks.bytes_in_use(); };
        for (int i = 0; i < 1000 && owned() != hoard; ++i)
            ::usleep(10'000);
        ASSERT_EQ(owned(), hoard) << hoarder.output();
        auto domains = test::live_domains();
        ASSERT_EQ(domains.size(), 1u);
        ::kill(domains[0], SIGKILL);
        hoarder.sip->wait_from_host();
        sender.sip->wait_from_host();
        EXPECT_EQ(hoarder.exit().how, ExitInfo::How::Killed);
        EXPECT_NE(hoarder.exit().detail.find("its domain process died"), std::string::npos) << hoarder.exit().detail;
        m_kernel->wait_until_idle();
        EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), m_heap_before);
    }
}
