// The pages behind every exchange-heap block: one sparse memory file.
//
// A block's pages are a range of this file. Its owner maps that range into its
// linear memory; sending the block maps the same range into the receiver and
// replaces the sender's mapping with an inaccessible one (each a single atomic
// mmap). So a block moves without a copy — the receiver gets the very same
// physical pages — and at any moment exactly one SIP can reach it: the file is
// never mapped anywhere else, and no SIP can name it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>

namespace signet {

class ExchangeHeap {
public:
    static constexpr uint64_t page_size = 4096;
    // Named limit: the most bytes in all blocks of a kernel at once.
    static constexpr uint64_t capacity = 1ull << 40;

    static ExchangeHeap& the();

    int fd() const { return m_fd; }
    // A range of `length` bytes (a page multiple) reading as zero, or false when full.
    bool allocate(uint64_t length, uint64_t& out_offset);
    // Gives the range's pages back to the host and the range back to the heap.
    void release(uint64_t offset, uint64_t length);
    uint64_t bytes_in_use() const;

private:
    ExchangeHeap();

    int m_fd { -1 };
    mutable std::mutex m_lock;
    std::map<uint64_t, uint64_t> m_free; // offset -> length
    uint64_t m_in_use { 0 };
};

} // namespace signet
