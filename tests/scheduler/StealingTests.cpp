// Work stealing takes CPU-bound SIPs too: once a worker goes idle, it takes a
// runnable single-threaded SIP from a busy one even if that SIP has already
// been preempted there (a preempted SIP keeps its turn, which only matters to
// its own threads), and a worker that is busy only because it preempts SIPs
// wakes an idle one to come and take some.
#include "SchedulerTestSupport.h"

using namespace signet;
using namespace signet::testing;

TEST_F(SchedulerTest, AnIdleWorkerTakesASpinnerThatWasAlreadyPreemptedOnABusyOne)
{
    // Round-robin placement: three spinners on worker 0; on worker 1 a spinner that
    // its CPU limit ends after 100 ms and a SIP that ends at once. By the time
    // worker 1 runs out of work, every spinner on worker 0 has been preempted.
    use_kernel({ .workers = 2, .diagnostics = {}, .quantum = std::chrono::milliseconds(5) });
    // Both workers are busy from the second spawn on, so nothing moves before worker 1 runs out.
    uint64_t steals_before = steals(*m_kernel);
    SipLimits brief;
    brief.cpu_time_ns = 100'000'000;
    auto first = spawn("spinner", {});
    auto limited = spawn("spinner", {}, {}, brief);
    auto second = spawn("spinner", {});
    auto filler = spawn("quotas", { "deep", "1" });
    auto third = spawn("spinner", {});
    finish_all({ limited, filler }, std::chrono::seconds(30));
    EXPECT_EQ(limited->exit_info().how, ExitInfo::How::Killed);

    // Worker 1 is idle now, worker 0 runs three spinners: one of them must move.
    EXPECT_TRUE(wait_until([&] { return steals(*m_kernel) > steals_before; }, std::chrono::seconds(10)))
        << "no spinner moved to the idle worker";
    for (auto const& spinner : { first, second, third })
        m_kernel->kill(*spinner);
    finish_all({ first, second, third }, std::chrono::seconds(30));
}
