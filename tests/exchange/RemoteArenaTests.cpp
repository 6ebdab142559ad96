// A remote arena (a SIP in a domain process) zeroes what it takes back through
// the kernel's mapping of the SIP's memory file: small ranges by hand, so that
// their pages stay for the next block, large ones by punching them out of the
// file. Either way every mapping of the file reads zeros there.
#include "kernel/object/ExchangeBlock.h"
#include "kernel/object/ExchangeHeap.h"
#include "runtime/BlockArena.h"
#include "runtime/LinearMemory.h"
#include "runtime/SipContext.h"

#include <gtest/gtest.h>

#include <cstring>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

using namespace signet;

namespace {

constexpr size_t file_bytes = 64 << 20;

// A memory file mapped twice: the kernel's view and the domain's mapping.
class RemoteArenaTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_fd = int(::syscall(SYS_memfd_create, "signet-remote-arena-test", MFD_CLOEXEC));
        ASSERT_GE(m_fd, 0);
        ASSERT_EQ(::ftruncate(m_fd, off_t(file_bytes)), 0);
        m_view = map();
        m_domain = map();
        ASSERT_NE(m_view, nullptr);
        ASSERT_NE(m_domain, nullptr);
        m_arena.set_remote(m_view);
        m_memory.max_pages = uint32_t(file_bytes / LinearMemory::page_size);
    }
    void TearDown() override
    {
        for (auto* mapping : { m_view, m_domain }) {
            if (mapping)
                ::munmap(mapping, file_bytes);
        }
        if (m_fd >= 0)
            ::close(m_fd);
    }

    uint8_t* map()
    {
        void* p = ::mmap(nullptr, file_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
        return p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
    }

    BlockArena::Range allocate(uint32_t length)
    {
        BlockArena::Range range {};
        EXPECT_TRUE(m_arena.allocate(m_memory, m_linear, length, file_bytes, range));
        return range;
    }

    // Whether every page of the range is in the memory file (the domain's mapping sees it).
    bool resident(BlockArena::Range range)
    {
        std::vector<unsigned char> pages(range.length / 4096);
        EXPECT_EQ(::mincore(m_domain + range.offset, range.length, pages.data()), 0);
        for (unsigned char page : pages) {
            if (!(page & 1))
                return false;
        }
        return true;
    }

    bool reads_zero(uint8_t* mapping, BlockArena::Range range)
    {
        for (uint32_t i = 0; i < range.length; ++i) {
            if (mapping[range.offset + i])
                return false;
        }
        return true;
    }

    int m_fd { -1 };
    uint8_t* m_view { nullptr };
    uint8_t* m_domain { nullptr };
    BlockArena m_arena;
    LinearMemory m_linear;
    wasm_rt_memory_t m_memory {};
};

} // namespace

TEST_F(RemoteArenaTest, ASmallRangeGivenBackIsZeroedAndKeepsItsPagesALargeOneGivesThemBack)
{
    for (uint32_t length : { 4096u, BlockArena::remote_keep_pages_limit, 1u << 20 }) {
        SCOPED_TRACE(length);
        bool keeps = length <= BlockArena::remote_keep_pages_limit;
        // Freed.
        auto freed = allocate(length);
        std::memset(m_domain + freed.offset, 0xab, length);
        m_arena.release(m_linear, freed);
        EXPECT_EQ(resident(freed), keeps); // before reading: a read of a punched page brings one back
        EXPECT_TRUE(reads_zero(m_domain, freed));
        EXPECT_TRUE(reads_zero(m_view, freed));
        // Sent: a hole, its access taken away by the domain when it applies the change.
        auto sent = allocate(length);
        std::memset(m_domain + sent.offset, 0xcd, length);
        (void)m_arena.take_remote_changes();
        m_arena.punch_hole(m_linear, sent, 0);
        EXPECT_EQ(resident(sent), keeps);
        EXPECT_TRUE(reads_zero(m_domain, sent));
        auto changes = m_arena.take_remote_changes();
        ASSERT_FALSE(changes.empty());
        EXPECT_EQ(changes.front().kind, RemoteChange::Kind::Revoke);
        EXPECT_EQ(changes.front().offset, sent.offset);
        EXPECT_EQ(changes.front().length, length);
    }
}

namespace {

// Two SIPs in domains: each a memory file, seen by the kernel through its view.
struct DomainSip {
    int fd { -1 };
    uint8_t* view { nullptr };
    wasm_rt_memory_t memory {};
    SipContext context;

    DomainSip()
    {
        fd = int(::syscall(SYS_memfd_create, "signet-remote-block-test", MFD_CLOEXEC));
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::ftruncate(fd, off_t(file_bytes)), 0);
        void* p = ::mmap(nullptr, file_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        EXPECT_NE(p, MAP_FAILED);
        view = static_cast<uint8_t*>(p);
        memory.max_pages = uint32_t(file_bytes / LinearMemory::page_size);
        context.wasm_memory = &memory;
        context.blocks.set_remote(view);
    }
    ~DomainSip()
    {
        ::munmap(view, file_bytes);
        ::close(fd);
    }
};

// Whether the exchange heap's file holds every page of [offset, offset + length).
bool heap_resident(uint64_t offset, uint32_t length)
{
    void* p = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, ExchangeHeap::the().fd(), off_t(offset));
    EXPECT_NE(p, MAP_FAILED);
    std::vector<unsigned char> pages(length / 4096);
    EXPECT_EQ(::mincore(p, length, pages.data()), 0);
    ::munmap(p, length);
    for (unsigned char page : pages) {
        if (!(page & 1))
            return false;
    }
    return true;
}

} // namespace

TEST(RemoteBlock, ABlockCrossesBetweenDomainsAsACopyAndASmallOneKeepsItsHeapPages)
{
    DomainSip from, to;
    for (uint32_t size : { 4096u, BlockArena::remote_keep_pages_limit, 1u << 20 }) {
        SCOPED_TRACE(size);
        auto block = ExchangeBlock::allocate(from.context, size);
        ASSERT_TRUE(block);
        for (uint32_t i = 0; i < size; ++i)
            from.view[block->offset() + i] = uint8_t(i * 7 + 1);
        block->detach();
        ASSERT_TRUE(block->attach(to.context));
        // Copied in whole; the heap keeps the pages of a small block for its next send.
        EXPECT_EQ(heap_resident(block->heap_offset(), size), size <= BlockArena::remote_keep_pages_limit);
        bool same = true;
        for (uint32_t i = 0; i < size; ++i)
            same &= to.view[block->offset() + i] == uint8_t(i * 7 + 1);
        EXPECT_TRUE(same);
        // And back, changed on the way.
        to.view[block->offset()] = 0xee;
        block->detach();
        ASSERT_TRUE(block->attach(from.context));
        EXPECT_EQ(from.view[block->offset()], 0xee);
        EXPECT_EQ(from.view[block->offset() + size - 1], uint8_t((size - 1) * 7 + 1));
        block->free_in_owner();
    }
}
