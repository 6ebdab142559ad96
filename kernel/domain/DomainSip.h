// A SIP placed in a protection domain (docs/protection-domains.md): a domain
// process of its own, or a named one it shares with other SIPs.
//
// The kernel keeps a proxy Sip with everything a SIP has in the kernel — its
// handle table, channels, limits, principal, exit record — but no code: each
// of its threads serves one thread of the SIP in the domain, executing each
// ABI call that thread forwards over the domain's ring with the kernel's own
// implementation, against the SIP's memory as the kernel maps it. Contracts,
// quotas and handles are therefore enforced by the kernel exactly as for a SIP
// in the kernel domain.
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
        Named,  // a named domain shared with other SIPs
    };
    Kind kind { Kind::Kernel };
    std::string name; // for Named

    // "kernel", "own" or a name.
    static DomainPlacement parse(std::string const&);
    std::string describe() const;
};

// For a placement other than the kernel: starts the domain process (or, for a
// named domain that runs already, joins it) and turns `request` into the
// request for its proxy SIP (an image with no code, a host entry that serves
// the ring, a finish hook that leaves the domain and ends the process with its
// last SIP). The caller then creates and starts the SIP as usual. Nothing
// changes for `kernel`.
//
// A named domain maps every image it will run before it seals, so its images
// are fixed when it starts: the request's, and those of every program
// registered with the kernel whose placement names the domain. A SIP of
// another image is refused (Unsupported) while the domain runs.
ErrorOr<void> place_in_domain(Kernel&, SpawnRequest&, DomainPlacement const&, std::string host_executable = {});

// Named limit: SIPs a named domain hosts at once.
inline constexpr unsigned max_sips_per_named_domain = 16;

// place_in_domain, then Kernel::spawn. The request
// is what Kernel::spawn takes; its image must come from the store (its path and
// module hash are what the domain maps). `host_executable` defaults to
// signet-domain beside the running binary.
ErrorOr<std::shared_ptr<Sip>> spawn_in_domain(Kernel&, SpawnRequest, DomainPlacement const&, std::string host_executable = {});

} // namespace signet
