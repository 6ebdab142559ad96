// Peer death at every point of a conversation: the survivor drains what the
// dead peer sent, then sees CLOSED, and never hangs. Each scenario is a
// parent (guests/parent.c) and a child that ends at that point.
#include "ChannelTestSupport.h"

using namespace signet;
using namespace signet::testing;

TEST_F(ChannelTest, APeerThatDiesBeforeTheFirstMessageLeavesAClosedChannel)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "death-before-first" })));
}

TEST_F(ChannelTest, ASendRacingThePeersDeathIsOkOrClosedAndRecvSeesClosed)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "death-racing-first" })));
}

TEST_F(ChannelTest, AServerThatDiesMidRequestClosesTheChannelForItsClient)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "death-mid-request" })));
}

TEST_F(ChannelTest, TheReplyOfAServerThatDiedAfterSendingItStillArrives)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "death-after-reply" })));
}

TEST_F(ChannelTest, AClientBlockedInRecvSeesClosedWhenItsServerDies)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "death-while-in-recv" })));
}

TEST_F(ChannelTest, AClientBlockedInSelectWakesWhenItsServerDies)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "death-while-in-select" })));
}

TEST_F(ChannelTest, AChildStoppedWhileBlockedInRecvEndsAndClosesItsEnd)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "stop-while-in-recv" })));
}

TEST_F(ChannelTest, AChildStoppedWhileBlockedInSelectEndsAndClosesItsEnd)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "stop-while-in-select" })));
}

TEST_F(ChannelTest, SelectWaitsOnChildrenBesideEndpointsAndWakesWhenOneEnds)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "select-children" })));
}

TEST_F(ChannelTest, ASuspendedChildRunsNoCodeUntilResumedAndAStopStillEndsIt)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "suspend" })));
}

TEST_F(ChannelTest, AChildStoppedWhileWaitingForItsOwnChildEndsAndTheGrandchildSeesClosed)
{
    auto result = run_guarded(channel_guest("parent"), { "stop-while-in-child-wait" });
    EXPECT_TRUE(all_checks_passed(result));
    EXPECT_NE(result.out.find("child: recv saw CLOSED\n"), std::string::npos) << result.out;
}

TEST_F(ChannelTest, AChildBlockedInRecvSeesClosedWhenItsParentReturns)
{
    auto result = run_guarded(channel_guest("parent"), { "leave-while-child-in-recv" });
    EXPECT_TRUE(all_checks_passed(result));
    EXPECT_NE(result.out.find("child: recv saw CLOSED\n"), std::string::npos) << result.out;
}

TEST_F(ChannelTest, AChildBlockedInSelectWakesWhenItsParentReturns)
{
    auto result = run_guarded(channel_guest("parent"), { "leave-while-child-in-select" });
    EXPECT_TRUE(all_checks_passed(result));
    EXPECT_NE(result.out.find("child: select returned 0 with index 1\nchild: recv saw CLOSED\n"), std::string::npos) << result.out;
}

TEST_F(ChannelTest, AChildBlockedInRecvSeesClosedWhenItsParentTraps)
{
    auto result = run_guarded(channel_guest("parent"), { "trap-while-child-in-recv" });
    EXPECT_EQ(result.exit.how, ExitInfo::How::Trapped);
    EXPECT_NE(result.out.find("leave: 3 checks, 0 failed"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("child: recv saw CLOSED\n"), std::string::npos) << result.out;
}

TEST_F(ChannelTest, ClosingTheHandleOfAChildThatNeverStartedEndsItAndClosesItsEndpoints)
{
    EXPECT_TRUE(all_checks_passed(run_guarded(channel_guest("parent"), { "close-unstarted-child" })));
}

// A child that never started and whose parent ended can never start: the
// kernel ends it, so the endpoints it was given close ("wait-recv" sees CLOSED).
TEST_F(ChannelTest, AParentThatEndsHoldingAChildThatNeverStartedEndsItToo)
{
    auto result = run_guarded(channel_guest("parent"), { "leave-unstarted-child" }, std::chrono::seconds(10));
    EXPECT_TRUE(all_checks_passed(result));
    EXPECT_NE(result.out.find("child: recv saw CLOSED\n"), std::string::npos) << result.out;
}
