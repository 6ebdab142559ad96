// The handle, channel and child calls of signet_v1, each status of each, from
// guest programs that count their checks (guests/channel_conformance.c,
// guests/child_conformance.c).
#include "ChannelTestSupport.h"

using namespace signet;
using namespace signet::testing;

TEST_F(ChannelTest, EveryHandleAndChannelCallReturnsEveryDocumentedStatus)
{
    auto result = run_guarded(channel_guest("channel_conformance"));
    EXPECT_TRUE(all_checks_passed(result));
}

TEST_F(ChannelTest, EveryChildCallReturnsEveryDocumentedStatus)
{
    auto result = run_guarded(channel_guest("child_conformance"));
    EXPECT_TRUE(all_checks_passed(result));
    // What the "args" child printed: args[0] is the program name, empty arguments are kept.
    EXPECT_NE(result.out.find("[child][args][alpha][][gamma delta]\n"), std::string::npos) << result.out;
    // The trapping child was reported.
    EXPECT_NE(result.diagnostics.find("(child) trapped"), std::string::npos) << result.diagnostics;
}
