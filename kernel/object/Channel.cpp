#include "kernel/object/Channel.h"
#include "kernel/object/Thread.h"
#include "kernel/sched/Worker.h"

#include <unordered_map>

namespace signet {

static std::atomic<uint64_t> s_live_channels { 0 };

uint64_t Channel::live_count()
{
    return s_live_channels.load(std::memory_order_relaxed);
}

Channel::Channel(std::shared_ptr<ContractType const> type, ChannelCharge charge)
    : m_type(std::move(type))
    , m_charge(std::move(charge))
{
    s_live_channels.fetch_add(1, std::memory_order_relaxed);
}

Channel::~Channel()
{
    s_live_channels.fetch_sub(1, std::memory_order_relaxed);
}

// At least one slot each way, so a terminal message fits.
static uint32_t slots_for(uint32_t bound)
{
    return std::max<uint32_t>(bound, 1);
}

uint64_t Channel::inbox_bytes(ContractType const& type)
{
    auto const& bounds = type.contract.bounds;
    return uint64_t(slots_for(bounds.importer_to_exporter) + slots_for(bounds.exporter_to_importer)) * type.largest_message;
}

std::pair<std::shared_ptr<Endpoint>, std::shared_ptr<Endpoint>> Channel::create(std::shared_ptr<ContractType const> type, ChannelCharge charge)
{
    auto channel = std::shared_ptr<Channel>(new Channel(std::move(type), std::move(charge)));
    auto importer = std::shared_ptr<Endpoint>(new Endpoint(channel, contracts::End::Imp));
    auto exporter = std::shared_ptr<Endpoint>(new Endpoint(channel, contracts::End::Exp));
    auto const& contract = channel->m_type->contract;
    // Room for the most endpoints and blocks one message carries, so that a send
    // that carries them does not allocate either.
    size_t most_carried = 0;
    for (auto const& message : contract.messages) {
        size_t carried = 0;
        for (auto const& argument : message.arguments)
            carried += argument.type.kind == contracts::TypeKind::Endpoint || argument.type.kind == contracts::TypeKind::Block;
        most_carried = std::max(most_carried, carried);
    }
    // Inboxes hold what the other end may have in flight: the exporter receives
    // what the importer sends.
    auto allocate = [&](Endpoint& endpoint, uint32_t bound) {
        endpoint.m_inbox.resize(slots_for(bound));
        for (auto& slot : endpoint.m_inbox) {
            slot.bytes.resize(channel->m_type->largest_message);
            slot.carried.reserve(most_carried);
        }
    };
    allocate(*exporter, contract.bounds.importer_to_exporter);
    allocate(*importer, contract.bounds.exporter_to_importer);
    channel->m_ends = { importer.get(), exporter.get() };
    return { importer, exporter };
}

namespace {

// The host waiters, by the end each waits on. Entries come and go under their
// channel's lock (and this one), so a waiter found here is registered and alive.
std::mutex s_host_waiters_lock;
std::unordered_map<Endpoint const*, HostWaiter*> s_host_waiters;

// Under the end's channel lock.
void release_host_waiter(Endpoint const& endpoint)
{
    std::lock_guard guard(s_host_waiters_lock);
    if (auto found = s_host_waiters.find(&endpoint); found != s_host_waiters.end())
        found->second->signal.release();
}

} // namespace

void Channel::set_host_waiter(Endpoint& endpoint, HostWaiter* waiter)
{
    std::lock_guard guard(s_host_waiters_lock);
    endpoint.m_host_waits = waiter != nullptr;
    if (waiter)
        s_host_waiters[&endpoint] = waiter;
    else
        s_host_waiters.erase(&endpoint);
}

QueuedMessage& Channel::push_slot(Endpoint& receiver)
{
    // head < size and count < size: one subtraction wraps (no division on the hot path).
    size_t index = receiver.m_head + receiver.m_count;
    if (index >= receiver.m_inbox.size())
        index -= receiver.m_inbox.size();
    ++receiver.m_count;
    // Messages to a host waiter always come this way (it has no PendingReceive).
    if (receiver.m_host_waits) [[unlikely]]
        release_host_waiter(receiver);
    return receiver.m_inbox[index];
}

void Channel::pop(Endpoint& receiver)
{
    auto& slot = receiver.m_inbox[receiver.m_head];
    slot.carried.clear();
    if (++receiver.m_head == receiver.m_inbox.size())
        receiver.m_head = 0;
    --receiver.m_count;
}

std::shared_ptr<EndpointHolder const> const& EndpointHolder::in_transit()
{
    static auto const holder = std::make_shared<EndpointHolder const>();
    return holder;
}

void Endpoint::close()
{
    // Endpoints in flight to a closed end are closed too. A hostile SIP can nest
    // them deeply (an endpoint in a message to an endpoint in a message ...), so
    // this walks a work list instead of recursing.
    std::vector<std::shared_ptr<KernelObject>> work;
    close_into(work);
    while (!work.empty()) {
        auto object = std::move(work.back());
        work.pop_back();
        // Blocks in flight are simply dropped (their pages go back to the host).
        if (object->type() == ObjectType::Endpoint)
            static_cast<Endpoint&>(*object).close_into(work);
    }
}

void Endpoint::close_into(std::vector<std::shared_ptr<KernelObject>>& dropped)
{
    std::lock_guard guard(m_channel->m_lock);
    if (m_closed)
        return;
    // 1. Detach this end and take what waits in its inbox.
    m_closed = true;
    m_channel->m_ends[static_cast<size_t>(m_end)] = nullptr;
    while (m_count) {
        auto& slot = m_inbox[m_head];
        for (auto& carried : slot.carried)
            dropped.push_back(std::move(carried));
        slot.carried.clear();
        m_head = (m_head + 1) % m_inbox.size();
        --m_count;
    }
    // 2. Wake the peer, which may be waiting for a message that will never come.
    //    Waiters unregister under this lock, so the pointer is live here.
    if (Endpoint* peer = m_channel->m_ends[1 - static_cast<size_t>(m_end)]) {
        if (peer->m_waiter)
            Worker::wake(*peer->m_waiter);
        if (peer->m_host_waits)
            release_host_waiter(*peer);
    }
}

Endpoint::~Endpoint()
{
    close();
}

} // namespace signet
