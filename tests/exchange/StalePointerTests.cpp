// A sender's old address of a block it sent lies in a hole. Whatever touches
// it on the sender's behalf ends as a status or a trap of that SIP: kernel code
// checks guest ranges against the holes (GuestMemory), and the fault handler
// blames the SIP for a fault on a hole in the C library's memset/memmove,
// which wasm2c calls for memory.fill and memory.copy. (Both used to kill the
// whole kernel process with SIGSEGV.)
#include "ExchangeTestSupport.h"
#include "kernel/object/ExchangeBlock.h"

using namespace signet;
using namespace signet::testing;

namespace {

class ExchangeStalePointerTest : public ExchangeTest { };

} // namespace

TEST_F(ExchangeStalePointerTest, AnAbiCallGivenAPointerIntoAHoleReturnsOutOfBounds)
{
    auto link = channel("Chain");
    Guest sender = create("sender", { "stale-abi" }, { link.importer });
    Guest sink = create("stage", { "sink" }, { link.exporter });
    start({ &sender, &sink });
    finish({ &sender, &sink });
    EXPECT_TRUE(sender.passed());
    EXPECT_TRUE(sink.passed());
}

TEST_F(ExchangeStalePointerTest, AMemoryFillIntoAHoleTrapsTheSenderWithUseAfterSend)
{
    auto link = channel("Chain");
    Guest sender = create("sender_bulk", { "stale-fill" }, { link.importer });
    Guest sink = create("stage", { "sink" }, { link.exporter });
    start({ &sender, &sink });
    finish({ &sender, &sink });
    EXPECT_EQ(sender.exit().trap, TrapKind::UseAfterSend) << trap_kind_name(sender.exit().trap);
    EXPECT_TRUE(sink.passed());
}

// What GuestMemory asks: which guest ranges touch a hole.
TEST_F(ExchangeStalePointerTest, TheArenaKnowsWhichRangesTouchAHole)
{
    auto spawn = request(exchange_guest("stage"), { "host" });
    spawn.host_entry = [](Sip& sip) {
        auto& blocks = sip.runtime().blocks;
        auto kept = ExchangeBlock::allocate(sip.runtime(), 3 * 4096);
        auto sent = ExchangeBlock::allocate(sip.runtime(), 2 * 4096);
        ASSERT_TRUE(kept && sent);
        uint32_t at = sent->offset();
        EXPECT_FALSE(blocks.overlaps_hole(at, 2 * 4096));
        sent->detach();
        EXPECT_TRUE(blocks.in_hole(at));
        EXPECT_TRUE(blocks.in_hole(at + 2 * 4096 - 1));
        EXPECT_FALSE(blocks.in_hole(at + 2 * 4096));
        EXPECT_TRUE(blocks.overlaps_hole(at, 1));
        EXPECT_TRUE(blocks.overlaps_hole(at - 100, 101)) << "ends on the hole's first byte";
        EXPECT_FALSE(blocks.overlaps_hole(at - 100, 100)) << "ends just before it";
        EXPECT_TRUE(blocks.overlaps_hole(at + 2 * 4096 - 1, 50)) << "starts on its last byte";
        EXPECT_FALSE(blocks.overlaps_hole(at + 2 * 4096, 50)) << "starts just after it";
        EXPECT_TRUE(blocks.overlaps_hole(0, uint64_t(1) << 32)) << "covers it";
        EXPECT_FALSE(blocks.overlaps_hole(kept->offset(), 3 * 4096));
        EXPECT_FALSE(blocks.overlaps_hole(at, 0)) << "an empty range touches nothing";
        kept->free_in_owner();
    };
    auto sip = m_kernel->spawn(std::move(spawn));
    ASSERT_FALSE(sip.is_error());
    EXPECT_EQ(sip.value()->wait_from_host().how, ExitInfo::How::Exited);
}
