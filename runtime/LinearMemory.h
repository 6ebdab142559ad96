// A SIP's linear memory: one address-space reservation with guard regions so
// that wasm2c's unchecked loads and stores can never reach outside it.
//
// wasm2c (in signal-handler mode) computes an address as a 32-bit base plus a
// 32-bit static offset, so generated code can reach up to 8 GiB past `data`.
// The reservation therefore spans 8 GiB + a guard page: everything above the
// current size is PROT_NONE and faults, and the fault handler turns that into
// an out-of-bounds trap for the SIP that made it. A smaller reservation would
// let one SIP read its neighbour's memory.
#pragma once

#include "base/ErrorOr.h"

#include <cstddef>
#include <cstdint>

namespace signet {

class LinearMemory {
public:
    static constexpr uint64_t page_size = 65536;
    static constexpr uint64_t reservation_size = (8ull << 30) + page_size;
    // wasm_rt_memory_t keeps the byte size in a uint32_t, so 65536 pages cannot be represented.
    static constexpr uint32_t max_pages = 65535;

    LinearMemory() = default;
    ~LinearMemory();
    LinearMemory(LinearMemory const&) = delete;
    LinearMemory& operator=(LinearMemory const&) = delete;

    // Reserves (or takes from the per-thread pool) and commits `pages` pages, zeroed.
    ErrorOr<void> allocate(uint32_t pages);
    // Commits more pages. Returns false if the host refuses.
    bool grow_to(uint32_t new_pages);
    // With a shared backing: the kernel grew the memory itself (for an exchange-heap
    // block) and says so; the pages become accessible without asking it again.
    bool accept_growth(uint32_t new_pages);
    // Scrubs and returns the reservation to the pool (or unmaps it).
    void release();

    // Pages were moved out of (or into) this memory by the exchange heap: its
    // mappings no longer form one read-write prefix, so it is not pooled.
    void mark_fragmented() { m_fragmented = true; }

    uint8_t* base() const { return m_base; }
    uint64_t committed_bytes() const { return m_committed; }
    bool contains(void const* address) const
    {
        auto a = reinterpret_cast<uintptr_t>(address);
        auto b = reinterpret_cast<uintptr_t>(m_base);
        return m_base && a >= b && a < b + reservation_size;
    }

    // In a domain process (docs/protection-domains.md) the memory lives in a file
    // the kernel maps too: from then on every memory of the process is mapped
    // shared from that file (never pooled), and `resize` asks the kernel to
    // accept each new size before the pages become accessible. Process-wide;
    // set once, before the SIP's memory is allocated.
    struct SharedBacking {
        int fd { -1 };
        uint64_t bytes { 0 }; // the file's size: the most the memory can grow to
        bool (*resize)(uint32_t pages) { nullptr };
    };
    static void set_shared_backing(SharedBacking);

    // Process-wide counters, for tests that prove reservations are not leaked.
    static uint64_t live_reservations();
    static void drain_pool();

private:
    uint8_t* m_base { nullptr };
    uint64_t m_committed { 0 };
    bool m_fragmented { false };
};

} // namespace signet
