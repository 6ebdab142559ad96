// Serving a SIP's domain process from its proxy thread (DomainSip.h).
#include "kernel/domain/DomainSip.h"

#include "kernel/domain/DomainCalls.h"
#include "kernel/domain/DomainProcess.h"
#include "kernel/object/Thread.h"
#include "kernel/sched/Worker.h"
#include "runtime/ring/Protocol.h"

#include <atomic>

namespace signet {

namespace {

class Server {
public:
    Server(Sip& sip, DomainProcess& domain)
        : m_sip(sip)
        , m_domain(domain)
    {
    }

    // Runs on the proxy SIP's only thread until the SIP ends. An ABI call may
    // end the thread instead of returning (exit, a trap the kernel imposes, a
    // kill while blocked): the SIP's on-finish hook then ends the process.
    void run()
    {
        m_sip.runtime().wasm_memory = &m_domain.memory();
        // A death while this thread is blocked inside a call ends the SIP at once.
        // The hook is cleared by terminate(), which the SIP's finish always runs,
        // so it never outlives the SIP.
        m_domain.on_death([&sip = m_sip](std::string const& why) {
            sip.record_exit({ ExitInfo::How::Killed, 0, TrapKind::None, "its domain process died: " + why });
            sip.request_kill();
        });
        // Its CPU-time limit covers what it computes in the domain too.
        if (uint64_t limit = m_sip.limits().cpu_time_ns) {
            m_domain.limit_cpu(limit, [&sip = m_sip, limit] {
                sip.record_exit({ ExitInfo::How::Killed, 0, TrapKind::None,
                    "exceeded its CPU time limit of " + std::to_string(limit / 1'000'000) + " ms (in its domain)" });
                sip.request_kill();
            });
        }
        Thread* self = Worker::current_thread();
        for (;;) {
            if (self->kill_requested()) {
                m_domain.terminate();
                return;
            }
            auto frame = m_domain.ring().receive();
            if (frame.is_error()) {
                end("broke its ring: " + frame.error().message());
                return;
            }
            if (!frame.value()) {
                // Everything it published is handled; only now does its death count.
                if (auto death = m_domain.death()) {
                    end("died: " + *death);
                    return;
                }
                m_domain.wait();
                continue;
            }
            auto message = ring::decode_to_kernel(*frame.value());
            if (message.is_error()) {
                end("sent a malformed message: " + message.error().message());
                return;
            }
            if (!handle(frame.value()->sequence, message.value()))
                return;
        }
    }

private:
    // Returns false when the SIP is over.
    bool handle(uint32_t sequence, ring::ToKernel const& message)
    {
        if (auto const* hello = std::get_if<ring::Hello>(&message)) {
            if (m_hello)
                return end("said hello twice");
            if (hello->version != ring::protocol_version || hello->call_count != ring::abi_call_count || hello->call_fingerprint != ring::abi_call_fingerprint())
                return end("speaks another protocol (version " + std::to_string(hello->version) + ", " + std::to_string(hello->call_count) + " ABI functions)");
            if (!hello->sealed)
                return end("did not seal itself");
            // Said once per kernel: every domain on this Linux is in the same position.
            static std::atomic<bool> s_told { false };
            if (hello->sealed == 2 && !s_told.exchange(true))
                (void)m_sip.kernel().diagnostics().write("signet: note: this Linux has no Landlock; domain processes are sealed by seccomp alone (no file or network restriction beyond it)\n");
            m_hello = true;
            m_domain.mark_hello();
            return reply(ring::ToDomainType::Start, 0, {});
        }
        if (!m_hello)
            return end("sent a request before its hello");
        if (auto const* call = std::get_if<ring::Call>(&message)) {
            uint64_t result = execute_domain_call(m_sip, call->function, call->arguments);
            return reply(ring::ToDomainType::Result, sequence, ring::encode(ring::Result { result }));
        }
        if (auto const* grow = std::get_if<ring::GrowMemory>(&message)) {
            auto& memory = m_domain.memory();
            bool ok = grow->pages >= memory.pages && grow->pages <= memory.max_pages
                && grow->pages * 65536 <= std::min(m_domain.memory_limit(), m_sip.limits().memory_bytes);
            if (ok) {
                memory.pages = uint32_t(grow->pages);
                memory.size = uint32_t(grow->pages * 65536);
            }
            return reply(ring::ToDomainType::Result, sequence, ring::encode(ring::Result { ok ? 1u : 0u }));
        }
        auto const& ended = std::get<ring::Ended>(message);
        if (ended.how == ring::Ended::How::Returned) {
            m_sip.record_exit({ ExitInfo::How::Exited, 0, TrapKind::None, {} });
        } else {
            auto kind = TrapKind(ended.trap_kind);
            if (ended.trap_kind == 0 || ended.trap_kind > uint32_t(TrapKind::UseAfterSend))
                return end("reported trap kind " + std::to_string(ended.trap_kind) + ", which does not exist");
            m_sip.record_exit({ ExitInfo::How::Trapped, 0, kind, ended.detail });
        }
        m_domain.terminate();
        return false;
    }

