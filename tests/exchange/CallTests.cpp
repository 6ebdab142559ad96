// signet_channel_call: a send and the receive after it in one kernel call. A
// block that goes out in the request and comes back in the reply never loses
// its place in either SIP, so round trips after the first change no page
// table; a block that does not come back is still out of its sender's reach
// before the sender runs again.
#include "ExchangeTestSupport.h"
#include "kernel/object/ExchangeBlock.h"
#include "kernel/object/ExchangeHeap.h"
#include "runtime/BlockArena.h"

using namespace signet;
using namespace signet::testing;

namespace {

class ExchangeCallTest : public ExchangeTest { };

} // namespace

TEST_F(ExchangeCallTest, RoundTripsOfABlockInCallsChangeNoPageTableOnceItHasBeenBothWays)
{
    for (uint32_t size : { 100u, 64u << 10, 4 * ExchangeBlock::view_limit }) {
        SCOPED_TRACE("a block of " + std::to_string(size) + " bytes");
        uint64_t heap_before = ExchangeHeap::the().bytes_in_use();
        auto echo_channel = channel("Echo");
        auto probe = channel("Probe");
        Guest sender = create("sender", { "call-bounce", std::to_string(size), "50" }, { echo_channel.importer, probe.importer });
        Guest echo = create("stage", { "echo-call" }, { echo_channel.exporter });
        uint64_t changes_between = UINT64_MAX;
        Guest observer = observe({ probe.exporter }, [&](Observer& observer) {
            auto warm = observer.wait(0);
            ASSERT_TRUE(warm);
            ASSERT_EQ(warm->step, 1u);
            uint64_t before = BlockArena::page_table_changes();
            observer.go(0);
            auto done = observer.wait(0);
            ASSERT_TRUE(done);
            ASSERT_EQ(done->step, 2u);
            changes_between = BlockArena::page_table_changes() - before;
            observer.go(0);
        });
        start({ &sender, &echo, &observer });
        finish({ &sender, &echo, &observer });
        EXPECT_TRUE(sender.passed()) << sender.output();
        EXPECT_TRUE(echo.passed()) << echo.output();
        EXPECT_EQ(changes_between, 0u) << "48 round trips after the first two";
        EXPECT_NE(sender.output().find("back at the offset it left from 50 of 50 times"), std::string::npos) << sender.output();
        EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before);
    }
}

TEST_F(ExchangeCallTest, ABlockSentInACallThatDoesNotComeBackTrapsItsSenderOnUse)
{
    for (uint32_t size : { 4096u, 4 * ExchangeBlock::view_limit }) {
        SCOPED_TRACE("a block of " + std::to_string(size) + " bytes");
        uint64_t heap_before = ExchangeHeap::the().bytes_in_use();
        auto link = channel("Chain");
        Guest sender = create("sender", { "call-use-after-send", std::to_string(size) }, { link.importer });
        Guest sink = create("stage", { "sink" }, { link.exporter });
        start({ &sender, &sink });
        finish({ &sender, &sink });
        EXPECT_EQ(sender.output(), "sent\n");
        EXPECT_EQ(sender.exit().how, ExitInfo::How::Trapped);
        EXPECT_EQ(sender.exit().trap, TrapKind::UseAfterSend) << trap_kind_name(sender.exit().trap) << sender.exit().detail;
        EXPECT_TRUE(sink.passed()) << sink.output();
        EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before);
    }
}
