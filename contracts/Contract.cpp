#include "contracts/Contract.h"

#include "base/Hot.h"
#include "contracts/Limits.h"
#include "contracts/Utf8.h"

#include <algorithm>
#include <set>

namespace signet::contracts {

char const* type_spelling(TypeKind kind)
{
    switch (kind) {
#define SIGNET_TYPE_SPELLING(kind, spelling, size) \
    case TypeKind::kind:                           \
        return spelling;
        SIGNET_CONTRACT_TYPES(SIGNET_TYPE_SPELLING)
#undef SIGNET_TYPE_SPELLING
    }
    return "?";
}

std::optional<TypeKind> type_kind_named(std::string_view name)
{
#define SIGNET_TYPE_NAMED(kind, spelling, size) \
    if (name == spelling && TypeKind::kind != TypeKind::Endpoint) \
        return TypeKind::kind;
    SIGNET_CONTRACT_TYPES(SIGNET_TYPE_NAMED)
#undef SIGNET_TYPE_NAMED
    return std::nullopt;
}

char const* direction_spelling(Direction direction) { return direction == Direction::In ? "in" : "out"; }
char const* end_spelling(End end) { return end == End::Imp ? "Imp" : "Exp"; }

bool is_identifier(std::string_view name)
{
    if (name.empty() || name.size() > limits::max_identifier_length)
        return false;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && i > 0))
            return false;
    }
    return true;
}

static uint32_t align_up(uint32_t value, uint32_t alignment) { return (value + alignment - 1) / alignment * alignment; }

TypeLayout layout_of(ArgumentType const& type)
{
    switch (type.kind) {
#define SIGNET_TYPE_LAYOUT(kind, spelling, size) \
    case TypeKind::kind:                         \
        if constexpr (size != 0)                 \
            return { size, size };               \
        break;
        SIGNET_CONTRACT_TYPES(SIGNET_TYPE_LAYOUT)
#undef SIGNET_TYPE_LAYOUT
    }
    // bytes<N> and string<N>: a u32 length, then N bytes. Callers keep N within
    // limits::max_buffer_bound, so this cannot overflow.
    return { align_up(4 + static_cast<uint32_t>(type.bound), 4), 4 };
}

ErrorOr<void> lay_out(Message& message)
{
    uint64_t offset = 0;
    uint32_t alignment = 1;
    for (auto& argument : message.arguments) {
        auto layout = layout_of(argument.type);
        offset = (offset + layout.alignment - 1) / layout.alignment * layout.alignment;
        argument.offset = static_cast<uint32_t>(std::min<uint64_t>(offset, UINT32_MAX));
        argument.size = layout.size;
        offset += layout.size;
        alignment = std::max(alignment, layout.alignment);
        if (offset > limits::max_message_size)
            return Error(ErrorKind::Limit, "message '" + message.name + "' needs more than " + std::to_string(limits::max_message_size) + " bytes; the limit is " + std::to_string(limits::max_message_size) + " (use a 'block' for bulk data)");
    }
    message.size = align_up(static_cast<uint32_t>(offset), alignment);
    return {};
}

SIGNET_HOT ErrorOr<void> validate_message_buffer(Message const& message, std::span<uint8_t const> buffer)
{
    if (buffer.size() != message.size)
        return Error::invalid("message '" + message.name + "' is " + std::to_string(buffer.size()) + " bytes; it must be " + std::to_string(message.size));
    for (auto const& argument : message.arguments) {
        auto field = buffer.subspan(argument.offset, argument.size);
        switch (argument.type.kind) {
        case TypeKind::Bool:
            if (field[0] > 1)
                return Error::invalid("argument '" + argument.name + "' of message '" + message.name + "' is a bool with the value " + std::to_string(field[0]));
            break;
        case TypeKind::Bytes:
        case TypeKind::String: {
            uint32_t length = field[0] | field[1] << 8 | field[2] << 16 | static_cast<uint32_t>(field[3]) << 24;
            if (length > argument.type.bound)
                return Error::invalid("argument '" + argument.name + "' of message '" + message.name + "' holds " + std::to_string(length) + " bytes; at most " + std::to_string(argument.type.bound) + " fit");
            std::string_view text(reinterpret_cast<char const*>(field.data() + 4), length);
            if (argument.type.kind == TypeKind::String && !is_valid_utf8(text))
                return Error::invalid("argument '" + argument.name + "' of message '" + message.name + "' is not well-formed UTF-8");
            break;
        }
        default:
            break;
        }
    }
    return {};
}

