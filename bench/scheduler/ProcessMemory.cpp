#include "bench/scheduler/ProcessMemory.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <malloc.h>
#include <string>

namespace signet::bench {

namespace {

// "VmRSS:     1234 kB" -> 1234 * 1024.
uint64_t status_field(std::string const& text, char const* name)
{
    auto at = text.find(name);
    if (at == std::string::npos)
        return 0;
    return std::strtoull(text.c_str() + at + std::strlen(name), nullptr, 10) * 1024;
}

} // namespace

ProcessMemory ProcessMemory::now()
{
    ProcessMemory memory;
    std::ifstream status_file("/proc/self/status");
    std::string status((std::istreambuf_iterator<char>(status_file)), std::istreambuf_iterator<char>());
    memory.rss_bytes = status_field(status, "VmRSS:");
    memory.page_table_bytes = status_field(status, "VmPTE:");
    memory.address_space_bytes = status_field(status, "VmSize:");
    struct mallinfo2 heap = mallinfo2();
    memory.heap_bytes = heap.uordblks + heap.hblkhd;
    std::ifstream maps("/proc/self/maps");
    memory.mappings = static_cast<size_t>(std::count(std::istreambuf_iterator<char>(maps), std::istreambuf_iterator<char>(), '\n'));
    return memory;
}

MappingBreakdown MappingBreakdown::of_this_process(std::vector<std::pair<uintptr_t, uintptr_t>> reservations, size_t stack_bytes)
{
    std::sort(reservations.begin(), reservations.end());
    auto in_reservation = [&](uintptr_t address) {
        auto it = std::upper_bound(reservations.begin(), reservations.end(), std::make_pair(address, UINTPTR_MAX));
        return it != reservations.begin() && address < std::prev(it)->second;
    };

    MappingBreakdown breakdown;
    // /proc/self/smaps: a header line per mapping ("begin-end perms offset dev inode path"), then "Key: value kB" lines.
    FILE* smaps = std::fopen("/proc/self/smaps", "r");
    if (!smaps)
        return breakdown;
    char line[4096];
    Kind* current = nullptr;
    uintptr_t previous_end = 0;
    bool previous_inaccessible = false;
    while (std::fgets(line, sizeof line, smaps)) {
        unsigned long begin = 0, end = 0;
        char perms[8] = {};
        if (std::sscanf(line, "%lx-%lx %7s", &begin, &end, perms) == 3) {
            bool inaccessible = std::strncmp(perms, "---", 3) == 0;
            bool writable = perms[1] == 'w';
            if (in_reservation(begin))
                current = &breakdown.linear_memory;
            else if (writable && end - begin == stack_bytes && previous_inaccessible && previous_end == begin)
                current = &breakdown.fiber_stacks;
            else
                current = &breakdown.other;
            current->size_bytes += end - begin;
            ++current->mappings;
            previous_end = end;
            previous_inaccessible = inaccessible;
            continue;
        }
        unsigned long kilobytes = 0;
        if (current && std::sscanf(line, "Rss: %lu kB", &kilobytes) == 1)
            current->rss_bytes += uint64_t(kilobytes) * 1024;
    }
    std::fclose(smaps);
    return breakdown;
}

} // namespace signet::bench
