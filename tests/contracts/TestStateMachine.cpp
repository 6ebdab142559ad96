#include "contracts/StateMachine.h"

#include <gtest/gtest.h>

using namespace signet::contracts;

namespace {

// A machine from edges written as {from, action, target}; every edge uses message 0.
StateMachine machine(size_t states, std::vector<std::tuple<uint16_t, Action, uint16_t>> const& edges)
{
    StateMachine result;
    for (size_t i = 0; i < states; ++i)
        result.states.push_back({ "S" + std::to_string(i), true, {} });
    for (auto const& [from, action, to] : edges)
        result.states[from].edges.push_back({ action, 0, to });
    return result;
}

constexpr Action send = Action::Send;
constexpr Action receive = Action::Receive;

}

TEST(StateMachineAnalysis, FindsNoFaultInAnAlternatingLoop)
{
    auto analysis = analyze(machine(2, { { 0, receive, 1 }, { 1, send, 0 } }));
    EXPECT_TRUE(analysis.is_sound());
    EXPECT_EQ(analysis.bounds, (QueueBounds { 1, 1 }));
}

TEST(StateMachineAnalysis, BoundsAreZeroWithoutMessages)
{
    auto analysis = analyze(machine(1, {}));
    EXPECT_TRUE(analysis.is_sound());
    EXPECT_EQ(analysis.bounds, (QueueBounds { 0, 0 }));
}

TEST(StateMachineAnalysis, TakesTheLongestOfSeveralRuns)
{
    // 0 -?-> 1 -?-> 2 -!-> 0, and 0 -?-> 3 -!-> 4 -!-> 5 -!-> 0.
    auto analysis = analyze(machine(6, { { 0, receive, 1 }, { 1, receive, 2 }, { 2, send, 0 }, { 0, receive, 3 }, { 3, send, 4 }, { 4, send, 5 }, { 5, send, 0 } }));
    EXPECT_TRUE(analysis.is_sound());
    EXPECT_EQ(analysis.bounds.importer_to_exporter, 2u);
    EXPECT_EQ(analysis.bounds.exporter_to_importer, 3u);
}

TEST(StateMachineAnalysis, FindsASelfLoopOfSends)
{
    auto analysis = analyze(machine(2, { { 0, receive, 1 }, { 1, send, 1 } }));
    ASSERT_TRUE(analysis.cycle_without_receive);
    EXPECT_FALSE(analysis.cycle_without_send);
    EXPECT_EQ(analysis.cycle_without_receive->edges, (std::vector<EdgeRef> { { 1, 0 } }));
}

TEST(StateMachineAnalysis, StartsAReportedCycleAtANamedState)
{
    auto m = machine(3, { { 0, receive, 1 }, { 1, receive, 2 }, { 2, receive, 1 } });
    m.states[2].is_named = false;
    auto analysis = analyze(m);
    ASSERT_TRUE(analysis.cycle_without_send);
    EXPECT_EQ(analysis.cycle_without_send->edges, (std::vector<EdgeRef> { { 1, 0 }, { 2, 0 } }));
}

TEST(StateMachineAnalysis, AcceptsCyclesThatMixSendsAndReceives)
{
    // Two loops through 0, each with a send and a receive, sharing no uniform cycle.
    auto analysis = analyze(machine(3, { { 0, receive, 1 }, { 1, send, 0 }, { 1, send, 2 }, { 2, receive, 0 } }));
    EXPECT_FALSE(analysis.cycle_without_send);
    EXPECT_FALSE(analysis.cycle_without_receive);
}

TEST(StateMachineAnalysis, ListsUnreachableAndMixedStates)
{
    auto analysis = analyze(machine(4, { { 0, receive, 1 }, { 0, send, 1 }, { 1, receive, 0 }, { 3, send, 0 } }));
    EXPECT_EQ(analysis.unreachable_states, (std::vector<uint16_t> { 2, 3 }));
    EXPECT_EQ(analysis.mixed_states, (std::vector<uint16_t> { 0 }));
}

TEST(StateMachineAnalysis, HandlesAChainOfTheLargestSizeWithoutRecursion)
{
    // A 4096-state run of sends, closed by one receive.
    std::vector<std::tuple<uint16_t, Action, uint16_t>> edges;
    for (uint16_t i = 0; i + 1 < 4096; ++i)
        edges.emplace_back(i, send, i + 1);
    edges.emplace_back(4095, receive, 0);
    auto analysis = analyze(machine(4096, edges));
    EXPECT_TRUE(analysis.is_sound());
    EXPECT_EQ(analysis.bounds.exporter_to_importer, 4095u);
}

TEST(StateMachineAnalysis, SaysWhoseTurnItIs)
{
    auto m = machine(4, { { 0, send, 1 }, { 1, receive, 2 }, { 3, send, 0 }, { 3, receive, 0 } });
    EXPECT_EQ(turn_of(m.states[0]), Turn::ExporterSends);
    EXPECT_EQ(turn_of(m.states[1]), Turn::ExporterReceives);
    EXPECT_EQ(turn_of(m.states[2]), Turn::Terminal);
    EXPECT_EQ(turn_of(m.states[3]), Turn::Mixed);
    EXPECT_EQ(next_operation(m.states[0], End::Exp), NextOperation::Send);
    EXPECT_EQ(next_operation(m.states[0], End::Imp), NextOperation::Receive);
    EXPECT_EQ(next_operation(m.states[1], End::Imp), NextOperation::Send);
    EXPECT_EQ(next_operation(m.states[2], End::Imp), NextOperation::None);
    EXPECT_EQ(next_operation(m.states[3], End::Exp), NextOperation::Receive);
}