// `Start#3`: the intermediate states the lowering makes after named state `Start`.
static bool is_intermediate_name(std::string_view name)
{
    size_t hash = name.find('#');
    if (hash == std::string_view::npos || hash + 1 == name.size() || name.size() - hash > 6)
        return false;
    for (char c : name.substr(hash + 1)) {
        if (c < '0' || c > '9')
            return false;
    }
    return is_identifier(name.substr(0, hash));
}

// The contract named `name` in `root`'s closure: root itself or one it references.
static Contract const* find_in_closure(Contract const& root, std::string_view name)
{
    if (name == root.name)
        return &root;
    auto it = std::lower_bound(root.referenced.begin(), root.referenced.end(), name, [](Contract const& c, std::string_view n) { return c.name < n; });
    return it != root.referenced.end() && it->name == name ? &*it : nullptr;
}

// Every contract an endpoint argument of `contract` names (not `any`), in argument order.
template<typename Visit>
static void for_each_named_contract(Contract const& contract, Visit&& visit)
{
    for (auto const& message : contract.messages) {
        for (auto const& argument : message.arguments) {
            if (argument.type.kind == TypeKind::Endpoint && !argument.type.endpoint.contract.empty())
                visit(argument.type.endpoint.contract);
        }
    }
}

// The contracts of root's closure that `start` reaches through endpoint types, itself
// excluded, in name order.
static std::vector<Contract const*> reached_from(Contract const& root, Contract const& start)
{
    std::set<std::string_view> seen { start.name };
    std::vector<Contract const*> reached;
    std::vector<Contract const*> pending { &start };
    while (!pending.empty()) {
        Contract const* next = pending.back();
        pending.pop_back();
        for_each_named_contract(*next, [&](std::string const& named) {
            if (!seen.insert(named).second)
                return;
            if (Contract const* found = find_in_closure(root, named)) {
                reached.push_back(found);
                pending.push_back(found);
            }
        });
    }
    std::sort(reached.begin(), reached.end(), [](Contract const* a, Contract const* b) { return a->name < b->name; });
    return reached;
}

std::optional<Contract> as_root(Contract const& root, std::string_view name)
{
    Contract const* start = find_in_closure(root, name);
    if (!start)
        return std::nullopt;
    Contract result = *start;
    result.referenced.clear();
    for (Contract const* reached : reached_from(root, *start)) {
        result.referenced.push_back(*reached);
        result.referenced.back().referenced.clear();
    }
    return result;
}

