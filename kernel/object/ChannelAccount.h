// What the channels a SIP creates cost the kernel, held to the SIP's limit
// (SipLimits::channel_bytes, the manifest's limits.channel_memory).
//
// channel_create charges the creator for both inboxes of the new channel, and
// for its contract, when it creates it; the charge travels with the channel
// (whoever holds its ends later) and is given back when the channel is
// destroyed, after both ends are gone. Nothing is charged or released on the
// send and receive path: a channel's inboxes are allocated once, at creation.
//
// The account is shared: the SIP holds it, and so does every channel it
// created, since a channel may outlive its creator.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace signet {

struct ContractType;

class ChannelAccount {
public:
    explicit ChannelAccount(uint64_t limit_bytes)
        : m_limit(limit_bytes)
    {
    }

    uint64_t limit() const { return m_limit; }
    uint64_t used() const { return m_used.load(std::memory_order_relaxed); }

    // What a channel of `type` is charged: its inboxes (Channel::inbox_bytes),
    // the slots and endpoints that hold them, and its contract's descriptor,
    // which stands for the decoded contract the channel keeps alive.
    static uint64_t cost(ContractType const&);

    // Charges `bytes` if they fit under the limit: whether they did. Once refused,
    // asks its caller to report it only until a charge succeeds again (a SIP that
    // retries in a loop is reported once).
    bool try_charge(uint64_t bytes, bool& report_refusal)
    {
        uint64_t used = m_used.load(std::memory_order_relaxed);
        do {
            if (bytes > m_limit || used > m_limit - bytes) {
                report_refusal = !m_refused.exchange(true, std::memory_order_relaxed);
                return false;
            }
        } while (!m_used.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
        m_refused.store(false, std::memory_order_relaxed);
        return true;
    }

    void release(uint64_t bytes) { m_used.fetch_sub(bytes, std::memory_order_relaxed); }

private:
    uint64_t const m_limit;
    std::atomic<uint64_t> m_used { 0 };
    std::atomic<bool> m_refused { false };
};

// One channel's charge: given back to its account when destroyed (with the channel).
class ChannelCharge {
public:
    ChannelCharge() = default;
    ChannelCharge(std::shared_ptr<ChannelAccount> account, uint64_t bytes)
        : m_account(std::move(account))
        , m_bytes(bytes)
    {
    }
    ChannelCharge(ChannelCharge&& other) noexcept
        : m_account(std::move(other.m_account))
        , m_bytes(other.m_bytes)
    {
        other.m_bytes = 0;
    }
    ChannelCharge& operator=(ChannelCharge&&) = delete;
    ChannelCharge(ChannelCharge const&) = delete;
    ~ChannelCharge()
    {
        if (m_account)
            m_account->release(m_bytes);
    }

private:
    std::shared_ptr<ChannelAccount> m_account;
    uint64_t m_bytes { 0 };
};

} // namespace signet
