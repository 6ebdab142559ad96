// The ring: the only way between a domain process and the kernel.
//
// One memory file per domain, mapped shared by both processes before the
// domain seals itself, holds two single-producer single-consumer byte rings:
// requests from the domain to the kernel and replies from the kernel to the
// domain. Nothing else passes between them but two eventfds (doorbells).
//
// Waiting for the peer (the hot path of every ABI call from a domain):
//   1. the waiting side spins on the peer's published head for at most
//      spin_ns, with `pause` — unless the peer last waited on this very CPU,
//      where spinning would only keep it from running;
//   2. then it says so in its `sleeps` word, looks at the head once more, and
//      sleeps on its doorbell;
//   3. a producer, after publishing, reads the peer's `sleeps` word and rings
//      the doorbell only if it is set.
// A crossing between two spinning sides on two CPUs therefore costs two
// cache-line transfers each way and no system call; a side that finds nothing
// within spin_ns costs no CPU until it is rung. Steps 2 and 3 are the two
// halves of a store-then-load handshake (a full fence on each side), so a
// publication is never missed: either the producer sees `sleeps`, or the
// consumer sees the new head.
//
// The kernel treats everything in the region as hostile: the domain can write
// any byte at any time. So the kernel
//   1. keeps its own cursors (its consumer tail, its producer head) in private
//      memory and only ever *publishes* them to the region, never reads them back;
//   2. reads the domain's cursor once per step, and checks it against its own
//      (at most `capacity` bytes apart, in 32-bit wrapping arithmetic);
//   3. copies a frame out of the region before it looks at the frame, so the
//      domain cannot change what was checked (no double fetch);
//   4. checks every field of the copy: length, alignment, type, that it does
//      not run past the end of the ring or past what was published.
// Any violation is a RingError naming the field and its values, and the kernel
// disconnects the domain. Nothing in the region is ever used as a pointer or
// an index into kernel memory without being checked first.
#pragma once

#include "base/ErrorOr.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace signet::ring {

// Named limits. A frame larger than max_frame_bytes is refused; a domain that
// needs to move more splits it (the ABI calls never need to).
inline constexpr uint32_t region_magic = 0x4e524753; // "SGRN"
inline constexpr uint32_t region_version = 3;
inline constexpr uint32_t ring_capacity = 64 * 1024;       // bytes per direction, a power of two
inline constexpr uint32_t max_frame_bytes = 16 * 1024;     // header included
inline constexpr uint32_t frame_alignment = 16; // so that a pad frame always fits before the end
inline constexpr size_t header_bytes = 4096;
inline constexpr size_t region_bytes = header_bytes + 2 * size_t(ring_capacity);
inline constexpr uint32_t unknown_cpu = ~0u;
// Named limit: how long a side spins on the ring for its peer before it sleeps
// on its doorbell (docs/protection-domains.md, "What a domain costs"). A cheap
// ABI call is answered in well under a microsecond, but now and then a side
// loses its CPU for a few microseconds (an interrupt, the hypervisor); a side
// that sleeps then costs the next call a doorbell and a thread's wake-up, tens
// of microseconds, which outlast the peer's own spin, so it sleeps too and the
// delay feeds itself. At 10 us one wait in 50-100 ended asleep and doubled an
// ABI call's mean; at 50 us almost none does. Short enough that a side whose
// peer is busy, or a domain whose SIP waits in a blocking call, burns little
// before sleeping (the kernel's side spins only while its worker has nothing
// else to run).
inline constexpr uint64_t spin_ns = 50'000;
// How long a domain's fiber watches the ring for its own answer before it
// leaves the wait to the domain's scheduler (runtime/domain/DomainHost.cpp).
inline constexpr uint64_t spin_alone_ns = 2'000;
// After this long waiting, a domain yields its CPU (sched_yield) between looks,
// to whatever else is runnable there, when the kernel says at two looks in a
// row that the call it waits for waits on something else (Hint): another domain
// on the same CPU may be what it waits for. Not sooner: most answers come
// before it, and the hint's line, written by the kernel at every block of a
// call, would cross between the CPUs at every call if the domain read it; and
// a call to a server in the kernel blocks its proxy for a few hundred
// nanoseconds, while a yield to a busy neighbour costs a whole time slice.
// The kernel's side never yields: its worker would give its CPU to any other
// process for a whole slice.
inline constexpr uint64_t yield_after_ns = 1'000;
// A yield that comes back after this long gave a busy process on this CPU a
// whole time slice; for the next slow_yield_waits waits in which it would yield,
// a domain sleeps on its doorbell instead: the kernel's ring wakes it as a
// sleeper, which Linux lets preempt the busy process.
inline constexpr uint64_t slow_yield_ns = 100'000;
inline constexpr uint32_t slow_yield_waits = 64;

