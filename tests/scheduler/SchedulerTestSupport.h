// The scheduler tests' fixture: a kernel made to each test's measure (workers,
// quantum), channels made by the host and handed to SIPs as startup handles,
// and waits that cannot hang the test binary.
#pragma once

#include "KernelTestSupport.h"
#include "kernel/object/Channel.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>

namespace signet::testing {

std::string scheduler_guest(std::string const& name); // a guest of tests/scheduler, by its short name

// Counts the lines SIPs write: how a test learns that N SIPs reached a point.
class LineCounter final : public OutputStream {
public:
    ErrorOr<size_t> write(std::span<uint8_t const> bytes) override;
    uint64_t lines() const { return m_lines.load(std::memory_order_acquire); }

private:
    std::atomic<uint64_t> m_lines { 0 };
};

class SchedulerTest : public KernelTest {
protected:
    // Every test checks that no channel outlives the kernel and its SIPs.
    void SetUp() override;
    void TearDown() override;

    // Replaces the fixture's kernel (two workers, the default quantum) by one made with `config`.
    void use_kernel(KernelConfig config);

    struct Ends {
        std::shared_ptr<Endpoint> importer;
        std::shared_ptr<Endpoint> exporter;
    };
    // A channel of scheduler.contract's PingPong or Gate, made by the host.
    Ends channel(std::string const& contract);

    // Creates (does not start) a SIP of a scheduler guest with `handles` as its
    // startup handles. Its stdout goes to `out` if given, else to a buffer.
    std::shared_ptr<Sip> create(std::string const& name, std::vector<std::string> args, std::vector<std::shared_ptr<Endpoint>> handles = {},
        SipLimits limits = {}, std::shared_ptr<OutputStream> out = nullptr);
    std::shared_ptr<Sip> spawn(std::string const& name, std::vector<std::string> args, std::vector<std::shared_ptr<Endpoint>> handles = {},
        SipLimits limits = {}, std::shared_ptr<OutputStream> out = nullptr);

    // Waits until `condition` holds; false if `limit` passed first. Only a guard against hangs.
    static bool wait_until(std::function<bool()> const& condition, std::chrono::seconds limit);
    // Waits for every SIP of `sips` to finish. If `limit` passes first, the test
    // fails, naming how many were left, and they are killed.
    void finish_all(std::vector<std::shared_ptr<Sip>> const& sips, std::chrono::seconds limit);

    // What a SIP created with the default buffer wrote to its stdout.
    std::string output_of(Sip const&) const;

    // Passes if the SIP exited with status 0; otherwise says how it ended and what it wrote.
    ::testing::AssertionResult exited_cleanly(Sip const&) const;

    uint64_t m_channels_before { 0 };
    std::map<Sip const*, std::shared_ptr<BufferOutputStream>> m_outputs;
};

// Mappings of this process (lines of /proc/self/maps): what a leak of SIPs would show.
size_t mapping_count();

// SIPs the kernel's workers have taken from one another so far.
uint64_t steals(Kernel&);
// Wake-ups that a worker's fibers sent to a thread that stayed on another worker.
uint64_t remote_wakes(Kernel&);

} // namespace signet::testing
