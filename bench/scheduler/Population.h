// A population of member SIPs (guests/members.c): pairs that ping-pong over
// channels the host made and, if gated, then hold at a gate until the host
// opens it, so that every one of them is alive at once.
#pragma once

#include "base/ErrorOr.h"
#include "kernel/Kernel.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace signet::bench {

// Counts lines written by SIPs and keeps the first one: a SIP population's
// shared stdout (each pinger writes "ready" at its gate) and the kernel's
// diagnostics (a trap report per SIP could be thousands of lines).
class LineCounter final : public OutputStream {
public:
    ErrorOr<size_t> write(std::span<uint8_t const>) override;
    uint64_t lines() const { return m_lines.load(std::memory_order_acquire); }
    std::string first_line() const;

private:
    std::atomic<uint64_t> m_lines { 0 };
    mutable std::mutex m_lock;
    std::string m_first;
};

class Population {
public:
    // Where the two ends of a pair run. The kernel places SIPs round robin in
    // the order they start, so the start order decides (in a fresh kernel).
    enum class Placement {
        Split,    // a pair's ends on different workers: every message wakes another core
        Together, // both ends on the same worker: messages are fiber switches
    };
    struct Options {
        size_t pairs { 0 };
        uint32_t rounds_before_gate { 0 };
        uint32_t rounds_after_gate { 0 };
        bool gated { false };
        Placement placement { Placement::Split };
        SipLimits limits {};
    };

    Population(Kernel&, std::shared_ptr<Image> members, Options);
    // Opens the gates, stops what still runs and waits for it.
    ~Population();

    // Creates and starts the SIPs. Stops at the first that cannot be created or
    // started, and returns why; those before it run on.
    ErrorOr<void> start();
    size_t started() const { return m_sips.size(); }

    // Waits until every started pinger is at its gate or has ended; false if `limit` passed first.
    bool wait_ready(std::chrono::seconds limit);
    uint64_t ready() const { return m_ready->lines(); }
    void open_gates();
    // Waits until every started SIP ended; false if `limit` passed first.
    bool wait_finished(std::chrono::seconds limit);
    // Blocks until every started SIP ended, returning as soon as the last one did (for timing).
    void wait_all();

    // SIPs that did not exit with status 0 (only counting those that ended), and how the first did.
    size_t failures(std::string* first_failure = nullptr) const;
    // [begin, end) of each started SIP's linear-memory reservation (once instantiated).
    std::vector<std::pair<uintptr_t, uintptr_t>> reservations() const;
    size_t finished_count() const;
    // Linear memory the started SIPs have committed (read and write), in all.
    uint64_t committed_linear_bytes() const;

private:
    Kernel& m_kernel;
    std::shared_ptr<Image> m_image;
    Options m_options;
    std::shared_ptr<LineCounter> m_ready { std::make_shared<LineCounter>() };
    std::vector<std::shared_ptr<Sip>> m_created;       // every SIP made, started or not
    std::vector<std::shared_ptr<Endpoint>> m_gates;    // the importers the host holds
    std::vector<std::shared_ptr<Sip>> m_sips;          // those started, in start order
    std::vector<std::shared_ptr<Sip>> m_started_pings; // the pingers among them
};

} // namespace signet::bench
