// Fiber stacks: mmap'd, with a PROT_NONE guard region below, pooled for reuse.
//
// Wasm code cannot address its native stack, so a pooled stack need not be
// scrubbed: nothing the previous SIP left there is reachable by the next one.
#pragma once

#include "base/ErrorOr.h"

#include <cstddef>
#include <cstdint>

namespace signet {

struct Stack {
    static constexpr size_t guard_size = 64 * 1024;
    // Named limit: released stacks kept for reuse; beyond it they are unmapped.
    static constexpr size_t pool_limit = 256;

    uint8_t* mapping { nullptr }; // guard_low
    size_t usable { 0 };

    uintptr_t guard_low() const { return reinterpret_cast<uintptr_t>(mapping); }
    uintptr_t low() const { return guard_low() + guard_size; }
    uintptr_t high() const { return low() + usable; }
    explicit operator bool() const { return mapping != nullptr; }

    static ErrorOr<Stack> allocate(size_t usable_bytes);
    static void release(Stack&);
    static uint64_t live_stacks();
};

} // namespace signet
