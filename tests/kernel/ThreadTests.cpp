// Threads inside a SIP: shared memory, their own stacks, mutexes and
// conditions on futexes, a blocking thread never blocks its siblings.
#include "KernelTestSupport.h"
#include "ThreadsGuest.h"
#include "kernel/object/Thread.h"
#include "kernel/sched/Worker.h"

#include <atomic>
#include <chrono>
#include <thread>

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

// A domain's proxy thread tells the domain, through a word in its ring, when a
// call it runs there is blocked in the kernel (ring::Hint): Worker::block_current
// writes 1 while the thread is blocked and 0 once it runs again, and leaves the
// word alone for a thread that has none.
TEST_F(KernelTest, ABlockedThreadSaysSoThroughItsHintOnlyWhileItHasOne)
{
    std::atomic<uint32_t> hint { 7 };
    std::atomic<Thread*> blocked { nullptr };
    std::atomic<bool> released { false };
    std::atomic<uint32_t> seen_after { 99 };
    auto spawn = request(example("hello_native"));
    spawn.host_entry = [&](Sip&) {
        Thread* self = Worker::current_thread();
        self->set_blocked_hint(&hint);
        blocked.store(self);
        while (!released.load())
            Worker::block_current();
        seen_after.store(hint.load());
        self->set_blocked_hint(nullptr);
        hint.store(5);
        // Without a hint, a block leaves the word alone.
        Worker::yield_current();
    };
    auto sip = m_kernel->spawn(std::move(spawn));
    ASSERT_FALSE(sip.is_error());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((!blocked.load() || hint.load() != 1) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(hint.load(), 1u) << "the thread blocked, but its hint does not say so";
    released.store(true);
    Worker::wake(*blocked.load());
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Exited) << exit.detail;
    EXPECT_EQ(seen_after.load(), 0u) << "running again, the thread still says it is blocked";
    EXPECT_EQ(hint.load(), 5u);
}
