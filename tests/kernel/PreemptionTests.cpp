// SIPs that compute without blocking are preempted: others make progress on
// the same worker, and a kill ends even a SIP that never calls the kernel.
#include "KernelTestSupport.h"
#include "kernel/sched/Preemption.h"

using namespace signet;
using namespace signet::testing;

namespace {

class OneWorkerTest : public KernelTest {
protected:
    void SetUp() override
    {
        m_diagnostics = std::make_shared<BufferOutputStream>();
        auto kernel = Kernel::create({ .workers = 1, .diagnostics = m_diagnostics, .quantum = std::chrono::milliseconds(5) });
        ASSERT_FALSE(kernel.is_error());
        m_kernel = kernel.release_value();
    }
};

} // namespace

TEST_F(OneWorkerTest, SpinningSipsDoNotStopOthersOnTheSameWorker)
{
    auto first = m_kernel->spawn(request(guest("test_spinner")));
    auto second = m_kernel->spawn(request(guest("test_spinner")));
    ASSERT_FALSE(first.is_error());
    ASSERT_FALSE(second.is_error());
    auto result = run(example("hello"));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(result.out, "Hello from a sealed process!\n");
    EXPECT_GT(Preemption::preemptions(), 0u);

    m_kernel->kill(*first.value());
    m_kernel->kill(*second.value());
    EXPECT_EQ(first.value()->wait_from_host().how, ExitInfo::How::Killed);
    EXPECT_EQ(second.value()->wait_from_host().how, ExitInfo::How::Killed);
}

TEST_F(OneWorkerTest, AnIdleKernelsWatchdogSleepsAndTheFirstFiberWakesIt)
{
    // Nothing has run for 100 ms, 20 quanta: the watchdog sleeps, and ticks no more
    // (ticking, it would tick every 1.25 ms: 240 times in 300 ms).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    uint64_t before = Preemption::watchdog_ticks();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_LE(Preemption::watchdog_ticks() - before, 1u);
    // A SIP that spins on the only worker: the watchdog must wake for it, or
    // nothing else would run again.
    uint64_t preemptions = Preemption::preemptions();
    auto spinner = m_kernel->spawn(request(guest("test_spinner")));
    ASSERT_FALSE(spinner.is_error());
    auto hello = request(example("hello"));
    auto out = std::static_pointer_cast<BufferOutputStream>(hello.stdio.out);
    auto other = m_kernel->spawn(std::move(hello));
    ASSERT_FALSE(other.is_error());
    bool ended = other.value()->wait_from_host_for(std::chrono::seconds(20)).has_value();
    EXPECT_TRUE(ended) << "the spinner was never preempted";
    EXPECT_EQ(out->contents(), "Hello from a sealed process!\n");
    EXPECT_GT(Preemption::preemptions(), preemptions);
    m_kernel->kill(*spinner.value());
    if (!ended)
        m_kernel->kill(*other.value());
    EXPECT_EQ(spinner.value()->wait_from_host().how, ExitInfo::How::Killed);
    // Idle again: asleep again.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    before = Preemption::watchdog_ticks();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_LE(Preemption::watchdog_ticks() - before, 1u);
}

TEST_F(OneWorkerTest, WakeUpLatencyStaysBoundedWhileOthersSpin)
{
    auto first = m_kernel->spawn(request(guest("test_spinner")));
    auto second = m_kernel->spawn(request(guest("test_spinner")));
    ASSERT_FALSE(first.is_error());
    ASSERT_FALSE(second.is_error());
    auto result = run(guest("test_latency"));
    ASSERT_EQ(result.exit.how, ExitInfo::How::Exited);
    uint64_t worst_us = std::stoull(result.out);
    // Each spinner holds the worker for at most a quantum (5 ms) plus a watchdog tick,
    // so a wake-up waits at most about two quanta. The bound here is loose on purpose:
    // it only has to tell "bounded" from "never" on a loaded 2-core machine.
    EXPECT_LT(worst_us, 250'000u) << "worst wake-up delay " << worst_us << " us";
    m_kernel->kill(*first.value());
    m_kernel->kill(*second.value());
    first.value()->wait_from_host();
    second.value()->wait_from_host();
}

TEST_F(OneWorkerTest, PreemptedComputationGivesTheSameAnswer)
{
    // compute.wasm's result is deterministic; preemption must preserve every register.
    auto spinner = m_kernel->spawn(request(guest("test_spinner")));
    ASSERT_FALSE(spinner.is_error());
    auto result = run(example("compute"), { "300000", "20" });
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited);
    auto reference = run(example("compute"), { "300000", "20" });
    EXPECT_EQ(result.out, reference.out);
    EXPECT_NE(result.out.find("primes below 300000: 25997"), std::string::npos) << result.out;
    m_kernel->kill(*spinner.value());
    spinner.value()->wait_from_host();
}

TEST_F(KernelTest, AnIdleWorkerStealsRunnableSipsFromABusyOne)
{
    // Round-robin placement puts the long computations on one worker and the short
    // ones on the other; once the short ones are done, that worker must steal.
    std::vector<std::shared_ptr<Sip>> sips;
    std::vector<std::shared_ptr<BufferOutputStream>> outputs;
    for (int i = 0; i < 6; ++i) {
        auto spawn = i % 2 == 0 ? request(example("compute"), { "1000000", "12" }) : request(example("hello_native"));
        outputs.push_back(std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out));
        auto sip = m_kernel->spawn(std::move(spawn));
        ASSERT_FALSE(sip.is_error());
        sips.push_back(sip.release_value());
    }
    for (size_t i = 0; i < sips.size(); ++i) {
        EXPECT_EQ(sips[i]->wait_from_host().how, ExitInfo::How::Exited);
        if (i % 2 == 0) {
            EXPECT_NE(outputs[i]->contents().find("primes below 1000000: 78498"), std::string::npos) << outputs[i]->contents();
        }
    }
    uint64_t steals = 0;
    for (unsigned i = 0; i < m_kernel->scheduler().worker_count(); ++i)
        steals += m_kernel->scheduler().worker(i).steals();
    EXPECT_GT(steals, 0u);
}
