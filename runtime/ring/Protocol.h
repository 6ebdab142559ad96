// The messages a domain and the kernel exchange over the ring (Ring.h carries
// the frames). The kernel decodes what the domain sends with decode_to_kernel,
// which checks every field; the domain decodes what the kernel sends.
//
// One exchange per SIP thread at a time: the domain sends a Call and waits for
// its Result (or an Unwind, when the call ended the thread: exit, a kill, a
// protocol violation the kernel punished). The frame's sequence number pairs
// them; a Result for another sequence is a protocol error.
#pragma once

#include "base/ErrorOr.h"
#include "runtime/ring/AbiCalls.h"
#include "runtime/ring/Ring.h"

#include <cstdint>
#include <string>
#include <variant>

namespace signet::ring {

enum class ToKernelType : uint16_t {
    Hello = 1,      // the domain is up, sealed, and speaks this protocol
    Call = 2,       // an ABI call of the SIP
    GrowMemory = 3, // the SIP's memory.grow: the kernel owns the memory's size
    Ended = 4,      // the SIP's code returned from its entry, or trapped in the domain
};

enum class ToDomainType : uint16_t {
    Start = 16,  // run the SIP
    Result = 17, // the result of the Call with the same sequence
    Unwind = 18, // the call ended the SIP thread: stop it without running more of its code
};

inline constexpr uint32_t protocol_version = 1;
inline constexpr uint32_t max_detail_bytes = 512;

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
};

struct Ended {
    enum class How : uint32_t { Returned = 0, Trapped = 1 };
    How how { How::Returned };
    uint32_t trap_kind { 0 };
    std::string detail;
};

using ToKernel = std::variant<Hello, Call, GrowMemory, Ended>;

// Kernel side: checks everything. The error names the frame, the field and the value.
ErrorOr<ToKernel> decode_to_kernel(Frame const&);

// Domain side: encoders of what it sends.
std::vector<uint8_t> encode(Hello const&);
std::vector<uint8_t> encode(Call const&);
std::vector<uint8_t> encode(GrowMemory const&);
std::vector<uint8_t> encode(Ended const&);

// Kernel side: what it sends.
struct Result {
    uint64_t value { 0 };
};
struct Unwind {
    enum class Reason : uint32_t { Exited = 0, Killed = 1, Trapped = 2 };
    Reason reason { Reason::Exited };
};
std::vector<uint8_t> encode(Result const&);
std::vector<uint8_t> encode(Unwind const&);
// Domain side: the kernel's messages (trusted, still checked for size).
ErrorOr<Result> decode_result(Frame const&);
ErrorOr<Unwind> decode_unwind(Frame const&);

} // namespace signet::ring
