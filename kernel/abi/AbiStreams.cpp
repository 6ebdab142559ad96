// Standard streams over channels, and the child calls that bind them.
//
// When a SIP's stdin, stdout or stderr is bound to a Stream endpoint, the
// kernel speaks the Stream contract (services/contracts/Stream.contract) on the
// SIP's behalf: a write waits for the reader's Read(max) and answers with Data,
// as many times as the bytes need; a read sends Read(capacity) and waits for
// Data or Eof. Nothing here is visible to the SIP but the bytes: the protocol
// is the kernel's, checked against the channel's state like any send.
//
// Waiting happens on the SIP's fiber. A kill while waiting ends the wait with a
// status instead of unwinding, so the callers' frames (the WASI layer holds
// vectors) are never skipped; the SIP leaves at its next kernel call.
#include "kernel/abi/Streams.h"
#include "kernel/abi/Abi.h"
#include "kernel/abi/KernelChannel.h"
#include "kernel/object/Child.h"
#include "kernel/object/Thread.h"

#include <algorithm>
#include <cstring>

using namespace signet;
using namespace signet::abi;
namespace cx = signet::contracts;

namespace {

// The Stream contract's messages, as the kernel lays them out.
enum StreamMessage : uint16_t {
    MessageRead = 1,
    MessageData = 2,
    MessageEof = 3,
};
constexpr uint32_t data_capacity = 4096;
constexpr uint32_t data_message_size = 4 + data_capacity;

bool is_argument(cx::Argument const& argument, cx::TypeKind kind, uint64_t bound = 0)
{
    return argument.type.kind == kind && argument.type.bound == bound;
}

// Blocks until a message waits at `endpoint` (without taking it) or the peer is
// gone. True if a message waits.
bool wait_ready(Endpoint& endpoint)
{
    Channel& channel = endpoint.channel();
    Thread* self = Worker::current_thread();
    for (;;) {
        {
            std::lock_guard guard(channel.lock());
            Thread* waiter = channel.waiter(endpoint);
            if (channel.front(endpoint) || channel.peer_gone(endpoint) || self->kill_requested() || (waiter && waiter != self)) {
                channel.clear_waiter(endpoint, self);
                return channel.front(endpoint) != nullptr;
            }
            channel.set_waiter(endpoint, self);
        }
        Worker::block_current();
    }
}

std::shared_ptr<Endpoint> bound_endpoint(Sip& sip, uint32_t stream)
{
    uint32_t handle = stream < 3 ? sip.stream_handles[stream] : 0;
    return handle ? sip.handles().get_as<Endpoint>(handle) : nullptr;
}

int32_t write_bound(Sip& sip, uint32_t stream, std::span<uint8_t const> bytes, uint32_t& written)
{
    auto endpoint = bound_endpoint(sip, stream);
    if (!endpoint || !is_stream_contract(endpoint->contract_type().contract) || endpoint->end() != cx::End::Exp)
        return SIGNET_IO;
    // A piece counts as written once the reader asks for more: a reader that
    // took it and went away without asking again did not say it kept it (the
    // file system's streams ask again only once the piece is in the file).
    written = 0;
    uint32_t unconfirmed = 0; // the last piece sent, until the next Read
    std::vector<uint8_t> request;
    uint8_t message[data_message_size];
    while (written < bytes.size()) {
        uint16_t id = 0;
        int32_t status = kernel_receive(*endpoint, id, request);
        if (status == SIGNET_CLOSED) {
            written -= unconfirmed;
            return written ? SIGNET_OK : SIGNET_CLOSED;
        }
        unconfirmed = 0;
        if (status != SIGNET_OK || id != MessageRead || request.size() != 4)
            return SIGNET_IO;
        uint32_t max = 0;
        std::memcpy(&max, request.data(), 4);
        // A reader asking for nothing (or more than a message holds) gets what fits.
        uint32_t chunk = static_cast<uint32_t>(std::min<size_t>({ bytes.size() - written, std::clamp<uint32_t>(max, 1, data_capacity) }));
        std::memset(message, 0, sizeof message);
        std::memcpy(message, &chunk, 4);
        std::memcpy(message + 4, bytes.data() + written, chunk);
        status = kernel_send(*endpoint, MessageData, { message, sizeof message });
        if (status == SIGNET_CLOSED)
            return written ? SIGNET_OK : SIGNET_CLOSED;
        // Only a native SIP that used its stream handle behind the kernel's back gets here.
        if (status != SIGNET_OK)
            return SIGNET_IO;
        written += chunk;
        unconfirmed = chunk;
    }
    // A write is over when the reader has taken it and asks again (or is gone):
    // what a program wrote before it ends, or before it tells another SIP it is
    // done, has reached the reader -- on the console, the terminal -- first.
    if (!wait_ready(*endpoint))
        written -= unconfirmed;
    return written || bytes.empty() ? SIGNET_OK : SIGNET_CLOSED;
}

int32_t read_bound(Sip& sip, uint32_t offset, uint32_t capacity, uint32_t& read)
{
    read = 0;
    auto endpoint = bound_endpoint(sip, 0);
    if (!endpoint || !is_stream_contract(endpoint->contract_type().contract) || endpoint->end() != cx::End::Imp)
        return SIGNET_IO;
    if (capacity == 0)
        return SIGNET_OK;
    uint32_t max = std::min(capacity, data_capacity);
    int32_t status = kernel_send(*endpoint, MessageRead, { reinterpret_cast<uint8_t const*>(&max), 4 });
    if (status == SIGNET_CLOSED)
        return SIGNET_OK; // The writer is gone: the end of the stream.
    if (status != SIGNET_OK)
        return SIGNET_IO;
    std::vector<uint8_t> reply;
    uint16_t id = 0;
    status = kernel_receive(*endpoint, id, reply);
    if (status == SIGNET_CLOSED)
        return SIGNET_OK;
    if (status != SIGNET_OK)
        return SIGNET_IO;
    if (id == MessageEof)
        return SIGNET_OK;
    if (id != MessageData || reply.size() != data_message_size)
        return SIGNET_IO;
    uint32_t length = 0;
    std::memcpy(&length, reply.data(), 4);
    // The writer answers with at most what was asked; a writer that sends more loses the excess.
    length = std::min(length, max);
    // While the thread waited, a sibling may have sent a block covering the buffer.
    GuestMemory memory(sip.runtime());
    if (!memory.valid(offset, length))
        return SIGNET_OUT_OF_BOUNDS;
    memory.write_bytes(offset, reply.data() + 4, length);
    read = length;
    return SIGNET_OK;
}

} // namespace

