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
        send(ring::ToKernelType::Hello, 0, ring::encode(ring::Route {}, hello));
    } else if (name == "hostile-eager") {
        ring::Call call;
        call.function = 0;
        send(ring::ToKernelType::Call, 1, ring::encode(ring::Route { 1, 1 }, call));
    } else if (name == "hostile-caller") {
        send(ring::ToKernelType::Hello, 0, ring::encode(ring::Route {}, hello));
        ring::Call call;
        call.function = 9999;
        send(ring::ToKernelType::Call, 1, ring::encode(ring::Route { 1, 1 }, call));
    } else if (name == "hostile-stranger" || name == "hostile-threadless" || name == "hostile-twice") {
        // Well-formed calls (abi_version, no arguments) on routes that are wrong:
        // a SIP that is not in the domain, a thread its SIP does not have, a
        // second call from one thread before the first is answered.
        send(ring::ToKernelType::Hello, 0, ring::encode(ring::Route {}, hello));
        ring::Call call;
        call.function = 0;
        ring::Route route { 1, 1 };
        if (name == "hostile-stranger")
            route = { 99, 1 };
        else if (name == "hostile-threadless")
            route = { 1, 7 };
        if (name == "hostile-twice") {
            // Two published before one ring, once the kernel has read the hello
            // and sleeps: it reads the second while the first is unanswered. (Should
            // it see the first alone, it answers it; the next pair tries again.)
            for (uint32_t sequence = 1; sequence < 100; sequence += 2) {
                ::usleep(100'000);
                (void)ring.try_send(uint16_t(ring::ToKernelType::Call), sequence, ring::encode(route, call));
                (void)ring.try_send(uint16_t(ring::ToKernelType::Call), sequence + 1, ring::encode(route, call));
                to_kernel.ring();
            }
        } else {
            send(ring::ToKernelType::Call, 1, ring::encode(route, call));
        }
    } else if (name == "hostile-overclaim" || name == "hostile-backwards" || name == "hostile-short-report") {
        // CPU-time reports for SIP 1 that the kernel must refuse: an hour, more
        // than this process can have used; a total that goes back; a report cut short.
        send(ring::ToKernelType::Hello, 0, ring::encode(ring::Route {}, hello));
        if (name == "hostile-overclaim") {
            send(ring::ToKernelType::CpuUsed, 0, ring::encode(ring::Route { 1, 0 }, ring::CpuUsed { 3'600'000'000'000ull }));
        } else if (name == "hostile-backwards") {
            // 1 us, surely no more than the process used by now; then less.
            send(ring::ToKernelType::CpuUsed, 0, ring::encode(ring::Route { 1, 0 }, ring::CpuUsed { 1000 }));
            send(ring::ToKernelType::CpuUsed, 0, ring::encode(ring::Route { 1, 0 }, ring::CpuUsed { 10 }));
        } else {
            auto report = ring::encode(ring::Route { 1, 0 }, ring::CpuUsed { 1000 });
            report.resize(12);
            send(ring::ToKernelType::CpuUsed, 0, report);
        }
    } else if (name == "hostile-crash") {
        send(ring::ToKernelType::Hello, 0, ring::encode(ring::Route {}, hello));
        ::usleep(50'000);
        std::abort();
    }
    // Then sit there: the kernel must end this process.
    for (;;)
        ::pause();
}
