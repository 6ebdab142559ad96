// The exchange-heap part of a SIP's linear memory.
//
// Exchange-heap blocks live inside the linear memory of the SIP that owns
// them, so its code reads and writes them directly. The arena hands out
// page-aligned ranges for them, growing the memory (as memory.grow would) when
// it has no free range; the SIP's own allocator treats that growth like any
// other call of memory.grow by someone else.
//
// When a block is sent, its pages leave this memory and the range becomes a
// *hole*: PROT_NONE, so a use after send faults and traps the sender. Holes are
// recycled only when the arena would otherwise have to exceed its limit.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

extern "C" {
#include <wasm-rt.h>
}

namespace signet {

class LinearMemory;

class BlockArena {
public:
    static constexpr uint32_t page_size = 4096;

    struct Range {
        uint32_t offset;
        uint32_t length;
    };

    // A page-aligned range of `length` bytes (a multiple of page_size) that reads
    // as zero, or nothing if the memory cannot grow (module maximum) or the
    // arena would exceed `limit_bytes`.
    bool allocate(wasm_rt_memory_t&, LinearMemory&, uint32_t length, uint64_t limit_bytes, Range& out);
    // A range comes back (the block was freed): fresh zero pages, reused later.
    void release(LinearMemory&, Range);
    // A range's block left (it was sent): it becomes an inaccessible hole.
    void punch_hole(LinearMemory&, Range);
    // Whether `offset` lies in a hole: the fault handler's "use after send".
    bool in_hole(uint64_t offset) const;

    uint64_t bytes_in_use() const { return m_in_use; }
    uint64_t grown_bytes() const { return m_grown; }
    bool has_holes() const { return !m_holes.empty(); }

private:
    bool take_free(uint32_t length, Range& out);
    void add_free(Range);
    void recycle_holes(LinearMemory&);

    std::map<uint32_t, uint32_t> m_free; // offset -> length, all zero and read-write
    std::vector<Range> m_holes;
    uint64_t m_grown { 0 };  // bytes of memory the arena grew
    uint64_t m_in_use { 0 }; // bytes in live blocks
};

} // namespace signet