namespace signet::abi {

bool is_stream_contract(cx::Contract const& contract)
{
    if (contract.name != "Stream" || contract.messages.size() != 3)
        return false;
    auto const& read = contract.messages[MessageRead - 1];
    auto const& data = contract.messages[MessageData - 1];
    auto const& eof = contract.messages[MessageEof - 1];
    if (read.name != "Read" || read.direction != cx::Direction::In || read.arguments.size() != 1 || !is_argument(read.arguments[0], cx::TypeKind::U32))
        return false;
    if (data.name != "Data" || data.direction != cx::Direction::Out || data.arguments.size() != 1
        || !is_argument(data.arguments[0], cx::TypeKind::Bytes, data_capacity) || data.size != data_message_size)
        return false;
    if (eof.name != "Eof" || eof.direction != cx::Direction::Out || !eof.arguments.empty())
        return false;
    // Start: Read? -> (Data! or Eof!) -> Start, and nothing else.
    auto const& states = contract.machine.states;
    if (states.size() != 2 || states[0].edges.size() != 1)
        return false;
    auto const& ask = states[0].edges[0];
    if (ask.message != MessageRead - 1 || ask.action != cx::Action::Receive || ask.target != 1 || states[1].edges.size() != 2)
        return false;
    for (auto const& answer : states[1].edges) {
        if ((answer.message != MessageData - 1 && answer.message != MessageEof - 1) || answer.action != cx::Action::Send || answer.target != 0)
            return false;
    }
    return states[1].edges[0].message != states[1].edges[1].message;
}

cx::End stream_end(uint32_t stream)
{
    return stream == 0 ? cx::End::Imp : cx::End::Exp;
}

std::string check_stream_endpoint(Endpoint& endpoint, uint32_t stream)
{
    if (stream > 2)
        return "there is no standard stream " + std::to_string(stream);
    if (!is_stream_contract(endpoint.contract_type().contract))
        return "the endpoint speaks " + endpoint.contract_type().contract.name + ", not Stream";
    if (endpoint.end() != stream_end(stream))
        return std::string(stream == 0 ? "stdin" : stream == 1 ? "stdout" : "stderr") + " needs the " + cx::end_spelling(stream_end(stream))
            + " end of a Stream";
    // A reader must be about to ask; a writer may already hold its reader's
    // Read, which the kernel answers on the first write.
    Channel& channel = endpoint.channel();
    std::lock_guard guard(channel.lock());
    bool fresh = channel.state() == 0 && !channel.front(endpoint);
    bool asked = stream != 0 && channel.state() == 1 && channel.front(endpoint) && channel.front(endpoint)->id == MessageRead;
    if (!fresh && !asked)
        return "the stream is in the middle of an exchange";
    return {};
}

ErrorOr<void> bind_stream(Sip& sip, uint32_t stream, std::shared_ptr<Endpoint> endpoint, bool terminal)
{
    if (sip.state() != Sip::State::Created)
        return Error(ErrorKind::InvalidInput, "SIP " + std::to_string(sip.id()) + " has started: its streams can no longer be bound");
    if (stream > 2 || sip.stream_handles[stream])
        return Error(ErrorKind::InvalidInput, "stream " + std::to_string(stream) + " is bound already");
    if (auto problem = check_stream_endpoint(*endpoint, stream); !problem.empty())
        return Error(ErrorKind::InvalidInput, problem);
    endpoint->set_holder(sip.holder_identity());
    uint32_t handle = sip.handles().insert(std::move(endpoint));
    if (!handle)
        return Error(ErrorKind::Limit, "the handle table of SIP " + std::to_string(sip.id()) + " is full");
    sip.stream_handles[stream] = handle;
    if (terminal)
        sip.stream_terminals |= 1u << stream;
    return {};
}

bool stream_is_bound(Sip& sip, uint32_t stream)
{
    return stream < 3 && sip.stream_handles[stream] != 0;
}

bool stream_is_terminal(Sip& sip, uint32_t stream)
{
    return stream < 3 && (sip.stream_handles[stream] == 0 || (sip.stream_terminals & (1u << stream)));
}

int32_t stream_write(Sip& sip, uint32_t stream, std::span<uint8_t const> bytes, uint32_t& written)
{
    return write_bound(sip, stream, bytes, written);
}

int32_t stream_read(Sip& sip, uint32_t offset, uint32_t capacity, uint32_t& read)
{
    return read_bound(sip, offset, capacity, read);
}

} // namespace signet::abi

