// An exchange-heap block: memory with exactly one owner at a time.
//
// An owned block lies in its owner's linear memory (see runtime/BlockArena.h),
// so the owner's code uses it directly. Its pages are a range of the exchange
// heap (ExchangeHeap.h). Sending it in a message moves it without a copy,
// whatever its size: the sender's range becomes inaccessible (a use after
// send faults and traps the sender), and on receipt the same pages appear in
// the receiver's memory at an offset of the kernel's choosing. In flight, the
// block belongs to the message.
//
// A SIP in a domain process (docs/protection-domains.md) has its memory in a
// file of its own, which the kernel maps but the heap file never enters: its
// blocks are copied. A block it owns is a range of its memory (its arena is in
// remote mode, BlockArena.h); sending copies the range into the block's pages
// in the heap and revokes it in the domain; receiving copies the heap's pages
// into a new range of the domain's memory. Statuses, quotas and the single
// owner are the same; the cost is a copy each way (bytes_copied()).
//
// Costs (docs/exchange-heap.md): sending takes one mprotect (one mmap above
// view_limit); receiving takes one mmap, or, when a block up to view_limit
// comes back to a SIP that had it before (a request and its reply), one
// mprotect at its old offset, where its pages are still mapped and need no
// faulting in again.
#pragma once

#include "base/ErrorOr.h"
#include "kernel/object/KernelObject.h"
#include "runtime/BlockArena.h"

#include <memory>
#include <vector>

namespace signet {

class SipContext;

class ExchangeBlock final : public KernelObject {
public:
    static constexpr ObjectType object_type = ObjectType::Block;
    ObjectType type() const override { return ObjectType::Block; }

    // Named limit: the largest block.
    static constexpr uint32_t max_size = 1u << 30;
    // Named limit: the largest block whose sender keeps a view of it (BlockArena.h).
    // A view keeps the page-table entries of every page its SIP touched, and each
    // move changes all of them: cheap for small blocks and a win whenever the pages
    // are used again, but for large ones that cost is paid on every move whether
    // anyone looks at the data or not. Larger blocks leave their sender's memory
    // entirely, and whoever uses them faults in just the pages it touches.
    static constexpr uint32_t view_limit = 1u << 20;

    // Bytes copied so far by moves into or out of a domain's memory (kernel-wide).
    // Moves between SIPs in the kernel's process copy nothing.
    static uint64_t bytes_copied();

    // A zeroed block of `size` bytes in the owner's memory; null if its quota or memory is exhausted.
    static std::shared_ptr<ExchangeBlock> allocate(SipContext& owner, uint32_t size);
    ~ExchangeBlock() override;

    uint32_t size() const { return m_size; }
    uint32_t offset() const { return m_range.offset; }
    bool owned_by(SipContext const& sip) const { return m_owner == &sip; }
    // Where its pages lie in the exchange heap's file (tests look at them there).
    uint64_t heap_offset() const { return m_heap_offset; }

    // The owner frees the block: its pages are zeroed and reused.
    void free_in_owner();
    // Sending: the block leaves its owner. Cannot fail. The owner loses access at
    // once, or (BeforeOwnerRuns) once BlockArena::revoke_pending() runs, which the
    // caller guarantees happens before any code of the owner runs again.
    enum class Revoke { Now, BeforeOwnerRuns };
    void detach(Revoke = Revoke::Now);
    // Undoes attach() for a receive that fails part way: no hole is left behind.
    void unattach();
    // Receiving: the block enters `receiver`'s memory. False (and nothing
    // changed) if the receiver's quota or memory has no room.
    bool attach(SipContext& receiver);


private:
    ExchangeBlock(uint32_t size, uint32_t length);

    uint64_t m_id; // unique for the kernel's lifetime: names the block's views
    uint32_t m_size;
    uint32_t m_length; // pages, in bytes
    SipContext* m_owner { nullptr };
    // The SIP the block was last sent from; compared, never followed.
    SipContext const* m_sent_from { nullptr };
    BlockArena::Range m_range { 0, 0 };
    // The block's pages in the exchange heap.
    uint64_t m_heap_offset { 0 };
    bool m_has_pages { false };
};

} // namespace signet
