// signet_v1 handles and channels.
//
// A send checks everything (handle, message id, direction, layout, contents,
// every endpoint it carries) before it takes the channel lock, then checks the
// protocol under the lock and commits in a step that cannot fail. A message
// the protocol does not allow is a protocol violation: the sender is stopped,
// and its peers see its channels close. The protocol is judged per endpoint:
// the channel's state says whose turn it is, and an end whose inbox still
// holds messages has not yet received what gave it the turn, so it may not
// send (nor travel) until it has. That is what keeps every inbox within the
// contract's bound (see Channel.h).
//
// Unwinding (a violation, a kill) skips destructors, so each call that may
// end its SIP does its work in an inner function and unwinds only after that
// function has returned and released everything it held.
#include "kernel/abi/Abi.h"
#include "base/Hot.h"
#include "kernel/object/Channel.h"
#include "kernel/object/Child.h"
#include "kernel/object/Net.h"
#include "kernel/NetPoller.h"
#include "kernel/object/ExchangeBlock.h"
#include "kernel/object/Thread.h"

#include "base/Copy.h"
#include "base/Hash.h"
#include "contracts/Limits.h"

#include <algorithm>
#include <cerrno>
#include <new>
#include <poll.h>

using namespace signet;
using namespace signet::abi;
namespace cx = signet::contracts;

namespace {

constexpr uint32_t max_select = 64;

// What an inner function returns when its SIP must end; not a status.
enum Leave : uint32_t {
    LeaveKilled = 0xFFFF'0000u,
    LeaveProtocolViolation,
};

[[noreturn]] void leave(uint32_t why)
{
    VERIFY(why == LeaveKilled || why == LeaveProtocolViolation);
    unwind_current(why == LeaveKilled ? static_cast<int>(Unwind::Killed) : static_cast<int>(TrapKind::ProtocolViolation));
}

// Whether the fiber has room for a switch and what may run around it (see require_stack_headroom).
bool has_stack_headroom()
{
    static constexpr uintptr_t headroom = 48 * 1024;
    SipContext* context = current_sip_context;
    auto sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    return !context || sp >= context->stack.low + headroom;
}

uint32_t leave_or_return(uint32_t status)
{
    if (status == LeaveKilled || status == LeaveProtocolViolation)
        leave(status);
    return status;
}

// Records why the sender is stopped; the caller returns LeaveProtocolViolation.
// `waiting` is the id of the first message still in the sender's inbox, or 0.
uint32_t protocol_violation(Sip& sip, Endpoint const& endpoint, uint16_t state, cx::Message const& message, uint16_t waiting)
{
    auto const& contract = endpoint.contract_type().contract;
    std::string allowed;
    for (auto const& edge : contract.machine.states[state].edges) {
        bool by_exporter = edge.action == cx::Action::Send;
        if (by_exporter != (endpoint.end() == cx::End::Exp))
            continue;
        if (!allowed.empty())
            allowed += ", ";
        allowed += contract.messages[edge.message].name;
    }
    std::string why;
    if (waiting)
        why = " (this end must first receive " + contract.messages[waiting - 1].name + ")";
    else if (allowed.empty())
        why = " (this end may not send now)";
    else
        why = " (this end may send: " + allowed + ")";
    sip.record_exit({ ExitInfo::How::Trapped, 0, TrapKind::ProtocolViolation,
        ": contract " + contract.name + ", " + cx::end_spelling(endpoint.end()) + " end, state " + contract.machine.states[state].name
            + ": message " + message.name + " is not allowed here" + why });
    return LeaveProtocolViolation;
}

// Whether `end` sends next in `state`, or nobody does (a terminal state): the
// send-state rule, judged on the contract the endpoint really speaks.
bool sends_next(cx::Contract const& contract, uint16_t state, cx::End end)
{
    cx::Action sending = end == cx::End::Exp ? cx::Action::Send : cx::Action::Receive;
    for (auto const& edge : contract.machine.states[state].edges) {
        if (edge.action != sending)
            return false;
    }
    return true;
}

// What one message carries (endpoints, blocks): at most one per argument, on
// the stack, and only the entries in use are ever constructed, so a send that
// carries nothing pays nothing and one that does allocates nothing.
class CarriedList {
public:
    struct Carried {
        uint32_t handle;
        std::shared_ptr<KernelObject> object;
    };

