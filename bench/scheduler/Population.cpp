#include "bench/scheduler/Population.h"
#include "kernel/object/Channel.h"

#include "population.h"

#include <algorithm>
#include <thread>

namespace signet::bench {

ErrorOr<size_t> LineCounter::write(std::span<uint8_t const> bytes)
{
    if (m_lines.load(std::memory_order_relaxed) == 0) {
        std::lock_guard guard(m_lock);
        if (m_first.empty())
            m_first.assign(bytes.begin(), std::find(bytes.begin(), bytes.end(), uint8_t('\n')));
    }
    m_lines.fetch_add(static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), uint8_t('\n'))), std::memory_order_acq_rel);
    return bytes.size();
}

std::string LineCounter::first_line() const
{
    std::lock_guard guard(m_lock);
    return m_first;
}

Population::Population(Kernel& kernel, std::shared_ptr<Image> members, Options options)
    : m_kernel(kernel)
    , m_image(std::move(members))
    , m_options(options)
{
}

Population::~Population()
{
    open_gates();
    for (auto const& sip : m_created)
        m_kernel.kill(*sip);
    for (auto const& sip : m_created)
        sip->wait_from_host();
}

ErrorOr<void> Population::start()
{
    auto ping_pong = TRY(m_kernel.contract_type({ PingPong_descriptor, PingPong_DESCRIPTOR_SIZE }));
    auto gate = TRY(m_kernel.contract_type({ Gate_descriptor, Gate_DESCRIPTOR_SIZE }));
    auto create = [&](char const* role, std::vector<std::shared_ptr<Endpoint>> handles) -> ErrorOr<std::shared_ptr<Sip>> {
        SpawnRequest request;
        request.image = m_image;
        request.name = "members";
        request.args = { "members", role, std::to_string(m_options.rounds_before_gate), std::to_string(m_options.rounds_after_gate) };
        request.stdio = Stdio::host();
        request.stdio.in = nullptr;
        request.stdio.out = m_ready;
        request.limits = m_options.limits;
        auto sip = TRY(m_kernel.create_sip(std::move(request)));
        for (auto& handle : handles)
            sip->adopt_startup_handle(std::move(handle));
        return sip;
    };

    // Block by block, so that a population too large for the process stops where
    // the first SIP cannot be created or started. A block is one pair, or, to put
    // both ends of a pair on one of W workers, W pairs started pingers first.
    size_t block = m_options.placement == Placement::Together ? m_kernel.scheduler().worker_count() : 1;
    for (size_t first = 0; first < m_options.pairs; first += block) {
        size_t last = std::min(first + block, m_options.pairs);
        std::vector<std::shared_ptr<Sip>> pings, pongs;
        auto created = [&]() -> ErrorOr<void> {
            for (size_t i = first; i < last; ++i) {
                auto [importer, exporter] = Channel::create(ping_pong);
                std::vector<std::shared_ptr<Endpoint>> ping_handles { importer };
                if (m_options.gated) {
                    auto [gate_importer, gate_exporter] = Channel::create(gate);
                    m_gates.push_back(gate_importer);
                    ping_handles.push_back(gate_exporter);
                }
                pings.push_back(TRY(create("ping", std::move(ping_handles))));
                pongs.push_back(TRY(create("pong", { exporter })));
            }
            return {};
        }();
        m_created.insert(m_created.end(), pings.begin(), pings.end());
        m_created.insert(m_created.end(), pongs.begin(), pongs.end());
        std::vector<std::shared_ptr<Sip>> order = pings;
        order.insert(order.end(), pongs.begin(), pongs.end());
        for (size_t i = 0; i < order.size(); ++i) {
            auto started = created.is_error() ? ErrorOr<void>(created.error()) : m_kernel.start(*order[i]);
            if (started.is_error()) {
                // Those never started hold their channels' other ends: ending them lets their partners end too.
                for (size_t j = i; j < order.size(); ++j)
                    m_kernel.kill(*order[j]);
                return started.release_error();
            }
            m_sips.push_back(order[i]);
            if (i < pings.size())
                m_started_pings.push_back(order[i]);
        }
    }
    return {};
}

bool Population::wait_ready(std::chrono::seconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (ready() >= m_started_pings.size())
            return true;
        // A pinger that ended never gets to its gate: count those too (scanning is slow, so seldom).
        size_t ended = 0;
        for (auto const& ping : m_started_pings)
            ended += ping->state() == Sip::State::Finished ? 1 : 0;
        if (ready() + ended >= m_started_pings.size())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

void Population::open_gates()
{
    for (auto& gate : m_gates)
        gate->close();
    m_gates.clear();
}

size_t Population::finished_count() const
{
    return static_cast<size_t>(std::count_if(m_sips.begin(), m_sips.end(), [](auto const& sip) { return sip->state() == Sip::State::Finished; }));
}

bool Population::wait_finished(std::chrono::seconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (finished_count() < m_sips.size()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

void Population::wait_all()
{
    for (auto const& sip : m_sips)
        sip->wait_from_host();
}

size_t Population::failures(std::string* first_failure) const
{
    size_t failed = 0;
    for (auto const& sip : m_sips) {
        if (sip->state() != Sip::State::Finished)
            continue;
        auto exit = sip->exit_info();
        if (exit.how == ExitInfo::How::Exited && exit.status == 0)
            continue;
        if (failed++ == 0 && first_failure)
            *first_failure = "SIP " + std::to_string(sip->id()) + ": how " + std::to_string(static_cast<int>(exit.how)) + ", status "
                + std::to_string(exit.status) + ", trap " + trap_kind_name(exit.trap) + exit.detail;
    }
    return failed;
}

std::vector<std::pair<uintptr_t, uintptr_t>> Population::reservations() const
{
    std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
    for (auto const& sip : m_sips) {
        auto base = reinterpret_cast<uintptr_t>(sip->runtime().memory.base());
        if (base)
            ranges.emplace_back(base, base + LinearMemory::reservation_size);
    }
    return ranges;
}

uint64_t Population::committed_linear_bytes() const
{
    uint64_t total = 0;
    for (auto const& sip : m_sips)
        total += sip->runtime().memory.committed_bytes();
    return total;
}

} // namespace signet::bench
