#include "kernel/object/ExchangeBlock.h"
#include "kernel/object/ExchangeHeap.h"
#include "runtime/SipContext.h"

#include <atomic>
#include <cerrno>
#include <sys/mman.h>
#include <unistd.h>

namespace signet {

namespace {

std::atomic<uint64_t> s_next_id { 1 };
std::atomic<uint64_t> s_bytes_copied { 0 };

// Maps the block's pages at `range` of `sip`'s memory, replacing the zero pages
// there in one step. False if the host refused (at its mapping limit); the zero
// pages are then still in place.
bool map_into(SipContext& sip, BlockArena::Range range, uint64_t heap_offset)
{
    void* address = sip.memory.base() + range.offset;
    BlockArena::note_page_table_change();
    void* placed = ::mmap(address, range.length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, ExchangeHeap::the().fd(), static_cast<off_t>(heap_offset));
    if (placed == MAP_FAILED)
        return false;
    VERIFY(placed == address);
    sip.memory.mark_fragmented();
    return true;
}

// A SIP in a domain process (docs/protection-domains.md) has its memory in a
// file the kernel maps, never the heap file: its blocks are copied across. These
// move the bytes of a block's pages between the heap file and the kernel's view
// of such a memory. pwrite/pread of a memory file fail only when handed a bad
// address, which the kernel's own view never is; a host out of memory for the
// pages resolves that by its OOM killer rather than by an error.
//
// `transfer(done)` moves bytes from `done` on (pread or pwrite) and returns what
// that syscall returns; a short transfer goes on where it stopped.
template<typename Transfer>
bool transfer_all(uint64_t length, Transfer transfer)
{
    for (uint64_t done = 0; done < length;) {
        ssize_t moved = transfer(done);
        if (moved < 0 && errno == EINTR)
            continue;
        if (moved <= 0)
            return false;
        done += uint64_t(moved);
    }
    return true;
}

bool copy_to_heap(uint8_t const* from, uint64_t length, uint64_t heap_offset)
{
    int fd = ExchangeHeap::the().fd();
    return transfer_all(length, [&](uint64_t done) {
        return ::pwrite(fd, from + done, length - done, off_t(heap_offset + done));
    });
}

bool copy_from_heap(uint8_t* to, uint64_t length, uint64_t heap_offset)
{
    int fd = ExchangeHeap::the().fd();
    return transfer_all(length, [&](uint64_t done) {
        return ::pread(fd, to + done, length - done, off_t(heap_offset + done));
    });
}

} // namespace

uint64_t ExchangeBlock::bytes_copied()
{
    return s_bytes_copied.load(std::memory_order_relaxed);
}

ExchangeBlock::ExchangeBlock(uint32_t size, uint32_t length)
    : m_id(s_next_id.fetch_add(1, std::memory_order_relaxed))
    , m_size(size)
    , m_length(length)
{
}

std::shared_ptr<ExchangeBlock> ExchangeBlock::allocate(SipContext& owner, uint32_t size)
{
    if (size == 0 || size > max_size || !owner.wasm_memory)
        return nullptr;
    uint32_t length = (size + BlockArena::page_size - 1) / BlockArena::page_size * BlockArena::page_size;
    auto block = std::shared_ptr<ExchangeBlock>(new ExchangeBlock(size, length));
    if (!ExchangeHeap::the().allocate(length, block->m_heap_offset))
        return nullptr;
    block->m_has_pages = true;
    if (!owner.blocks.allocate(*owner.wasm_memory, owner.memory, length, owner.exchange_limit_bytes, block->m_range))
        return nullptr; // The destructor gives the heap range back.
    // In a domain's memory the block is the range itself, already zero: its pages
    // go to the heap only when it is sent.
    if (!owner.blocks.is_remote() && !map_into(owner, block->m_range, block->m_heap_offset)) {
        owner.blocks.unallocate(block->m_range);
        return nullptr;
    }
    block->m_owner = &owner;
    return block;
}

ExchangeBlock::~ExchangeBlock()
{
    // Whether it was in flight, or owned by a SIP that ended (its memory is already
    // gone), the pages go back to the heap. Views that senders keep of them give
    // no access, and no other block's id will ever reopen them.
    if (m_has_pages)
        ExchangeHeap::the().release(m_heap_offset, m_length);
}

void ExchangeBlock::free_in_owner()
{
    VERIFY(m_owner);
    m_owner->blocks.release(m_owner->memory, m_range);
    m_owner = nullptr;
}

void ExchangeBlock::detach(Revoke revoke)
{
    VERIFY(m_owner);
    if (m_owner->blocks.is_remote()) {
        // From a domain: the bytes go to the heap file, the range is punched and
        // becomes a hole that the domain revokes before the call returns (so
        // BeforeOwnerRuns holds too). No view: whatever comes back is copied in.
        VERIFY(copy_to_heap(m_owner->blocks.remote_view() + m_range.offset, m_length, m_heap_offset));
        s_bytes_copied.fetch_add(m_length, std::memory_order_relaxed);
        m_owner->blocks.punch_hole(m_owner->memory, m_range, 0);
        m_sent_from = m_owner;
        m_owner = nullptr;
        return;
    }
    // The sender's range becomes inaccessible: a use after send faults.
    if (revoke == Revoke::BeforeOwnerRuns)
        m_owner->blocks.punch_hole_deferred(m_owner->memory, m_range, m_id, m_length <= view_limit);
    else
        m_owner->blocks.punch_hole(m_owner->memory, m_range, m_length <= view_limit ? m_id : 0);
    m_sent_from = m_owner;
    m_owner = nullptr;
}

void ExchangeBlock::unattach()
{
    VERIFY(m_owner);
    // Not received after all: the range goes back as if never given, with the
    // zero pages it had, and the block is in flight again, as before attach().
    // A domain's copy is the only one (attach() let the heap's pages go): it
    // goes back to the heap first.
    if (m_owner->blocks.is_remote())
        VERIFY(copy_to_heap(m_owner->blocks.remote_view() + m_range.offset, m_length, m_heap_offset));
    m_owner->blocks.release(m_owner->memory, m_range);
    m_owner = nullptr;
}

bool ExchangeBlock::attach(SipContext& receiver)
{
    VERIFY(!m_owner);
    if (!receiver.wasm_memory)
        return false;
    // Back at a SIP that had it before (and not straight from itself: a SIP that
    // sends a block to itself gets it at a new offset, its old one stays a hole):
    // access returns to the view it left there.
    BlockArena::Range range {};
    if (&receiver != m_sent_from && receiver.blocks.reclaim_view(receiver.memory, m_id, receiver.exchange_limit_bytes, range)) {
        m_owner = &receiver;
        m_range = range;
        return true;
    }
    if (!receiver.blocks.allocate(*receiver.wasm_memory, receiver.memory, m_length, receiver.exchange_limit_bytes, range))
        return false;
    if (receiver.blocks.is_remote()) {
        // Into a domain: the bytes are copied into the range. The file range stays
        // the block's, for its next send; a block up to remote_keep_pages_limit keeps
        // its pages there too (its next send allocates none), a larger one gives
        // them back to the host.
        if (!copy_from_heap(receiver.blocks.remote_view() + range.offset, m_length, m_heap_offset)) {
            receiver.blocks.release(receiver.memory, range);
            return false;
        }
        if (m_length > BlockArena::remote_keep_pages_limit)
            ExchangeHeap::the().discard(m_heap_offset, m_length);
        s_bytes_copied.fetch_add(m_length, std::memory_order_relaxed);
        m_owner = &receiver;
        m_range = range;
        return true;
    }
    if (!map_into(receiver, range, m_heap_offset)) {
        receiver.blocks.unallocate(range);
        return false;
    }
    m_owner = &receiver;
    m_range = range;
    return true;
}


} // namespace signet
