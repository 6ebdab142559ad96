// The kernel's seal in `signet run` and `signet boot` (docs/protection-domains.md):
// once everything that needs broad file access is done, before the kernel
// starts its threads.
#include "kernel/domain/DomainProcess.h"
#include "kernel/domain/DomainZygote.h"
#include "runtime/BlockArena.h"
#include "runtime/seal/Seal.h"
#include "tools/signet/Commands.h"

namespace signet::cli {

int seal_kernel_process(std::string const& store, std::vector<seal::PathGrant> const& host_grants)
{
    // What the kernel would otherwise look up on the host later, lazily: the mapping
    // budget (/proc/sys/vm/max_map_count) and where signet-domain is (/proc/self/exe).
    (void)BlockArena::range_budget();
    std::string domain_host = DomainProcess::default_host_executable();
    DomainProcess::set_default_host_executable(domain_host);

    // Code comes from the system image and the store: nothing the kernel may write.
    auto code = seal::system_image_grants(domain_host);
    code.push_back({ store, seal::PathGrant::Access::Read });
    if (auto checked = seal::check_grants(code, host_grants); checked.is_error()) {
        print_error(checked.error().message());
        return BadInput;
    }
    auto grants = code;
    grants.insert(grants.end(), host_grants.begin(), host_grants.end());
    auto sealed = seal::seal_kernel({ .paths = grants, .files = seal::KernelSealOptions::Files::Restrict });
    if (sealed.is_error()) {
        print_error("cannot seal the kernel: " + sealed.error().message());
        return Failure;
    }
    for (auto const& note : sealed.value().notes)
        std::fprintf(stderr, "signet: note: %s\n", note.c_str());
    // Domains are forked by the domain zygote from here on (docs/protection-domains.md).
    // Started after the seal, so that it and every domain it forks sit inside the
    // kernel's Landlock domain, where the kernel may signal them, and from this
    // (the main) thread, which their parent-death signal follows. It reads only the store.
    if (auto zygote = DomainZygote::start({ domain_host, { store } }); zygote.is_error()) {
        // Without it the kernel must still execute signet-domain (and its loader map
        // that process's libraries), so the second filter stays off; say so.
        std::fprintf(stderr, "signet: note: domains are started without the zygote, so the kernel keeps execve and private code mappings of files: %s\n",
            zygote.error().message().c_str());
        return Success;
    }
    // The zygote runs: the kernel never executes a program or maps code again
    // (the zygote was exec'd before this filter, so it does not inherit it).
    if (auto sealed = seal::seal_kernel_against_new_code(); sealed.is_error()) {
        print_error("cannot seal the kernel against new code: " + sealed.error().message());
        return Failure;
    }
    DomainZygote::make_required();
    return Success;
}

} // namespace signet::cli