// A cursor counts bytes published (head) or consumed (tail) since the start,
// wrapping at 2^32; each sits on its own cache line.
struct alignas(64) Cursor {
    std::atomic<uint32_t> value;
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);

// How a side waits for its peer, published by that side on a line of its own.
struct alignas(64) WaitState {
    // 1 while it sleeps on its doorbell (the producer must ring it), 0 while it
    // watches the ring. initialize() sets 1: a side is rung until it says it watches.
    std::atomic<uint32_t> sleeps;
    // The CPU it last waited on, for the spin rule; unknown_cpu until it has waited.
    std::atomic<uint32_t> cpu;
};

// What the kernel tells a domain of the calls it is running for it, on a line
// of its own (written at every block and resume of such a call, read by the
// domain only when an answer is slow to come).
struct alignas(64) Hint {
    // 1 while one of the domain's calls waits in the kernel on something else:
    // another SIP (which may be in a domain on this domain's CPU), a timer.
    std::atomic<uint32_t> blocked;
};

struct RegionHeader {
    // Written by the kernel when it creates the region; informational for the
    // domain, never read back by the kernel.
    uint32_t magic;
    uint32_t version;
    uint32_t capacity;
    uint32_t max_frame;
    Cursor to_kernel_head; // domain publishes
    Cursor to_kernel_tail; // kernel publishes
    Cursor to_domain_head; // kernel publishes
    Cursor to_domain_tail; // domain publishes
    WaitState kernel_wait; // kernel publishes
    WaitState domain_wait; // domain publishes
    Hint kernel_hint;      // kernel publishes
};
static_assert(sizeof(RegionHeader) <= header_bytes);

// Every frame starts with this header; `length` counts the header and the
// payload, rounded up to frame_alignment. A frame never wraps around the end
// of the ring: when one does not fit, the producer fills the rest of the ring
// with one Pad frame and starts again at offset 0.
struct FrameHeader {
    uint32_t length;
    uint16_t type;
    uint16_t reserved; // zero
    uint32_t payload_length; // at most length - sizeof(FrameHeader)
    uint32_t sequence;
};
static_assert(sizeof(FrameHeader) == 16);
inline constexpr uint16_t pad_frame_type = 0;

// A frame copied out of the ring: the consumer owns these bytes.
struct Frame {
    uint16_t type { 0 };
    uint32_t sequence { 0 };
    std::vector<uint8_t> payload;
};

// Which side of the region a Ring object serves.
enum class Side : uint8_t { Kernel, Domain };

class Doorbell;

// One process's view of the region: it produces into one direction and
// consumes from the other. Not thread-safe; one owner per side.
class Ring {
public:
    // `region` is region_bytes long and shared with the peer. The kernel calls
    // initialize() once on a fresh region before the domain sees it.
    Ring(Side side, uint8_t* region);
    static void initialize(uint8_t* region);

    // Producer: copies one frame into the ring. Returns false if it does not
    // fit yet (the consumer has not caught up); an error if the peer's
    // published tail is impossible or the frame is too large.
    [[nodiscard]] ErrorOr<bool> try_send(uint16_t type, uint32_t sequence, std::span<uint8_t const> payload);

    // Producer, a hint: the next frame goes out soon. Fetches the line it will
    // start on for writing now (the peer's copy of it is invalidated now), so
    // that try_send does not wait for that when it publishes. Unlike the rest,
    // it may run beside a try_send on another thread (it reads only m_next_offset).
    void prepare_send() const;

    // Consumer: the next frame, if one was published. Pad frames are consumed
    // silently. An error if anything about the published bytes is malformed.
    [[nodiscard]] ErrorOr<std::optional<Frame>> receive();
    // The same into `frame`, whose payload keeps its capacity from one frame to
    // the next (no allocation per frame); false if nothing was published.
    [[nodiscard]] ErrorOr<bool> receive(Frame& frame);

    // Bytes the peer published that this side has not consumed yet (checked).
    [[nodiscard]] ErrorOr<uint32_t> pending() const;

