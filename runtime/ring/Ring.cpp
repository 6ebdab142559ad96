// The ring's producer and consumer, written so that the kernel side survives
// any bytes the domain writes into the region (see Ring.h for the rules).
#include "runtime/ring/Ring.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sched.h>
#include <string>
#include <time.h>
#include <unistd.h>

namespace signet::ring {

namespace {

RegionHeader& header_of(uint8_t* region) { return *reinterpret_cast<RegionHeader*>(region); }

std::string hex(uint32_t value)
{
    char text[16];
    std::snprintf(text, sizeof text, "0x%x", value);
    return text;
}

// A hint that another CPU reads this line next (x86's CLDEMOTE: the line moves
// from this CPU's private caches to the shared one). In the hint space of the
// instruction set, so a CPU without it runs it as a NOP.
inline void demote(void const* line)
{
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("cldemote %0" ::"m"(*static_cast<char const*>(line)));
#else
    (void)line;
#endif
}

// How much of what was published a consumer asks for as soon as it sees it:
// a call's frame with every argument (16 + 8 + 8 + 16 * 8 bytes) and a little.
constexpr uint32_t prefetch_bytes = 192;

} // namespace

Ring::Ring(Side side, uint8_t* region)
    : m_side(side)
    , m_region(region)
{
}

void Ring::initialize(uint8_t* region)
{
    std::memset(region, 0, header_bytes);
    auto& header = header_of(region);
    header.magic = region_magic;
    header.version = region_version;
    header.capacity = ring_capacity;
    header.max_frame = max_frame_bytes;
    for (WaitState* wait : { &header.kernel_wait, &header.domain_wait }) {
        wait->sleeps.store(1, std::memory_order_relaxed);
        wait->cpu.store(unknown_cpu, std::memory_order_relaxed);
    }
    header.kernel_hint.blocked.store(0, std::memory_order_relaxed);
}

Cursor& Ring::peer_head() const { return m_side == Side::Kernel ? header_of(m_region).to_kernel_head : header_of(m_region).to_domain_head; }
Cursor& Ring::own_tail() const { return m_side == Side::Kernel ? header_of(m_region).to_kernel_tail : header_of(m_region).to_domain_tail; }
Cursor& Ring::own_head() const { return m_side == Side::Kernel ? header_of(m_region).to_domain_head : header_of(m_region).to_kernel_head; }
Cursor& Ring::peer_tail() const { return m_side == Side::Kernel ? header_of(m_region).to_domain_tail : header_of(m_region).to_kernel_tail; }
WaitState& Ring::own_wait() const { return m_side == Side::Kernel ? header_of(m_region).kernel_wait : header_of(m_region).domain_wait; }
WaitState& Ring::peer_wait() const { return m_side == Side::Kernel ? header_of(m_region).domain_wait : header_of(m_region).kernel_wait; }
uint8_t* Ring::consume_data() const { return m_region + header_bytes + (m_side == Side::Kernel ? 0 : ring_capacity); }
uint8_t* Ring::produce_data() const { return m_region + header_bytes + (m_side == Side::Kernel ? ring_capacity : 0); }

ErrorOr<uint32_t> Ring::pending() const
{
    // One read of the peer's cursor; everything below uses this copy.
    uint32_t head = peer_head().value.load(std::memory_order_acquire);
    uint32_t available = head - m_consumed;
    if (available > ring_capacity)
        return Error::invalid("ring: the peer's published head " + hex(head) + " is " + std::to_string(available)
            + " bytes past this side's tail " + hex(m_consumed) + ", more than the ring holds (" + std::to_string(ring_capacity) + ")");
    if (available % frame_alignment)
        return Error::invalid("ring: the peer's published head " + hex(head) + " is not a multiple of " + std::to_string(frame_alignment));
    return available;
}

ErrorOr<std::optional<Frame>> Ring::receive()
{
    Frame frame;
    if (!TRY(receive(frame)))
        return std::optional<Frame> {};
    return std::optional<Frame> { std::move(frame) };
}

ErrorOr<bool> Ring::receive(Frame& frame)
{
    for (;;) {
        uint32_t available = TRY(pending());
        if (available == 0)
            return false;
        uint32_t offset = m_consumed % ring_capacity;
        if (available < sizeof(FrameHeader))
            return Error::invalid("ring: " + std::to_string(available) + " bytes published at offset " + std::to_string(offset)
                + ", fewer than a frame header (" + std::to_string(sizeof(FrameHeader)) + ")");
        // Copy the header out once; only the copy is examined.
        FrameHeader header;
        std::memcpy(&header, consume_data() + offset, sizeof header);
        // Built only for an error: this path runs for every frame.
        auto where = [offset] { return "ring: frame at offset " + std::to_string(offset); };
        if (header.length < sizeof(FrameHeader) || header.length % frame_alignment)
            return Error::invalid(where() + " has length " + std::to_string(header.length) + " (must be at least "
                + std::to_string(sizeof(FrameHeader)) + " and a multiple of " + std::to_string(frame_alignment) + ")");
        if (header.length > available)
            return Error::invalid(where() + " has length " + std::to_string(header.length) + " but only " + std::to_string(available) + " bytes were published");
        if (offset + uint64_t(header.length) > ring_capacity)
            return Error::invalid(where() + " has length " + std::to_string(header.length) + " and would run past the end of the ring");
        if (header.reserved != 0)
            return Error::invalid(where() + " has reserved field " + hex(header.reserved) + " (must be 0)");
        if (header.type == pad_frame_type) {
            if (offset + header.length != ring_capacity || header.payload_length != 0)
                return Error::invalid(where() + ": a pad frame must fill the ring to its end with no payload (length "
                    + std::to_string(header.length) + ", payload " + std::to_string(header.payload_length) + ")");
            m_consumed += header.length;
            own_tail().value.store(m_consumed, std::memory_order_release);
            continue;
        }
        if (header.length > max_frame_bytes)
            return Error::invalid(where() + " has length " + std::to_string(header.length) + ", over the limit of " + std::to_string(max_frame_bytes));
        if (header.payload_length > header.length - sizeof(FrameHeader)
            || header.length - sizeof(FrameHeader) - header.payload_length >= frame_alignment)
            return Error::invalid(where() + " has payload length " + std::to_string(header.payload_length) + " in a frame of length " + std::to_string(header.length));
        frame.type = header.type;
        frame.sequence = header.sequence;
        frame.payload.resize(header.payload_length);
        std::memcpy(frame.payload.data(), consume_data() + offset + sizeof header, header.payload_length);
        m_consumed += header.length;
        own_tail().value.store(m_consumed, std::memory_order_release);
        return true;
    }
}

ErrorOr<bool> Ring::try_send(uint16_t type, uint32_t sequence, std::span<uint8_t const> payload)
{
    if (type == pad_frame_type)
        return Error::invalid("ring: frame type 0 is reserved for padding");
    uint64_t length = (sizeof(FrameHeader) + payload.size() + frame_alignment - 1) / frame_alignment * frame_alignment;
    if (length > max_frame_bytes)
        return Error::invalid("ring: a frame of " + std::to_string(payload.size()) + " payload bytes is over the limit of " + std::to_string(max_frame_bytes));
    uint32_t offset = m_produced % ring_capacity;
    uint32_t to_end = ring_capacity - offset;
    uint32_t needed = uint32_t(length) + (length > to_end ? to_end : 0);
    // The peer's tail as last read: it only ever moves forward, so this errs on
    // the side of too little room. The shared cursor is read again only when
    // that is not enough: its line was written by the peer's last receive, and
    // reading it at every send would wait for it to cross between CPUs.
    if (uint64_t(m_produced - m_peer_tail) + needed > ring_capacity) {
        uint32_t tail = peer_tail().value.load(std::memory_order_acquire);
        uint32_t used = m_produced - tail;
        if (used > ring_capacity || uint32_t(tail - m_peer_tail) > ring_capacity)
            return Error::invalid("ring: the peer's published tail " + hex(tail) + " is not between this side's last view of it "
                + hex(m_peer_tail) + " and its head " + hex(m_produced) + "; it cannot have consumed what was never published");
        m_peer_tail = tail;
        if (used + uint64_t(needed) > ring_capacity)
            return false;
    }
    if (length > to_end) {
        FrameHeader pad { to_end, pad_frame_type, 0, 0, 0 };
        std::memcpy(produce_data() + offset, &pad, sizeof pad);
        m_produced += to_end;
        offset = 0;
    }
    FrameHeader header { uint32_t(length), type, 0, uint32_t(payload.size()), sequence };
    std::memcpy(produce_data() + offset, &header, sizeof header);
    if (!payload.empty())
        std::memcpy(produce_data() + offset + sizeof header, payload.data(), payload.size());
    size_t slack = length - sizeof header - payload.size();
    std::memset(produce_data() + offset + sizeof header + payload.size(), 0, slack);
    m_produced += uint32_t(length);
    own_head().value.store(m_produced, std::memory_order_release);
    m_next_offset.store(m_produced % ring_capacity, std::memory_order_relaxed);
    // The peer reads these lines next: out of this CPU's private caches with
    // them, to the shared one, where its read finds them sooner.
    for (uint32_t line = offset & ~63u; line < offset + length; line += 64)
        demote(produce_data() + line);
    demote(&own_head().value);
    return true;
}

void Ring::prepare_send() const
{
    __builtin_prefetch(produce_data() + m_next_offset.load(std::memory_order_relaxed), 1);
}

bool Ring::peer_published() const
{
    // Only whether the head moved: receive() checks where it moved to.
    return peer_head().value.load(std::memory_order_acquire) != m_consumed;
}

void Ring::prefetch_published() const
{
    // A hint: the published head is checked by receive(), not here.
    uint32_t const offset = m_consumed % ring_capacity;
    uint32_t const published = peer_head().value.load(std::memory_order_relaxed) - m_consumed;
    uint32_t const end = offset + std::min({ published, prefetch_bytes, ring_capacity - offset });
    for (uint32_t line = offset & ~63u; line < end; line += 64)
        __builtin_prefetch(consume_data() + line);
}

bool Ring::may_spin() const
{
    int cpu = ::sched_getcpu(); // the C library reads it without a system call (rseq, vDSO)
    if (cpu < 0)
        return true;
    if (own_wait().cpu.load(std::memory_order_relaxed) != uint32_t(cpu))
        own_wait().cpu.store(uint32_t(cpu), std::memory_order_relaxed);
    // The peer's word may hold anything (it may be hostile): it only decides whether we spin.
    return peer_wait().cpu.load(std::memory_order_relaxed) != uint32_t(cpu);
}

uint64_t Ring::now_ns()
{
    timespec now {};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return uint64_t(now.tv_sec) * 1'000'000'000ull + uint64_t(now.tv_nsec);
}

void Ring::yield_cpu() { ::sched_yield(); }

void Ring::set_sleeping(bool sleeping)
{
    own_wait().sleeps.store(sleeping ? 1 : 0, std::memory_order_relaxed);
    // Step 2's store before the caller's next look at the peer's head (its half
    // of the handshake; peer_sleeps() holds the other).
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

bool Ring::peer_sleeps() const
{
    // The head just published before this look at the peer's word.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return peer_wait().sleeps.load(std::memory_order_relaxed) != 0;
}

std::atomic<uint32_t>& Ring::kernel_blocked_hint() { return header_of(m_region).kernel_hint.blocked; }

bool Ring::peer_blocked() const { return header_of(m_region).kernel_hint.blocked.load(std::memory_order_relaxed) != 0; }

bool Ring::wait(Doorbell const& doorbell, int timeout_ms)
{
    if (spin_for_peer(spin_ns, [] { return true; }, Yield::WhenPeerBlocked))
        return true;
    set_sleeping(true);
    bool woken = peer_published() || doorbell.wait(timeout_ms);
    set_sleeping(false);
    return woken || peer_published();
}

void Ring::notify(Doorbell const& peer_doorbell) const
{
    if (peer_sleeps())
        peer_doorbell.ring();
}

void Doorbell::ring() const
{
    uint64_t one = 1;
    // EAGAIN: the counter is saturated and the peer has a wake-up pending.
    [[maybe_unused]] auto written = ::write(m_fd, &one, sizeof one);
}

bool Doorbell::wait(int timeout_ms) const
{
    pollfd entry { m_fd, POLLIN, 0 };
    for (;;) {
        int ready = ::poll(&entry, 1, timeout_ms);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return false;
        drain();
        return true;
    }
}

bool Doorbell::drain() const
{
    uint64_t count = 0;
    return ::read(m_fd, &count, sizeof count) == sizeof count;
}

} // namespace signet::ring
