// Encoding and checked decoding of ring messages (Protocol.h).
#include "runtime/ring/Protocol.h"

#include "runtime/ring/AbiCalls.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace signet::ring {

namespace {

class Writer {
public:
    // Room for the route and every fixed-size message (a Call with all its
    // arguments is the largest): one allocation per message, not one per field.
    Writer() { m_bytes.reserve(2 * sizeof(uint32_t) + 2 * sizeof(uint32_t) + max_call_arguments * sizeof(uint64_t)); }
    template<typename T>
    Writer& put(T value)
    {
        auto const* bytes = reinterpret_cast<uint8_t const*>(&value);
        m_bytes.insert(m_bytes.end(), bytes, bytes + sizeof value);
        return *this;
    }
    Writer& put_bytes(std::string_view text)
    {
        m_bytes.insert(m_bytes.end(), text.begin(), text.end());
        return *this;
    }
    std::vector<uint8_t> take() { return std::move(m_bytes); }

private:
    std::vector<uint8_t> m_bytes;
};

// Reads fixed-size fields from a payload; every read is bounds-checked.
class Reader {
public:
    explicit Reader(std::vector<uint8_t> const& bytes)
        : m_bytes(bytes)
    {
    }
    template<typename T>
    bool get(T& out)
    {
        if (m_bytes.size() - m_offset < sizeof out)
            return false;
        std::memcpy(&out, m_bytes.data() + m_offset, sizeof out);
        m_offset += sizeof out;
        return true;
    }
    // `count` values at once; the caller checked that they are there.
    template<typename T>
    void get_array(T* out, size_t count)
    {
        std::memcpy(out, m_bytes.data() + m_offset, count * sizeof(T));
        m_offset += count * sizeof(T);
    }
    size_t remaining() const { return m_bytes.size() - m_offset; }
    std::string rest() const { return std::string(m_bytes.begin() + m_offset, m_bytes.end()); }
    std::vector<uint8_t> rest_bytes() const { return std::vector<uint8_t>(m_bytes.begin() + long(m_offset), m_bytes.end()); }

private:
    std::vector<uint8_t> const& m_bytes;
    size_t m_offset { 0 };
};

std::string frame_name(Frame const& frame)
{
    return "ring message " + std::to_string(frame.type) + " (sequence " + std::to_string(frame.sequence) + ")";
}

// The payload after its route.
size_t body_size(Frame const& frame) { return frame.payload.size() - route_bytes; }

Error wrong_size(Frame const& frame, char const* what, size_t expected)
{
    return Error::invalid(frame_name(frame) + ": a " + what + " payload is " + std::to_string(route_bytes + expected) + " bytes, got " + std::to_string(frame.payload.size()));
}

// The decoders write into the message they are given (built in place, not
// built, returned and moved: a Call is 136 bytes in a variant of variants).
// A call is every ABI call's hot path in the kernel: its checks are a table
// look-up and one pass over the arguments, with no branch per argument.
ErrorOr<void> decode_call(Frame const& frame, Reader& reader, Call& call)
{
    if (!reader.get(call.function) || !reader.get(call.argument_count))
        return Error::invalid(frame_name(frame) + ": a call payload of " + std::to_string(frame.payload.size()) + " bytes has no function and argument count");
    if (call.function >= abi_call_count)
        return Error::invalid(frame_name(frame) + ": function " + std::to_string(call.function) + " does not exist (there are " + std::to_string(abi_call_count) + ")");
    auto const& function = abi_calls[call.function];
    if (call.argument_count != function.params.size())
        return Error::invalid(frame_name(frame) + ": " + std::string(function.name) + " takes " + std::to_string(function.params.size())
            + " arguments, the call has " + std::to_string(call.argument_count));
    if (reader.remaining() != size_t(call.argument_count) * 8)
        return wrong_size(frame, "call", 8 + size_t(call.argument_count) * 8);
    reader.get_array(call.arguments, call.argument_count);
    std::fill(call.arguments + call.argument_count, call.arguments + max_call_arguments, 0);
    uint32_t high_bits = 0; // bit i: argument i is 32-bit but has high bits set
    for (uint32_t i = 0; i < call.argument_count; ++i)
        high_bits |= uint32_t((call.arguments[i] >> 32) != 0) << i;
    if (uint32_t wrong = high_bits & function.narrow) {
        int i = std::countr_zero(wrong);
        return Error::invalid(frame_name(frame) + ": argument " + std::to_string(i) + " of " + std::string(function.name)
            + " is 32-bit but has high bits set (" + std::to_string(call.arguments[i]) + ")");
    }
    return {};
}

ErrorOr<void> decode_message(Frame const& frame, Reader& reader, ToKernel& out)
{
    switch (ToKernelType(frame.type)) {
    case ToKernelType::Hello: {
        auto& hello = out.emplace<Hello>();
        if (body_size(frame) != 16)
            return wrong_size(frame, "hello", 16);
        reader.get(hello.version);
        reader.get(hello.call_count);
        reader.get(hello.call_fingerprint);
        reader.get(hello.sealed);
        if (hello.sealed > 2)
            return Error::invalid(frame_name(frame) + ": hello's sealed level is " + std::to_string(hello.sealed) + " (must be 0, 1 or 2)");
        return {};
    }
    case ToKernelType::Call: {
        // Into the Call already there, if there is one (the reader decodes call after call into one message).
        auto* call = std::get_if<Call>(&out);
        return decode_call(frame, reader, call ? *call : out.emplace<Call>());
    }
    case ToKernelType::GrowMemory: {
        auto& grow = out.emplace<GrowMemory>();
        if (body_size(frame) != 16)
            return wrong_size(frame, "grow", 16);
        reader.get(grow.pages);
        reader.get(grow.maximum_pages);
        if (grow.pages > 65536 || grow.maximum_pages > 65536)
            return Error::invalid(frame_name(frame) + ": a memory of " + std::to_string(std::max(grow.pages, grow.maximum_pages))
                + " pages is larger than WebAssembly allows (65536)");
        return {};
    }
    case ToKernelType::Ended: {
        auto& ended = out.emplace<Ended>();
        uint32_t how = 0;
        if (!reader.get(how) || !reader.get(ended.trap_kind))
            return Error::invalid(frame_name(frame) + ": an end payload of " + std::to_string(frame.payload.size()) + " bytes has no reason");
        if (how > 1)
            return Error::invalid(frame_name(frame) + ": end reason " + std::to_string(how) + " is neither returned (0) nor trapped (1)");
        ended.how = Ended::How(how);
        if (reader.remaining() > max_detail_bytes)
            return Error::invalid(frame_name(frame) + ": end detail of " + std::to_string(reader.remaining()) + " bytes is over the limit of " + std::to_string(max_detail_bytes));
        ended.detail = reader.rest();
        return {};
    }
    case ToKernelType::SipGone:
        if (body_size(frame) != 0)
            return wrong_size(frame, "SIP-gone", 0);
        out.emplace<SipGone>();
        return {};
    case ToKernelType::CpuUsed: {
        auto& used = out.emplace<CpuUsed>();
        if (body_size(frame) != 8)
            return wrong_size(frame, "CPU-used", 8);
        reader.get(used.total_ns);
        return {};
    }
    }
    return Error::invalid(frame_name(frame) + ": no such message type from a domain");
}

} // namespace

