// Bounds-checked access to a SIP's linear memory from kernel code.
//
// Every guest pointer the kernel touches goes through here. The checks are
// explicit, in 64-bit arithmetic: kernel code never relies on the guard
// regions, so a fault in kernel code is always a kernel bug.
#pragma once

#include "runtime/SipContext.h"

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

namespace signet {

class GuestMemory {
public:
    explicit GuestMemory(SipContext& sip)
        : m_memory(sip.wasm_memory)
        , m_blocks(&sip.blocks)
    {
    }

    // A pointer to [offset, offset+length), or null if that is not inside memory.
    // The holes left by sent exchange-heap blocks are inside [0, size) but not
    // readable: a range touching one is out of bounds for the kernel too.
    // (Inline always: every kernel call makes a few of these checks.)
    [[gnu::always_inline]] uint8_t* range(uint32_t offset, uint64_t length) const
    {
        if (!m_memory || uint64_t(offset) + length > m_memory->size)
            return nullptr;
        if (length && m_blocks->has_holes() && m_blocks->overlaps_hole(offset, length))
            return nullptr;
        return m_memory->data + offset;
    }
    // [offset, offset+length) lies inside memory; an empty range may sit at its very end.
    [[gnu::always_inline]] bool valid(uint32_t offset, uint64_t length) const
    {
        if (!m_memory || uint64_t(offset) + length > m_memory->size)
            return false;
        return !length || !m_blocks->has_holes() || !m_blocks->overlaps_hole(offset, length);
    }

    // Reads and writes of one value are inline too: a channel call writes three.
    template<typename T>
        requires std::is_trivially_copyable_v<T>
    [[gnu::always_inline]] bool read(uint32_t offset, T& out) const
    {
        uint8_t* p = range(offset, sizeof(T));
        if (!p)
            return false;
        std::memcpy(&out, p, sizeof(T));
        return true;
    }

    template<typename T>
        requires std::is_trivially_copyable_v<T>
    [[gnu::always_inline]] bool write(uint32_t offset, T const& value) const
    {
        uint8_t* p = range(offset, sizeof(T));
        if (!p)
            return false;
        std::memcpy(p, &value, sizeof(T));
        return true;
    }

    bool write_bytes(uint32_t offset, void const* data, uint64_t length) const
    {
        if (length == 0)
            return valid(offset, 0);
        uint8_t* p = range(offset, length);
        if (!p)
            return false;
        std::memcpy(p, data, length);
        return true;
    }

private:
    wasm_rt_memory_t* m_memory;
    BlockArena const* m_blocks;
};

} // namespace signet