    CarriedList() { }
    ~CarriedList()
    {
        for (size_t i = 0; i < m_count; ++i)
            m_storage.items[i].~Carried();
    }
    CarriedList(CarriedList const&) = delete;
    CarriedList& operator=(CarriedList const&) = delete;

    void push(uint32_t handle, std::shared_ptr<KernelObject> object)
    {
        VERIFY(m_count < cx::limits::max_arguments);
        new (&m_storage.items[m_count++]) Carried { handle, std::move(object) };
    }
    size_t size() const { return m_count; }
    Carried& operator[](size_t index) { return m_storage.items[index]; }

private:
    union Storage {
        Storage() { }
        ~Storage() { }
        Carried items[cx::limits::max_arguments];
    } m_storage;
    size_t m_count { 0 };
};

// Removes the waiter registration of the calling thread, if it is still there.
void unregister(Endpoint& endpoint, Thread* self)
{
    std::lock_guard guard(endpoint.channel().lock());
    endpoint.channel().clear_waiter(endpoint, self);
}

} // namespace

// A receive blocked on an endpoint, described for whoever sends to it next: a
// send that finds it hands its message straight to the receiver (deliver_into),
// which wakes up with the message received and need not take the channel lock
// again. Only a message that carries nothing (what travels becomes the
// receiver's through its handle table) and fits, and only for a receiver whose
// SIP has no other thread (nothing else can touch its memory meanwhile). It
// lives in the receiving call's frame while its thread waits, is registered
// with the waiter (Channel::set_waiter) and written only under the channel lock.
struct signet::PendingReceive {
    SipContext* memory { nullptr };
    uint32_t out_id { 0 }, buffer { 0 }, capacity { 0 }, out_length { 0 };
    std::atomic<bool> delivered { false };
};

