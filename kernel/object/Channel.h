// Channels: the only way SIPs communicate.
//
// A channel has exactly two endpoints, Imp (the importer, the client) and
// Exp (the exporter, the server), and one contract. The contract's state
// machine is the channel's protocol; the channel keeps its current state.
// Every send is checked against it: the checker guarantees no state both sends
// and receives, so sends from the two ends can never race and one state for
// the whole channel is exact.
//
// Each endpoint has an inbox of messages sent *to* it, with room for the
// contract's bound in that direction allocated when the channel is created: a
// send never blocks and never allocates. The bound holds because an end may
// send only once its inbox is empty (it has received what gave it the turn):
// what waits in an inbox is then one run of its peer's sends, and the
// contract's bound is the longest run (docs/contracts.md, the finiteness rule).
//
// Locking: one spin lock per channel guards both endpoints' inboxes, waiters
// and the protocol state; what it guards is a few loads and stores and a
// wake-up, never a block. Handle tables are locked inside a channel lock,
// never the other way around.
#pragma once

#include "contracts/Contract.h"
#include "kernel/object/ChannelAccount.h"
#include "kernel/object/HandleTable.h"
#include "kernel/object/KernelObject.h"

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <vector>

namespace signet {

class Thread;
class Channel;
// A receive blocked on an endpoint that a send may complete directly (defined
// where receives are: kernel/abi/AbiChannel.cpp).
struct PendingReceive;

// Who holds an endpoint: what its peer may learn with signet_channel_peer_principal.
struct EndpointHolder {
    uint64_t sip_id { 0 }; // 0: the endpoint is travelling in a message
    std::string principal;
    // The holder every endpoint has while it travels in a message.
    static std::shared_ptr<EndpointHolder const> const& in_transit();
};

// A checked contract, shared by every channel that speaks it.
struct ContractType {
    contracts::Contract contract;
    std::string descriptor_hash;
    // Per message, per argument: for an endpoint argument, the descriptor hash of
    // the contract it names (that contract as a root, with its own closure): what
    // the descriptor_hash of an endpoint sent there must be. Empty for `any` and
    // for arguments that are not endpoints.
    std::vector<std::vector<std::string>> endpoint_hashes;
    uint32_t descriptor_bytes { 0 };
    uint32_t largest_message { 0 };
};

// A host thread (not a fiber) waiting on an end the kernel holds: a message
// put in that end's inbox, or its peer's close, releases it.
struct HostWaiter {
    std::counting_semaphore<> signal { 0 };
};

struct QueuedMessage {
    uint16_t id { 0 };
    uint32_t length { 0 };
    std::vector<uint8_t> bytes;                        // capacity: the contract's largest message
    // Endpoints and exchange-heap blocks travelling in the message, in argument order.
    std::vector<std::shared_ptr<KernelObject>> carried;
};

class Endpoint final : public KernelObject {
public:
    static constexpr ObjectType object_type = ObjectType::Endpoint;
    ObjectType type() const override { return ObjectType::Endpoint; }

    ~Endpoint() override;

    Channel& channel() const { return *m_channel; }
    contracts::End end() const { return m_end; }
    ContractType const& contract_type() const;

    // Who holds this end now: a SIP, EndpointHolder::in_transit() while it travels
    // in a message, or nullptr while the kernel itself holds it (an end the host
    // made and has not given to a SIP). Set wherever an end changes hands (channel
    // creation, send, receive, a startup handle); written without the channel's
    // lock (a send moves ends of other channels), hence atomic.
    void set_holder(std::shared_ptr<EndpointHolder const> holder) { m_holder.store(std::move(holder)); }
    std::shared_ptr<EndpointHolder const> holder() const { return m_holder.load(); }

    // Closes this end: the peer drains what was sent, then sees CLOSED.
    // Messages waiting in this end's inbox are dropped, with any endpoints in them.
    void close();

private:
    void close_into(std::vector<std::shared_ptr<KernelObject>>& dropped);

    friend class Channel;
    Endpoint(std::shared_ptr<Channel> channel, contracts::End end)
        : m_channel(std::move(channel))
        , m_end(end)
    {
    }

    std::shared_ptr<Channel> m_channel;
    contracts::End m_end;
    std::atomic<std::shared_ptr<EndpointHolder const>> m_holder;

