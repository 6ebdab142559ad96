// signet-domain IMAGE MODULE_HASH MEMORY_BYTES STACK_BYTES
// Started by the kernel with the ring and the SIP's memory on descriptors 3-6
// (runtime/domain/DomainLaunch.h); runs one SIP sealed (docs/protection-domains.md).
// signet-domain --zygote READ_PATH...: the domain zygote, which forks domain
// processes that go on as above (tools/signet-domain/Zygote.h).
#include "runtime/domain/DomainHost.h"
#include "runtime/domain/DomainLaunch.h"
#include "runtime/domain/ZygoteProtocol.h"
#include "tools/signet-domain/Zygote.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int host_main(int argc, char** argv)
{
    using namespace signet::domain;
    if (argc != 5) {
        std::fprintf(stderr, "signet-domain: started by the Signet kernel, not by hand (usage: signet-domain IMAGE MODULE_HASH MEMORY_BYTES STACK_BYTES)\n");
        return int(HostExit::BadArguments);
    }
    HostOptions options;
    options.image_path = argv[1];
    options.module_hash = argv[2];
    char* end = nullptr;
    options.memory_bytes = std::strtoull(argv[3], &end, 10);
    bool memory_ok = *end == '\0';
    options.stack_bytes = std::strtoull(argv[4], &end, 10);
    if (!memory_ok || *end != '\0' || options.memory_bytes == 0 || options.stack_bytes < 64 * 1024) {
        std::fprintf(stderr, "signet-domain: bad memory or stack size\n");
        return int(HostExit::BadArguments);
    }
    return run_domain_host(options);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc >= 2 && std::strcmp(argv[1], signet::domain::zygote_flag) == 0)
        return signet::domain::run_zygote(argc - 2, argv + 2, host_main);
    return host_main(argc, argv);
}
