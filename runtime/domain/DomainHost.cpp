// The domain host (DomainHost.h): one SIP, sealed, talking only to its ring.
#include "runtime/domain/DomainHost.h"

#include "runtime/FaultHandler.h"
#include "runtime/Image.h"
#include "runtime/LinearMemory.h"
#include "runtime/SipContext.h"
#include "runtime/domain/DomainCall.h"
#include "runtime/domain/DomainLaunch.h"
#include "runtime/ring/Protocol.h"
#include "runtime/seal/Seal.h"

#include <boost/context/detail/fcontext.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace signet::domain {

namespace fctx = boost::context::detail;

namespace {

// The one connection of this process. Only the SIP's thread uses it.
struct Connection {
    std::optional<ring::Ring> ring;
    ring::Doorbell to_kernel { to_kernel_fd };
    ring::Doorbell to_domain { to_domain_fd };
    uint32_t next_sequence { 1 };
};
Connection s_connection;

[[noreturn]] void broken(char const* what)
{
    // The standard streams lead nowhere once sealed: the kernel sees the exit status.
    (void)what;
    ::_exit(int(HostExit::RingBroken));
}

void send(ring::ToKernelType type, uint32_t sequence, std::vector<uint8_t> const& payload)
{
    for (;;) {
        auto sent = s_connection.ring->try_send(uint16_t(type), sequence, payload);
        if (sent.is_error())
            broken("send");
        if (sent.value())
            break;
        // Full: the kernel has not consumed yet; it rings us when it replies.
        s_connection.to_domain.wait(10);
    }
    s_connection.ring->notify(s_connection.to_kernel); // rings only if the kernel sleeps (Ring.h)
}

// Waits for the kernel's message about `sequence`: a Result, or the end.
ring::Frame wait_for(uint32_t sequence)
{
    for (;;) {
        auto frame = s_connection.ring->receive();
        if (frame.is_error())
            broken("receive");
        if (frame.value()) {
            auto& got = *frame.value();
            if (got.type == uint16_t(ring::ToDomainType::Unwind)) {
                // The kernel ended the SIP; it ends this process next. Run nothing more.
                for (;;)
                    s_connection.to_domain.wait(-1);
            }
            if (got.sequence != sequence)
                broken("sequence");
            return std::move(got);
        }
        s_connection.ring->wait(s_connection.to_domain, -1); // spins first, then sleeps (Ring.h)
    }
}

bool resize_memory(uint32_t pages)
{
    uint32_t sequence = s_connection.next_sequence++;
    send(ring::ToKernelType::GrowMemory, sequence, ring::encode(ring::GrowMemory { pages }));
    auto result = ring::decode_result(wait_for(sequence));
    return !result.is_error() && result.value().value == 1;
}

// The SIP's thread: its own stack with a guard below, its own trap target.
struct SipThread {
    SipContext context;
    TrapTarget target;
    std::shared_ptr<Image> image;
    void* instance { nullptr };
    fctx::fcontext_t host_context { nullptr };
};
SipThread* s_sip = nullptr;

void report_end(ring::Ended ended)
{
    send(ring::ToKernelType::Ended, s_connection.next_sequence++, ring::encode(ended));
    // The kernel ends this process once it has read the report.
    for (;;)
        s_connection.to_domain.wait(-1);
}

void sip_main(fctx::transfer_t transfer)
{
    s_sip->host_context = transfer.fctx;
    auto const& entry = s_sip->image->entry();
    int code = _setjmp(s_sip->target.jump_buffer);
    if (code == 0) {
        entry.instantiate(s_sip->instance, nullptr);
        if (entry.start)
            entry.start(s_sip->instance);
        report_end({ ring::Ended::How::Returned, 0, {} });
    }
    std::string detail;
    if (s_sip->target.fault_address) {
        char text[96];
        std::snprintf(text, sizeof text, " (fault address %p in the domain)", s_sip->target.fault_address);
        detail = text;
    }
    report_end({ ring::Ended::How::Trapped, uint32_t(code), detail });
}

void* map_shared(int fd, size_t bytes)
{
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? nullptr : p;
}

int fail(HostExit status, std::string const& message)
{
    std::fprintf(stderr, "signet-domain: %s\n", message.c_str());
    return int(status);
}

} // namespace

