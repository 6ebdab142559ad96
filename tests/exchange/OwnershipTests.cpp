// Every misuse of a block is a status: free twice, free after send, send a
// block the SIP does not own (freed, sent, another SIP's, not a block), send
// twice, the same block twice in a message, a block over the contract's bound.
// Nothing is sent and the block stays with its owner. The per-SIP quota is a
// LIMIT status, for allocating and for receiving.
#include "ExchangeTestSupport.h"
#include "kernel/object/ExchangeHeap.h"

using namespace signet;
using namespace signet::testing;

namespace {

class ExchangeOwnershipTest : public ExchangeTest { };

constexpr uint64_t mebibyte = 1 << 20;

} // namespace

TEST_F(ExchangeOwnershipTest, EveryOwnershipErrorIsAStatusAndLeavesTheBlockWithItsOwner)
{
    uint64_t heap_before = ExchangeHeap::the().bytes_in_use();
    Guest guest = create("ownership", {}, {});
    start({ &guest });
    finish({ &guest });
    EXPECT_TRUE(guest.passed());
    EXPECT_NE(guest.output().find("ownership child: "), std::string::npos) << guest.output();
    EXPECT_NE(guest.output().find("ownership: "), std::string::npos);
    EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before);
}

TEST_F(ExchangeOwnershipTest, ExceedingTheExchangeQuotaIsALimitStatusAndSentBlocksNoLongerCount)
{
    uint64_t heap_before = ExchangeHeap::the().bytes_in_use();
    SipLimits limits;
    limits.exchange_bytes = mebibyte;
    Guest guest = create("quota", { std::to_string(mebibyte) }, {}, limits);
    start({ &guest });
    finish({ &guest });
    EXPECT_TRUE(guest.passed());
    EXPECT_NE(guest.output().find("200 blocks of 256 KiB went through a quota of 1024 KiB"), std::string::npos) << guest.output();
    EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before);
}

TEST_F(ExchangeOwnershipTest, AReceiverWithAFullQuotaGetsLimitAndTheMessageStaysQueuedUntilItMakesRoom)
{
    uint64_t heap_before = ExchangeHeap::the().bytes_in_use();
    auto conveyor = channel("Conveyor");
    Guest sender = create("sender", { "load", "1", std::to_string(64 * 1024) }, { conveyor.importer });
    SipLimits small;
    small.exchange_bytes = mebibyte;
    Guest receiver = create("receiver", { "quota", std::to_string(mebibyte) }, { conveyor.exporter }, small);
    start({ &sender, &receiver });
    finish({ &sender, &receiver });
    EXPECT_TRUE(receiver.passed());
    EXPECT_NE(receiver.output().find("received a block of 65536 bytes after freeing the ballast"), std::string::npos);
    EXPECT_TRUE(sender.passed());
    EXPECT_NE(sender.output().find("unloaded 1"), std::string::npos) << sender.output();
    EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before);
}
