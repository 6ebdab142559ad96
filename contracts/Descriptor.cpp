#include "contracts/Descriptor.h"

#include "contracts/Limits.h"

#include <cstring>

namespace signet::contracts {

namespace {

// Names are identifiers, or intermediate state names a few bytes longer.
constexpr size_t max_name_length = limits::max_identifier_length + 8;

class Writer {
public:
    void u8(uint8_t value) { m_bytes.push_back(value); }
    void u16(uint16_t value) { little_endian(value, 2); }
    void u32(uint32_t value) { little_endian(value, 4); }
    void string(std::string const& text)
    {
        u16(static_cast<uint16_t>(text.size()));
        m_bytes.insert(m_bytes.end(), text.begin(), text.end());
    }
    void patch_u32(size_t offset, uint32_t value)
    {
        for (size_t i = 0; i < 4; ++i)
            m_bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
    }
    std::vector<uint8_t> release() { return std::move(m_bytes); }
    size_t size() const { return m_bytes.size(); }

private:
    void little_endian(uint64_t value, size_t bytes)
    {
        for (size_t i = 0; i < bytes; ++i)
            m_bytes.push_back(static_cast<uint8_t>(value >> (8 * i)));
    }

    std::vector<uint8_t> m_bytes;
};

class Reader {
public:
    explicit Reader(std::span<uint8_t const> bytes)
        : m_bytes(bytes)
    {
    }

    ErrorOr<uint8_t> u8(char const* what) { return static_cast<uint8_t>(TRY(little_endian(1, what))); }
    ErrorOr<uint16_t> u16(char const* what) { return static_cast<uint16_t>(TRY(little_endian(2, what))); }
    ErrorOr<uint32_t> u32(char const* what) { return static_cast<uint32_t>(TRY(little_endian(4, what))); }

    ErrorOr<std::string> string(char const* what)
    {
        uint16_t length = TRY(u16(what));
        if (length > max_name_length)
            return malformed(std::string(what) + " is " + std::to_string(length) + " bytes long");
        if (length > remaining())
            return truncated(what);
        std::string text(reinterpret_cast<char const*>(m_bytes.data() + m_offset), length);
        m_offset += length;
        return text;
    }

    // Reads a one-byte enum, refusing values above `last`.
    template<typename Enum>
    ErrorOr<Enum> enumeration(char const* what, Enum last)
    {
        uint8_t value = TRY(u8(what));
        if (value > static_cast<uint8_t>(last))
            return malformed(std::string(what) + " has the unknown value " + std::to_string(value));
        return static_cast<Enum>(value);
    }

    size_t offset() const { return m_offset; }
    size_t remaining() const { return m_bytes.size() - m_offset; }

    Error malformed(std::string const& message) const { return Error::invalid("descriptor: " + message + " (at byte " + std::to_string(m_offset) + ")"); }
    Error truncated(char const* what) const { return malformed(std::string("truncated while reading ") + what); }

private:
    ErrorOr<uint64_t> little_endian(size_t bytes, char const* what)
    {
        if (bytes > remaining())
            return truncated(what);
        uint64_t value = 0;
        for (size_t i = 0; i < bytes; ++i)
            value |= static_cast<uint64_t>(m_bytes[m_offset + i]) << (8 * i);
        m_offset += bytes;
        return value;
    }