static ErrorOr<void> validate_argument(Contract const& root, Contract const& contract, Message const& message, Argument const& argument)
{
    auto where = [&] { return "argument '" + argument.name + "' of message '" + message.name + "'"; };
    auto const& type = argument.type;
    if (static_cast<uint8_t>(type.kind) >= type_kind_count)
        return Error::invalid(where() + " has unknown type " + std::to_string(static_cast<unsigned>(type.kind)));
    bool buffer = type.kind == TypeKind::Bytes || type.kind == TypeKind::String;
    if (buffer && (type.bound == 0 || type.bound > limits::max_buffer_bound))
        return Error::invalid(where() + " has size " + std::to_string(type.bound) + ", outside 1.." + std::to_string(limits::max_buffer_bound));
    if (type.kind == TypeKind::Block && type.bound > limits::max_block_bound)
        return Error::invalid(where() + " has block size " + std::to_string(type.bound) + ", above " + std::to_string(limits::max_block_bound));
    if (!buffer && type.kind != TypeKind::Block && type.bound != 0)
        return Error::invalid(where() + " of type " + type_spelling(type.kind) + " has a size bound");

    if (type.kind != TypeKind::Endpoint) {
        if (type.endpoint != EndpointType {})
            return Error::invalid(where() + " is not an endpoint but names one");
        return {};
    }
    auto const& endpoint = type.endpoint;
    if (endpoint.contract.empty()) {
        // `any.Imp` / `any.Exp`: no contract, no state; the kernel checks the real one.
        if (!endpoint.state.empty() || endpoint.state_index != 0 || endpoint.next != NextOperation::Send)
            return Error::invalid(where() + " is an endpoint of any contract but names a state");
        if (endpoint.end != End::Imp && endpoint.end != End::Exp)
            return Error::invalid(where() + " names an endpoint with an unknown end");
        return {};
    }
    if (!is_identifier(endpoint.contract) || !is_identifier(endpoint.state))
        return Error::invalid(where() + " names an endpoint with a malformed contract or state name");
    if (endpoint.end != End::Imp && endpoint.end != End::Exp)
        return Error::invalid(where() + " names an endpoint with an unknown end");
    if (endpoint.next != NextOperation::None && endpoint.next != NextOperation::Send)
        return Error::invalid(where() + " is an endpoint that travels in a state where it receives next");
    // The contract it names travels with the root: its state and the endpoint's next
    // operation there are checked against its machine.
    Contract const* named = find_in_closure(root, endpoint.contract);
    if (!named)
        return Error::invalid(where() + " names contract '" + endpoint.contract + "', which the descriptor does not carry");
    auto const& states = named->machine.states;
    if (endpoint.state_index >= states.size() || states[endpoint.state_index].name != endpoint.state || !states[endpoint.state_index].is_named)
        return Error::invalid(where() + " names state '" + endpoint.state + "', which contract '" + named->name + "' does not have at index " + std::to_string(endpoint.state_index));
    if (next_operation(states[endpoint.state_index], endpoint.end) != endpoint.next)
        return Error::invalid(where() + " records the wrong next operation for state '" + endpoint.state + "'");
    return {};
}

static ErrorOr<void> validate_messages(Contract const& root, Contract const& contract)
{
    if (contract.messages.size() > limits::max_messages)
        return Error::invalid("contract has " + std::to_string(contract.messages.size()) + " messages; the limit is " + std::to_string(limits::max_messages));
    std::set<std::string_view> names;
    for (size_t index = 0; index < contract.messages.size(); ++index) {
        auto const& message = contract.messages[index];
        if (!is_identifier(message.name))
            return Error::invalid("message " + std::to_string(index) + " has a malformed name");
        if (!names.insert(message.name).second)
            return Error::invalid("message '" + message.name + "' appears twice");
        if (message.id != index + 1)
            return Error::invalid("message '" + message.name + "' has id " + std::to_string(message.id) + ", expected " + std::to_string(index + 1));
        if (message.direction != Direction::In && message.direction != Direction::Out)
            return Error::invalid("message '" + message.name + "' has an unknown direction");
        if (message.arguments.size() > limits::max_arguments)
            return Error::invalid("message '" + message.name + "' has more than " + std::to_string(limits::max_arguments) + " arguments");
        std::set<std::string_view> argument_names;
        for (auto const& argument : message.arguments) {
            if (!is_identifier(argument.name) || !argument_names.insert(argument.name).second)
                return Error::invalid("message '" + message.name + "' has a malformed or repeated argument name");
            TRY(validate_argument(root, contract, message, argument));
        }
        Message laid_out = message;
        TRY(lay_out(laid_out));
        if (laid_out != message)
            return Error::invalid("message '" + message.name + "' has a layout other than the natural one");
    }
    return {};
}

