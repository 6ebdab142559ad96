// The exchange-heap part of a SIP's linear memory.
//
// Exchange-heap blocks live inside the linear memory of the SIP that owns
// them, so its code reads and writes them directly. The arena hands out
// page-aligned ranges for them, growing the memory (as memory.grow would) when
// it has no free range; the SIP's own allocator treats that growth like any
// other call of memory.grow by someone else.
//
// When a block is sent, the range it occupied becomes a *hole*: inaccessible,
// so a use after send faults and traps the sender. The hole of a block up to
// ExchangeBlock::view_limit keeps the block's pages mapped, only without access
// (a *view*): if the block comes back after another SIP had it, it returns to
// the same range by giving the access back, with no new mapping and no page
// faulting in again. Holes wait in a quarantine of `quarantine_limit`; the
// oldest is recycled (becomes free memory) when the quarantine is full, and
// all of them when the arena would otherwise exceed its quota.
//
// Every range is at most one host mapping (a block is exactly one, see
// ExchangeHeap.h), so the number of ranges bounds what the arena costs in host
// mappings. Their total over all arenas
// is held under a budget derived from vm.max_map_count: past it, allocating a
// range fails (a LIMIT for the SIP) instead of a host mapping call failing
// later in a step that must not fail.
//
// A SIP in a domain process (docs/protection-domains.md) has its arena in
// the kernel in *remote* mode: the kernel sees the SIP's memory through its
// own mapping of the memory file, but cannot change the domain's page
// protections. The arena then zeroes ranges through that mapping (by hand up to
// remote_keep_pages_limit, so that their pages stay; larger ones by punching them
// out of the file: MADV_REMOVE, which every mapping of the file sees) and records each change of access or size as a RemoteChange, which the
// domain applies to its own mapping (apply_remote_changes) before the call
// that made them returns. Remote arenas keep no views: blocks are copied
// across the boundary (ExchangeBlock.h).
//
// Locking: the threads of a SIP share its arena; one mutex guards it. The
// fault handler only tries it (see in_hole()).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

extern "C" {
#include <wasm-rt.h>
}

namespace signet {

class LinearMemory;
class SipContext;

// One change a remote arena made to its SIP's memory, for the domain to apply.
struct RemoteChange {
    enum class Kind : uint32_t {
        Grow = 1,      // the memory now has `length` wasm pages (offset 0)
        Revoke = 2,    // [offset, offset + length) becomes a hole: no access
        ReadWrite = 3, // [offset, offset + length) is ordinary memory again
    };
    Kind kind { Kind::Grow };
    uint32_t offset { 0 };
    uint32_t length { 0 };
};

// 12 bytes per change, in order.
std::vector<uint8_t> encode_remote_changes(std::vector<RemoteChange> const&);
// Domain side: applies the kernel's changes to the running SIP's own memory
// (its protections, its size, and the holes its fault handler knows). False if
// the payload is malformed or a change does not fit the memory.
bool apply_remote_changes(SipContext&, std::vector<uint8_t> const& payload);

class BlockArena {
public:
    static constexpr uint32_t page_size = 4096;
    // Named limit: holes kept to catch a use after send; beyond it the oldest is recycled.
    static constexpr size_t quarantine_limit = 1024;
    // Remote mode: a range up to this size that is zeroed (a block freed or sent, a
    // hole recycled) keeps its pages, zeroed by hand; a larger one gives them back
    // (docs/exchange-heap.md, "Across the domain boundary").
    static constexpr uint32_t remote_keep_pages_limit = 64 * 1024;

    struct Range {
        uint32_t offset;
        uint32_t length;
    };

    BlockArena() = default;
    ~BlockArena();
    BlockArena(BlockArena const&) = delete;
    BlockArena& operator=(BlockArena const&) = delete;
    // Moving transfers the arena's share of the range budget.
    BlockArena(BlockArena&&) noexcept;
    BlockArena& operator=(BlockArena&&) noexcept;

    // A page-aligned range of `length` bytes (a multiple of page_size) that reads
    // as zero, or nothing if the memory cannot grow (module maximum), the arena
    // would exceed `limit_bytes`, or the kernel-wide range budget is spent.
    bool allocate(wasm_rt_memory_t&, LinearMemory&, uint32_t length, uint64_t limit_bytes, Range& out);
    // A range that allocate() gave out comes back unused (mapping the block failed).
    void unallocate(Range);
    // A range comes back (the block was freed): fresh zero pages, reused later.
    void release(LinearMemory&, Range);
    // A range's block left (it was sent): it becomes a hole. With a `block_id`,
    // the hole keeps that block's view; with 0, the block's pages leave.
    void punch_hole(LinearMemory&, Range, uint64_t block_id);
    // The same, with the access taken away later, by revoke_pending(): for a SIP
    // that cannot run any code of its own before then (its only thread is inside
    // a call that sends and then receives). The hole counts as a hole at once for
    // overlaps_hole(), and if block `block_id` comes back to it first, the access
    // was never taken and is never given back: the round trip of a request and its
    // reply changes no page table. `keep_view` says whether the hole keeps the
    // block's pages mapped once its access is taken, as punch_hole() does for
    // blocks with a view; otherwise they leave then.
    void punch_hole_deferred(LinearMemory&, Range, uint64_t block_id, bool keep_view);
    // Takes the access away from every hole punched deferred: before the SIP's code runs.
    void revoke_pending(LinearMemory&);
    bool has_pending() const { return m_pending_count.load(std::memory_order_relaxed) != 0; }
    // Block `block_id` comes back: if this arena holds its view, and the quota
    // allows, access is given back there (`out`); otherwise false and nothing changed.
    bool reclaim_view(LinearMemory&, uint64_t block_id, uint64_t limit_bytes, Range& out);
    // Whether `offset` lies in a hole: the fault handler's "use after send". In a
    // signal handler: if another thread of the SIP holds the arena, says no.
    bool in_hole(uint64_t offset) const;
    // Whether [offset, offset + length) touches a hole: kernel code must not access it.
    bool overlaps_hole(uint64_t offset, uint64_t length) const;

