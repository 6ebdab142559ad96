// The channel examples run as their comments show them (examples/chain, examples/protocol).
#include "ChannelTestSupport.h"

using namespace signet;
using namespace signet::testing;

TEST_F(ChannelTest, TheChainExampleRelaysToItsTailAndThenTalksToItDirectly)
{
    register_program("chain", example("chain"));
    auto result = run_guarded(example("chain"), { "50", "2" });
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(result.exit.status, 0) << result.out << result.err;
    EXPECT_NE(result.out.find("chain: 50 SIPs"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("request 1, answered down the chain by SIP "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find(" at depth 49 (49 channels each way)\n"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("the shortcut travelled down 49 links; the tail answers directly now\n"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("question 1, answered directly by SIP "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("chain: all links ended, status 0\n"), std::string::npos) << result.out;
}

TEST_F(ChannelTest, TheProtocolExampleGoesOnServingAfterTheKernelStopsARudeClient)
{
    register_program("greeter-client", example("protocol_client"));
    auto result = run_guarded(example("protocol_server"));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(result.exit.status, 0) << result.out << result.err;
    // Usually the server has not answered bob's first Hello when the second comes ("this
    // end may not send now"); if it has, bob has not received the answer ("this end must
    // first receive Greeting"). Either way the second Hello is refused.
    EXPECT_NE(result.diagnostics.find("(greeter-client) trapped: channel protocol violation [ProtocolViolation]: contract Greeter, Imp end, "),
        std::string::npos)
        << result.diagnostics;
    EXPECT_NE(result.diagnostics.find(": message Hello is not allowed here (this end "), std::string::npos) << result.diagnostics;
    EXPECT_NE(result.out.find("greeter: bob left without a word after "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find(" greeting(s); it ended with status 134 (stopped by the kernel)\n"), std::string::npos) << result.out;
    for (char const* polite : { "ada", "cy", "dee" })
        EXPECT_NE(result.out.find(std::string("greeter: ") + polite + " said goodbye after 2 greeting(s); it ended with status 0\n"),
            std::string::npos)
            << result.out;
    EXPECT_NE(result.out.find("greeter: served 7 greetings; no clients left\n"), std::string::npos) << result.out;
}
