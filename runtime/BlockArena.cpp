#include "runtime/BlockArena.h"
#include "runtime/LinearMemory.h"

#include <sys/mman.h>

namespace signet {

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

bool BlockArena::allocate(wasm_rt_memory_t& memory, LinearMemory& linear, uint32_t length, uint64_t limit_bytes, Range& out)
{
    VERIFY(length % page_size == 0 && length > 0);
    if (m_in_use + length > limit_bytes)
        return false;
    if (take_free(length, out)) {
        m_in_use += length;
        return true;
    }
    // Grow the memory by whole wasm pages, as memory.grow would.
    uint64_t grow_bytes = (uint64_t(length) + LinearMemory::page_size - 1) / LinearMemory::page_size * LinearMemory::page_size;
    uint64_t new_pages = uint64_t(memory.pages) + grow_bytes / LinearMemory::page_size;
    bool fits = m_grown + grow_bytes <= limit_bytes + LinearMemory::page_size && new_pages <= memory.max_pages;
    if (!fits || !linear.grow_to(static_cast<uint32_t>(new_pages))) {
        // Last resort: make the holes of sent blocks usable again.
        if (m_holes.empty())
            return false;
        recycle_holes(linear);
        if (!take_free(length, out))
            return false;
        m_in_use += length;
        return true;
    }
    uint32_t start = memory.size;
    memory.pages = static_cast<uint32_t>(new_pages);
    memory.size = static_cast<uint32_t>(new_pages * LinearMemory::page_size);
    m_grown += grow_bytes;
    out = { start, length };
    if (grow_bytes > length)
        add_free({ start + length, static_cast<uint32_t>(grow_bytes - length) });
    m_in_use += length;
    return true;
}

void BlockArena::release(LinearMemory& linear, Range range)
{
    // Fresh private zero pages replace whatever was mapped there, in one step.
    void* p = ::mmap(linear.base() + range.offset, range.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    VERIFY(p != MAP_FAILED);
    m_in_use -= range.length;
    add_free(range);
}

void BlockArena::punch_hole(LinearMemory& linear, Range range)
{
    // MAP_FIXED replaces the block's mapping atomically: there is never a gap in
    // the reservation that another mapping could fall into.
    void* p = ::mmap(linear.base() + range.offset, range.length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    VERIFY(p != MAP_FAILED);
    linear.mark_fragmented();
    m_in_use -= range.length;
    m_holes.push_back(range);
}

bool BlockArena::in_hole(uint64_t offset) const
{
    for (auto const& hole : m_holes) {
        if (offset >= hole.offset && offset < uint64_t(hole.offset) + hole.length)
            return true;
    }
    return false;
}

void BlockArena::recycle_holes(LinearMemory& linear)
{
    for (auto const& hole : m_holes) {
        void* p = ::mmap(linear.base() + hole.offset, hole.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
        VERIFY(p != MAP_FAILED);
        add_free(hole);
    }
    m_holes.clear();
}

} // namespace signet
