#include "runtime/LinearMemory.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <sys/mman.h>
#include <vector>

namespace signet {

namespace {

std::atomic<uint64_t> s_live_reservations { 0 };

// Reservations are expensive to make (an mmap of 8 GiB plus page-table setup on
// first touch) and cheap to keep, so released ones wait in a small pool. A
// pooled reservation is always fully scrubbed and PROT_NONE beyond `committed`
// pages: nothing of the previous SIP can be read by the next.
struct Pooled {
    uint8_t* base;
    uint64_t committed; // bytes still readable and writable, all zero
};

constexpr size_t pool_limit = 64;
// Below this, zeroing with memset beats MADV_DONTNEED's page faults on reuse.
constexpr uint64_t memset_scrub_limit = 256 << 10;

std::mutex s_pool_lock;
std::vector<Pooled> s_pool;
LinearMemory::SharedBacking s_backing;

void unmap(uint8_t* base)
{
    ::munmap(base, LinearMemory::reservation_size);
    s_live_reservations.fetch_sub(1, std::memory_order_relaxed);
}

} // namespace

LinearMemory::~LinearMemory()
{
    release();
}

ErrorOr<void> LinearMemory::allocate(uint32_t pages)
{
    VERIFY(!m_base);
    if (pages > max_pages)
        return Error(ErrorKind::Limit, "memory of " + std::to_string(pages) + " pages exceeds the maximum of 65535");
    uint64_t wanted = uint64_t(pages) * page_size;

    Pooled pooled { nullptr, 0 };
    if (s_backing.fd >= 0) {
        if (wanted > s_backing.bytes || !s_backing.resize(pages))
            return Error(ErrorKind::Limit, "memory of " + std::to_string(pages) + " pages refused by the kernel");
        void* p = ::mmap(nullptr, reservation_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return Error::from_errno("cannot reserve linear memory", errno);
        s_live_reservations.fetch_add(1, std::memory_order_relaxed);
        m_base = static_cast<uint8_t*>(p);
        m_fragmented = true; // never pooled
        if (::mmap(m_base, s_backing.bytes, PROT_NONE, MAP_SHARED | MAP_FIXED, s_backing.fd, 0) == MAP_FAILED
            || (wanted && ::mprotect(m_base, wanted, PROT_READ | PROT_WRITE) != 0)) {
            int err = errno;
            release();
            return Error::from_errno("cannot map the shared linear memory", err);
        }
        m_committed = wanted;
        return {};
    }
    {
        std::lock_guard guard(s_pool_lock);
        if (!s_pool.empty()) {
            pooled = s_pool.back();
            s_pool.pop_back();
        }
    }
    if (!pooled.base) {
        void* p = ::mmap(nullptr, reservation_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return Error::from_errno("cannot reserve linear memory", errno);
        s_live_reservations.fetch_add(1, std::memory_order_relaxed);
        pooled = { static_cast<uint8_t*>(p), 0 };
    }
    m_base = pooled.base;
    m_committed = pooled.committed;
    if (wanted > m_committed) {
        if (::mprotect(m_base + m_committed, wanted - m_committed, PROT_READ | PROT_WRITE) != 0) {
            int err = errno;
            release();
            return Error::from_errno("cannot commit linear memory", err);
        }
    } else if (wanted < m_committed) {
        // Pooled pages above the new size must fault again.
        VERIFY(::mprotect(m_base + wanted, m_committed - wanted, PROT_NONE) == 0);
    }
    m_committed = wanted;
    return {};
}

bool LinearMemory::grow_to(uint32_t new_pages)
{
    VERIFY(m_base);
    uint64_t wanted = uint64_t(new_pages) * page_size;
    if (new_pages > max_pages)
        return false;
    if (wanted <= m_committed)
        return true;
    if (s_backing.fd >= 0 && (wanted > s_backing.bytes || !s_backing.resize(new_pages)))
        return false;
    if (::mprotect(m_base + m_committed, wanted - m_committed, PROT_READ | PROT_WRITE) != 0)
        return false;
    m_committed = wanted;
    return true;
}

bool LinearMemory::accept_growth(uint32_t new_pages)
{
    uint64_t wanted = uint64_t(new_pages) * page_size;
    if (!m_base || s_backing.fd < 0 || wanted > s_backing.bytes)
        return false;
    if (wanted <= m_committed)
        return true;
    if (::mprotect(m_base + m_committed, wanted - m_committed, PROT_READ | PROT_WRITE) != 0)
        return false;
    m_committed = wanted;
    return true;
}

void LinearMemory::release()
{
    if (!m_base)
        return;
    uint8_t* base = m_base;
    uint64_t committed = m_committed;
    bool fragmented = m_fragmented;
    m_base = nullptr;
    m_committed = 0;
    m_fragmented = false;
    if (fragmented) {
        unmap(base);
        return;
    }

    if (committed > memset_scrub_limit) {
        // Large memories: give the pages back to the host; they read as zero afterwards.
        if (::madvise(base, committed, MADV_DONTNEED) != 0) {
            unmap(base);
            return;
        }
        // Keep only a small committed prefix so a pooled reservation does not pin address ranges as RW.
        if (::mprotect(base + memset_scrub_limit, committed - memset_scrub_limit, PROT_NONE) != 0) {
            unmap(base);
            return;
        }
        committed = memset_scrub_limit;
    } else {
        std::memset(base, 0, committed);
    }

    std::lock_guard guard(s_pool_lock);
    if (s_pool.size() < pool_limit) {
        s_pool.push_back({ base, committed });
        return;
    }
    unmap(base);
}

void LinearMemory::set_shared_backing(SharedBacking backing)
{
    s_backing = backing;
}

uint64_t LinearMemory::live_reservations()
{
    return s_live_reservations.load(std::memory_order_relaxed);
}

void LinearMemory::drain_pool()
{
    std::vector<Pooled> pool;
    {
        std::lock_guard guard(s_pool_lock);
        pool.swap(s_pool);
    }
    for (auto& entry : pool)
        unmap(entry.base);
}

} // namespace signet
