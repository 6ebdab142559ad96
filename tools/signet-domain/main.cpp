// signet-domain IMAGE MODULE_HASH MEMORY_BYTES STACK_BYTES
// Started by the kernel with the ring and the SIP's memory on descriptors 3-6
// (runtime/domain/DomainLaunch.h); runs one SIP sealed (docs/protection-domains.md).
#include "runtime/domain/DomainHost.h"
#include "runtime/domain/DomainLaunch.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv)
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
