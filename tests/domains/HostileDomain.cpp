// A domain host that misbehaves, for the tests: what it does depends on the
// name it is started under (the tests link it under several names).
#include "runtime/domain/DomainLaunch.h"
#include "runtime/ring/Protocol.h"

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

using namespace signet;

int main(int, char** argv)
{
    std::string name = argv[0];
    name = name.substr(name.rfind('/') + 1);
    auto* region = static_cast<uint8_t*>(::mmap(nullptr, ring::region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, domain::ring_fd, 0));
    if (region == MAP_FAILED)
        return 1;
    ring::Ring ring(ring::Side::Domain, region);
    ring::Doorbell to_kernel(domain::to_kernel_fd);
    ring::Hello hello { ring::protocol_version, ring::abi_call_count, ring::abi_call_fingerprint(), 1 };
    auto send = [&](ring::ToKernelType type, uint32_t sequence, std::vector<uint8_t> const& payload) {
        (void)ring.try_send(uint16_t(type), sequence, payload);
        to_kernel.ring();
    };

    if (name == "hostile-garbage") {
        std::mt19937 random(4);
        for (size_t i = 0; i < ring::region_bytes; ++i)
            region[i] = uint8_t(random());
        to_kernel.ring();
    } else if (name == "hostile-unsealed") {
        hello.sealed = 0;
        send(ring::ToKernelType::Hello, 0, ring::encode(hello));
    } else if (name == "hostile-eager") {
        ring::Call call;
        call.function = 0;
        send(ring::ToKernelType::Call, 1, ring::encode(call));
    } else if (name == "hostile-caller") {
        send(ring::ToKernelType::Hello, 0, ring::encode(hello));
        ring::Call call;
        call.function = 9999;
        send(ring::ToKernelType::Call, 1, ring::encode(call));
    } else if (name == "hostile-crash") {
        send(ring::ToKernelType::Hello, 0, ring::encode(hello));
        ::usleep(50'000);
        std::abort();
    }
    // Then sit there: the kernel must end this process.
    for (;;)
        ::pause();
}
