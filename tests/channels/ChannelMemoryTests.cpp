// What channels cost the kernel, and who pays: a SIP's channel memory limit
// (SipLimits::channel_bytes, guests/channel_quota.c).
#include "ChannelTestSupport.h"
#include "kernel/object/ChannelAccount.h"

#include "probe.h"

#include <thread>

using namespace signet;
using namespace signet::testing;

namespace {

std::span<uint8_t const> token_descriptor()
{
    return { Token_descriptor, Token_DESCRIPTOR_SIZE };
}

} // namespace

TEST_F(ChannelTest, ASipsChannelsAreHeldToItsChannelMemoryLimitUntilTheyAreDestroyed)
{
    auto spawn = request(channel_guest("channel_quota"));
    ASSERT_TRUE(spawn.image);
    spawn.limits.channel_bytes = 20ull << 20;
    auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto sip = m_kernel->spawn(std::move(spawn));
    ASSERT_FALSE(sip.is_error()) << sip.error().message();
    ASSERT_TRUE(wait_idle(std::chrono::seconds(60))) << out->contents();
    ExitInfo exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Exited);
    EXPECT_NE(out->contents().find("channel_quota: 12 checks, 0 failed"), std::string::npos) << out->contents();
    // The refusal names the limit, once for the two tries in a row (then once more after a create succeeded).
    std::string const diagnostics = m_diagnostics->contents();
    std::string const line = "cannot create a channel of Pool";
    auto first = diagnostics.find(line);
    ASSERT_NE(first, std::string::npos) << diagnostics;
    EXPECT_NE(diagnostics.find("its channels would exceed its channel memory limit of 20971520 bytes (limits.channel_memory;"), std::string::npos)
        << diagnostics;
    size_t count = 0;
    for (auto at = first; at != std::string::npos; at = diagnostics.find(line, at + 1))
        ++count;
    EXPECT_EQ(count, 3u) << diagnostics;
    // The SIP is gone with its channels; so is every charge (its account went with it).
    EXPECT_EQ(sip.value()->channel_account()->used(), 0u);
}

TEST_F(ChannelTest, AChannelIsChargedItsInboxesAndItsContract)
{
    auto type = m_kernel->contract_type(token_descriptor());
    ASSERT_FALSE(type.is_error());
    uint64_t cost = ChannelAccount::cost(*type.value());
    EXPECT_GE(cost, Channel::inbox_bytes(*type.value()) + Token_DESCRIPTOR_SIZE);
    auto account = std::make_shared<ChannelAccount>(2 * cost);
    bool report = false;
    ASSERT_TRUE(account->try_charge(cost, report));
    auto [importer, exporter] = Channel::create(type.value(), ChannelCharge(account, cost));
    EXPECT_EQ(account->used(), cost);
    EXPECT_FALSE(account->try_charge(2 * cost, report));
    EXPECT_TRUE(report) << "the first refusal is reported";
    EXPECT_FALSE(account->try_charge(2 * cost, report));
    EXPECT_FALSE(report) << "the next one in a row is not";
    importer.reset();
    EXPECT_EQ(account->used(), cost) << "one end is still open";
    exporter.reset();
    EXPECT_EQ(account->used(), 0u) << "the channel is destroyed: its charge is back";
}
