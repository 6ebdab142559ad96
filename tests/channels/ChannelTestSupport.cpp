#include "ChannelTestSupport.h"

#include <thread>

namespace signet::testing {

std::string channel_guest(std::string const& name)
{
    return guest("test_channel_" + name);
}

void ChannelTest::SetUp()
{
    m_channels_before = Channel::live_count();
    KernelTest::SetUp();
    m_child_image = image(channel_guest("child"));
    ASSERT_TRUE(m_child_image);
    m_kernel->register_program("child", m_child_image);
}

void ChannelTest::TearDown()
{
    KernelTest::TearDown();
    EXPECT_EQ(Channel::live_count(), m_channels_before) << "channels outlived the kernel and its SIPs";
    // Every SIP holds its image: once the kernel is gone, only this reference may remain.
    EXPECT_EQ(m_child_image.use_count(), 1) << "a SIP of \"child\" outlived the kernel";
}

void ChannelTest::register_program(std::string const& name, std::string const& wasm_path)
{
    auto program = image(wasm_path);
    ASSERT_TRUE(program) << wasm_path;
    m_kernel->register_program(name, program);
}

bool ChannelTest::wait_idle(std::chrono::seconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (m_kernel->live_sip_count() != 0) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

RunResult ChannelTest::run_guarded(std::string const& wasm_path, std::vector<std::string> args, std::chrono::seconds limit)
{
    auto spawn = request(wasm_path, std::move(args));
    auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto err = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.err);
    RunResult result;
    if (!spawn.image) {
        ADD_FAILURE() << "no image for " << wasm_path;
        return result;
    }
    auto sip = m_kernel->spawn(std::move(spawn));
    if (sip.is_error()) {
        ADD_FAILURE() << sip.error().message();
        return result;
    }
    if (!wait_idle(limit)) {
        ADD_FAILURE() << wasm_path << " still has " << m_kernel->live_sip_count() << " SIPs alive after " << limit.count()
                      << " s; output so far:\n"
                      << out->contents();
        // Children are not reachable from here; the kernel abandons them at teardown.
        m_kernel->kill(*sip.value());
    }
    result.exit = sip.value()->wait_from_host();
    result.out = out->contents();
    result.err = err->contents();
    result.diagnostics = m_diagnostics->contents();
    return result;
}

::testing::AssertionResult all_checks_passed(RunResult const& result)
{
    bool ok = result.exit.how == ExitInfo::How::Exited && result.exit.status == 0 && result.out.find(" checks, 0 failed") != std::string::npos
        && result.out.find("FAIL") == std::string::npos;
    if (ok)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "exit " << static_cast<int>(result.exit.how) << "/" << result.exit.status << " "
                                         << result.exit.detail << "\nstdout:\n"
                                         << result.out << "diagnostics:\n"
                                         << result.diagnostics;
}

} // namespace signet::testing
