#include "kernel/object/ExchangeHeap.h"
#include "base/Verify.h"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace signet {

ExchangeHeap& ExchangeHeap::the()
{
    static ExchangeHeap heap;
    return heap;
}

ExchangeHeap::ExchangeHeap()
{
    m_fd = ::memfd_create("signet-exchange-heap", MFD_CLOEXEC);
    if (m_fd < 0 || ::ftruncate(m_fd, static_cast<off_t>(capacity)) != 0) {
        std::perror("signet: cannot create the exchange heap");
        std::abort();
    }
    m_free.emplace(0, capacity);
}

bool ExchangeHeap::allocate(uint64_t length, uint64_t& out_offset)
{
    VERIFY(length && length % page_size == 0);
    uint64_t with_gap = length + page_size;
    std::lock_guard guard(m_lock);
    for (auto it = m_free.begin(); it != m_free.end(); ++it) {
        if (it->second < with_gap)
            continue;
        out_offset = it->first;
        uint64_t rest_offset = it->first + with_gap;
        uint64_t rest_length = it->second - with_gap;
        m_free.erase(it);
        if (rest_length)
            m_free.emplace(rest_offset, rest_length);
        m_in_use += length;
        return true;
    }
    return false;
}

void ExchangeHeap::discard(uint64_t offset, uint64_t length)
{
    VERIFY(::fallocate(m_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0);
}

void ExchangeHeap::release(uint64_t offset, uint64_t length)
{
    // The pages go back to the host; the range reads as zero when next used. (The
    // gap after it never had pages.)
    VERIFY(::fallocate(m_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0);
    std::lock_guard guard(m_lock);
    auto [it, inserted] = m_free.emplace(offset, length + page_size);
    VERIFY(inserted);
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
    m_in_use -= length;
}

uint64_t ExchangeHeap::bytes_in_use() const
{
    std::lock_guard guard(m_lock);
    return m_in_use;
}

} // namespace signet