extern "C" {

uint32_t Z_signet_v1Z_child_bind_stream(void* host, uint32_t child_handle, uint32_t stream_and_flags, uint32_t endpoint_handle)
{
    Sip& sip = sip_from(host);
    auto child = sip.handles().get_as<Child>(child_handle);
    auto endpoint = sip.handles().get_as<Endpoint>(endpoint_handle);
    if (!child || !endpoint)
        return SIGNET_BAD_HANDLE;
    Sip& target = child->sip();
    uint32_t stream = stream_and_flags & ~SIGNET_STREAM_TERMINAL;
    if (stream > 2 || target.state() != Sip::State::Created || target.stream_handles[stream])
        return SIGNET_INVALID_ARGUMENT;
    if (auto problem = check_stream_endpoint(*endpoint, stream); !problem.empty()) {
        (void)sip.kernel().diagnostics().write("signet: SIP " + std::to_string(sip.id()) + " (" + sip.name() + ") cannot bind stream "
            + std::to_string(stream) + " of " + target.name() + ": " + problem + "\n");
        return SIGNET_INVALID_ARGUMENT;
    }
    if (target.handles().free_slots() < 1)
        return SIGNET_LIMIT;
    // Commit: the endpoint leaves this table for the child's.
    endpoint->set_holder(target.holder_identity());
    endpoint.reset();
    auto moved = sip.handles().remove(endpoint_handle);
    uint32_t handle = target.handles().insert(std::move(moved));
    VERIFY(handle);
    target.stream_handles[stream] = handle;
    if (stream_and_flags & SIGNET_STREAM_TERMINAL)
        target.stream_terminals |= 1u << stream;
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_child_describe(void* host, uint32_t child_handle, uint32_t out_id, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto child = sip.handles().get_as<Child>(child_handle);
    if (!child)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(out_id, 8) || !memory.valid(buffer, capacity) || !memory.valid(out_length, 4))
        return SIGNET_OUT_OF_BOUNDS;
    Sip& target = child->sip();
    std::string text;
    switch (target.state()) {
    case Sip::State::Created:
        text = "created";
        break;
    case Sip::State::Running:
        text = target.suspended() ? "suspended" : "running";
        break;
    case Sip::State::Finished: {
        ExitInfo info = target.exit_info();
        switch (info.how) {
        case ExitInfo::How::Exited:
            text = "exited " + std::to_string(info.host_exit_status());
            break;
        case ExitInfo::How::Trapped:
            // Host addresses in a fault's detail are the kernel's business, not the parent's.
            text = std::string("trapped: ") + trap_kind_description(info.trap) + " [" + trap_kind_name(info.trap) + "]"
                + (info.trap == TrapKind::ProtocolViolation ? info.detail : std::string());
            break;
        case ExitInfo::How::Killed:
            text = "killed: " + info.detail;
            break;
        }
        break;
    }
    }
    memory.write(out_id, target.id());
    memory.write(out_length, static_cast<uint32_t>(text.size()));
    if (text.size() > capacity)
        return SIGNET_LIMIT;
    memory.write_bytes(buffer, text.data(), text.size());
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_child_set_param(void* host, uint32_t child_handle, uint32_t name, uint32_t name_length, uint32_t value, uint32_t value_length)
{
    constexpr uint32_t max_parameter_bytes = 4096;
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto child = sip.handles().get_as<Child>(child_handle);
    if (!child)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(name, name_length) || !memory.valid(value, value_length))
        return SIGNET_OUT_OF_BOUNDS;
    if (name_length > max_parameter_bytes || value_length > max_parameter_bytes)
        return SIGNET_LIMIT;
    Sip& target = child->sip();
    if (target.state() != Sip::State::Created)
        return SIGNET_INVALID_ARGUMENT;
    std::string key(reinterpret_cast<char const*>(memory.range(name, name_length)), name_length);
    std::string text(reinterpret_cast<char const*>(memory.range(value, value_length)), value_length);
    // The child's program is the one it was created from, by name; its manifest types the value.
    auto info = sip.kernel().find_program_info(target.name());
    if (!info)
        return SIGNET_NOT_FOUND;
    auto declared = std::find_if(info->parameter_types.begin(), info->parameter_types.end(), [&](auto const& p) { return p.first == key; });
    if (declared == info->parameter_types.end())
        return SIGNET_NOT_FOUND;
    bool valid = true;
    if (declared->second == "integer")
        valid = !text.empty() && text.find_first_not_of("-0123456789") == std::string::npos && text.find('-', 1) == std::string::npos;
    else if (declared->second == "boolean")
        valid = text == "true" || text == "false";
    if (!valid)
        return SIGNET_INVALID_ARGUMENT;
    target.set_parameter(key, std::move(text));
    return SIGNET_OK;
}

} // extern "C"
