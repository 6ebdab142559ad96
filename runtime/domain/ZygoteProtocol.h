// The domain zygote's requests and replies (docs/protection-domains.md, "The
// zygote"): shared by the kernel (kernel/domain/DomainZygote.cpp) and the
// zygote (tools/signet-domain/Zygote.cpp).
//
// The kernel starts `signet-domain --zygote READ_PATH...` once, before it
// seals, with one end of a SOCK_SEQPACKET socket pair at zygote_socket_fd.
// Each request is one message: a ZygoteRequest, then the domain host's
// arguments (argv[0] first), each ending with a NUL byte, and the descriptors
// the new domain process gets (SCM_RIGHTS, in the order of `targets`). The
// zygote forks a child (CLONE_PARENT: the kernel's child, not the zygote's)
// that moves each descriptor to its target and runs the domain host with the
// arguments, exactly as if it had been exec'd; it answers one ZygoteReply.
//
// With `--zygote --spare READ_PATH...` the zygote also keeps one spare: a
// domain process forked ahead of demand (CLONE_PARENT too), which holds
// nothing of any SIP, only what every fork of the zygote holds. It announces
// itself (a ZygoteReply of kind Spare, so that the kernel can reap it if it
// dies unused) and then reads the next request itself: it answers with its
// own pid and goes on exactly as a child forked for that request would. While
// a spare waits, the zygote does not read the socket; once the spare is taken
// (or dies) the zygote serves requests itself and makes the next spare after
// zygote_refill_delay_ms without a request.
//
// Every request carries a sequence number, larger than any before it, and its
// answer carries the same. A spare can die (SIGKILL, the OOM killer) after it
// has taken a request and before it has answered: the request is then lost.
// The zygote cannot tell whether it was, so when a spare dies without having
// told the zygote it was taken, the zygote says so (a reply of kind SpareLost)
// and the kernel sends its request again. Resending is always safe: the zygote
// and its spares serve a request only if its number is larger than that of
// the last one served, and drop any other unanswered.
#pragma once

#include <cstdint>

namespace signet::domain {

inline constexpr char const* zygote_flag = "--zygote";
inline constexpr char const* zygote_spare_flag = "--spare";
// How long the zygote waits, with no request, before it forks the next spare:
// the fork does not compete for the CPU with the start that used the last one.
inline constexpr int zygote_refill_delay_ms = 5;
// What the zygote calls itself (its comm), and a spare until it is taken: a
// process it forks is "signet-zygote" until it names itself, so the kernel's
// tests and tools that count domain processes see only those that became one
// as "signet-domain" (host_executable_name), from a fork on demand or a spare.
inline constexpr char const* zygote_name = "signet-zygote";
inline constexpr char const* zygote_spare_name = "signet-spare";
inline constexpr int zygote_socket_fd = 3;

// Named limits of a request: descriptors handed over, and bytes of arguments.
inline constexpr uint32_t zygote_max_descriptors = 32;
inline constexpr uint32_t zygote_max_argument_bytes = 16 * 1024;
inline constexpr uint32_t zygote_request_magic = 0x5a47594e; // "NYGZ"

struct ZygoteRequest {
    uint32_t magic { zygote_request_magic };
    uint32_t argument_count { 0 };
    uint32_t argument_bytes { 0 };   // NUL bytes included
    uint32_t descriptor_count { 0 }; // as many SCM_RIGHTS descriptors follow
    uint64_t sequence { 0 };         // larger than every request's before it
    int32_t targets[zygote_max_descriptors] {};
};

enum class ZygoteReplyKind : int32_t {
    Domain = 0,    // the answer to the request numbered `sequence`
    Spare = 1,     // unasked: `pid` is a new spare, waiting for a request
    SpareLost = 2, // unasked: the spare `pid` died and may have taken a request unanswered
};

struct ZygoteReply {
    int32_t pid { -1 }; // the new domain process, a child of the kernel's process
    int32_t error { 0 }; // an errno when pid is -1
    ZygoteReplyKind kind { ZygoteReplyKind::Domain };
    int32_t reserved { 0 };
    uint64_t sequence { 0 }; // of the request a Domain reply answers
};

} // namespace signet::domain
