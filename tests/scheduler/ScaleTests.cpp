// Thousands of SIPs alive at once, each talking to its partner: every one
// finishes as it should, and everything they held comes back. (The 10,000-SIP
// run and its memory per SIP are bench/scheduler's.) Nothing here is timed;
// the time limits only guard against hangs.
#include "SchedulerTestSupport.h"

#include "kernel/sched/Stack.h"
#include "runtime/LinearMemory.h"

using namespace signet;
using namespace signet::testing;

TEST_F(SchedulerTest, TwoThousandSipsAliveAtOnceAllPingPongFinishAndGiveEverythingBack)
{
    constexpr size_t pairs = 1000;
    constexpr int rounds = 20;
    LinearMemory::drain_pool();
    size_t const mappings_before = mapping_count();
    uint64_t const reservations_before = LinearMemory::live_reservations();
    uint64_t const stacks_before = Stack::live_stacks();

    // Each pair: a pinger holding a PingPong importer and a Gate exporter, and a
    // ponger holding the PingPong exporter. The host keeps every gate's importer.
    auto ready = std::make_shared<LineCounter>();
    std::vector<std::shared_ptr<Sip>> sips;
    std::vector<std::shared_ptr<Endpoint>> gates;
    for (size_t i = 0; i < pairs; ++i) {
        auto pair = channel("PingPong");
        auto gate = channel("Gate");
        gates.push_back(gate.importer);
        sips.push_back(create("pairs", { "ping", std::to_string(rounds) }, { pair.importer, gate.exporter }, {}, ready));
        sips.push_back(create("pairs", { "pong", std::to_string(rounds) }, { pair.exporter }));
    }
    for (auto const& sip : sips)
        ASSERT_FALSE(m_kernel->start(*sip).is_error());

    // 1. Every pinger did its rounds and now waits at the gate: all 2000 are alive.
    bool all_ready = wait_until([&] { return ready->lines() == pairs; }, std::chrono::seconds(60));
    EXPECT_TRUE(all_ready) << ready->lines() << " of " << pairs << " pairs got through their rounds";
    if (all_ready) {
        EXPECT_EQ(m_kernel->live_sip_count(), 2 * pairs);
        EXPECT_TRUE(std::none_of(sips.begin(), sips.end(), [](auto const& sip) { return sip->state() == Sip::State::Finished; }));
        EXPECT_GE(LinearMemory::live_reservations(), reservations_before + 2 * pairs);
    }

    // 2. Open the gates: each pinger ends, which closes its pair, which ends its ponger.
    for (auto& gate : gates)
        gate->close();
    gates.clear();
    finish_all(sips, std::chrono::seconds(60));
    for (auto const& sip : sips)
        ASSERT_TRUE(exited_cleanly(*sip));

    // 3. Everything is back: SIPs, channels (checked at teardown), linear memories
    //    and stacks (but for what their pools keep), and the mappings they took.
    //    A SIP is Finished before its memory is scrubbed; it leaves the kernel after.
    EXPECT_TRUE(wait_until([&] { return m_kernel->live_sip_count() == 0; }, std::chrono::seconds(30)));
    sips.clear();
    m_outputs.clear();
    LinearMemory::drain_pool();
    EXPECT_EQ(LinearMemory::live_reservations(), reservations_before);
    EXPECT_LE(Stack::live_stacks(), stacks_before + Stack::pool_limit);
    // Each pooled stack is two mappings (guard and stack); 2000 SIPs left behind would be 8000.
    EXPECT_LE(mapping_count(), mappings_before + 2 * Stack::pool_limit + 64) << "before: " << mappings_before;
}
