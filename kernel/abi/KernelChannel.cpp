#include "kernel/abi/KernelChannel.h"
#include "kernel/abi/Abi.h"
#include "kernel/object/Thread.h"

#include "base/Copy.h"

#include <cstring>

namespace signet::abi {

namespace cx = signet::contracts;

int32_t kernel_send(Endpoint& endpoint, uint16_t id, std::span<uint8_t const> bytes)
{
    auto const& contract = endpoint.contract_type().contract;
    if (id < 1 || id > contract.messages.size())
        return SIGNET_INVALID_ARGUMENT;
    auto const& message = contract.messages[id - 1];
    for (auto const& argument : message.arguments) {
        if (argument.type.kind == cx::TypeKind::Endpoint || argument.type.kind == cx::TypeKind::Block)
            return SIGNET_INVALID_ARGUMENT;
    }
    if (cx::validate_message_buffer(message, bytes).is_error())
        return SIGNET_INVALID_ARGUMENT;
    Channel& channel = endpoint.channel();
    cx::Action action = endpoint.end() == cx::End::Exp ? cx::Action::Send : cx::Action::Receive;
    std::lock_guard guard(channel.lock());
    cx::Edge const* edge = nullptr;
    for (auto const& candidate : contract.machine.states[channel.state()].edges) {
        if (candidate.message == id - 1 && candidate.action == action)
            edge = &candidate;
    }
    if (!edge || channel.front(endpoint))
        return SIGNET_PROTOCOL;
    Endpoint* peer = channel.peer_of(endpoint);
    if (!peer)
        return SIGNET_CLOSED;
    VERIFY(channel.has_room(*peer));
    QueuedMessage& slot = channel.push_slot(*peer);
    slot.id = id;
    slot.length = static_cast<uint32_t>(bytes.size());
    if (!bytes.empty())
        copy_bytes(slot.bytes.data(), bytes.data(), bytes.size());
    channel.set_state(edge->target);
    if (Thread* waiter = channel.waiter(*peer))
        waiter->worker().wake(*waiter);
    return SIGNET_OK;
}

int32_t kernel_receive(Endpoint& endpoint, uint16_t& id, std::vector<uint8_t>& bytes)
{
    Channel& channel = endpoint.channel();
    Thread* self = Worker::current_thread();
    VERIFY(self);
    for (;;) {
        {
            std::lock_guard guard(channel.lock());
            if (QueuedMessage* message = channel.front(endpoint)) {
                channel.clear_waiter(endpoint, self);
                if (!message->carried.empty())
                    return SIGNET_IO;
                id = message->id;
                bytes.assign(message->bytes.begin(), message->bytes.begin() + message->length);
                channel.pop(endpoint);
                return SIGNET_OK;
            }
            if (channel.peer_gone(endpoint) || self->kill_requested()) {
                channel.clear_waiter(endpoint, self);
                return SIGNET_CLOSED;
            }
            if (Thread* waiter = channel.waiter(endpoint); waiter && waiter != self)
                return SIGNET_IO; // Another thread waits on this end.
            channel.set_waiter(endpoint, self);
        }
        Worker::block_current();
    }
}

int32_t kernel_call(Endpoint& endpoint, uint16_t id, std::span<uint8_t const> request, uint16_t& reply_id, std::vector<uint8_t>& reply)
{
    if (int32_t status = kernel_send(endpoint, id, request); status != SIGNET_OK)
        return status;
    return kernel_receive(endpoint, reply_id, reply);
}

} // namespace signet::abi
