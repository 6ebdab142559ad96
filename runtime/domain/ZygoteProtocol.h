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
#pragma once

#include <cstdint>

namespace signet::domain {

inline constexpr char const* zygote_flag = "--zygote";
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
    int32_t targets[zygote_max_descriptors] {};
};

struct ZygoteReply {
    int32_t pid { -1 }; // the new domain process, a child of the kernel's process
    int32_t error { 0 }; // an errno when pid is -1
};

} // namespace signet::domain
