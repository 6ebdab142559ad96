// The exchange-heap tests' fixture: guest SIPs wired together by channels the
// test creates, an observer SIP that stops them at checkpoints while the test
// looks at them, and probes of the pages behind an address.
#pragma once

#include "KernelTestSupport.h"
#include "kernel/object/Channel.h"

#include <chrono>
#include <functional>
#include <optional>

namespace signet::testing {

// A guest of tests/exchange, by its short name ("stage" is test_exchange_stage.wasm).
std::string exchange_guest(std::string const& name);

// Where the page at `address` (in this process) comes from.
struct PageOrigin {
    std::string file;          // the mapped file, "" for anonymous memory or no mapping
    uint64_t file_offset { 0 }; // the page's offset in that file
};
PageOrigin page_origin(void const* address);

// The physical page frames behind `pages` pages from `address` (0 for a page
// that is not present, or for all of them without CAP_SYS_ADMIN).
std::vector<uint64_t> page_frames(void const* address, size_t pages);

// The physical page frames the exchange heap's file holds for `pages` pages
// from `file_offset`, read now through a mapping of its own. Linux may move a
// page to another frame at any time (compaction, NUMA balancing), so "the same
// pages as a block's earlier holder" is checked as "the pages the heap file
// holds at that offset now": all mappings of a file page share its frame.
std::vector<uint64_t> heap_file_frames(uint64_t file_offset, size_t pages);

// A guest stopped at a checkpoint (see guests/exchange_guest.h).
struct Checkpoint {
    uint32_t step { 0 };
    uint32_t offset { 0 };
    uint32_t size { 0 };
};

// The test's side of the Probe channels, used by an observer's script (which
// runs on the observer SIP's fiber, so it may block there).
class Observer {
public:
    Observer(Kernel& kernel, Sip& self, std::vector<uint32_t> probes)
        : m_kernel(kernel)
        , m_self(self)
        , m_probes(std::move(probes))
    {
    }

    // Waits until guest `index` (its position in the probe list) stops at a
    // checkpoint; nothing if it ended first.
    std::optional<Checkpoint> wait(size_t index);
    // Lets guest `index` go on from its checkpoint.
    void go(size_t index);
    // Ends `sip` as the kernel does, and waits until it finished.
    void kill(Sip& sip);
    void wait_finished(Sip& sip);

private:
    // Arguments and results go through the last page of the observer's own memory.
    uint32_t scratch() const;

    Kernel& m_kernel;
    Sip& m_self;
    std::vector<uint32_t> m_probes;
};

struct Guest {
    std::shared_ptr<Sip> sip;
    std::shared_ptr<BufferOutputStream> out;

    std::string output() const { return out ? out->contents() : std::string(); }
    ExitInfo exit() const { return sip->exit_info(); }
    // The SIP exited with 0 and its checks all passed.
    ::testing::AssertionResult passed() const;
    // The byte at `offset` of its memory, read from the host.
    uint8_t* memory_at(uint32_t offset) const { return sip->runtime().memory.base() + offset; }
};

class ExchangeTest : public KernelTest {
protected:
    void SetUp() override;
    // Also checks that the SIPs gave back every range of the mapping budget.
    void TearDown() override;

    // A channel of one of exchange.contract's contracts ("Chain", "Conveyor", "Ownership", "Probe", "Echo").
    struct Ends {
        std::shared_ptr<Endpoint> importer;
        std::shared_ptr<Endpoint> exporter;
    };
    Ends channel(std::string const& contract);

    // Creates a guest that starts with `handles` (in that order) and `limits`; it runs once started.
    Guest create(std::string const& program, std::vector<std::string> args, std::vector<std::shared_ptr<Endpoint>> handles,
        SipLimits limits = {});
    // Creates the observer: it holds the Probe exporters `probes` and runs `script`.
    Guest observe(std::vector<std::shared_ptr<Endpoint>> probes, std::function<void(Observer&)> script);
    void start(std::vector<Guest*> const&);
    // Waits until no SIP is alive. At `limit` (a guard against a hang, never a
    // measurement) the test fails and every guest is killed.
    void finish(std::vector<Guest*> const&, std::chrono::seconds limit = std::chrono::seconds(20));
};

} // namespace signet::testing
