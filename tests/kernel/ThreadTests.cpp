// Threads inside a SIP: shared memory, their own stacks, mutexes and
// conditions on futexes, a blocking thread never blocks its siblings.
#include "KernelTestSupport.h"
#include "ThreadsGuest.h"

using namespace signet;
using namespace signet::testing;

TEST_F(KernelTest, ThreadsOfASipShareMemoryAndSynchroniseWithMutexesAndConditions)
{
    auto result = run(guest("test_threads"));
    ASSERT_EQ(result.exit.how, ExitInfo::How::Exited) << trap_kind_name(result.exit.trap) << result.exit.detail << result.out;
    EXPECT_EQ(result.exit.status, 0) << result.out;
    EXPECT_EQ(result.out, threads_guest_output);
}

TEST_F(KernelTest, TheThreadQuotaRefusesOnlyTheExtraThread)
{
    auto spawn = request(guest("test_threads"));
    spawn.limits.threads = 4; // main + 3: the fourth worker thread is refused
    auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto sip = m_kernel->spawn(std::move(spawn));
    ASSERT_FALSE(sip.is_error());
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(exit.status, 1);
    EXPECT_NE(out->contents().find("cannot start thread 3"), std::string::npos) << out->contents();
}

TEST_F(KernelTest, TheCpuTimeQuotaStopsOnlyThatSipAndNamesTheLimit)
{
    auto spawn = request(guest("test_spinner"));
    spawn.limits.cpu_time_ns = 50'000'000;
    auto sip = m_kernel->spawn(std::move(spawn));
    ASSERT_FALSE(sip.is_error());
    auto other = run(example("hello"));
    EXPECT_EQ(other.exit.how, ExitInfo::How::Exited);
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Killed);
    EXPECT_NE(exit.detail.find("CPU time limit of 50 ms"), std::string::npos) << exit.detail;
    EXPECT_GE(sip.value()->cpu_time_ns(), 50'000'000u);
}