ErrorOr<void> decode_to_kernel(Frame const& frame, FromDomain& out)
{
    Reader reader(frame.payload);
    Route& route = out.route;
    if (!reader.get(route.sip) || !reader.get(route.thread))
        return Error::invalid(frame_name(frame) + ": a payload of " + std::to_string(frame.payload.size()) + " bytes has no route (SIP and thread)");
    TRY(decode_message(frame, reader, out.message));
    auto const& message = out.message;
    // The route's shape: the hello is the domain's own, SipGone and CpuUsed a SIP's, the rest a thread's.
    auto where = [&] { return " (SIP " + std::to_string(route.sip) + ", thread " + std::to_string(route.thread) + ")"; };
    if (std::holds_alternative<Hello>(message)) {
        if (route.sip != 0 || route.thread != 0)
            return Error::invalid(frame_name(frame) + ": a hello is the domain's, not a SIP's" + where());
    } else if (std::holds_alternative<SipGone>(message) || std::holds_alternative<CpuUsed>(message)) {
        if (route.sip == 0 || route.thread != 0)
            return Error::invalid(frame_name(frame) + (std::holds_alternative<SipGone>(message) ? ": SIP-gone" : ": CPU-used") + " names a SIP and no thread" + where());
    } else if (route.sip == 0 || route.thread == 0) {
        return Error::invalid(frame_name(frame) + ": a thread's message names no SIP or no thread" + where());
    }
    return {};
}

