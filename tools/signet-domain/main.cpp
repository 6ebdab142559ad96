// signet-domain MEMORY_BYTES STACK_BYTES SLOTS QUANTUM_US (IMAGE MODULE_HASH)...
// Started by the kernel with the ring, its doorbells and its memory slots on
// descriptors 3 and up (runtime/domain/DomainLaunch.h); runs SIPs sealed
// (docs/protection-domains.md).
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
    if (argc < 7 || (argc - 5) % 2 != 0) {
        std::fprintf(stderr, "signet-domain: started by the Signet kernel, not by hand (usage: signet-domain MEMORY_BYTES STACK_BYTES SLOTS QUANTUM_US (IMAGE MODULE_HASH)...)\n");
        return int(HostExit::BadArguments);
    }
    HostOptions options;
    char* end = nullptr;
    options.memory_bytes = std::strtoull(argv[1], &end, 10);
    bool memory_ok = *end == '\0';
    options.stack_bytes = std::strtoull(argv[2], &end, 10);
    bool stack_ok = *end == '\0';
    options.slots = unsigned(std::strtoul(argv[3], &end, 10));
    bool slots_ok = *end == '\0';
    options.quantum_us = std::strtoull(argv[4], &end, 10);
    if (!memory_ok || !stack_ok || !slots_ok || *end != '\0' || options.memory_bytes == 0 || options.stack_bytes < 64 * 1024 || options.slots == 0
        || options.slots > max_slots || options.quantum_us > max_quantum_us) {
        std::fprintf(stderr, "signet-domain: bad memory size, stack size, slot count or quantum\n");
        return int(HostExit::BadArguments);
    }
    for (int i = 5; i + 1 < argc; i += 2)
        options.images.push_back({ argv[i], argv[i + 1] });
    if (options.images.size() > max_images) {
        std::fprintf(stderr, "signet-domain: more than %u images\n", max_images);
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
