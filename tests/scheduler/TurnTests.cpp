// A SIP's threads never run in the middle of one another, even across
// preemption: a thread that computes for several quanta is preempted (the
// worker runs other SIPs meanwhile), but its siblings wait until it blocks,
// yields or ends. The guest's observer thread counts every time it finds the
// writer's round half done; it must never.
#include "SchedulerTestSupport.h"

#include "kernel/sched/Preemption.h"

using namespace signet;
using namespace signet::testing;

TEST_F(SchedulerTest, AThreadPreemptedMidComputationIsNeverInterleavedWithASibling)
{
    // One worker with a 2 ms quantum; beside the SIP, a pair that keeps the
    // worker busy with short turns, so a preempted writer really is switched out.
    use_kernel({ .workers = 1, .diagnostics = {}, .quantum = std::chrono::milliseconds(2) });
    auto pair = channel("PingPong");
    std::vector<std::shared_ptr<Sip>> others { spawn("pairs", { "ping", "100000" }, { pair.importer }),
        spawn("pairs", { "pong", "100000" }, { pair.exporter }) };
    uint64_t preemptions_before = Preemption::preemptions();
    // Each round computes for tens of milliseconds: many quanta.
    auto turns = spawn("turns", { "8", "20000000" });
    finish_all({ turns }, std::chrono::seconds(120));
    EXPECT_TRUE(exited_cleanly(*turns));
    EXPECT_NE(output_of(*turns).find(" 0 torn"), std::string::npos) << output_of(*turns);
    // Only the writer computes for long: the preemptions are its.
    EXPECT_GT(Preemption::preemptions() - preemptions_before, 8u);
    for (auto const& sip : others)
        m_kernel->kill(*sip);
    finish_all(others, std::chrono::seconds(30));
}
