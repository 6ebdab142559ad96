#include "runtime/BlockArena.h"
#include "runtime/LinearMemory.h"
#include "runtime/SipContext.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <vector>

namespace signet {

std::atomic<uint64_t> BlockArena::s_ranges { 0 };
std::atomic<uint64_t> BlockArena::s_page_table_changes { 0 };

namespace {

int protect(uint8_t* address, uint32_t length, int protection)
{
    BlockArena::note_page_table_change();
    return ::mprotect(address, length, protection);
}

// Fresh private zero pages at `address`, replacing whatever was mapped there in
// one step: MAP_FIXED never leaves a gap in the reservation that another
// mapping could fall into. Replacing exactly one mapping (a block's) needs no
// split, so it fails only when the process is at the host's mapping limit.
bool map_zero_pages(uint8_t* address, uint32_t length, int protection)
{
    BlockArena::note_page_table_change();
    return ::mmap(address, length, protection, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) != MAP_FAILED;
}

} // namespace

uint64_t BlockArena::range_budget()
{
    // Each range is at most one host mapping, and the SIP's own memory between
    // two ranges at most one more: with a quarter of vm.max_map_count in ranges,
    // the exchange heap takes at most half of the process's mappings, and the
    // SIPs' reservations, stacks and images keep the rest.
    static uint64_t const budget = [] {
        uint64_t max_map_count = 65530; // Linux's default
        if (FILE* file = std::fopen("/proc/sys/vm/max_map_count", "r")) {
            unsigned long long value = 0;
            if (std::fscanf(file, "%llu", &value) == 1 && value > 0)
                max_map_count = value;
            std::fclose(file);
        }
        return std::max<uint64_t>(max_map_count / 4, 1024);
    }();
    return budget;
}

BlockArena::~BlockArena()
{
    s_ranges.fetch_sub(m_accounted, std::memory_order_relaxed);
}

BlockArena::BlockArena(BlockArena&& other) noexcept
{
    *this = std::move(other);
}

BlockArena& BlockArena::operator=(BlockArena&& other) noexcept
{
    if (this == &other)
        return *this;
    std::scoped_lock guard(m_lock, other.m_lock);
    s_ranges.fetch_sub(m_accounted, std::memory_order_relaxed);
    m_free = std::exchange(other.m_free, {});
    m_holes = std::exchange(other.m_holes, {});
    m_hole_count.store(m_holes.size(), std::memory_order_relaxed);
    other.m_hole_count.store(0, std::memory_order_relaxed);
    m_quarantine = std::exchange(other.m_quarantine, {});
    m_views = std::exchange(other.m_views, {});
    m_next_sequence = std::exchange(other.m_next_sequence, 1);
    m_grown = std::exchange(other.m_grown, 0);
    m_in_use = std::exchange(other.m_in_use, 0);
    m_blocks = std::exchange(other.m_blocks, 0);
    m_accounted = std::exchange(other.m_accounted, 0);
    m_pending_count.store(other.m_pending_count.exchange(0, std::memory_order_relaxed), std::memory_order_relaxed);
    m_view = std::exchange(other.m_view, nullptr);
    m_changes = std::exchange(other.m_changes, {});
    m_has_changes.store(other.m_has_changes.exchange(false, std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
}

void BlockArena::account()
{
    // A remote arena's ranges are mappings of its domain process, not of the
    // kernel's: they count against the domain's own budget (over_budget()).
    if (m_view)
        return;
    uint64_t ranges = m_blocks + m_free.size() + m_holes.size();
    // Unsigned wrap-around makes this a subtraction when the arena shrank.
    s_ranges.fetch_add(ranges - m_accounted, std::memory_order_relaxed);
    m_accounted = ranges;
}

bool BlockArena::zero_pages(LinearMemory& linear, Range range, int protection)
{
    if (!m_view)
        return map_zero_pages(linear.base() + range.offset, range.length, protection);
    // Up to remote_keep_pages_limit, zeroed by hand: the pages stay in the memory
    // file and in both mappings, so the next block there costs no page allocation
    // and no page fault on either side. Larger ranges are punched out of the file:
    // every mapping of it (the domain's too) reads zeros there, and the pages go
    // back to the host. Only a mapping that is not of a memory file refuses, which
    // a remote view never is; zeroing by hand keeps the promise anyway.
    if (range.length <= remote_keep_pages_limit || ::madvise(m_view + range.offset, range.length, MADV_REMOVE) != 0)
        std::memset(m_view + range.offset, 0, range.length);
    record_change({ protection == PROT_NONE ? RemoteChange::Kind::Revoke : RemoteChange::Kind::ReadWrite, range.offset, range.length });
    return true;
}

int BlockArena::change_access(LinearMemory& linear, Range range, int protection)
{
    if (!m_view)
        return protect(linear.base() + range.offset, range.length, protection);
    record_change({ protection == PROT_NONE ? RemoteChange::Kind::Revoke : RemoteChange::Kind::ReadWrite, range.offset, range.length });
    return 0;
}

bool BlockArena::grow_memory(LinearMemory& linear, uint32_t new_pages)
{
    if (!m_view)
        return linear.grow_to(new_pages);
    // The kernel's view covers the whole memory file already; the domain makes the
    // new pages accessible when it applies the change.
    record_change({ RemoteChange::Kind::Grow, 0, new_pages });
    return true;
}

void BlockArena::set_remote(uint8_t* view)
{
    std::lock_guard guard(m_lock);
    VERIFY(view && m_blocks == 0 && m_free.empty() && m_holes.empty());
    m_view = view;
}

void BlockArena::record_change(RemoteChange change)
{
    m_changes.push_back(change);
    m_has_changes.store(true, std::memory_order_release);
}

std::vector<RemoteChange> BlockArena::take_remote_changes()
{
    // Asked after every ABI call of a SIP in a domain; most change nothing.
    if (!m_has_changes.load(std::memory_order_acquire))
        return {};
    std::lock_guard guard(m_lock);
    m_has_changes.store(false, std::memory_order_relaxed);
    return std::exchange(m_changes, {});
}

void BlockArena::mirror_hole(Range range)
{
    std::lock_guard guard(m_lock);
    m_holes.insert_or_assign(range.offset, Hole { range.length, 0, m_next_sequence++ });
    m_hole_count.store(m_holes.size(), std::memory_order_relaxed);
}

void BlockArena::mirror_clear(Range range)
{
    std::lock_guard guard(m_lock);
    uint64_t end = uint64_t(range.offset) + range.length;
    // Holes are disjoint: start at the last one that begins at or before the range.
    auto it = m_holes.upper_bound(range.offset);
    if (it != m_holes.begin())
        --it;
    while (it != m_holes.end() && it->first < end) {
        bool overlaps = uint64_t(it->first) + it->second.length > range.offset;
        it = overlaps ? m_holes.erase(it) : std::next(it);
    }
    m_hole_count.store(m_holes.size(), std::memory_order_relaxed);
}

bool BlockArena::take_free(uint32_t length, Range& out)
{
    for (auto it = m_free.begin(); it != m_free.end(); ++it) {
        if (it->second < length)
            continue;
        out = { it->first, length };
        uint32_t rest_offset = it->first + length;
        uint32_t rest_length = it->second - length;
        m_free.erase(it);
        if (rest_length)
            m_free.emplace(rest_offset, rest_length);
        return true;
    }
    return false;
}

void BlockArena::add_free(Range range)
{
    auto [it, inserted] = m_free.emplace(range.offset, range.length);
    VERIFY(inserted);
    // Merge with the following and the preceding free ranges.
    auto next = std::next(it);
    if (next != m_free.end() && it->first + it->second == next->first) {
        it->second += next->second;
        m_free.erase(next);
    }
    if (it != m_free.begin()) {
        auto previous = std::prev(it);
        if (previous->first + previous->second == it->first) {
            previous->second += it->second;
            m_free.erase(it);
        }
    }
}

void BlockArena::add_hole(Range range, uint64_t block_id)
{
    uint64_t sequence = m_next_sequence++;
    auto [it, inserted] = m_holes.emplace(range.offset, Hole { range.length, block_id, sequence });
    VERIFY(inserted);
    m_hole_count.store(m_holes.size(), std::memory_order_relaxed);
    m_quarantine.emplace(sequence, range.offset);
    if (!block_id)
        return;
    // A block sent twice from here (it came back to itself in between) has one view: the newest.
    auto [view, fresh] = m_views.try_emplace(block_id, range.offset);
    if (!fresh) {
        m_holes.at(view->second).block_id = 0;
        view->second = range.offset;
    }
}

bool BlockArena::recycle_hole(LinearMemory& linear, uint32_t offset)
{
    auto it = m_holes.find(offset);
    VERIFY(it != m_holes.end());
    Hole hole = it->second;
    if (!zero_pages(linear, { offset, hole.length }, PROT_READ | PROT_WRITE))
        return false;
    m_holes.erase(it);
    m_hole_count.store(m_holes.size(), std::memory_order_relaxed);
    m_quarantine.erase(hole.sequence);
    if (hole.block_id)
        m_views.erase(hole.block_id); // The view index names this hole for its block.
    if (hole.access_pending)
        m_pending_count.fetch_sub(1, std::memory_order_relaxed);
    add_free({ offset, hole.length });
    return true;
}

void BlockArena::recycle_holes(LinearMemory& linear)
{
    std::vector<uint32_t> offsets;
    offsets.reserve(m_holes.size());
    for (auto const& [offset, hole] : m_holes)
        offsets.push_back(offset);
    for (uint32_t offset : offsets)
        (void)recycle_hole(linear, offset); // One the host refuses now stays a hole.
}

bool BlockArena::over_budget() const
{
    // A new range can cost two: the block and what is left of a free run. A remote
    // arena's ranges are its domain's mappings: each arena gets the whole budget.
    uint64_t ranges = m_view ? m_blocks + m_free.size() + m_holes.size() : ranges_in_use();
    return ranges + 2 > range_budget();
}

bool BlockArena::allocate(wasm_rt_memory_t& memory, LinearMemory& linear, uint32_t length, uint64_t limit_bytes, Range& out)
{
    VERIFY(length % page_size == 0 && length > 0);
    std::lock_guard guard(m_lock);
    if (m_in_use + length > limit_bytes)
        return false;
    // Recycling this arena's holes gives ranges back (they merge into free runs).
    // Several workers may pass this check at once; the budget's margin covers that.
    if (over_budget()) {
        recycle_holes(linear);
        account();
        if (over_budget())
            return false;
    }
    auto done = [&](Range range) {
        out = range;
        m_in_use += length;
        ++m_blocks;
        account();
        return true;
    };
    Range range {};
    if (take_free(length, range))
        return done(range);
    // Grow the memory by whole wasm pages, as memory.grow would.
    uint64_t grow_bytes = (uint64_t(length) + LinearMemory::page_size - 1) / LinearMemory::page_size * LinearMemory::page_size;
    uint64_t new_pages = uint64_t(memory.pages) + grow_bytes / LinearMemory::page_size;
    bool fits = m_grown + grow_bytes <= limit_bytes + LinearMemory::page_size && new_pages <= memory.max_pages;
    if (fits && grow_memory(linear, static_cast<uint32_t>(new_pages))) {
        uint32_t start = memory.size;
        memory.pages = static_cast<uint32_t>(new_pages);
        memory.size = static_cast<uint32_t>(new_pages * LinearMemory::page_size);
        m_grown += grow_bytes;
        if (grow_bytes > length)
            add_free({ start + length, static_cast<uint32_t>(grow_bytes - length) });
        return done({ start, length });
    }
    // Last resort: make the holes of sent blocks usable again.
    if (m_holes.empty())
        return false;
    recycle_holes(linear);
    if (take_free(length, range))
        return done(range);
    account();
    return false;
}

void BlockArena::unallocate(Range range)
{
    // The range still holds the zero pages it was given with: a failed MAP_FIXED
    // leaves the old mapping in place.
    std::lock_guard guard(m_lock);
    m_in_use -= range.length;
    --m_blocks;
    add_free(range);
    account();
}

void BlockArena::release(LinearMemory& linear, Range range)
{
    std::lock_guard guard(m_lock);
    m_in_use -= range.length;
    --m_blocks;
    if (zero_pages(linear, range, PROT_READ | PROT_WRITE)) {
        add_free(range);
    } else {
        // At the host's mapping limit even an exact replacement is refused; taking
        // away access to the one mapping is not. The block's pages stay mapped there,
        // inaccessible, until the hole is recycled.
        VERIFY(change_access(linear, range, PROT_NONE) == 0);
        add_hole(range, 0);
    }
    account();
}

void BlockArena::punch_hole(LinearMemory& linear, Range range, uint64_t block_id)
{
    std::lock_guard guard(m_lock);
    // The block is one host mapping (ExchangeHeap.h), changed or replaced whole
    // with no split. Without a view, the pages leave this memory (with their
    // page-table entries). With one, or if the host refuses even the replacement
    // (at its mapping limit), they stay mapped without access: mprotect of one
    // whole mapping cannot fail for want of mappings.
    VERIFY(!m_view || !block_id); // A remote arena keeps no views.
    bool replaced = !block_id && zero_pages(linear, range, PROT_NONE);
    if (!replaced)
        VERIFY(change_access(linear, range, PROT_NONE) == 0);
    linear.mark_fragmented();
    m_in_use -= range.length;
    --m_blocks;
    add_hole(range, block_id);
    quarantine(linear);
    account();
}

void BlockArena::punch_hole_deferred(LinearMemory& linear, Range range, uint64_t block_id, bool keep_view)
{
    VERIFY(block_id);
    std::lock_guard guard(m_lock);
    VERIFY(!m_view); // A remote arena's holes are revoked at once (ExchangeBlock::detach).
    linear.mark_fragmented();
    m_in_use -= range.length;
    --m_blocks;
    add_hole(range, block_id);
    Hole& hole = m_holes.at(range.offset);
    hole.access_pending = true;
    hole.keep_view = keep_view;
    m_pending_count.fetch_add(1, std::memory_order_relaxed);
    quarantine(linear);
    account();
}

void BlockArena::quarantine(LinearMemory& linear)
{
    // The quarantine is full: its oldest hole becomes free memory.
    while (m_holes.size() > quarantine_limit) {
        if (!recycle_hole(linear, m_quarantine.begin()->second))
            break; // The host is at its mapping limit; the hole waits for the next recycling.
    }
}

void BlockArena::revoke(LinearMemory& linear, uint32_t offset, Hole& hole)
{
    VERIFY(hole.access_pending);
    // As punch_hole(): without a view the pages leave; with one, or if the host
    // refuses the replacement, they stay mapped without access.
    bool replaced = !hole.keep_view && zero_pages(linear, { offset, hole.length }, PROT_NONE);
    if (!replaced)
        VERIFY(change_access(linear, { offset, hole.length }, PROT_NONE) == 0);
    if (!hole.keep_view && hole.block_id) {
        m_views.erase(hole.block_id);
        hole.block_id = 0;
    }
    hole.access_pending = false;
    m_pending_count.fetch_sub(1, std::memory_order_relaxed);
}

void BlockArena::revoke_pending(LinearMemory& linear)
{
    if (!has_pending())
        return;
    std::lock_guard guard(m_lock);
    for (auto& [offset, hole] : m_holes) {
        if (hole.access_pending)
            revoke(linear, offset, hole);
    }
    VERIFY(m_pending_count.load(std::memory_order_relaxed) == 0);
}

bool BlockArena::reclaim_view(LinearMemory& linear, uint64_t block_id, uint64_t limit_bytes, Range& out)
{
    std::lock_guard guard(m_lock);
    auto view = m_views.find(block_id);
    if (view == m_views.end())
        return false;
    auto hole = m_holes.find(view->second);
    VERIFY(hole != m_holes.end() && hole->second.block_id == block_id);
    uint32_t length = hole->second.length;
    if (m_in_use + length > limit_bytes)
        return false;
    // Access comes back to the one mapping that kept the pages: no new mapping, no
    // page faults; and if it was never taken away (a deferred hole), nothing at all.
    if (hole->second.access_pending)
        m_pending_count.fetch_sub(1, std::memory_order_relaxed);
    else if (change_access(linear, { hole->first, length }, PROT_READ | PROT_WRITE) != 0)
        return false;
    out = { hole->first, length };
    m_quarantine.erase(hole->second.sequence);
    m_holes.erase(hole);
    m_hole_count.store(m_holes.size(), std::memory_order_relaxed);
    m_views.erase(view);
    m_in_use += length;
    ++m_blocks;
    account();
    return true;
}

bool BlockArena::in_hole(uint64_t offset) const
{
    std::unique_lock guard(m_lock, std::try_to_lock);
    if (!guard.owns_lock())
        return false;
    auto it = m_holes.upper_bound(static_cast<uint32_t>(std::min<uint64_t>(offset, UINT32_MAX)));
    if (it == m_holes.begin())
        return false;
    --it;
    return offset >= it->first && offset < uint64_t(it->first) + it->second.length;
}

bool BlockArena::overlaps_hole(uint64_t offset, uint64_t length) const
{
    std::lock_guard guard(m_lock);
    if (m_holes.empty() || length == 0)
        return false;
    uint64_t end = offset + length;
    // Holes are disjoint: only the last one that starts before `end` can reach past `offset`.
    auto it = end > UINT32_MAX ? m_holes.end() : m_holes.lower_bound(static_cast<uint32_t>(end));
    if (it == m_holes.begin())
        return false;
    --it;
    return uint64_t(it->first) + it->second.length > offset;
}

uint64_t BlockArena::bytes_in_use() const
{
    std::lock_guard guard(m_lock);
    return m_in_use;
}

uint64_t BlockArena::grown_bytes() const
{
    std::lock_guard guard(m_lock);
    return m_grown;
}

size_t BlockArena::hole_count() const
{
    std::lock_guard guard(m_lock);
    return m_holes.size();
}

std::vector<uint8_t> encode_remote_changes(std::vector<RemoteChange> const& changes)
{
    std::vector<uint8_t> bytes(changes.size() * 12);
    for (size_t i = 0; i < changes.size(); ++i) {
        uint32_t fields[3] = { uint32_t(changes[i].kind), changes[i].offset, changes[i].length };
        std::memcpy(bytes.data() + i * 12, fields, 12);
    }
    return bytes;
}

bool apply_remote_changes(SipContext& sip, std::vector<uint8_t> const& payload)
{
    wasm_rt_memory_t* memory = sip.wasm_memory;
    if (!memory || payload.size() % 12 != 0)
        return false;
    for (size_t at = 0; at < payload.size(); at += 12) {
        uint32_t fields[3];
        std::memcpy(fields, payload.data() + at, 12);
        auto kind = RemoteChange::Kind(fields[0]);
        uint32_t offset = fields[1];
        uint32_t length = fields[2];
        if (kind == RemoteChange::Kind::Grow) {
            // The kernel grew the memory for a block (it owns the size): the new
            // pages become accessible here without asking it again. It holds
            // blocks to the module's declared maximum, which each growth told it.
            if (length < memory->pages || length > memory->max_pages || !sip.memory.accept_growth(length))
                return false;
            memory->pages = length;
            memory->size = uint32_t(uint64_t(length) * LinearMemory::page_size);
            continue;
        }
        if (offset % BlockArena::page_size || length % BlockArena::page_size || length == 0 || uint64_t(offset) + length > memory->size)
            return false;
        uint8_t* address = sip.memory.base() + offset;
        if (kind == RemoteChange::Kind::Revoke) {
            if (::mprotect(address, length, PROT_NONE) != 0)
                return false;
            sip.blocks.mirror_hole({ offset, length });
        } else if (kind == RemoteChange::Kind::ReadWrite) {
            sip.blocks.mirror_clear({ offset, length });
            if (::mprotect(address, length, PROT_READ | PROT_WRITE) != 0)
                return false;
        } else {
            return false;
        }
    }
    return true;
}

} // namespace signet