ErrorOr<FromDomain> decode_to_kernel(Frame const& frame)
{
    FromDomain out;
    TRY(decode_to_kernel(frame, out));
    return out;
}

void Roster::add_sip(uint32_t sip) { m_sips[sip] = Entry { false, { first_thread } }; }
void Roster::add_thread(Route route) { m_sips[route.sip].threads.insert(route.thread); }
void Roster::remove_thread(Route route)
{
    if (auto it = m_sips.find(route.sip); it != m_sips.end())
        it->second.threads.erase(route.thread);
}
void Roster::end_sip(uint32_t sip)
{
    if (auto it = m_sips.find(sip); it != m_sips.end())
        it->second.ending = true;
}

ErrorOr<Roster::Verdict> Roster::admit(FromDomain const& message)
{
    auto const& route = message.route;
    if (std::holds_alternative<Hello>(message.message))
        return Verdict::Deliver;
    auto it = m_sips.find(route.sip);
    if (it == m_sips.end())
        return Error::invalid("a message for SIP " + std::to_string(route.sip) + ", which is not in the domain");
    if (std::holds_alternative<SipGone>(message.message)) {
        if (!it->second.ending)
            return Error::invalid("SIP " + std::to_string(route.sip) + " is gone, says the domain, but the kernel did not end it");
        m_sips.erase(it);
        return Verdict::Gone;
    }
    if (it->second.ending)
        return Verdict::Drop;
    if (std::holds_alternative<CpuUsed>(message.message))
        return Verdict::Deliver;
    if (!it->second.threads.count(route.thread))
        return Error::invalid("a message for thread " + std::to_string(route.thread) + " of SIP " + std::to_string(route.sip) + ", which has no such thread");
    return Verdict::Deliver;
}

namespace {

Writer routed(Route route)
{
    Writer writer;
    writer.put(route.sip).put(route.thread);
    return writer;
}

} // namespace

std::vector<uint8_t> encode(Route route, Hello const& hello)
{
    return routed(route).put(hello.version).put(hello.call_count).put(hello.call_fingerprint).put(hello.sealed).take();
}

std::span<uint8_t const> encode_call_into(FixedPayload& out, Route route, uint32_t function, uint64_t const* arguments, uint32_t argument_count)
{
    uint32_t const count = std::min(argument_count, max_call_arguments);
    uint32_t const head[4] = { route.sip, route.thread, function, argument_count };
    std::memcpy(out.data(), head, sizeof head);
    std::memcpy(out.data() + sizeof head, arguments, count * sizeof(uint64_t));
    return { out.data(), sizeof head + count * sizeof(uint64_t) };
}

std::span<uint8_t const> encode_into(FixedPayload& out, Route route, Call const& call)
{
    return encode_call_into(out, route, call.function, call.arguments, call.argument_count);
}

std::vector<uint8_t> encode(Route route, Call const& call)
{
    FixedPayload buffer;
    auto bytes = encode_into(buffer, route, call);
    return { bytes.begin(), bytes.end() };
}

std::vector<uint8_t> encode(Route route, GrowMemory const& grow) { return routed(route).put(grow.pages).put(grow.maximum_pages).take(); }

