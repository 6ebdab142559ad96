// What this process holds, read from /proc and the allocator: how the memory
// of a SIP population is measured and taken apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace signet::bench {

// Totals of the whole process at one moment.
struct ProcessMemory {
    uint64_t rss_bytes { 0 };          // VmRSS: resident pages
    uint64_t page_table_bytes { 0 };   // VmPTE: page tables, every level
    uint64_t address_space_bytes { 0 }; // VmSize: every mapping, resident or not
    uint64_t heap_bytes { 0 };         // malloc'd and still in use (mallinfo2: arenas + large mmap'd blocks)
    size_t mappings { 0 };             // VMAs: lines of /proc/self/maps

    static ProcessMemory now();
};

// Resident bytes and VMAs of /proc/self/smaps by kind of mapping.
struct MappingBreakdown {
    struct Kind {
        uint64_t rss_bytes { 0 };
        uint64_t size_bytes { 0 };
        size_t mappings { 0 };
    };
    Kind linear_memory; // inside a SIP's linear-memory reservation
    Kind fiber_stacks;  // read-write, exactly a fiber stack's size, right above a PROT_NONE guard
    Kind other;         // everything else: heap, images, libraries, the kernel's own threads

    // `reservations`: [begin, end) of each live SIP's linear-memory reservation.
    static MappingBreakdown of_this_process(std::vector<std::pair<uintptr_t, uintptr_t>> reservations, size_t stack_bytes);
};

} // namespace signet::bench
