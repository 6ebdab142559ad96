// A SIP placed in a protection domain of its own (docs/protection-domains.md).
//
// The kernel keeps a proxy Sip with everything a SIP has in the kernel — its
// handle table, channels, limits, principal, exit record — but no code: its
// one thread serves the domain's ring, executing each ABI call the domain
// forwards with the kernel's own implementation, against the SIP's memory as
// the kernel maps it. Contracts, quotas and handles are therefore enforced by
// the kernel exactly as for a SIP in the kernel domain.
#pragma once

#include "base/ErrorOr.h"
#include "kernel/Kernel.h"

#include <memory>
#include <string>

namespace signet {

struct DomainPlacement {
    enum class Kind : uint8_t {
        Kernel, // the default: the SIP runs in the kernel's process
        Own,    // a domain process of its own
        Named,  // a named domain shared with other SIPs (FIXME: not yet)
    };
    Kind kind { Kind::Kernel };
    std::string name; // for Named

    // "kernel", "own" or a name.
    static DomainPlacement parse(std::string const&);
    std::string describe() const;
};

// For a placement other than the kernel: starts the domain process and turns
// `request` into the request for its proxy SIP (an image with no code, a host
// entry that serves the ring, a finish hook that ends the process). The caller
// then creates and starts the SIP as usual. Nothing changes for `kernel`.
ErrorOr<void> place_in_domain(SpawnRequest&, DomainPlacement const&, std::string host_executable = {});

// place_in_domain, then Kernel::spawn. The request
// is what Kernel::spawn takes; its image must come from the store (its path and
// module hash are what the domain maps). `host_executable` defaults to
// signet-domain beside the running binary.
ErrorOr<std::shared_ptr<Sip>> spawn_in_domain(Kernel&, SpawnRequest, DomainPlacement const&, std::string host_executable = {});

} // namespace signet