    // Waiting for the peer (see the top of this file). Step 1: spins while
    // nothing is published, for at most `budget_ns` and while `keep_spinning()`
    // holds; true as soon as the peer's head moved (receive() then checks it).
    // Spins not at all when the peer last waited on the calling CPU.
    // With Yield::WhenPeerBlocked it gives its CPU away (sched_yield) between
    // looks after yield_after_ns, to whatever else is runnable there, while the
    // kernel says at two looks in a row that the answer waits on something else
    // (Hint): a domain that yields to a busy neighbour while the kernel works
    // on its call on another CPU loses its CPU for a whole time slice. Once a
    // yield came back after slow_yield_ns, it returns false where it would
    // yield, for the next slow_yield_waits such waits: the caller sleeps instead.
    enum class Yield : uint8_t { Never, WhenPeerBlocked };
    template<typename KeepSpinning>
    bool spin_for_peer(uint64_t budget_ns, KeepSpinning keep_spinning, Yield = Yield::Never);
    // Step 2: from now on the peer must ring this side's doorbell (true), or
    // need not (false). After saying true, check pending() once more before sleeping.
    void set_sleeping(bool);
    // Step 3, after a try_send: whether the peer sleeps and must be rung.
    bool peer_sleeps() const;
    // Whether the peer's head moved since this side last consumed (unchecked:
    // receive() checks it). For a look after set_sleeping(true).
    bool peer_published() const;
    // Steps 1 and 2 for a side that sleeps in poll (the domain): spins, then
    // sleeps on `doorbell` until rung or `timeout_ms` (-1: none). True if
    // something may have been published.
    bool wait(Doorbell const& doorbell, int timeout_ms);
    // Step 3 for a side that rings with a Doorbell: rings it if the peer sleeps.
    void notify(Doorbell const& peer_doorbell) const;

    // The kernel's side: the word a proxy thread's blocks are told through (Hint).
    std::atomic<uint32_t>& kernel_blocked_hint();
    // The domain's side: whether the kernel says one of its calls waits on something else.
    bool peer_blocked() const;

private:
    // Publishes the CPU this side waits on; false if the peer last waited there too.
    bool may_spin() const;
    // Asks for the lines of what the peer just published (up to a call's
    // frame), so that their transfers start as soon as it is seen, not when
    // receive() reads them after the caller's own steps.
    void prefetch_published() const;
    WaitState& own_wait() const;
    WaitState& peer_wait() const;
    static uint64_t now_ns();
    static void yield_cpu();

    Cursor& peer_head() const; // the head of the direction this side consumes
    Cursor& own_tail() const;
    Cursor& own_head() const; // the head of the direction this side produces
    Cursor& peer_tail() const;
    uint8_t* consume_data() const;
    uint8_t* produce_data() const;

    Side m_side;
    uint8_t* m_region;
    // Private cursors: the truth for this side, published but never read back.
    uint32_t m_consumed { 0 };
    uint32_t m_produced { 0 };
    // Where the next frame starts, for prepare_send (written by try_send).
    std::atomic<uint32_t> m_next_offset { 0 };
    // The peer's consumer tail as this side last read it (checked then).
    uint32_t m_peer_tail { 0 };
    // Waits left in which a domain sleeps instead of yielding (slow_yield_ns).
    uint32_t m_sleep_instead_of_yield { 0 };
};

// An eventfd doorbell. The side that publishes rings; the other waits or polls.
class Doorbell {
public:
    explicit Doorbell(int fd)
        : m_fd(fd)
    {
    }
    int fd() const { return m_fd; }
    // Best effort: a full counter means the peer has a wake-up pending anyway.
    void ring() const;
    // Blocks until rung (or `timeout_ms`, -1 for none); false on timeout or error.
    bool wait(int timeout_ms) const;
    // Clears a pending ring without blocking; whether there was one.
    bool drain() const;

private:
    int m_fd;
};

inline void cpu_relax()
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

template<typename KeepSpinning>
bool Ring::spin_for_peer(uint64_t budget_ns, KeepSpinning keep_spinning, Yield yield)
{
    if (peer_published())
        return true;
    if (budget_ns == 0 || !may_spin())
        return false;
    // The clock and the predicate every 16 rounds: a pause is 10 to 150 cycles.
    // The budget counts from the first of those looks, not before the first
    // round: the peer's frame may come while the clock is read.
    uint64_t start = 0;
    bool started = false;
    bool blocked_before = false; // the last look at the hint found the peer blocked
    for (unsigned round = 1;; ++round) {
        cpu_relax();
        if (peer_published()) {
            prefetch_published();
            return true;
        }
        if (round % 16 == 0) {
            uint64_t const now = now_ns();
            if (!started) {
                start = now;
                started = true;
            }
            if (now - start >= budget_ns || !keep_spinning())
                return false;
            // Let whatever else waits for this CPU run (another domain, on a
            // machine with fewer CPUs than busy processes) when the answer we
            // wait for has been waiting on something else for a while.
            if (yield == Yield::WhenPeerBlocked && now - start >= yield_after_ns) {
                bool const blocked = peer_blocked();
                if (blocked && blocked_before) {
                    if (m_sleep_instead_of_yield) {
                        --m_sleep_instead_of_yield;
                        return false; // the caller sleeps on its doorbell
                    }
                    yield_cpu();
                    if (now_ns() - now >= slow_yield_ns)
                        m_sleep_instead_of_yield = slow_yield_waits;
                }
                blocked_before = blocked;
            }
        }
    }
}

} // namespace signet::ring
