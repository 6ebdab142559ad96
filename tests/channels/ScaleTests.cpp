// Many SIPs and many messages: a ring of a thousand SIPs passing a token, and
// producers streaming to one consumer through select. Nothing here is timed;
// the time limits only guard against hangs.
#include "ChannelTestSupport.h"

using namespace signet;
using namespace signet::testing;

TEST_F(ChannelTest, AThousandSipsInARingPassATokenRoundAndComeDownLinkByLink)
{
    register_program("ring", channel_guest("ring"));
    auto result = run_guarded(channel_guest("ring"), { "1000", "3" });
    EXPECT_TRUE(all_checks_passed(result));
    EXPECT_NE(result.out.find("ring: 1000 SIPs, 3 laps, 3000 hops"), std::string::npos) << result.out;
}

TEST_F(ChannelTest, MessagesFromManyProducersArriveInOrderAndWholeUnderLoad)
{
    register_program("stream", channel_guest("stream"));
    auto result = run_guarded(channel_guest("stream"), { "consume", "16", "12000" });
    EXPECT_TRUE(all_checks_passed(result));
    EXPECT_NE(result.out.find("stream: 16 producers, 192000 items"), std::string::npos) << result.out;
}