uint64_t forward(uint32_t function, uint64_t const* arguments, uint32_t count)
{
    ring::Call call;
    call.function = function;
    call.argument_count = count;
    for (uint32_t i = 0; i < count && i < ring::max_call_arguments; ++i)
        call.arguments[i] = arguments[i];
    uint32_t sequence = s_connection.next_sequence++;
    send(ring::ToKernelType::Call, sequence, ring::encode(call));
    auto result = ring::decode_result(wait_for(sequence));
    if (result.is_error())
        broken("result");
    return result.value().value;
}

int run_domain_host(HostOptions const& options)
{
    // 1. If the kernel goes, so does this process.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1)
        return fail(HostExit::BadArguments, "the kernel is already gone");

    // 2. Map what the kernel handed over: the ring, and the memory file the SIP's memory lives in.
    auto* region = static_cast<uint8_t*>(map_shared(ring_fd, ring::region_bytes));
    if (!region)
        return fail(HostExit::CannotMap, std::string("cannot map the ring: ") + std::strerror(errno));
    s_connection.ring.emplace(ring::Side::Domain, region);
    LinearMemory::set_shared_backing({ memory_fd, options.memory_bytes, resize_memory });

    // 3. Map the SIP's sealed image: the last executable mapping this process makes.
    auto image = Image::load(options.image_path, options.module_hash);
    if (image.is_error())
        return fail(HostExit::BadImage, image.error().message());
    static SipThread sip;
    s_sip = &sip;
    sip.image = image.release_value();
    sip.instance = std::calloc(1, sip.image->entry().instance_size);
    sip.context.memory_limit_bytes = options.memory_bytes;
    sip.context.text_low = sip.image->text_low();
    sip.context.text_high = sip.image->text_high();
    if (!sip.instance || prepare_thread_for_sip_code().is_error())
        return fail(HostExit::CannotMap, "cannot prepare the SIP's thread");
    size_t const guard = 64 * 1024;
    size_t stack_bytes = (options.stack_bytes + 4095) / 4096 * 4096;
    auto* stack = static_cast<uint8_t*>(::mmap(nullptr, guard + stack_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    if (stack == MAP_FAILED || ::mprotect(stack, guard, PROT_NONE) != 0)
        return fail(HostExit::CannotMap, "cannot map the SIP's stack");
    sip.context.stack = { uintptr_t(stack), uintptr_t(stack + guard), uintptr_t(stack + guard + stack_bytes) };
    sip.context.trap_target = &sip.target;

    // 4. Nothing but the ring: close any descriptor the kernel's process let through
    //    (one opened without O_CLOEXEC by any code in it would otherwise be a way out),
    //    point the standard streams at /dev/null, then seal.
    if (::close_range(to_domain_fd + 1, ~0u, 0) != 0)
        return fail(HostExit::CannotMap, std::string("cannot close inherited descriptors: ") + std::strerror(errno));
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0)
        return fail(HostExit::CannotMap, "cannot open /dev/null");
    auto sealed = seal::seal_domain();
    if (sealed.is_error())
        return fail(HostExit::CannotSeal, "cannot seal: " + sealed.error().message());
    ::dup2(null, 2);
    ::close(null);

    // 5. Hello; wait for Start.
    ring::Hello hello { ring::protocol_version, ring::abi_call_count, ring::abi_call_fingerprint(), sealed.value().filesystem_restricted ? 1u : 2u };
    send(ring::ToKernelType::Hello, 0, ring::encode(hello));
    auto start = wait_for(0);
    if (start.type != uint16_t(ring::ToDomainType::Start))
        broken("start");

    // 6. Run the SIP on its own stack. It never comes back: the kernel ends this process.
    current_sip_context = &sip.context;
    auto context = fctx::make_fcontext(stack + guard + stack_bytes, stack_bytes, sip_main);
    fctx::jump_fcontext(context, nullptr);
    broken("returned");
}

} // namespace signet::domain