    bool reply(ring::ToDomainType type, uint32_t sequence, std::vector<uint8_t> const& payload)
    {
        auto sent = m_domain.ring().try_send(uint16_t(type), sequence, payload);
        if (sent.is_error())
            return end("broke its ring: " + sent.error().message());
        // One call at a time: a full reply ring means the domain stopped reading.
        if (!sent.value())
            return end("stopped reading its replies");
        m_domain.ring_doorbell();
        return true;
    }

    bool end(std::string const& why)
    {
        m_domain.terminate();
        m_sip.record_exit({ ExitInfo::How::Killed, 0, TrapKind::None, "its domain process " + why });
        return false;
    }

    Sip& m_sip;
    DomainProcess& m_domain;
    bool m_hello { false };
};

} // namespace

DomainPlacement DomainPlacement::parse(std::string const& text)
{
    if (text.empty() || text == "kernel")
        return { Kind::Kernel, {} };
    if (text == "own")
        return { Kind::Own, {} };
    return { Kind::Named, text };
}

std::string DomainPlacement::describe() const
{
    switch (kind) {
    case Kind::Kernel:
        return "the kernel domain";
    case Kind::Own:
        return "a domain of its own";
    case Kind::Named:
        return "domain '" + name + "'";
    }
    return "?";
}

ErrorOr<void> place_in_domain(SpawnRequest& request, DomainPlacement const& placement, std::string host_executable)
{
    if (placement.kind == DomainPlacement::Kind::Kernel)
        return {};
    if (placement.kind == DomainPlacement::Kind::Named)
        return Error(ErrorKind::Unsupported, "cannot place " + request.name + " in " + placement.describe() + ": domains shared by several SIPs are not supported yet (use 'own' or 'kernel')");
    if (!request.image || request.image->path().empty())
        return Error::invalid("cannot place " + request.name + " in a domain: it has no image in the store");
    if (request.host_entry)
        return Error::invalid("cannot place " + request.name + " in a domain: a host-driven SIP runs in the kernel");
    DomainLaunch launch;
    launch.host_executable = host_executable.empty() ? DomainProcess::default_host_executable() : host_executable;
    launch.image_path = request.image->path();
    launch.module_hash = request.image->module_hash();
    launch.memory_bytes = request.limits.memory_bytes;
    launch.stack_bytes = request.limits.stack_bytes;
    auto domain = TRY(DomainProcess::start(launch));
    request.image = Image::remote(launch.image_path, launch.module_hash);
    request.host_entry = [domain](Sip& sip) { Server(sip, *domain).run(); };
    request.on_finish = [domain] { domain->terminate(); };
    return {};
}

ErrorOr<std::shared_ptr<Sip>> spawn_in_domain(Kernel& kernel, SpawnRequest request, DomainPlacement const& placement, std::string host_executable)
{
    TRY(place_in_domain(request, placement, std::move(host_executable)));
    return kernel.spawn(std::move(request));
}

} // namespace signet
