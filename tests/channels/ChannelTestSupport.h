// The channel tests' fixture: a kernel with a private store (KernelTest), the
// program "child" registered for guests to create, and runs that cannot hang
// the test binary.
#pragma once

#include "KernelTestSupport.h"

#include <chrono>

namespace signet::testing {

std::string channel_guest(std::string const& name); // a guest of tests/channels, by its short name

class ChannelTest : public KernelTest {
protected:
    // Every test also checks that no channel, and no SIP of the program
    // "child", outlives the kernel.
    void SetUp() override;
    void TearDown() override;

    // Makes `wasm_path` creatable by SIPs under `name`.
    void register_program(std::string const& name, std::string const& wasm_path);

    // Runs a guest as a top-level SIP, waits for it and then for every SIP it
    // left running. The time limit only guards against a hang: a run that
    // reaches it fails the test and its SIPs are killed. Nothing is timed.
    RunResult run_guarded(std::string const& wasm_path, std::vector<std::string> args = {},
        std::chrono::seconds limit = std::chrono::seconds(60));

    // Waits until no SIP is alive; false if `limit` passed first.
    bool wait_idle(std::chrono::seconds limit);

    uint64_t m_channels_before { 0 };
    std::shared_ptr<Image> m_child_image;
};

// How a guest that counts its checks did: passes if it printed "<n> checks, 0 failed" and no FAIL line.
::testing::AssertionResult all_checks_passed(RunResult const&);

} // namespace signet::testing
