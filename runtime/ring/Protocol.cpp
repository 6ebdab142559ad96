// Encoding and checked decoding of ring messages (Protocol.h).
#include "runtime/ring/Protocol.h"

#include "runtime/ring/AbiCalls.h"

#include <cstring>

namespace signet::ring {

namespace {

class Writer {
public:
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
    size_t remaining() const { return m_bytes.size() - m_offset; }
    std::string rest() const { return std::string(m_bytes.begin() + m_offset, m_bytes.end()); }

private:
    std::vector<uint8_t> const& m_bytes;
    size_t m_offset { 0 };
};

std::string frame_name(Frame const& frame)
{
    return "ring message " + std::to_string(frame.type) + " (sequence " + std::to_string(frame.sequence) + ")";
}

Error wrong_size(Frame const& frame, char const* what, size_t expected)
{
    return Error::invalid(frame_name(frame) + ": a " + what + " payload is " + std::to_string(expected) + " bytes, got " + std::to_string(frame.payload.size()));
}

ErrorOr<ToKernel> decode_call(Frame const& frame)
{
    Reader reader(frame.payload);
    Call call;
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
    for (uint32_t i = 0; i < call.argument_count; ++i) {
        reader.get(call.arguments[i]);
        // An i32 or f32 argument travels in the low half; the high half is zero.
        char type = function.params[i];
        if ((type == 'i' || type == 'f') && (call.arguments[i] >> 32))
            return Error::invalid(frame_name(frame) + ": argument " + std::to_string(i) + " of " + std::string(function.name)
                + " is 32-bit but has high bits set (" + std::to_string(call.arguments[i]) + ")");
    }
    return ToKernel { call };
}

} // namespace

ErrorOr<ToKernel> decode_to_kernel(Frame const& frame)
{
    Reader reader(frame.payload);
    switch (ToKernelType(frame.type)) {
    case ToKernelType::Hello: {
        Hello hello;
        if (frame.payload.size() != 16)
            return wrong_size(frame, "hello", 16);
        reader.get(hello.version);
        reader.get(hello.call_count);
        reader.get(hello.call_fingerprint);
        reader.get(hello.sealed);
        if (hello.sealed > 2)
            return Error::invalid(frame_name(frame) + ": hello's sealed level is " + std::to_string(hello.sealed) + " (must be 0, 1 or 2)");
        return ToKernel { hello };
    }
    case ToKernelType::Call:
        return decode_call(frame);
    case ToKernelType::GrowMemory: {
        GrowMemory grow;
        if (frame.payload.size() != 8)
            return wrong_size(frame, "grow", 8);
        reader.get(grow.pages);
        if (grow.pages > 65536)
            return Error::invalid(frame_name(frame) + ": a memory of " + std::to_string(grow.pages) + " pages is larger than WebAssembly allows (65536)");
        return ToKernel { grow };
    }
    case ToKernelType::Ended: {
        Ended ended;
        uint32_t how = 0;
        if (!reader.get(how) || !reader.get(ended.trap_kind))
            return Error::invalid(frame_name(frame) + ": an end payload of " + std::to_string(frame.payload.size()) + " bytes has no reason");
        if (how > 1)
            return Error::invalid(frame_name(frame) + ": end reason " + std::to_string(how) + " is neither returned (0) nor trapped (1)");
        ended.how = Ended::How(how);
        if (reader.remaining() > max_detail_bytes)
            return Error::invalid(frame_name(frame) + ": end detail of " + std::to_string(reader.remaining()) + " bytes is over the limit of " + std::to_string(max_detail_bytes));
        ended.detail = reader.rest();
        return ToKernel { ended };
    }
    }
    return Error::invalid(frame_name(frame) + ": no such message type from a domain");
}

std::vector<uint8_t> encode(Hello const& hello)
{
    return Writer().put(hello.version).put(hello.call_count).put(hello.call_fingerprint).put(hello.sealed).take();
}

std::vector<uint8_t> encode(Call const& call)
{
    Writer writer;
    writer.put(call.function).put(call.argument_count);
    for (uint32_t i = 0; i < call.argument_count && i < max_call_arguments; ++i)
        writer.put(call.arguments[i]);
    return writer.take();
}

std::vector<uint8_t> encode(GrowMemory const& grow) { return Writer().put(grow.pages).take(); }

std::vector<uint8_t> encode(Ended const& ended)
{
    return Writer().put(uint32_t(ended.how)).put(ended.trap_kind).put_bytes(std::string_view(ended.detail).substr(0, max_detail_bytes)).take();
}

std::vector<uint8_t> encode(Result const& result) { return Writer().put(result.value).take(); }
std::vector<uint8_t> encode(Unwind const& unwind) { return Writer().put(uint32_t(unwind.reason)).take(); }

ErrorOr<Result> decode_result(Frame const& frame)
{
    if (frame.type != uint16_t(ToDomainType::Result) || frame.payload.size() != 8)
        return wrong_size(frame, "result", 8);
    Result result;
    std::memcpy(&result.value, frame.payload.data(), 8);
    return result;
}

ErrorOr<Unwind> decode_unwind(Frame const& frame)
{
    if (frame.type != uint16_t(ToDomainType::Unwind) || frame.payload.size() != 4)
        return wrong_size(frame, "unwind", 4);
    uint32_t reason = 0;
    std::memcpy(&reason, frame.payload.data(), 4);
    if (reason > 2)
        return Error::invalid(frame_name(frame) + ": unwind reason " + std::to_string(reason));
    return Unwind { Unwind::Reason(reason) };
}

} // namespace signet::ring
