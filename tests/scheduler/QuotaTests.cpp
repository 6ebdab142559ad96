// The limits of docs/scheduler.md's quota table that tests/kernel does not
// already hold a SIP to: the handle table from every call that fills it, the
// native stack size, CPU time summed over a SIP's threads and ending a SIP
// whose other thread is blocked, and thread slots coming back.
#include "SchedulerTestSupport.h"

using namespace signet;
using namespace signet::testing;

namespace {

// Deep enough to overflow a 64 KiB stack many times over, and shallow enough to
// fit the default 1 MiB with room to spare (each level is one wasm call: a
// native frame of a few dozen bytes).
constexpr char const* depth = "10000";

std::string checks_line(std::string const& out, std::string const& name)
{
    auto at = out.find(name + ": ");
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
}

} // namespace

TEST_F(SchedulerTest, AFullHandleTableIsLimitForEveryCallThatCreatesAHandleAndIsReclaimedAtTheEnd)
{
    auto sip = spawn("quotas", { "handles" });
    finish_all({ sip }, std::chrono::seconds(60));
    EXPECT_TRUE(exited_cleanly(*sip));
    EXPECT_EQ(checks_line(output_of(*sip), "handles"), "handles: 15 checks, 0 failed") << output_of(*sip);
    // The SIP ended holding 4096 handles (2048 channels): the teardown checks none outlives it.
}

TEST_F(SchedulerTest, TheStackLimitSetsHowDeepASipMayCall)
{
    auto roomy = spawn("quotas", { "deep", depth });
    SipLimits small;
    small.stack_bytes = 64 * 1024;
    auto cramped = spawn("quotas", { "deep", depth }, {}, small);
    finish_all({ roomy, cramped }, std::chrono::seconds(60));
    EXPECT_TRUE(exited_cleanly(*roomy));
    EXPECT_EQ(cramped->exit_info().how, ExitInfo::How::Trapped);
    EXPECT_EQ(cramped->exit_info().trap, TrapKind::StackExhausted) << trap_kind_name(cramped->exit_info().trap);
}

TEST_F(SchedulerTest, TheCpuTimeLimitCountsEveryThreadOfASip)
{
    // Four threads of 40 ms each: none alone reaches the 100 ms limit, together they do.
    SipLimits limits;
    limits.cpu_time_ns = 100'000'000;
    auto over = spawn("quotas", { "share", "4", "40" }, {}, limits);
    finish_all({ over }, std::chrono::seconds(60));
    EXPECT_EQ(over->exit_info().how, ExitInfo::How::Killed);
    EXPECT_NE(over->exit_info().detail.find("CPU time limit of 100 ms"), std::string::npos) << over->exit_info().detail;
    EXPECT_GE(over->cpu_time_ns(), 100'000'000u);
    // Alone, so that its threads' 40 ms of computing are all its own.
    limits.cpu_time_ns = 1'000'000'000;
    auto under = spawn("quotas", { "share", "2", "40" }, {}, limits);
    finish_all({ under }, std::chrono::seconds(60));
    EXPECT_TRUE(exited_cleanly(*under));
    // Each thread computes until 40 ms of wall time passed, some of which, on a
    // busy machine, its worker spends off the CPU between turns: not CPU time.
    // More than one thread's 40 ms is what counting both threads means.
    EXPECT_GE(under->cpu_time_ns(), 60'000'000u) << "two threads of 40 ms each";
}

TEST_F(SchedulerTest, TheCpuTimeLimitEndsASipWhoseOtherThreadIsBlocked)
{
    SipLimits limits;
    limits.cpu_time_ns = 50'000'000;
    auto hog = spawn("quotas", { "hog" }, {}, limits);
    finish_all({ hog }, std::chrono::seconds(60));
    EXPECT_EQ(hog->exit_info().how, ExitInfo::How::Killed);
    EXPECT_NE(hog->exit_info().detail.find("CPU time limit of 50 ms"), std::string::npos) << hog->exit_info().detail;
    // Finished comes before the scrub; the SIP leaves the kernel once its memory is back.
    EXPECT_TRUE(wait_until([&] { return m_kernel->live_sip_count() == 0; }, std::chrono::seconds(30)));
}

TEST_F(SchedulerTest, AThreadSlotComesBackWhenItsThreadIsJoined)
{
    SipLimits limits;
    limits.threads = 2;
    auto sip = spawn("quotas", { "churn", "200" }, {}, limits);
    finish_all({ sip }, std::chrono::seconds(60));
    EXPECT_TRUE(exited_cleanly(*sip));
    EXPECT_EQ(checks_line(output_of(*sip), "churn"), "churn: 5 checks, 0 failed") << output_of(*sip);
}