    uint64_t bytes_in_use() const;
    uint64_t grown_bytes() const;
    // No lock: every kernel call that touches guest memory asks this first.
    bool has_holes() const { return m_hole_count.load(std::memory_order_relaxed) != 0; }
    size_t hole_count() const;

    // Remote mode (see above): `view` is the kernel's mapping of the SIP's memory.
    // Set once, before the arena hands out its first range.
    void set_remote(uint8_t* view);
    bool is_remote() const { return m_view != nullptr; }
    // The kernel's mapping of a remote arena's memory (null for a local arena).
    uint8_t* remote_view() const { return m_view; }
    // The changes recorded since the last call, oldest first.
    std::vector<RemoteChange> take_remote_changes();

    // Domain side: the mirror of the kernel's holes in this SIP's memory, for the
    // fault handler (in_hole()). No page is touched here.
    void mirror_hole(Range);
    void mirror_clear(Range);

    // Page-table changes (mmap or mprotect of a block's range) made by all arenas: what
    // tests count to prove a round trip made none.
    static uint64_t page_table_changes() { return s_page_table_changes.load(std::memory_order_relaxed); }
    static void note_page_table_change() { s_page_table_changes.fetch_add(1, std::memory_order_relaxed); }

    // Ranges (blocks, holes, free runs) of all arenas, and the budget they must stay under.
    static uint64_t ranges_in_use() { return s_ranges.load(std::memory_order_relaxed); }
    static uint64_t range_budget();

private:
    struct Hole {
        uint32_t length;
        uint64_t block_id; // whose view the hole keeps; 0: none (only recyclable)
        uint64_t sequence; // quarantine order
        // Punched deferred: the pages are still mapped with access (revoke_pending()).
        bool access_pending { false };
        // With access_pending: whether the view stays once the access is taken.
        bool keep_view { true };
    };

    // All of these need m_lock held.
    // The page operations, local (on `linear`) or remote (on the kernel's view, recorded).
    bool zero_pages(LinearMemory&, Range, int protection);
    int change_access(LinearMemory&, Range, int protection);
    bool grow_memory(LinearMemory&, uint32_t new_pages);
    // Whether one more range would exceed the range budget.
    bool over_budget() const;
    bool take_free(uint32_t length, Range& out);
    void add_free(Range);
    void add_hole(Range, uint64_t block_id);
    // Makes the hole at `offset` free memory; false (and it stays a hole) if the host refused.
    bool recycle_hole(LinearMemory&, uint32_t offset);
    void recycle_holes(LinearMemory&);
    // Takes the access away from the deferred hole at `offset`.
    void revoke(LinearMemory&, uint32_t offset, Hole&);
    void quarantine(LinearMemory&);
    // Brings this arena's share of the range budget up to date.
    void account();
    // Under m_lock, remote mode: a change for the domain to apply (take_remote_changes).
    void record_change(RemoteChange);

    mutable std::mutex m_lock;
    std::map<uint32_t, uint32_t> m_free;  // offset -> length, all zero and read-write
    std::map<uint32_t, Hole> m_holes;     // offset -> hole
    std::atomic<size_t> m_hole_count { 0 }; // m_holes.size(), readable without the lock
    std::map<uint64_t, uint32_t> m_quarantine; // sequence -> offset of a hole: oldest first
    std::map<uint64_t, uint32_t> m_views;      // block id -> offset of the hole that keeps its view
    uint64_t m_next_sequence { 1 };
    uint64_t m_grown { 0 };  // bytes of memory the arena grew
    uint64_t m_in_use { 0 }; // bytes in live blocks
    uint64_t m_blocks { 0 }; // live blocks
    uint64_t m_accounted { 0 }; // this arena's ranges as counted in s_ranges
    std::atomic<uint32_t> m_pending_count { 0 }; // holes with access_pending
    uint8_t* m_view { nullptr };                // remote mode: the kernel's mapping
    std::vector<RemoteChange> m_changes;        // remote mode: not yet taken
    std::atomic<bool> m_has_changes { false };  // !m_changes.empty(), readable without the lock

    static std::atomic<uint64_t> s_ranges;
    static std::atomic<uint64_t> s_page_table_changes;
};

} // namespace signet
