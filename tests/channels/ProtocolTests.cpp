// The protocol and its enforcement: a message the contract does not allow in
// the channel's state stops the sender (ProtocolViolation, with a report that
// names the contract, the end, the state and the message) and its peer sees
// the channel close; endpoints travel only in a state where they send next.
#include "ChannelTestSupport.h"

using namespace signet;
using namespace signet::testing;

TEST_F(ChannelTest, AnEndpointThatWouldReceiveNextCannotTravelWhateverItsContractIsNamed)
{
    auto result = run_guarded(channel_guest("forge"), { "200" });
    EXPECT_TRUE(all_checks_passed(result));
    EXPECT_NE(result.out.find("forge: tied 0 of 200 knots"), std::string::npos) << result.out;
}

TEST_F(ChannelTest, AnEndpointOfAnotherContractOfTheSameNameCannotTravel)
{
    auto result = run_guarded(channel_guest("impostor"));
    EXPECT_TRUE(all_checks_passed(result));
    EXPECT_NE(result.out.find("impostor: 9 checks, 0 failed"), std::string::npos) << result.out;
}

namespace {

// Runs a parent scenario whose child breaks the protocol; returns the kernel's report.
std::string violation_report(ChannelTest& test, RunResult const& result)
{
    EXPECT_TRUE(all_checks_passed(result));
    auto line = result.diagnostics.find("(child) trapped: channel protocol violation [ProtocolViolation]");
    EXPECT_NE(line, std::string::npos) << result.diagnostics;
    if (line == std::string::npos)
        return {};
    return result.diagnostics.substr(line, result.diagnostics.find('\n', line) - line);
}

} // namespace

TEST_F(ChannelTest, SendingAMessageOfTheOtherDirectionStopsTheSenderAndClosesItsChannels)
{
    auto result = run_guarded(channel_guest("parent"), { "violate-direction" });
    EXPECT_NE(violation_report(*this, result).find(": contract Probe, Imp end, state Start: message Pong is not allowed here"
                                                   " (this end may send: Ping, Say, Give, GiveTwo, Forward, Bye)"),
        std::string::npos)
        << result.diagnostics;
}

TEST_F(ChannelTest, SendingAMessageTheStateDoesNotAllowStopsTheSender)
{
    auto result = run_guarded(channel_guest("parent"), { "violate-state" });
    EXPECT_NE(violation_report(*this, result).find(": contract Stream, Imp end, state Flowing#1: message End is not allowed here"
                                                   " (this end may send: Item)"),
        std::string::npos)
        << result.diagnostics;
}

TEST_F(ChannelTest, SendingAfterTheTerminalStateStopsTheSender)
{
    auto result = run_guarded(channel_guest("parent"), { "violate-after-end" });
    EXPECT_NE(violation_report(*this, result).find(": contract Probe, Imp end, state Done: message Ping is not allowed here"
                                                   " (this end may not send now)"),
        std::string::npos)
        << result.diagnostics;
}

TEST_F(ChannelTest, SendingOutOfTurnStopsTheSender)
{
    auto result = run_guarded(channel_guest("parent"), { "violate-turn" });
    EXPECT_NE(violation_report(*this, result).find(": contract Probe, Exp end, state Start: message Pong is not allowed here"
                                                   " (this end may not send now)"),
        std::string::npos)
        << result.diagnostics;
}

TEST_F(ChannelTest, AnsweringAMessageBeforeReceivingItStopsTheSender)
{
    // The channel's state gives the exporter the turn as soon as the Ping is sent, but
    // the exporter has not received it: sending now would let its inbox overflow the
    // contract's bound.
    auto result = run_guarded(channel_guest("parent"), { "violate-unreceived" });
    EXPECT_NE(violation_report(*this, result).find(": contract Probe, Exp end, state Start#1: message Pong is not allowed here"
                                                   " (this end must first receive Ping)"),
        std::string::npos)
        << result.diagnostics;
}

TEST_F(ChannelTest, AnEndpointSentInAMessageArrivesAsAWorkingHandleAndLeavesTheSender)
{
    auto result = run_guarded(channel_guest("parent"), { "transfer" });
    EXPECT_TRUE(all_checks_passed(result));
}
