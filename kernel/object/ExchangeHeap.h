// The pages behind every exchange-heap block: one sparse memory file.
//
// A block's pages are a range of this file. Its owner maps that range into its
// linear memory; sending the block takes the sender's access away and maps the
// same range into the receiver (see ExchangeBlock.h for the calls). So a block
// moves without a copy — the receiver gets the very same physical pages — and
// at any moment exactly one SIP can reach it: no SIP can name the file, and
// where a sender keeps a view of a block's pages (so that the block can come
// back without a new mapping, see BlockArena.h) the view gives no access.
//
// A page of file space is left unused after every block: two blocks are then
// never at consecutive file offsets, so Linux never merges their mappings, and
// each block is exactly one host mapping. Changing a block's mapping (sending
// or freeing it) then never splits a mapping, and cannot fail for want of one.
// The gap costs no memory; the file is sparse.
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
    // A range of `length` bytes (a page multiple) reading as zero, followed by an
    // unused page, or false when full.
    bool allocate(uint64_t length, uint64_t& out_offset);
    // Gives the range's pages back to the host; the range stays allocated and reads as zero.
    void discard(uint64_t offset, uint64_t length);
    // Gives the range's pages back to the host and the range (and its gap) back to the heap.
    void release(uint64_t offset, uint64_t length);
    // Bytes in blocks (gaps not counted).
    uint64_t bytes_in_use() const;

private:
    ExchangeHeap();

    int m_fd { -1 };
    mutable std::mutex m_lock;
    std::map<uint64_t, uint64_t> m_free; // offset -> length, gaps included
    uint64_t m_in_use { 0 };
};

} // namespace signet