namespace {

// Writes a message into the memory of the receive waiting for it; false if
// anything there is no longer as the receive described it (the receive then
// finds the message queued, as usual). The caller sets `delivered`, last.
bool deliver_into(PendingReceive const& pending, uint16_t id, std::span<uint8_t const> bytes)
{
    GuestMemory memory(*pending.memory);
    if (bytes.size() > pending.capacity || !memory.valid(pending.out_id, 4) || !memory.valid(pending.out_length, 4))
        return false;
    uint8_t* buffer = memory.range(pending.buffer, bytes.size());
    if (!buffer)
        return false;
    if (!bytes.empty())
        copy_bytes(buffer, bytes.data(), bytes.size());
    memory.write(pending.out_id, uint32_t(id));
    memory.write(pending.out_length, uint32_t(bytes.size()));
    return true;
}

// What a send does besides sending.
struct SendOptions {
    ExchangeBlock::Revoke revoke { ExchangeBlock::Revoke::Now };
    // Set when the send woke a receiver on this worker that may run at once
    // (Worker::hand_off), before the sender goes on.
    bool* hand_off { nullptr };
    // A call that receives on the endpoint it sends on: in the same critical
    // section, if nothing waits in the endpoint's inbox, this thread becomes its
    // waiter and *waiting is set, so the receive can block at once.
    Thread* then_wait { nullptr };
    PendingReceive* then_pending { nullptr }; // registered with it (may be null)
    bool* waiting { nullptr };
};

// A call's send registers its thread as the waiter of the endpoint it sent on,
// if nothing waits in its inbox yet (SendOptions::then_wait). Under the lock.
void then_wait(Channel& channel, Endpoint& endpoint, SendOptions const& options)
{
    if (!options.then_wait || channel.front(endpoint))
        return;
    Thread* waiter = channel.waiter(endpoint);
    if (waiter && waiter != options.then_wait)
        return; // Another thread of this SIP waits here: the receive says so.
    channel.set_waiter(endpoint, options.then_wait, options.then_pending);
    *options.waiting = true;
}

// A send never blocks: the endpoint is borrowed, not referenced (HandleTable::borrow).
SIGNET_HOT uint32_t send_on(Sip& sip, Endpoint* endpoint, uint32_t message_id, uint32_t data, uint32_t length, SendOptions const& options = {})
{
    GuestMemory memory(sip.runtime());
    if (!endpoint)
        return SIGNET_BAD_HANDLE;
    auto const& contract = endpoint->contract_type().contract;
    if (message_id == 0 || message_id > contract.messages.size())
        return SIGNET_INVALID_ARGUMENT;
    auto const& message = contract.messages[message_id - 1];
    if (!memory.valid(data, length))
        return SIGNET_OUT_OF_BOUNDS;
    std::span<uint8_t const> bytes { memory.range(data, length), length };
    if (cx::validate_message_buffer(message, bytes).is_error())
        return SIGNET_INVALID_ARGUMENT;

    // What travels in the message: endpoints (live handles of this SIP, each of
    // the declared type and in the declared state, none of this channel) and
    // blocks (owned by this SIP, within the declared bound); nothing twice.
    CarriedList carried;
    for (size_t index = 0; index < message.arguments.size(); ++index) {
        auto const& argument = message.arguments[index];
        if (argument.type.kind != cx::TypeKind::Endpoint && argument.type.kind != cx::TypeKind::Block)
            continue;
        uint32_t carried_handle = 0;
        std::memcpy(&carried_handle, bytes.data() + argument.offset, 4);
        for (size_t i = 0; i < carried.size(); ++i) {
            if (carried[i].handle == carried_handle)
                return SIGNET_INVALID_ARGUMENT;
        }
        if (argument.type.kind == cx::TypeKind::Block) {
            auto block = sip.handles().get_as<ExchangeBlock>(carried_handle);
            if (!block)
                return SIGNET_BAD_HANDLE;
            if (argument.type.bound && block->size() > argument.type.bound)
                return SIGNET_INVALID_ARGUMENT;
            carried.push(carried_handle, std::move(block));
            continue;
        }
        auto carried_endpoint = sip.handles().get_as<Endpoint>(carried_handle);
        if (!carried_endpoint)
            return SIGNET_BAD_HANDLE;
        auto const& declared = argument.type.endpoint;
        auto const& carried_type = carried_endpoint->contract_type();
        auto const& carried_contract = carried_type.contract;
        // The declared contract is the one whose descriptor (with the contracts its own
        // endpoint types reach) hashes as the sender's descriptor records: the same name
        // is not enough. `any.Imp` / `any.Exp` (an empty contract name) takes an end of
        // any contract, in any state in which it sends next; the receiver checks what it
        // got (endpoint_check).
        bool any_contract = declared.contract.empty();
        if (&carried_endpoint->channel() == &endpoint->channel()
            || (!any_contract && carried_type.descriptor_hash != endpoint->contract_type().endpoint_hashes[message_id - 1][index])
            || carried_endpoint->end() != declared.end)
            return SIGNET_INVALID_ARGUMENT;
        {
            // The send-state rule, on the endpoint's own contract and its own
            // view of the protocol (an end with messages waiting receives next). An
            // endpoint in flight must not be able to receive: nothing can reach it,
            // and no two endpoints can end up in each other's inboxes, lost for good.
            // Its peer cannot send while it is this end's turn, so this stays true.
            Channel& carried_channel = carried_endpoint->channel();
            std::lock_guard guard(carried_channel.lock());
            if ((!any_contract && carried_channel.state() != declared.state_index) || carried_channel.front(*carried_endpoint)
                || !sends_next(carried_contract, carried_channel.state(), carried_endpoint->end()))
                return SIGNET_INVALID_ARGUMENT;
        }
        carried.push(carried_handle, std::move(carried_endpoint));
    }

    Channel& channel = endpoint->channel();
    cx::Action action = endpoint->end() == cx::End::Exp ? cx::Action::Send : cx::Action::Receive;
    uint16_t state;
    uint16_t waiting = 0;
    {
        std::lock_guard guard(channel.lock());
        state = channel.state();
        cx::Edge const* edge = nullptr;
        for (auto const& candidate : contract.machine.states[state].edges) {
            if (candidate.message == message_id - 1 && candidate.action == action) {
                edge = &candidate;
                break;
            }
        }
        if (QueuedMessage const* unreceived = channel.front(*endpoint))
            waiting = unreceived->id;
        if (edge && !waiting) {
            Endpoint* peer = channel.peer_of(*endpoint);
            if (!peer)
                return SIGNET_CLOSED;
            // The peer sends only with an empty inbox, so what waits for it is at most
            // one run of this end's sends: the contract's bound, which its inbox holds.
            VERIFY(channel.has_room(*peer));
            // Commit: nothing below can fail.
            channel.set_state(edge->target);
            Thread* waiter = channel.waiter(*peer);
            PendingReceive* pending = channel.pending_receive(*peer);
            // Straight into a receive that waits for it (PendingReceive), or queued.
            bool delivered = pending && carried.size() == 0 && !channel.front(*peer)
                && deliver_into(*pending, static_cast<uint16_t>(message_id), bytes);
            if (delivered) {
                channel.set_waiter(*peer, nullptr);
            } else {
                QueuedMessage& slot = channel.push_slot(*peer);
                slot.id = static_cast<uint16_t>(message_id);
                slot.length = length;
                if (length)
                    copy_bytes(slot.bytes.data(), bytes.data(), length);
                for (size_t i = 0; i < carried.size(); ++i) {
                    auto& entry = carried[i];
                    sip.handles().remove(entry.handle);
                    if (entry.object->type() == ObjectType::Block)
                        static_cast<ExchangeBlock&>(*entry.object).detach(options.revoke);
                    else
                        static_cast<Endpoint&>(*entry.object).set_holder(EndpointHolder::in_transit());
                    slot.carried.push_back(std::move(entry.object));
                }
            }
            if (waiter) {
                bool handed = Worker::wake(*waiter);
                if (options.hand_off)
                    *options.hand_off = handed;
            }
            // Last: a receiver that is awake already (woken for another reason)
            // may return as soon as it sees this, its PendingReceive and all.
            // Until then it finds the lock held, and then this set.
            if (delivered)
                pending->delivered.store(true, std::memory_order_release);
            then_wait(channel, *endpoint, options);
            return SIGNET_OK;
        }
    }
    return protocol_violation(sip, *endpoint, state, message, waiting);
}

uint32_t send_message(Sip& sip, uint32_t handle, uint32_t message_id, uint32_t data, uint32_t length, SendOptions const& options = {})
{
    return send_on(sip, sip.handles().borrow_as<Endpoint>(handle), message_id, data, length, options);
}

// What a receive asks for, for its waiter registration: a send may complete it
// directly only while the SIP has this one thread.
PendingReceive* describe(Sip& sip, PendingReceive& pending, uint32_t out_id, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    if (sip.thread_count() != 1)
        return nullptr;
    pending.memory = &sip.runtime();
    pending.out_id = out_id;
    pending.buffer = buffer;
    pending.capacity = capacity;
    pending.out_length = out_length;
    return &pending;
}

// `endpoint` is borrowed from the handle table as `handle`. `pending`: what
// this receive registers with its waiter (describe(), or null), already
// registered if `waiting` (a call's send found the inbox empty and registered
// this thread), and then the first thing is to block.
SIGNET_HOT_ANCHOR uint32_t receive_on(Sip& sip, uint32_t handle, Endpoint* endpoint, uint32_t out_id, uint32_t buffer, uint32_t capacity, uint32_t out_length,
    PendingReceive* pending, bool waiting = false)
{
    GuestMemory memory(sip.runtime());
    // Borrowed while the call does not block; referenced before it does, since
    // a sibling thread may close the handle meanwhile (HandleTable::borrow).
    if (!endpoint)
        return SIGNET_BAD_HANDLE;
    std::shared_ptr<Endpoint> kept;
    if (!memory.valid(out_id, 4) || !memory.valid(buffer, capacity) || !memory.valid(out_length, 4))
        return SIGNET_OUT_OF_BOUNDS;
    Channel& channel = endpoint->channel();
    auto const& contract = endpoint->contract_type().contract;
    Thread* self = Worker::current_thread();
    for (;;) {
        if (!waiting) {
            std::lock_guard guard(channel.lock());
            if (pending && pending->delivered.load(std::memory_order_relaxed))
                return SIGNET_OK; // A send completed it just now (deliver_into).
            if (QueuedMessage* message = channel.front(*endpoint)) {
                if (message->length > capacity) {
                    memory.write(out_length, message->length);
                    return SIGNET_LIMIT;
                }
                if (!message->carried.empty() && sip.handles().free_slots() < message->carried.size())
                    return SIGNET_LIMIT;
                // Checked at the call's start, but a sibling may have sent away a block
                // that held the buffer while this thread waited: a hole now. (Attaching
                // blocks below only fills memory, and grows it in place: the pointer holds.)
                uint8_t* destination = memory.range(buffer, message->length);
                if (!destination || !memory.valid(out_id, 4) || !memory.valid(out_length, 4))
                    return SIGNET_OUT_OF_BOUNDS;
                // Blocks enter the receiver's memory first: that can fail for want of
                // room, and then the message stays queued and nothing has changed.
                std::vector<ExchangeBlock*> attached;
                for (auto& object : message->carried) {
                    if (object->type() != ObjectType::Block)
                        continue;
                    auto& block = static_cast<ExchangeBlock&>(*object);
                    if (!block.attach(sip.runtime())) {
                        for (auto* done : attached)
                            done->unattach();
                        return SIGNET_LIMIT;
                    }
                    attached.push_back(&block);
                }
                GuestMemory grown(sip.runtime());
                copy_bytes(destination, message->bytes.data(), message->length);
                // What travelled becomes the receiver's: new handles in its table, written into the message.
                size_t next = 0;
                for (auto const& argument : contract.messages[message->id - 1].arguments) {
                    if (argument.type.kind != cx::TypeKind::Endpoint && argument.type.kind != cx::TypeKind::Block)
                        continue;
                    auto& object = message->carried[next++];
                    if (object->type() == ObjectType::Endpoint)
                        static_cast<Endpoint&>(*object).set_holder(sip.holder_identity());
                    uint32_t new_handle = sip.handles().insert(std::move(object));
                    VERIFY(new_handle);
                    grown.write(buffer + argument.offset, new_handle);
                }
                grown.write(out_id, uint32_t(message->id));
                grown.write(out_length, message->length);
                channel.pop(*endpoint);
                channel.clear_waiter(*endpoint, self);
                return SIGNET_OK;
            }
            if (channel.peer_gone(*endpoint)) {
                channel.clear_waiter(*endpoint, self);
                return SIGNET_CLOSED;
            }
            if (Thread* waiter = channel.waiter(*endpoint); waiter && waiter != self)
                return SIGNET_INVALID_ARGUMENT; // Another thread of this SIP is waiting here.
            channel.set_waiter(*endpoint, self, pending);
        }
        waiting = false;
        // Only a sibling could close it meanwhile: a SIP alone needs no reference.
        if (!kept && sip.thread_count() > 1)
            kept = sip.handles().get_as<Endpoint>(handle);
        Worker::block_current();
        if (self->kill_requested()) {
            unregister(*endpoint, self);
            return LeaveKilled;
        }
        // Completed by the send that woke us: it took us off the waiter list too.
        if (pending && pending->delivered.load(std::memory_order_acquire))
            return SIGNET_OK;
    }
}

// A send, then a receive, as one call: a request and the wait for its reply
// (the client's side), or a reply and the wait for the next request (the
// server's). Because no code of the SIP runs between the two, blocks the send
// moves lose their sender's access only when the call returns; a block that
// comes back in the reply to where it was never lost it, and the round trip
// changes no page table (docs/exchange-heap.md). That holds only while the
// calling thread is the SIP's only one: with siblings, the access goes at once.
//
// Sending and receiving on one endpoint (an RPC's request and reply), the send
// registers the caller as the endpoint's waiter in its critical section, so a
// call that has to wait takes the channel lock twice, not three times.
uint32_t call(Sip& sip, uint32_t send_handle, uint32_t message_id, uint32_t data, uint32_t length, uint32_t recv_handle,
    uint32_t out_id, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    // What the receive needs is checked before anything is sent.
    Endpoint* receiver = sip.handles().borrow_as<Endpoint>(recv_handle);
    if (!receiver)
        return SIGNET_BAD_HANDLE;
    if (GuestMemory memory(sip.runtime()); !memory.valid(out_id, 4) || !memory.valid(buffer, capacity) || !memory.valid(out_length, 4))
        return SIGNET_OUT_OF_BOUNDS;
    bool alone = sip.thread_count() == 1;
    bool waiting = false;
    PendingReceive described;
    PendingReceive* pending = describe(sip, described, out_id, buffer, capacity, out_length);
    SendOptions options { alone ? ExchangeBlock::Revoke::BeforeOwnerRuns : ExchangeBlock::Revoke::Now };
    Endpoint* sender = receiver;
    if (send_handle == recv_handle) {
        options.then_wait = Worker::current_thread();
        options.then_pending = pending;
        options.waiting = &waiting;
    } else {
        sender = sip.handles().borrow_as<Endpoint>(send_handle);
    }
    uint32_t status = send_on(sip, sender, message_id, data, length, options);
    if (status == SIGNET_OK)
        status = receive_on(sip, recv_handle, receiver, out_id, buffer, capacity, out_length, pending, waiting);
    // Whatever happened, nothing sent stays accessible once the SIP's code runs.
    if (status != LeaveKilled)
        sip.runtime().blocks.revoke_pending(sip.runtime().memory);
    return status;
}

// The socket of a Connection or Listener in a select; -1 for other objects.
int socket_of(KernelObject const& object)
{
    if (object.type() == ObjectType::Connection)
        return static_cast<Connection const&>(object).fd();
    if (object.type() == ObjectType::Listener)
        return static_cast<Listener const&>(object).fd();
    return -1;
}

// Whether net_recv on the connection (net_accept on the listener) would not
// wait: bytes, the end of the stream, an error, or a client waiting.
bool socket_ready(int fd)
{
    pollfd entry { fd, POLLIN | POLLRDHUP, 0 };
    int polled;
    do {
        polled = ::poll(&entry, 1, 0);
    } while (polled < 0 && errno == EINTR);
    return polled != 0; // an error too: the call on it says which
}

// Ready: an endpoint with a message waiting or its peer gone, a child that has
// ended, or a connection or listener that net_recv or net_accept would not
// wait on. The first ready one in the caller's order wins.
uint32_t select_ready(Sip& sip, uint32_t handles, uint32_t count, uint64_t raw_timeout, uint32_t out_index)
{
    GuestMemory memory(sip.runtime());
    if (count == 0 || count > max_select)
        return SIGNET_INVALID_ARGUMENT;
    if (!memory.valid(handles, uint64_t(count) * 4) || !memory.valid(out_index, 4))
        return SIGNET_OUT_OF_BOUNDS;
    // Endpoints, children and sockets, each held while the call may block.
    std::shared_ptr<KernelObject> objects[max_select];
    auto endpoint = [&](uint32_t i) { return static_cast<Endpoint*>(objects[i].get()); };
    auto child_sip = [&](uint32_t i) -> Sip& { return static_cast<Child&>(*objects[i]).sip(); };
    bool any_socket = false;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t handle = 0;
        memory.read(handles + i * 4, handle);
        for (ObjectType type : { ObjectType::Endpoint, ObjectType::Child, ObjectType::Connection, ObjectType::Listener }) {
            if ((objects[i] = sip.handles().get(handle, type)))
                break;
        }
        if (!objects[i])
            return SIGNET_BAD_HANDLE; // none, or nothing a select can wait for
        if (objects[i]->type() == ObjectType::Child && child_sip(i).state() == Sip::State::Created)
            return SIGNET_INVALID_ARGUMENT; // As child_wait: a child never started would never end.
        any_socket |= socket_of(*objects[i]) >= 0;
    }
    NetPoller* poller = any_socket ? sip.kernel().net_poller() : nullptr;
    if (any_socket && !poller)
        return SIGNET_IO; // The reason is on the diagnostics.
    auto timeout = static_cast<int64_t>(raw_timeout);
    Thread* self = Worker::current_thread();
    std::shared_ptr<Kernel::HostCall> timer;
    // Each socket's call for the poller, which completes it once the socket is ready.
    std::shared_ptr<Kernel::HostCall> watches[max_select];
    auto unregister_all = [&](uint32_t up_to) {
        for (uint32_t i = 0; i < up_to; ++i) {
            if (objects[i]->type() == ObjectType::Endpoint) {
                unregister(*endpoint(i), self);
            } else if (objects[i]->type() == ObjectType::Child) {
                child_sip(i).unwatch_end(*self);
            } else {
                poller->unwatch(socket_of(*objects[i]), watches[i]);
                std::lock_guard guard(watches[i]->lock);
                watches[i]->waiter = nullptr;
            }
        }
    };
    int status = SIGNET_TIMED_OUT;
    for (bool first_round = true;; first_round = false) {
        // Check each one and register as its waiter in one step (under the
        // channel's lock, or the child's; a socket's readiness is rechecked by
        // epoll when it is added), so that what happens after the check still
        // wakes us.
        uint32_t registered = 0;
        int64_t ready = -1;
        for (uint32_t i = 0; i < count && ready < 0; ++i) {
            if (objects[i]->type() == ObjectType::Child) {
                if (child_sip(i).watch_end(*self)) {
                    ready = i;
                    break;
                }
                registered = i + 1;
                continue;
            }
            if (int fd = socket_of(*objects[i]); fd >= 0) {
                // Looked at with poll() in the first round; after a wait, the
                // poller has said whether it found the socket ready.
                bool reported = false;
                if (watches[i]) {
                    std::lock_guard guard(watches[i]->lock);
                    reported = watches[i]->done;
                }
                if (reported || (first_round && socket_ready(fd))) {
                    ready = i;
                    break;
                }
                watches[i] = std::make_shared<Kernel::HostCall>();
                watches[i]->waiter = self;
                if (!poller->watch(fd, NetPoller::Direction::Read, watches[i])) {
                    ready = i;
                    break;
                }
                registered = i + 1;
                continue;
            }
            Channel& channel = endpoint(i)->channel();
            std::lock_guard guard(channel.lock());
            if (channel.front(*endpoint(i)) || channel.peer_gone(*endpoint(i))) {
                ready = i;
                break;
            }
            if (Thread* waiter = channel.waiter(*endpoint(i)); waiter && waiter != self) {
                ready = -2;
                break;
            }
            channel.set_waiter(*endpoint(i), self);
            registered = i + 1;
        }
        if (ready == -2) {
            unregister_all(registered);
            status = SIGNET_INVALID_ARGUMENT;
            break;
        }
        if (ready >= 0) {
            unregister_all(registered);
            memory.write(out_index, static_cast<uint32_t>(ready));
            status = SIGNET_OK;
            break;
        }
        bool expired = timeout == 0;
        if (timer) {
            std::lock_guard guard(timer->lock);
            expired = timer->done;
        }
        if (expired) {
            unregister_all(registered);
            status = SIGNET_TIMED_OUT;
            break;
        }
        if (!timer && timeout > 0)
            timer = sip.kernel().arm_timer(*self, deadline_after(timeout));
        Worker::block_current();
        unregister_all(registered);
        if (self->kill_requested()) {
            if (timer)
                sip.kernel().cancel_timer(timer);
            return LeaveKilled;
        }
    }
    if (timer)
        sip.kernel().cancel_timer(timer);
    return static_cast<uint32_t>(status);
}

} // namespace

