// SIPs that compute without ever calling the kernel share the CPU fairly:
// preemption takes each one off its worker at the end of its quantum, and
// the run queue is a FIFO. Each spinner's CPU time, read after they all
// ended, must be near the fair share; the factor is generous on purpose,
// since other processes on the machine take the workers' cores away at times.
#include "SchedulerTestSupport.h"

#include "kernel/sched/Preemption.h"

#include <numeric>
#include <thread>

using namespace signet;
using namespace signet::testing;

namespace {

struct Shares {
    std::vector<uint64_t> cpu_ns;
    uint64_t total() const { return std::accumulate(cpu_ns.begin(), cpu_ns.end(), uint64_t(0)); }
};

} // namespace

class FairnessTest : public SchedulerTest {
protected:
    // Runs `count` spinners for `duration`, then kills them and returns what CPU time each got.
    Shares spin(size_t count, std::chrono::milliseconds duration)
    {
        std::vector<std::shared_ptr<Sip>> spinners;
        for (size_t i = 0; i < count; ++i)
            spinners.push_back(spawn("spinner", {}));
        std::this_thread::sleep_for(duration);
        for (auto const& spinner : spinners)
            m_kernel->kill(*spinner);
        finish_all(spinners, std::chrono::seconds(30));
        Shares shares;
        for (auto const& spinner : spinners) {
            EXPECT_EQ(spinner->exit_info().how, ExitInfo::How::Killed);
            shares.cpu_ns.push_back(spinner->cpu_time_ns());
        }
        return shares;
    }

    static ::testing::AssertionResult fair(Shares const& shares, double factor)
    {
        double fair_share = double(shares.total()) / double(shares.cpu_ns.size());
        std::string text;
        bool ok = fair_share > 0;
        for (uint64_t cpu : shares.cpu_ns) {
            text += " " + std::to_string(cpu / 1'000'000) + " ms";
            if (double(cpu) < fair_share / factor || double(cpu) > fair_share * factor)
                ok = false;
        }
        if (ok)
            return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "CPU times" << text << " are not within " << factor << "x of the fair share "
                                             << fair_share / 1e6 << " ms";
    }
};

TEST_F(FairnessTest, SpinnersOnOneWorkerGetEqualShares)
{
    use_kernel({ .workers = 1, .diagnostics = {}, .quantum = std::chrono::milliseconds(5) });
    uint64_t preemptions_before = Preemption::preemptions();
    auto shares = spin(4, std::chrono::milliseconds(1500));
    EXPECT_TRUE(fair(shares, 2.0));
    // 1.5 s of 5 ms quanta: the spinners took turns far more often than once each.
    EXPECT_GT(Preemption::preemptions() - preemptions_before, 4u * 4u);
}

TEST_F(FairnessTest, SpinnersOnTwoWorkersGetEqualSharesOfBothCores)
{
    use_kernel({ .workers = 2, .diagnostics = {}, .quantum = std::chrono::milliseconds(5) });
    auto shares = spin(6, std::chrono::milliseconds(1500));
    EXPECT_TRUE(fair(shares, 3.0));
}

TEST_F(FairnessTest, ASpinnerTakesNoMoreThanItsShareFromSipsThatTalk)
{
    // One worker: a spinner and a pair that ping-pongs (blocking, waking each
    // other). The pair must get through its rounds while the spinner spins.
    use_kernel({ .workers = 1, .diagnostics = {}, .quantum = std::chrono::milliseconds(5) });
    auto spinner = spawn("spinner", {});
    auto pair = channel("PingPong");
    std::vector<std::shared_ptr<Sip>> talkers { spawn("pairs", { "ping", "2000" }, { pair.importer }),
        spawn("pairs", { "pong", "2000" }, { pair.exporter }) };
    finish_all(talkers, std::chrono::seconds(60));
    for (auto const& sip : talkers)
        EXPECT_TRUE(exited_cleanly(*sip));
    m_kernel->kill(*spinner);
    finish_all({ spinner }, std::chrono::seconds(30));
}
