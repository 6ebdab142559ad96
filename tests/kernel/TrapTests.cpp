// Every trap kind ends only the SIP that trapped, with a report naming the
// SIP, the program and the kind; the kernel and other SIPs go on.
#include "KernelTestSupport.h"

#include <cinttypes>

using namespace signet;
using namespace signet::testing;

namespace {

struct TrapCase {
    char const* program;
    TrapKind kind;
};

TrapCase const trap_cases[] = {
    { "trap_out_of_bounds", TrapKind::OutOfBounds },
    { "trap_stack_exhausted", TrapKind::StackExhausted },
    { "trap_divide_by_zero", TrapKind::DivideByZero },
    { "trap_integer_overflow", TrapKind::IntegerOverflow },
    { "trap_invalid_conversion", TrapKind::InvalidConversion },
    { "trap_unreachable", TrapKind::Unreachable },
    { "trap_bad_indirect_call", TrapKind::BadIndirectCall },
};

} // namespace

class TrapKindTest : public KernelTest, public ::testing::WithParamInterface<TrapCase> { };

TEST_P(TrapKindTest, EndsOnlyTheFaultingSipWithAReportNamingIt)
{
    auto const& param = GetParam();
    auto result = run(example(param.program));
    EXPECT_EQ(result.exit.how, ExitInfo::How::Trapped);
    EXPECT_EQ(result.exit.trap, param.kind) << trap_kind_name(result.exit.trap);
    EXPECT_EQ(result.exit.host_exit_status(), 134);
    EXPECT_EQ(result.out, "about to trap\n");
    std::string expected = std::string("(") + param.program + ".wasm) trapped: " + trap_kind_description(param.kind);
    EXPECT_NE(result.diagnostics.find(expected), std::string::npos) << result.diagnostics;
    EXPECT_NE(result.diagnostics.find("signet: SIP "), std::string::npos);

    // The kernel is unharmed: a fresh SIP runs normally afterwards.
    auto after = run(example("hello"));
    EXPECT_EQ(after.exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(after.out, "Hello from a sealed process!\n");
}

INSTANTIATE_TEST_SUITE_P(EveryKind, TrapKindTest, ::testing::ValuesIn(trap_cases),
    [](auto const& info) { return std::string(info.param.program).substr(5); });

TEST_F(KernelTest, ManySipsAtOnceWhereSomeTrapAndTheRestFinishCorrectly)
{
    struct Launched {
        std::shared_ptr<Sip> sip;
        std::shared_ptr<BufferOutputStream> out;
        bool traps;
        std::string expected;
    };
    std::vector<Launched> launched;
    for (int i = 0; i < 96; ++i) {
        bool traps = i % 3 == 0;
        std::string program = traps ? example(trap_cases[i % 7].program) : guest("test_yielder");
        // The trap examples trap only when given no arguments.
        auto spawn = traps ? request(program) : request(program, { "sip-" + std::to_string(i) });
        auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
        auto sip = m_kernel->spawn(std::move(spawn));
        ASSERT_FALSE(sip.is_error());
        launched.push_back({ sip.release_value(), out, traps, traps ? "about to trap\n" : "sip-" + std::to_string(i) + "\n" });
    }
    for (auto& entry : launched) {
        auto exit = entry.sip->wait_from_host();
        EXPECT_EQ(exit.how, entry.traps ? ExitInfo::How::Trapped : ExitInfo::How::Exited);
        EXPECT_EQ(entry.out->contents(), entry.expected);
    }
    m_kernel->wait_until_idle();
    EXPECT_EQ(m_kernel->live_sip_count(), 0u);
}