    // Guarded by the channel's lock.
    std::vector<QueuedMessage> m_inbox; // ring
    uint32_t m_head { 0 };
    uint32_t m_count { 0 };
    bool m_closed { false };
    // A host thread waits on this end (its HostWaiter is in Channel.cpp's table):
    // a flag in what was padding, so that the hot path's layout stays as it was
    // (a pointer here made the round trip ~8% slower).
    bool m_host_waits { false };
    Thread* m_waiter { nullptr };
    PendingReceive* m_pending { nullptr }; // only with m_waiter, whose receive it describes
};

class Channel {
public:
    // Creates a channel and its two endpoints, with the inboxes allocated. `charge`
    // (what its creating SIP was charged, kernel/object/ChannelAccount.h) is given
    // back when the channel is destroyed.
    static std::pair<std::shared_ptr<Endpoint>, std::shared_ptr<Endpoint>> create(std::shared_ptr<ContractType const>, ChannelCharge charge = {});
    ~Channel();

    // Named limit: the kernel memory one channel's inboxes may take. Every slot
    // holds the contract's largest message, and there are as many as the bounds
    // say. channel_create refuses a contract above it (LIMIT).
    // The sum over all the channels a SIP creates has a limit of its own
    // (SipLimits::channel_bytes, charged by ChannelAccount).
    static constexpr uint64_t max_inbox_bytes = 16ull << 20;
    // What create() allocates for the inboxes of a channel of `type`.
    static uint64_t inbox_bytes(ContractType const&);

    // Channels in existence in this process (until both endpoints are freed):
    // what tests and diagnostics use to see that nothing leaks.
    static uint64_t live_count();

    ContractType const& type() const { return *m_type; }
    SpinLock& lock() { return m_lock; }

    // All of these need lock() held.
    uint16_t state() const { return m_state; }
    void set_state(uint16_t state) { m_state = state; }
    Endpoint* end(contracts::End end) const { return m_ends[static_cast<size_t>(end)]; }
    Endpoint* peer_of(Endpoint const& endpoint) const { return m_ends[1 - static_cast<size_t>(endpoint.end())]; }
    bool has_room(Endpoint const& receiver) const { return receiver.m_count < receiver.m_inbox.size(); }
    // Reserves the next free inbox slot of `receiver` (has_room() must hold).
    QueuedMessage& push_slot(Endpoint& receiver);
    QueuedMessage* front(Endpoint& receiver) { return receiver.m_count ? &receiver.m_inbox[receiver.m_head] : nullptr; }
    void pop(Endpoint& receiver);
    bool peer_gone(Endpoint const& endpoint) const { return peer_of(endpoint) == nullptr; }
    // The thread waiting for a message on `endpoint`, and, if a send may hand it
    // its message directly, what its receive asked for. Setting the waiter
    // always sets (or clears) both.
    Thread* waiter(Endpoint const& endpoint) const { return endpoint.m_waiter; }
    PendingReceive* pending_receive(Endpoint const& endpoint) const { return endpoint.m_pending; }
    void set_waiter(Endpoint& endpoint, Thread* waiter, PendingReceive* pending = nullptr)
    {
        endpoint.m_waiter = waiter;
        endpoint.m_pending = waiter ? pending : nullptr;
    }
    // Clears the registration of `waiter`, if it is the one registered.
    void clear_waiter(Endpoint& endpoint, Thread const* waiter)
    {
        if (endpoint.m_waiter == waiter)
            set_waiter(endpoint, nullptr);
    }
    // The host thread waiting on an end the kernel holds (one at most; null: none).
    void set_host_waiter(Endpoint& endpoint, HostWaiter* waiter);

private:
    friend class Endpoint;
    Channel(std::shared_ptr<ContractType const>, ChannelCharge);

    SpinLock m_lock;
    std::shared_ptr<ContractType const> m_type;
    uint16_t m_state { 0 };
    std::array<Endpoint*, 2> m_ends { nullptr, nullptr };
    ChannelCharge m_charge; // released with the channel: after both ends are gone
};

inline ContractType const& Endpoint::contract_type() const
{
    return m_channel->type();
}

} // namespace signet