std::vector<uint8_t> encode(Route route, Ended const& ended)
{
    return routed(route).put(uint32_t(ended.how)).put(ended.trap_kind).put_bytes(std::string_view(ended.detail).substr(0, max_detail_bytes)).take();
}

std::vector<uint8_t> encode(Route route, SipGone const&) { return routed(route).take(); }
std::vector<uint8_t> encode(Route route, CpuUsed const& used) { return routed(route).put(used.total_ns).take(); }
std::vector<uint8_t> encode(Route route, Start const& start) { return routed(route).put(start.image).put(start.slot).take(); }
std::span<uint8_t const> encode_into(FixedPayload& out, Route route, Result const& result)
{
    uint32_t const head[2] = { route.sip, route.thread };
    std::memcpy(out.data(), head, sizeof head);
    std::memcpy(out.data() + sizeof head, &result.value, sizeof result.value);
    return { out.data(), sizeof head + sizeof result.value };
}

std::vector<uint8_t> encode(Route route, Result const& result)
{
    FixedPayload buffer;
    auto bytes = encode_into(buffer, route, result);
    return { bytes.begin(), bytes.end() };
}
std::vector<uint8_t> encode(Route route, Unwind const& unwind) { return routed(route).put(uint32_t(unwind.reason)).take(); }
std::vector<uint8_t> encode(Route route, StartThread const& start) { return routed(route).put(start.function).put(start.argument).put(start.stack_pointer).take(); }
std::vector<uint8_t> encode(Route route, EndSip const&) { return routed(route).take(); }
std::vector<uint8_t> encode(Route route, MemoryChanges const& changes)
{
    return routed(route).put_bytes(std::string_view(reinterpret_cast<char const*>(changes.changes.data()), changes.changes.size())).take();
}

ErrorOr<void> decode_to_domain(Frame const& frame, FromKernel& out)
{
    Reader reader(frame.payload);
    Route& route = out.route;
    if (!reader.get(route.sip) || !reader.get(route.thread))
        return Error::invalid(frame_name(frame) + ": no route");
    auto exactly = [&](size_t bytes, char const* what) -> ErrorOr<void> {
        if (reader.remaining() != bytes)
            return wrong_size(frame, what, bytes);
        return {};
    };
    switch (ToDomainType(frame.type)) {
    case ToDomainType::Start: {
        TRY(exactly(8, "start"));
        auto& start = out.message.emplace<Start>();
        reader.get(start.image);
        reader.get(start.slot);
        return {};
    }
    case ToDomainType::Result: {
        TRY(exactly(8, "result"));
        reader.get(out.message.emplace<Result>().value);
        return {};
    }
    case ToDomainType::Unwind: {
        TRY(exactly(4, "unwind"));
        uint32_t reason = 0;
        reader.get(reason);
        if (reason > 2)
            return Error::invalid(frame_name(frame) + ": unwind reason " + std::to_string(reason));
        out.message.emplace<Unwind>(Unwind { Unwind::Reason(reason) });
        return {};
    }
    case ToDomainType::StartThread: {
        TRY(exactly(12, "start-thread"));
        auto& start = out.message.emplace<StartThread>();
        reader.get(start.function);
        reader.get(start.argument);
        reader.get(start.stack_pointer);
        return {};
    }
    case ToDomainType::EndSip:
        TRY(exactly(0, "end-SIP"));
        out.message.emplace<EndSip>();
        return {};
    case ToDomainType::MemoryChanges: {
        if (reader.remaining() == 0 || reader.remaining() % 12 != 0 || reader.remaining() > max_memory_changes * 12)
            return Error::invalid(frame_name(frame) + ": memory changes of " + std::to_string(reader.remaining()) + " bytes");
        out.message.emplace<MemoryChanges>(MemoryChanges { reader.rest_bytes() });
        return {};
    }
    }
    return Error::invalid(frame_name(frame) + ": no such message type from the kernel");
}

ErrorOr<FromKernel> decode_to_domain(Frame const& frame)
{
    FromKernel out;
    TRY(decode_to_domain(frame, out));
    return out;
}

} // namespace signet::ring