static ErrorOr<void> validate_machine(Contract const& contract)
{
    auto const& states = contract.machine.states;
    if (states.empty() || states.size() > limits::max_states)
        return Error::invalid("contract has " + std::to_string(states.size()) + " states; it needs 1 to " + std::to_string(limits::max_states));
    if (!states[0].is_named)
        return Error::invalid("the start state is not a named state");
    std::set<std::string_view> names;
    for (auto const& state : states) {
        if (state.is_named ? !is_identifier(state.name) : !is_intermediate_name(state.name))
            return Error::invalid("a state has the malformed name '" + state.name.substr(0, limits::max_identifier_length) + "'");
        if (!names.insert(state.name).second)
            return Error::invalid("state '" + state.name + "' appears twice");
        std::vector<bool> seen(contract.messages.size(), false);
        for (auto const& edge : state.edges) {
            if (edge.message >= contract.messages.size() || edge.target >= states.size())
                return Error::invalid("state '" + state.name + "' has an edge to a message or state that does not exist");
            auto const& message = contract.messages[edge.message];
            if (edge.action != action_for(message.direction))
                return Error::invalid("state '" + state.name + "' uses message '" + message.name + "' against its direction");
            if (seen[edge.message])
                return Error::invalid("state '" + state.name + "' has two edges for message '" + message.name + "'");
            seen[edge.message] = true;
        }
    }

    auto analysis = analyze(contract.machine);
    if (!analysis.unreachable_states.empty())
        return Error::invalid("state '" + states[analysis.unreachable_states[0]].name + "' is unreachable");
    if (!analysis.mixed_states.empty())
        return Error::invalid("state '" + states[analysis.mixed_states[0]].name + "' both sends and receives");
    if (analysis.cycle_without_receive || analysis.cycle_without_send)
        return Error::invalid("the state machine has a cycle without a send or without a receive");
    if (analysis.bounds != contract.bounds)
        return Error::invalid("the queue bounds are " + std::to_string(contract.bounds.exporter_to_importer) + "/" + std::to_string(contract.bounds.importer_to_exporter) + ", but the state machine needs " + std::to_string(analysis.bounds.exporter_to_importer) + "/" + std::to_string(analysis.bounds.importer_to_exporter));
    return {};
}

// One contract of the closure: its own name, messages and machine. Its endpoint
// arguments resolve in root's closure.
static ErrorOr<void> validate_one(Contract const& root, Contract const& contract)
{
    if (!is_identifier(contract.name))
        return Error::invalid("the contract name is malformed");
    auto in_contract = [&](Error error) { return Error(error.kind(), "contract '" + contract.name + "': " + error.message()); };
    if (auto result = validate_messages(root, contract); result.is_error())
        return in_contract(result.release_error());
    if (auto result = validate_machine(contract); result.is_error())
        return in_contract(result.release_error());
    return {};
}

ErrorOr<void> validate(Contract const& contract)
{
    auto const& referenced = contract.referenced;
    if (referenced.size() > limits::max_referenced_contracts)
        return Error::invalid("contract '" + contract.name + "' references " + std::to_string(referenced.size()) + " contracts; the limit is "
            + std::to_string(limits::max_referenced_contracts));
    for (size_t i = 0; i < referenced.size(); ++i) {
        if (!referenced[i].referenced.empty())
            return Error::invalid("referenced contract '" + referenced[i].name + "' has a list of its own");
        if (referenced[i].name == contract.name || (i > 0 && !(referenced[i - 1].name < referenced[i].name)))
            return Error::invalid("the referenced contracts are not sorted, or '" + referenced[i].name + "' appears twice");
    }
    TRY(validate_one(contract, contract));
    for (auto const& other : referenced)
        TRY(validate_one(contract, other));
    // Exactly the closure: nothing that no endpoint type reaches.
    if (reached_from(contract, contract).size() != referenced.size())
        return Error::invalid("contract '" + contract.name + "' carries contracts that none of its endpoint types reach");
    return {};
}

} // namespace signet::contracts
