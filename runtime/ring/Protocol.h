// The messages a domain and the kernel exchange over the ring (Ring.h carries
// the frames). The kernel decodes what the domain sends with decode_to_kernel,
// which checks every field; the domain decodes what the kernel sends.
//
// One exchange per SIP thread at a time: the thread sends a Call and waits for
// its Result (or an Unwind, when the call ended the thread; or its SIP's
// EndSip, when the SIP ended). The frame's sequence number pairs them; a
// Result for another sequence is a protocol error, and so is a second request
// from a thread whose first is not answered yet.
#pragma once

#include "base/ErrorOr.h"
#include "runtime/ring/AbiCalls.h"
#include "runtime/ring/Ring.h"

#include <array>
#include <cstdint>
#include <span>
#include <map>
#include <set>
#include <string>
#include <variant>

namespace signet::ring {

// Every message names the SIP and the thread it is for (its Route): one ring
// serves every SIP of a domain, and every thread of each. The kernel numbers
// both: a SIP by the order it joined the domain (from 1; 0 is the domain
// itself, for the hello), a thread within its SIP (from 1, the SIP's first).
struct Route {
    uint32_t sip { 0 };
    uint32_t thread { 0 };
    bool operator==(Route const&) const = default;
};
inline constexpr uint32_t first_thread = 1;

enum class ToKernelType : uint16_t {
    Hello = 1,      // route 0/0: the domain is up, sealed, and speaks this protocol
    Call = 2,       // an ABI call of the SIP thread
    GrowMemory = 3, // the SIP's memory.grow: the kernel owns the memory's size
    Ended = 4,      // the thread's code returned, or trapped (which ends the whole SIP)
    SipGone = 5,    // route sip/0: the SIP is gone from the domain (its threads and memory), as asked by EndSip
    CpuUsed = 6,    // route sip/0: the CPU time the SIP's code has used in the domain so far
};

enum class ToDomainType : uint16_t {
    Start = 16,       // run the SIP: instantiate image `image` in memory slot `slot`, then its entry, as thread 1
    Result = 17,      // the result of the thread's Call (or GrowMemory) with the same sequence
    Unwind = 18,      // the call ended the thread: stop it without running more of its code
    StartThread = 19, // run function `function` of the SIP's table with `argument`, as a new thread
    EndSip = 20,      // route sip/0: the SIP ended in the kernel; drop its threads and memory, then say SipGone
    MemoryChanges = 21, // apply these changes to the SIP's memory (exchange-heap blocks) before the thread's Result
};

inline constexpr uint32_t protocol_version = 4;
inline constexpr uint32_t max_detail_bytes = 512;
// Every payload starts with its route (8 bytes).
inline constexpr size_t route_bytes = 8;

struct Hello {
    uint32_t version { 0 };
    uint32_t call_count { 0 };
    uint32_t call_fingerprint { 0 };
    // How it sealed itself: 0 not at all, 1 seccomp and Landlock, 2 seccomp only
    // (the running Linux has no Landlock). The kernel refuses 0 and logs 2.
    uint32_t sealed { 0 };
};

struct Call {
    uint32_t function { 0 }; // index into abi_calls
    uint32_t argument_count { 0 };
    uint64_t arguments[max_call_arguments] {};
};

struct GrowMemory {
    uint64_t pages { 0 }; // wanted total, in 64 KiB pages
    // The module's declared maximum, which only the domain knows: the kernel holds
    // the blocks it grows the memory for to it too, as in the kernel domain.
    uint64_t maximum_pages { 65536 };
};

struct Ended {
    enum class How : uint32_t { Returned = 0, Trapped = 1 };
    How how { How::Returned };
    uint32_t trap_kind { 0 };
    std::string detail;
};

struct SipGone { };

// The SIP's CPU time in the domain, in nanoseconds, since it started there: a
// running total (never less than the last), so that the kernel charges the
// difference and bounds the sum of every SIP's total by the process's CPU clock.
struct CpuUsed {
    uint64_t total_ns { 0 };
};

using ToKernel = std::variant<Hello, Call, GrowMemory, Ended, SipGone, CpuUsed>;
struct FromDomain {
    Route route;
    ToKernel message;
};

// Kernel side: checks everything, the route's shape included (Hello on 0/0,
// SipGone and CpuUsed on a SIP and thread 0, everything else on a SIP and a thread; whether
// that SIP and thread exist is the kernel's to check). The error names the
// frame, the field and the value.
ErrorOr<FromDomain> decode_to_kernel(Frame const&);
// The same into `out` (the kernel's hot path: no message built and moved; on an
// error `out` holds whatever was decoded before it).
ErrorOr<void> decode_to_kernel(Frame const&, FromDomain& out);

// The kernel's record of who is in a domain: every decoded message's route is
// admitted against it. A message for a SIP that is not in the domain, or for a
// thread its SIP does not have, is an error (the kernel disconnects the
// domain); one for a SIP that ended in the kernel is dropped, since its threads
// may have been running when it ended, until the domain says the SIP is gone.
class Roster {
public:
    enum class Verdict : uint8_t {
        Deliver, // to the route's thread
        Drop,    // its SIP ended in the kernel
        Gone,    // a SipGone for a SIP the kernel ended: it is no longer in the domain
    };
    void add_sip(uint32_t sip); // with its first thread
    void add_thread(Route);
    void remove_thread(Route);
    void end_sip(uint32_t sip);
    bool contains(uint32_t sip) const { return m_sips.count(sip) != 0; }
    ErrorOr<Verdict> admit(FromDomain const&);

private:
    struct Entry {
        bool ending { false };
        std::set<uint32_t> threads;
    };
    std::map<uint32_t, Entry> m_sips;
};

// The largest fixed-size payload (a Call with every argument), and a buffer for
// the hot path's encoders: they write a Call or a Result into it without
// allocating, byte for byte as encode() does, and return the bytes written.
inline constexpr size_t max_fixed_payload = route_bytes + 8 + max_call_arguments * sizeof(uint64_t);
using FixedPayload = std::array<uint8_t, max_fixed_payload>;

// Domain side: encoders of what it sends.
std::span<uint8_t const> encode_into(FixedPayload&, Route, Call const&);
// The same from the call's parts, as the domain's ABI stubs have them (no Call built).
std::span<uint8_t const> encode_call_into(FixedPayload&, Route, uint32_t function, uint64_t const* arguments, uint32_t count);
std::vector<uint8_t> encode(Route, Hello const&);
std::vector<uint8_t> encode(Route, Call const&);
std::vector<uint8_t> encode(Route, GrowMemory const&);
std::vector<uint8_t> encode(Route, Ended const&);
std::vector<uint8_t> encode(Route, SipGone const&);
std::vector<uint8_t> encode(Route, CpuUsed const&);

// Kernel side: what it sends. Each message names its frame type (Message::type).
struct Start {
    static constexpr ToDomainType type = ToDomainType::Start;
    uint32_t image { 0 }; // index into the images the domain was started with
    uint32_t slot { 0 };  // the memory slot its linear memory lives in
};
struct Result {
    static constexpr ToDomainType type = ToDomainType::Result;
    uint64_t value { 0 };
};
struct Unwind {
    static constexpr ToDomainType type = ToDomainType::Unwind;
    enum class Reason : uint32_t { Exited = 0, Killed = 1, Trapped = 2 };
    Reason reason { Reason::Exited };
};
struct StartThread {
    static constexpr ToDomainType type = ToDomainType::StartThread;
    uint32_t function { 0 }; // index into the SIP's table 0, of type (i32) -> ()
    uint32_t argument { 0 };
    uint32_t stack_pointer { 0 }; // the top of its shadow stack in linear memory
};
struct EndSip {
    static constexpr ToDomainType type = ToDomainType::EndSip;
};
// What a call changed in the SIP's memory, as runtime/BlockArena.h encodes it
// (encode_remote_changes: 12 bytes a change): the domain applies it to its own
// mapping (apply_remote_changes). At most max_memory_changes per message.
struct MemoryChanges {
    static constexpr ToDomainType type = ToDomainType::MemoryChanges;
    std::vector<uint8_t> changes;
};
inline constexpr size_t max_memory_changes = 1024;
std::vector<uint8_t> encode(Route, Start const&);
std::span<uint8_t const> encode_into(FixedPayload&, Route, Result const&);
std::vector<uint8_t> encode(Route, Result const&);
std::vector<uint8_t> encode(Route, Unwind const&);
std::vector<uint8_t> encode(Route, StartThread const&);
std::vector<uint8_t> encode(Route, EndSip const&);
std::vector<uint8_t> encode(Route, MemoryChanges const&);

using ToDomain = std::variant<Start, Result, Unwind, StartThread, EndSip, MemoryChanges>;
struct FromKernel {
    Route route;
    ToDomain message;
};
// Domain side: the kernel's messages (trusted, still checked for size and type).
ErrorOr<FromKernel> decode_to_domain(Frame const&);
// The same into `out`, which the domain keeps from frame to frame.
ErrorOr<void> decode_to_domain(Frame const&, FromKernel& out);

} // namespace signet::ring