    std::span<uint8_t const> m_bytes;
    size_t m_offset { 0 };
};

bool has_bound(TypeKind kind) { return kind == TypeKind::Bytes || kind == TypeKind::String || kind == TypeKind::Block; }

ErrorOr<Argument> decode_argument(Reader& reader)
{
    Argument argument;
    auto& type = argument.type;
    argument.name = TRY(reader.string("an argument name"));
    type.kind = TRY(reader.enumeration("an argument type", TypeKind::Block));
    argument.offset = TRY(reader.u32("an argument offset"));
    argument.size = TRY(reader.u32("an argument size"));
    if (has_bound(type.kind))
        type.bound = TRY(reader.u32("an argument's bound"));
    if (type.kind == TypeKind::Endpoint) {
        type.endpoint.end = TRY(reader.enumeration("an endpoint end", End::Exp));
        type.endpoint.next = TRY(reader.enumeration("an endpoint's next operation", NextOperation::Receive));
        type.endpoint.state_index = TRY(reader.u16("an endpoint's state index"));
        type.endpoint.contract = TRY(reader.string("an endpoint's contract"));
        type.endpoint.state = TRY(reader.string("an endpoint's state"));
    }
    return argument;
}

ErrorOr<Message> decode_message(Reader& reader)
{
    Message message;
    message.id = TRY(reader.u16("a message id"));
    message.name = TRY(reader.string("a message name"));
    message.direction = TRY(reader.enumeration("a message direction", Direction::Out));
    uint8_t argument_count = TRY(reader.u8("an argument count"));
    if (argument_count > limits::max_arguments)
        return reader.malformed("message '" + message.name + "' has " + std::to_string(argument_count) + " arguments");
    message.size = TRY(reader.u32("a message size"));
    for (uint8_t i = 0; i < argument_count; ++i)
        message.arguments.push_back(TRY(decode_argument(reader)));
    return message;
}

ErrorOr<State> decode_state(Reader& reader, std::vector<Message> const& messages)
{
    State state;
    state.name = TRY(reader.string("a state name"));
    uint8_t flags = TRY(reader.u8("state flags"));
    if (flags > 1)
        return reader.malformed("state '" + state.name + "' has unknown flags");
    state.is_named = flags == 1;
    uint16_t edge_count = TRY(reader.u16("an edge count"));
    // No two edges of a state share a message, so there are no more edges than messages.
    if (edge_count > messages.size())
        return reader.malformed("state '" + state.name + "' has " + std::to_string(edge_count) + " edges but the contract has " + std::to_string(messages.size()) + " messages");
    for (uint16_t i = 0; i < edge_count; ++i) {
        Edge edge;
        edge.message = TRY(reader.u16("an edge's message"));
        edge.target = TRY(reader.u16("an edge's target"));
        if (edge.message >= messages.size())
            return reader.malformed("state '" + state.name + "' has an edge for message " + std::to_string(edge.message) + ", which does not exist");
        // The message's direction says which way the edge goes.
        edge.action = action_for(messages[edge.message].direction);
        state.edges.push_back(edge);
    }
    return state;
}

// A contract's name, bounds, messages and states: the root's, then each referenced one's.
void encode_body(Writer& writer, Contract const& contract)
{
    writer.string(contract.name);
    writer.u32(contract.bounds.exporter_to_importer);
    writer.u32(contract.bounds.importer_to_exporter);
    writer.u16(static_cast<uint16_t>(contract.messages.size()));
    for (auto const& message : contract.messages) {
        writer.u16(message.id);
        writer.string(message.name);
        writer.u8(static_cast<uint8_t>(message.direction));
        writer.u8(static_cast<uint8_t>(message.arguments.size()));
        writer.u32(message.size);
        for (auto const& argument : message.arguments) {
            auto const& type = argument.type;
            writer.string(argument.name);
            writer.u8(static_cast<uint8_t>(type.kind));
            writer.u32(argument.offset);
            writer.u32(argument.size);
            if (has_bound(type.kind))
                writer.u32(static_cast<uint32_t>(type.bound));
            if (type.kind == TypeKind::Endpoint) {
                writer.u8(static_cast<uint8_t>(type.endpoint.end));
                writer.u8(static_cast<uint8_t>(type.endpoint.next));
                writer.u16(type.endpoint.state_index);
                writer.string(type.endpoint.contract);
                writer.string(type.endpoint.state);
            }
        }
    }
    writer.u16(static_cast<uint16_t>(contract.machine.states.size()));
    for (auto const& state : contract.machine.states) {
        writer.string(state.name);
        writer.u8(state.is_named ? 1 : 0);
        writer.u16(static_cast<uint16_t>(state.edges.size()));
        for (auto const& edge : state.edges) {
            writer.u16(edge.message);
            writer.u16(edge.target);
        }
    }
}

ErrorOr<Contract> decode_body(Reader& reader)
{
    Contract contract;
    contract.name = TRY(reader.string("the contract name"));
    contract.bounds.exporter_to_importer = TRY(reader.u32("a queue bound"));
    contract.bounds.importer_to_exporter = TRY(reader.u32("a queue bound"));
    uint16_t message_count = TRY(reader.u16("the message count"));
    if (message_count > limits::max_messages)
        return reader.malformed(std::to_string(message_count) + " messages is more than the limit of " + std::to_string(limits::max_messages));
    for (uint16_t i = 0; i < message_count; ++i)
        contract.messages.push_back(TRY(decode_message(reader)));
    uint16_t state_count = TRY(reader.u16("the state count"));
    if (state_count > limits::max_states)
        return reader.malformed(std::to_string(state_count) + " states is more than the limit of " + std::to_string(limits::max_states));
    for (uint16_t i = 0; i < state_count; ++i)
        contract.machine.states.push_back(TRY(decode_state(reader, contract.messages)));
    return contract;
}

} // namespace

std::vector<uint8_t> encode_descriptor(Contract const& contract)
{
    Writer writer;
    for (uint8_t byte : descriptor_magic)
        writer.u8(byte);
    writer.u16(descriptor_version);
    writer.u16(0); // Flags: none defined.
    writer.u32(0); // The total size, patched below.
    encode_body(writer, contract);
    writer.u16(static_cast<uint16_t>(contract.referenced.size()));
    for (auto const& referenced : contract.referenced)
        encode_body(writer, referenced);
    writer.patch_u32(8, static_cast<uint32_t>(writer.size()));
    return writer.release();
}

ErrorOr<Contract> decode_descriptor(std::span<uint8_t const> bytes)
{
    if (bytes.size() > limits::max_descriptor_size)
        return Error::invalid("descriptor: " + std::to_string(bytes.size()) + " bytes is larger than the limit of " + std::to_string(limits::max_descriptor_size));
    Reader reader(bytes);
    if (bytes.size() < descriptor_header_size || std::memcmp(bytes.data(), descriptor_magic, sizeof descriptor_magic) != 0)
        return Error::invalid("descriptor: not a contract descriptor (bad magic)");
    for (size_t i = 0; i < sizeof descriptor_magic; ++i)
        TRY(reader.u8("the magic"));
    uint16_t version = TRY(reader.u16("the version"));
    if (version != descriptor_version)
        return Error(ErrorKind::Unsupported, "descriptor: version " + std::to_string(version) + " is not supported (this decoder reads version " + std::to_string(descriptor_version) + ")");
    if (TRY(reader.u16("the flags")) != 0)
        return reader.malformed("unknown flags are set");
    uint32_t size = TRY(reader.u32("the size"));
    if (size != bytes.size())
        return reader.malformed("the header says " + std::to_string(size) + " bytes, but there are " + std::to_string(bytes.size()));

    Contract contract = TRY(decode_body(reader));
    uint16_t referenced_count = TRY(reader.u16("the referenced contract count"));
    if (referenced_count > limits::max_referenced_contracts)
        return reader.malformed(std::to_string(referenced_count) + " referenced contracts is more than the limit of " + std::to_string(limits::max_referenced_contracts));
    for (uint16_t i = 0; i < referenced_count; ++i)
        contract.referenced.push_back(TRY(decode_body(reader)));
    if (reader.remaining() != 0)
        return reader.malformed(std::to_string(reader.remaining()) + " bytes follow the descriptor");

    if (auto valid = validate(contract); valid.is_error())
        return Error::invalid("descriptor: " + valid.error().message());
    return contract;
}

} // namespace signet::contracts
