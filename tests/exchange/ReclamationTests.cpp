// Blocks are never leaked: blocks queued to a receiver that dies (traps or is
// killed) or closes its end go back to the heap at once, and so do the blocks
// a SIP owns when it ends, however it ends.
#include "ExchangeTestSupport.h"
#include "kernel/object/ExchangeHeap.h"

using namespace signet;
using namespace signet::testing;

namespace {

class ExchangeReclamationTest : public ExchangeTest { };

constexpr uint64_t mebibyte = 1 << 20;

uint64_t heap_bytes()
{
    return ExchangeHeap::the().bytes_in_use();
}

enum class ReceiverEnd {
    Traps,
    IsKilled,
    ClosesItsEnd,
};

} // namespace

class ExchangeQueuedBlocksTest : public ExchangeTest {
protected:
    // A sender queues four blocks of 1 MiB to a receiver that never receives
    // them; then the receiver ends as `how` says, while the sender waits.
    void run(ReceiverEnd how)
    {
        uint64_t before = heap_bytes();
        auto conveyor = channel("Conveyor");
        auto sender_probe = channel("Probe");
        auto receiver_probe = channel("Probe");
        Guest sender = create("sender", { "load", "4", std::to_string(mebibyte) }, { conveyor.importer, sender_probe.importer });
        Guest receiver = create("receiver", { how == ReceiverEnd::ClosesItsEnd ? "close" : "die" }, { conveyor.exporter, receiver_probe.importer });
        Guest observer = observe({ sender_probe.exporter, receiver_probe.exporter }, [&](Observer& observer) {
            ASSERT_TRUE(observer.wait(1)) << "the receiver is ready";
            auto sent = observer.wait(0);
            ASSERT_TRUE(sent);
            EXPECT_EQ(sent->step, 4u);
            EXPECT_EQ(heap_bytes(), before + 4 * mebibyte) << "four blocks of 1 MiB are queued";
            switch (how) {
            case ReceiverEnd::Traps:
                observer.go(1);
                observer.wait_finished(*receiver.sip);
                break;
            case ReceiverEnd::IsKilled:
                observer.kill(*receiver.sip);
                break;
            case ReceiverEnd::ClosesItsEnd: {
                observer.go(1);
                auto closed = observer.wait(1);
                ASSERT_TRUE(closed);
                EXPECT_EQ(closed->step, 2u);
                EXPECT_EQ(receiver.sip->state(), Sip::State::Running) << "the receiver lives on";
                break;
            }
            }
            EXPECT_EQ(heap_bytes(), before) << "the queued blocks went back to the heap";
            if (how == ReceiverEnd::ClosesItsEnd)
                observer.go(1);
            observer.go(0);
        });
        start({ &observer, &sender, &receiver });
        finish({ &observer, &sender, &receiver });

        EXPECT_TRUE(sender.passed());
        EXPECT_NE(sender.output().find("receiver gone"), std::string::npos) << sender.output();
        switch (how) {
        case ReceiverEnd::Traps:
            EXPECT_EQ(receiver.exit().how, ExitInfo::How::Trapped);
            EXPECT_EQ(receiver.exit().trap, TrapKind::Unreachable) << trap_kind_name(receiver.exit().trap);
            break;
        case ReceiverEnd::IsKilled:
            EXPECT_EQ(receiver.exit().how, ExitInfo::How::Killed);
            break;
        case ReceiverEnd::ClosesItsEnd:
            EXPECT_TRUE(receiver.passed());
            break;
        }
        EXPECT_EQ(heap_bytes(), before);
    }
};

TEST_F(ExchangeQueuedBlocksTest, BlocksQueuedToAReceiverThatTrapsGoBackToTheHeap)
{
    run(ReceiverEnd::Traps);
}

TEST_F(ExchangeQueuedBlocksTest, BlocksQueuedToAReceiverThatIsKilledGoBackToTheHeap)
{
    run(ReceiverEnd::IsKilled);
}

TEST_F(ExchangeQueuedBlocksTest, BlocksQueuedToAReceiverThatClosesItsEndGoBackToTheHeapAtOnce)
{
    run(ReceiverEnd::ClosesItsEnd);
}

TEST_F(ExchangeReclamationTest, BlocksASipOwnsWhenItEndsGoBackToTheHeapWhetherItExitsTrapsOrIsKilled)
{
    for (std::string end : { "exit", "trap", "wait" }) {
        SCOPED_TRACE("the owner ends by: " + end);
        uint64_t before = heap_bytes();
        auto conveyor = channel("Conveyor");
        auto sender_probe = channel("Probe");
        auto owner_probe = channel("Probe");
        // The owner allocates four blocks of 1 MiB and receives two of 256 KiB.
        Guest sender = create("sender", { "load", "2", std::to_string(256 * 1024) }, { conveyor.importer, sender_probe.importer });
        Guest owner = create("receiver", { "hoard", end }, { conveyor.exporter, owner_probe.importer });
        Guest observer = observe({ sender_probe.exporter, owner_probe.exporter }, [&](Observer& observer) {
            ASSERT_TRUE(observer.wait(0));
            observer.go(0);
            auto owning = observer.wait(1);
            ASSERT_TRUE(owning);
            EXPECT_EQ(owning->size, 2u) << "blocks received";
            EXPECT_EQ(heap_bytes(), before + 4 * mebibyte + 512 * 1024) << "the owner's blocks";
            observer.go(1);
            if (end == "wait") {
                ASSERT_TRUE(observer.wait(1));
                observer.kill(*owner.sip);
            } else
                observer.wait_finished(*owner.sip);
            EXPECT_EQ(heap_bytes(), before) << "the blocks went with their owner";
        });
        start({ &observer, &sender, &owner });
        finish({ &observer, &sender, &owner });

        EXPECT_TRUE(sender.passed());
        if (end == "exit") {
            EXPECT_TRUE(owner.passed());
        } else {
            EXPECT_EQ(owner.exit().how, end == "trap" ? ExitInfo::How::Trapped : ExitInfo::How::Killed);
        }
        EXPECT_EQ(heap_bytes(), before);
    }
}
