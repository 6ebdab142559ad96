// No wake-up is ever lost: many pairs of SIPs on two workers block and wake
// each other thousands of times, through channels across workers (round-robin
// placement puts the two ends of a pair on different workers), through futexes
// between the threads of a SIP, while idle workers steal and, in the second
// test, while spinners are preempted around them. A lost wake-up leaves a pair
// blocked for ever; the time limit only turns that hang into a failure.
#include "SchedulerTestSupport.h"

#include "kernel/sched/Preemption.h"

using namespace signet;
using namespace signet::testing;

class WakeUpTest : public SchedulerTest {
protected:
    // Starts `pairs` ping/pong pairs and as many ping/relay pairs (the relay hands
    // each message between its two threads through a futex), `rounds` each.
    std::vector<std::shared_ptr<Sip>> start_pairs(size_t pairs, int rounds)
    {
        std::vector<std::shared_ptr<Sip>> sips;
        for (size_t i = 0; i < 2 * pairs; ++i) {
            auto ends = channel("PingPong");
            sips.push_back(spawn("pairs", { "ping", std::to_string(rounds) }, { ends.importer }));
            sips.push_back(spawn("pairs", { i % 2 ? "relay" : "pong", std::to_string(rounds) }, { ends.exporter }));
        }
        return sips;
    }
};

TEST_F(WakeUpTest, PairsOnTwoWorkersPingPongThousandsOfTimesThroughChannelsAndFutexes)
{
    use_kernel({ .workers = 2, .diagnostics = {}, .quantum = std::chrono::milliseconds(1) });
    uint64_t steals_before = steals(*m_kernel);
    auto sips = start_pairs(12, 20000);
    finish_all(sips, std::chrono::seconds(120));
    for (auto const& sip : sips)
        EXPECT_TRUE(exited_cleanly(*sip));
    RecordProperty("steals", std::to_string(steals(*m_kernel) - steals_before));
}

TEST_F(WakeUpTest, PairsKeepWakingEachOtherWhileSpinnersArePreemptedAroundThem)
{
    use_kernel({ .workers = 2, .diagnostics = {}, .quantum = std::chrono::milliseconds(1) });
    uint64_t preemptions_before = Preemption::preemptions();
    std::vector<std::shared_ptr<Sip>> spinners { spawn("spinner", {}), spawn("spinner", {}) };
    auto sips = start_pairs(8, 400);
    finish_all(sips, std::chrono::seconds(120));
    for (auto const& sip : sips)
        EXPECT_TRUE(exited_cleanly(*sip));
    EXPECT_GT(Preemption::preemptions(), preemptions_before);
    for (auto const& spinner : spinners)
        m_kernel->kill(*spinner);
    finish_all(spinners, std::chrono::seconds(30));
}

TEST_F(WakeUpTest, SipsThatTalkComeToShareAWorker)
{
    // Round-robin placement starts both ends of every pair on different workers.
    // A parked single-threaded SIP woken from another worker moves to it, and a
    // SIP stolen away from its partner takes the partner along at its next
    // message: so after the first messages no wake-up crosses workers (without
    // the move, some 20,000 of the 80,000 messages woke a SIP on the other one).
    use_kernel({ .workers = 2, .diagnostics = {}, .quantum = std::chrono::milliseconds(10) });
    uint64_t before = remote_wakes(*m_kernel);
    std::vector<std::shared_ptr<Sip>> sips;
    for (size_t i = 0; i < 8; ++i) {
        auto ends = channel("PingPong");
        sips.push_back(spawn("pairs", { "ping", "5000" }, { ends.importer }));
        sips.push_back(spawn("pairs", { "pong", "5000" }, { ends.exporter }));
    }
    finish_all(sips, std::chrono::seconds(120));
    for (auto const& sip : sips)
        EXPECT_TRUE(exited_cleanly(*sip));
    uint64_t crossed = remote_wakes(*m_kernel) - before;
    RecordProperty("remote_wakes", std::to_string(crossed));
    EXPECT_LT(crossed, 800u) << "wake-ups kept crossing workers: pairs did not come together";
}
