// Conformance of the signet_v1 ABI and the WASI personality: guest programs
// call each function, check each documented status, and report.
#include "KernelTestSupport.h"

using namespace signet;
using namespace signet::testing;

TEST_F(KernelTest, EveryAbiFunctionReturnsEveryDocumentedStatus)
{
    auto result = run(guest("test_abi_conformance"), { "second" }, "input!");
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(result.exit.status, 42) << result.out;
    EXPECT_NE(result.out.find(" 0 failed"), std::string::npos) << result.out;
    EXPECT_EQ(result.out.find("FAIL"), std::string::npos) << result.out;
    EXPECT_EQ(result.err, "to stderr\n");
    EXPECT_NE(result.diagnostics.find("] conformance\n"), std::string::npos) << result.diagnostics;
}

TEST_F(KernelTest, WasiPersonalityGrantsOnlyWhatWasGiven)
{
    auto spawn = request(guest("test_wasi_conformance"), { "one", "two" });
    spawn.environment = { "GREETING=hi" };
    auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto sip = m_kernel->spawn(std::move(spawn));
    ASSERT_FALSE(sip.is_error());
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(exit.status, 0) << out->contents();
    EXPECT_NE(out->contents().find("direct\n"), std::string::npos);
    EXPECT_NE(out->contents().find(", 0 failed"), std::string::npos) << out->contents();
}

TEST_F(KernelTest, TheSipsCpuClockCountsTheSliceRunningNow)
{
    auto result = run(guest("test_cpu_clock"));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Exited) << result.exit.detail;
    EXPECT_EQ(result.out, "advanced over 30 ms: 1\nadvanced 20 of 20\n");
}

TEST_F(KernelTest, HelloPrintsItsArgumentsAndOnlyTheGivenEnvironment)
{
    auto spawn = request(example("hello"), { "a b", "c" });
    spawn.environment = { "GREETING=salut" };
    auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto sip = m_kernel->spawn(std::move(spawn));
    ASSERT_FALSE(sip.is_error());
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(exit.status, 0);
    EXPECT_EQ(out->contents(), "Hello from a sealed process!\narg 1: a b\narg 2: c\nGREETING=salut\n");
}

TEST_F(KernelTest, MemoryGrowthStopsAtTheSipsLimit)
{
    auto spawn = request(guest("test_grower"));
    spawn.limits.memory_bytes = 4ull << 20; // 64 pages
    auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto sip = m_kernel->spawn(std::move(spawn));
    ASSERT_FALSE(sip.is_error());
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(out->contents(), "pages=64\n");
}