extern "C" {

uint32_t Z_signet_v1Z_handle_close(void* host, uint32_t handle)
{
    auto object = sip_from(host).handles().remove(handle);
    if (!object)
        return SIGNET_BAD_HANDLE;
    if (object->type() == ObjectType::Endpoint) {
        static_cast<Endpoint&>(*object).close();
    } else if (object->type() == ObjectType::Block) {
        static_cast<ExchangeBlock&>(*object).free_in_owner();
    } else if (object->type() == ObjectType::Child) {
        // Only this handle could start or resume the child: one that never started
        // is ended (the endpoints it was given close), a suspended one goes on.
        Sip& child = static_cast<Child&>(*object).sip();
        child.kernel().release_child(child);
    }
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_channel_create(void* host, uint32_t descriptor, uint32_t length, uint32_t out_importer, uint32_t out_exporter)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(descriptor, length) || !memory.valid(out_importer, 4) || !memory.valid(out_exporter, 4))
        return SIGNET_OUT_OF_BOUNDS;
    if (length > cx::limits::max_descriptor_size)
        return SIGNET_LIMIT;
    if (sip.handles().free_slots() < 2)
        return SIGNET_LIMIT;
    auto type = sip.kernel().contract_type({ memory.range(descriptor, length), length });
    if (type.is_error())
        return SIGNET_INVALID_ARGUMENT;
    if (Channel::inbox_bytes(*type.value()) > Channel::max_inbox_bytes)
        return SIGNET_LIMIT;
    // The SIP's channel memory quota, charged last: nothing below fails.
    uint64_t cost = ChannelAccount::cost(*type.value());
    auto const& account = sip.channel_account();
    bool report = false;
    if (!account->try_charge(cost, report)) {
        if (report) {
            (void)sip.kernel().diagnostics().write("signet: SIP " + std::to_string(sip.id()) + " (" + sip.name() + ") cannot create a channel of "
                + type.value()->contract.name + " (" + std::to_string(cost) + " bytes): its channels would exceed its channel memory limit of "
                + std::to_string(account->limit()) + " bytes (limits.channel_memory; " + std::to_string(account->used()) + " in use)\n");
        }
        return SIGNET_LIMIT;
    }
    auto [importer, exporter] = Channel::create(type.release_value(), ChannelCharge(account, cost));
    auto holder = sip.holder_identity();
    importer->set_holder(holder);
    exporter->set_holder(holder);
    uint32_t importer_handle = sip.handles().insert(importer);
    uint32_t exporter_handle = sip.handles().insert(exporter);
    VERIFY(importer_handle && exporter_handle); // Room was checked; only this SIP's thread inserts.
    memory.write(out_importer, importer_handle);
    memory.write(out_exporter, exporter_handle);
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_channel_send(void* host, uint32_t handle, uint32_t message_id, uint32_t data, uint32_t length)
{
    bool hand_off = false;
    uint32_t status = leave_or_return(send_message(sip_from(host), handle, message_id, data, length, { .hand_off = &hand_off }));
    // Send-and-switch: the receiver this send woke runs now, while the message
    // is hot in the cache, and the sender right after it (docs/channels.md).
    // Not on a nearly exhausted stack: then the receiver just runs next.
    if (hand_off && has_stack_headroom()) {
        Worker::hand_off();
        leave_if_killed();
    }
    return status;
}

uint32_t Z_signet_v1Z_channel_recv(void* host, uint32_t handle, uint32_t out_id, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    PendingReceive described;
    PendingReceive* pending = describe(sip, described, out_id, buffer, capacity, out_length);
    return leave_or_return(receive_on(sip, handle, sip.handles().borrow_as<Endpoint>(handle), out_id, buffer, capacity, out_length, pending));
}

SIGNET_HOT uint32_t Z_signet_v1Z_channel_call(void* host, uint32_t send_handle, uint32_t message_id, uint32_t data, uint32_t length, uint32_t recv_handle,
    uint32_t out_id, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    require_stack_headroom();
    return leave_or_return(call(sip_from(host), send_handle, message_id, data, length, recv_handle, out_id, buffer, capacity, out_length));
}

uint32_t Z_signet_v1Z_channel_select(void* host, uint32_t handles, uint32_t count, uint64_t raw_timeout, uint32_t out_index)
{
    require_stack_headroom();
    return leave_or_return(select_ready(sip_from(host), handles, count, raw_timeout, out_index));
}

uint32_t Z_signet_v1Z_startup_handle_count(void* host)
{
    return static_cast<uint32_t>(sip_from(host).startup_handles().size());
}

uint32_t Z_signet_v1Z_startup_handle(void* host, uint32_t index, uint32_t out_handle)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out_handle, 4))
        return SIGNET_OUT_OF_BOUNDS;
    if (index >= sip.startup_handles().size())
        return SIGNET_NOT_FOUND;
    memory.write(out_handle, sip.startup_handles()[index]);
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_channel_peer_principal(void* host, uint32_t handle, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto endpoint = sip.handles().get_as<Endpoint>(handle);
    if (!endpoint)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(buffer, capacity) || !memory.valid(out_length, 4))
        return SIGNET_OUT_OF_BOUNDS;
    std::shared_ptr<EndpointHolder const> holder;
    {
        // While the peer is attached its holder is current: an end leaves a SIP
        // only by being sent (holder: in transit) or closed (detached, under this lock).
        std::lock_guard guard(endpoint->channel().lock());
        Endpoint* peer = endpoint->channel().peer_of(*endpoint);
        if (!peer)
            return SIGNET_CLOSED;
        holder = peer->holder();
    }
    if (holder == EndpointHolder::in_transit())
        return SIGNET_WOULD_BLOCK;
    std::string principal = holder ? holder->principal : std::string("kernel");
    memory.write(out_length, static_cast<uint32_t>(principal.size()));
    if (principal.size() > capacity)
        return SIGNET_LIMIT;
    if (!principal.empty())
        std::memcpy(memory.range(buffer, principal.size()), principal.data(), principal.size());
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_endpoint_check(void* host, uint32_t handle, uint32_t descriptor, uint32_t length, uint32_t end)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto endpoint = sip.handles().get_as<Endpoint>(handle);
    if (!endpoint)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(descriptor, length))
        return SIGNET_OUT_OF_BOUNDS;
    if (end > 1 || length > cx::limits::max_descriptor_size)
        return SIGNET_INVALID_ARGUMENT;
    // Contract types are known by the hash of their descriptor. The endpoint's own
    // was decoded when its channel was made: the same bytes are that contract, and
    // cost no decoding. Another descriptor is decoded only to tell an invalid one
    // (INVALID_ARGUMENT) from another contract (PROTOCOL), and only if the kernel's
    // contract cache has not seen it valid already.
    std::span<uint8_t const> bytes { memory.range(descriptor, length), length };
    std::string hash = sha256_hex(bytes);
    if (hash == endpoint->contract_type().descriptor_hash)
        return endpoint->end() == static_cast<cx::End>(end) ? SIGNET_OK : SIGNET_PROTOCOL;
    if (!sip.kernel().contract_known(hash) && sip.kernel().contract_type(bytes).is_error())
        return SIGNET_INVALID_ARGUMENT;
    return SIGNET_PROTOCOL;
}

} // extern "C"
