// What channels cost the kernel, and who pays: a SIP's channel memory limit
// (SipLimits::channel_bytes, guests/channel_quota.c), and the contract cache
// keeping only the contracts in use (Kernel::contract_type).
#include "ChannelTestSupport.h"
#include "contracts/Descriptor.h"
#include "kernel/abi/KernelChannel.h"
#include <signet/abi.h>
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

// Token under another name: a distinct contract, with a descriptor of its own.
std::vector<uint8_t> renamed_token(size_t index)
{
    auto contract = contracts::decode_descriptor(token_descriptor());
    VERIFY(!contract.is_error());
    contract.value().name = "Token" + std::to_string(index);
    return contracts::encode_descriptor(contract.value());
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

TEST_F(ChannelTest, TheContractCacheKeepsOnlyTheContractsInUse)
{
    // A type in use is the same type for every caller.
    auto token = m_kernel->contract_type(token_descriptor());
    ASSERT_FALSE(token.is_error());
    auto again = m_kernel->contract_type(token_descriptor());
    ASSERT_FALSE(again.is_error());
    EXPECT_EQ(token.value().get(), again.value().get());

    // A channel keeps its contract's type alive when nobody else holds it.
    auto held_descriptor = renamed_token(1'000'000);
    auto held = m_kernel->contract_type(held_descriptor);
    ASSERT_FALSE(held.is_error());
    ContractType const* held_address = held.value().get();
    auto [importer, exporter] = Channel::create(held.release_value());

    // A hostile stream of distinct contracts, each used once: far more than the
    // old cap of 4096, all decoded, none refused, and the cache does not grow
    // beyond twice what is in use (what the kernel itself holds included).
    size_t const in_use = m_kernel->contract_cache_size();
    std::vector<std::shared_ptr<ContractType const>> kept;
    for (size_t i = 0; i < 10'000; ++i) {
        auto type = m_kernel->contract_type(renamed_token(i));
        ASSERT_FALSE(type.is_error()) << i << ": " << type.error().message();
        if (i % 1000 == 0)
            kept.push_back(type.release_value()); // ten stay in use
        // In use at a sweep: those, and the one being returned.
        ASSERT_LE(m_kernel->contract_cache_size(), 2 * (in_use + kept.size() + 1) + Kernel::contract_cache_slack) << i;
    }
    // What is in use stayed: the same types come back.
    for (size_t i = 0; i < kept.size(); ++i) {
        auto type = m_kernel->contract_type(renamed_token(i * 1000));
        ASSERT_FALSE(type.is_error());
        EXPECT_EQ(type.value().get(), kept[i].get()) << i * 1000;
    }
    auto through_channel = m_kernel->contract_type(held_descriptor);
    ASSERT_FALSE(through_channel.is_error());
    EXPECT_EQ(through_channel.value().get(), held_address);
    EXPECT_EQ(&importer->contract_type(), held_address);
    EXPECT_EQ(through_channel.value()->contract.name, "Token1000000");
}

// A host thread waits on an end the kernel holds (services/directory's
// connect) as that end's HostWaiter: a message put in its inbox releases it,
// and so does its peer's close. Each wait is bounded only to fail, not hang.
TEST_F(ChannelTest, AHostWaiterIsReleasedByAMessageAndByThePeersClose)
{
    auto type = m_kernel->contract_type(token_descriptor());
    ASSERT_FALSE(type.is_error());
    auto [importer, exporter] = Channel::create(type.release_value());
    Channel& channel = exporter->channel();
    auto wait_on_exporter = [&](auto&& what_the_peer_does) {
        HostWaiter waiter;
        {
            std::lock_guard guard(channel.lock());
            channel.set_host_waiter(*exporter, &waiter);
        }
        std::thread peer(what_the_peer_does);
        bool released = waiter.signal.try_acquire_for(std::chrono::seconds(30));
        peer.join();
        std::lock_guard guard(channel.lock());
        channel.set_host_waiter(*exporter, nullptr);
        return released;
    };

    uint32_t hops = 7;
    EXPECT_TRUE(wait_on_exporter([&] {
        EXPECT_EQ(signet::abi::kernel_send(*importer, Token_MSG_Pass, { reinterpret_cast<uint8_t const*>(&hops), sizeof hops }), int32_t(SIGNET_OK));
    }));
    {
        std::lock_guard guard(channel.lock());
        QueuedMessage* message = channel.front(*exporter);
        ASSERT_NE(message, nullptr);
        EXPECT_EQ(message->id, Token_MSG_Pass);
    }
    EXPECT_TRUE(wait_on_exporter([&] { importer->close(); }));
    std::lock_guard guard(channel.lock());
    EXPECT_TRUE(channel.peer_gone(*exporter));
}
