#include "contracts/Checker.h"

#include "contracts/CNames.h"
#include "contracts/Descriptor.h"
#include "contracts/Limits.h"
#include "contracts/Parser.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

namespace signet::contracts {

std::string CheckResult::diagnostics_text() const
{
    return format_diagnostics(diagnostics);
}

namespace {

std::string format_location(SourceLocation location) { return std::to_string(location.line) + ":" + std::to_string(location.column); }

std::string format_step(std::string_view message, Action action) { return quoted(std::string(message) + (action == Action::Send ? "!" : "?")); }

struct FileUnit {
    std::string path;
    std::optional<FileSyntax> syntax; // None after a syntax error.
    // Directly imported files that parsed, with the import's location.
    std::vector<std::pair<size_t, SourceLocation>> imports;
    // False when an import could not be loaded: names it would have declared
    // are then unknown, and reporting them would only repeat that error.
    bool imports_complete { true };
    std::vector<size_t> contracts; // Indices into Checker::m_contracts.
    std::map<std::string, size_t, std::less<>> scope; // Contract names visible here.
};

// A contract while it is being checked.
struct ContractUnit {
    size_t file { 0 };
    ContractSyntax const* syntax { nullptr };
    Contract contract;
    std::vector<std::string> message_docs;
    std::vector<SourceLocation> message_locations;
    std::map<std::string, uint16_t, std::less<>> message_index;
    std::map<std::string, uint16_t, std::less<>> state_index; // Named states.

    // Where each edge came from, and how diagnostics name each state.
    std::vector<std::vector<SourceLocation>> edge_locations;
    std::vector<std::string> state_descriptions;
    std::vector<uint32_t> intermediate_counts; // Per named state.

    bool messages_ok { true };
    bool lowered_ok { true }; // The machine has every edge the source wrote.
    bool sound { false };     // ... and passed the analysis.

    struct PendingEndpoint {
        uint16_t message;
        size_t argument;
        TypeSyntax const* type;
        size_t target; // The named contract's unit.
    };
    std::vector<PendingEndpoint> endpoints;
};

class Checker {
public:
    explicit Checker(SourceProvider& sources)
        : m_sources(sources)
    {
    }

    CheckResult run(std::string const& path);

private:
    struct ImportSite {
        size_t file;
        SourceLocation location;
        std::string const* written; // The path as the import statement spells it.
    };

    std::optional<size_t> load(std::string const& path, std::optional<ImportSite>, std::vector<std::string>& chain);
    void build_scope(size_t file);
    void check_messages(ContractUnit&);
    std::optional<ArgumentType> check_type(ContractUnit&, ArgumentSyntax const&, std::string const& message);
    void lower(ContractUnit&);
    std::optional<uint16_t> add_intermediate_state(ContractUnit&, uint16_t named, ProtocolNode const& after);
    bool lower_sequence(ContractUnit&, std::vector<ProtocolNode> const&, uint16_t from, uint16_t to, uint16_t named);
    bool lower_node(ContractUnit&, ProtocolNode const&, uint16_t from, uint16_t to, uint16_t named);
    void analyze_machine(ContractUnit&);
    void report_cycle(ContractUnit&, UniformCycle const&);
    void resolve_endpoints(ContractUnit&);
    void check_c_names(FileUnit&);
    std::optional<std::vector<Contract>> referenced_by(ContractUnit const&);
    void check_reserved(ContractUnit const&, SourceLocation, std::string const& name, char const* what);

    void error(size_t file, SourceLocation location, std::string message) { m_diagnostics.error(m_files[file].path, location, std::move(message)); }
    void error(ContractUnit const& unit, SourceLocation location, std::string message) { error(unit.file, location, std::move(message)); }

    SourceProvider& m_sources;
    Diagnostics m_diagnostics;
    // A deque, so that syntax trees stay put while imports load: contract
    // units and import sites point into them.
    std::deque<FileUnit> m_files;
    std::map<std::string, size_t> m_file_index;
    std::vector<size_t> m_post_order; // Imports before their importers.
    std::vector<ContractUnit> m_contracts;
};

std::optional<size_t> Checker::load(std::string const& path, std::optional<ImportSite> site, std::vector<std::string>& chain)
{
    auto report = [&](std::string message) {
        if (site)
            error(site->file, site->location, "cannot import \"" + *site->written + "\": " + message);
        else
            m_diagnostics.error(path, {}, std::move(message));
    };

    if (auto cycle_start = std::find(chain.begin(), chain.end(), path); cycle_start != chain.end()) {
        std::string cycle;
        for (auto it = cycle_start; it != chain.end(); ++it)
            cycle += *it + " -> ";
        report("import cycle " + cycle + path);
        return std::nullopt;
    }
    if (auto it = m_file_index.find(path); it != m_file_index.end())
        return it->second;
    if (chain.size() >= limits::max_import_depth) {
        report("imports nest more than " + std::to_string(limits::max_import_depth) + " files deep");
        return std::nullopt;
    }
    if (m_files.size() >= limits::max_files) {
        report("a check may read at most " + std::to_string(limits::max_files) + " files");
        return std::nullopt;
    }
    auto text = m_sources.read(path);
    if (text.is_error()) {
        report(text.error().message());
        return std::nullopt;
    }

    size_t index = m_files.size();
    m_files.push_back({});
    m_files[index].path = path;
    m_file_index.emplace(path, index);
    m_files[index].syntax = parse_source(path, text.value(), m_diagnostics);
    if (!m_files[index].syntax)
        return index;

    chain.push_back(path);
    for (size_t i = 0; i < m_files[index].syntax->imports.size(); ++i) {
        auto const& import = m_files[index].syntax->imports[i];
        auto imported = load(SourceProvider::resolve_import(path, import.path), ImportSite { index, import.location, &import.path }, chain);
        if (imported && m_files[*imported].syntax)
            m_files[index].imports.emplace_back(*imported, import.location);
        else
            m_files[index].imports_complete = false;
    }
    chain.pop_back();
    m_post_order.push_back(index);
    return index;
}

void Checker::build_scope(size_t file_index)
{
    auto& file = m_files[file_index];
    for (size_t unit_index : file.contracts) {
        auto const& unit = m_contracts[unit_index];
        auto [it, inserted] = file.scope.emplace(unit.syntax->name, unit_index);
        if (!inserted) {
            error(unit, unit.syntax->location, "contract " + quoted(unit.syntax->name) + " is declared twice (first at " + format_location(m_contracts[it->second].syntax->location) + ")");
            m_contracts[unit_index].messages_ok = false;
        }
    }
    for (auto const& [imported, import_location] : file.imports) {
        for (size_t unit_index : m_files[imported].contracts) {
            auto const& unit = m_contracts[unit_index];
            auto [it, inserted] = file.scope.emplace(unit.syntax->name, unit_index);
            if (inserted || it->second == unit_index)
                continue;
            auto const& other = m_contracts[it->second];
            std::string where = m_files[unit.file].path + ":" + format_location(unit.syntax->location);
            if (other.file == file_index)
                error(file_index, other.syntax->location, "contract " + quoted(unit.syntax->name) + " is also declared in an imported file, at " + where);
            else
                error(file_index, import_location, "this import declares contract " + quoted(unit.syntax->name) + " at " + where + ", but " + m_files[other.file].path + " already declares it");
        }
    }
}

void Checker::check_reserved(ContractUnit const& unit, SourceLocation location, std::string const& name, char const* what)
{
    if (auto reason = cnames::reserved_reason(name))
        error(unit, location, std::string(what) + " " + quoted(name) + " cannot be used: " + *reason);
}

std::optional<ArgumentType> Checker::check_type(ContractUnit& unit, ArgumentSyntax const& argument, std::string const& message)
{
    auto const& syntax = argument.type;
    ArgumentType type;
    if (syntax.is_endpoint && syntax.name == any_contract_name) {
        // An end of any contract. It may travel only where it sends next (or its
        // protocol is over), which the kernel checks on the contract it really speaks.
        type.kind = TypeKind::Endpoint;
        type.endpoint.end = syntax.end;
        type.endpoint.next = NextOperation::Send;
        if (!syntax.state.empty()) {
            error(unit, syntax.state_location, "the endpoint type " + quoted(std::string(any_contract_name) + "." + end_spelling(syntax.end)) + " of argument " + quoted(argument.name)
                    + " takes no state: an end of any contract travels in any state in which it sends next");
            return std::nullopt;
        }
        return type;
    }
    if (syntax.is_endpoint) {
        type.kind = TypeKind::Endpoint;
        type.endpoint.contract = syntax.name;
        type.endpoint.end = syntax.end;
        type.endpoint.state = syntax.state;
        auto const& file = m_files[unit.file];
        auto target = file.scope.find(syntax.name);
        if (target == file.scope.end()) {
            if (file.imports_complete)
                error(unit, syntax.location, "unknown contract " + quoted(syntax.name) + " in the endpoint type of argument " + quoted(argument.name) + " of message " + quoted(message));
            return std::nullopt;
        }
        unit.endpoints.push_back({ static_cast<uint16_t>(unit.contract.messages.size()), 0, &syntax, target->second });
        return type;
    }

    auto kind = type_kind_named(syntax.name);
    if (!kind) {
        error(unit, syntax.location, "unknown type " + quoted(syntax.name) + " of argument " + quoted(argument.name) + " in message " + quoted(message));
        return std::nullopt;
    }
    type.kind = *kind;
    std::string spelled = syntax.name + (syntax.bound ? "<" + std::to_string(*syntax.bound) + ">" : "");
    switch (*kind) {
    case TypeKind::Bytes:
    case TypeKind::String:
        if (!syntax.bound) {
            error(unit, syntax.location, quoted(syntax.name) + " needs a size: " + syntax.name + "<N> holds at most N bytes, 1 <= N <= " + std::to_string(limits::max_buffer_bound));
            return std::nullopt;
        }
        if (*syntax.bound == 0 || *syntax.bound > limits::max_buffer_bound) {
            error(unit, syntax.bound_location, "size " + std::to_string(*syntax.bound) + " of " + quoted(spelled) + " is out of range; it must be 1 to " + std::to_string(limits::max_buffer_bound));
            return std::nullopt;
        }
        type.bound = *syntax.bound;
        return type;
    case TypeKind::Block:
        if (syntax.bound && (*syntax.bound == 0 || *syntax.bound > limits::max_block_bound)) {
            error(unit, syntax.bound_location, "size " + std::to_string(*syntax.bound) + " of " + quoted(spelled) + " is out of range; it must be 1 to " + std::to_string(limits::max_block_bound));
            return std::nullopt;
        }
        type.bound = syntax.bound.value_or(0);
        return type;
    default:
        if (syntax.bound) {
            error(unit, syntax.bound_location, "type " + quoted(syntax.name) + " takes no size");
            return std::nullopt;
        }
        return type;
    }
}

void Checker::check_messages(ContractUnit& unit)
{
    auto const& syntax = *unit.syntax;
    check_reserved(unit, syntax.location, syntax.name, "contract name");
    if (syntax.name == any_contract_name)
        error(unit, syntax.location, "contract name " + quoted(syntax.name) + " cannot be used: 'any.Imp' and 'any.Exp' name an end of any contract");
    if (syntax.messages.size() > limits::max_messages) {
        error(unit, syntax.location, "contract " + quoted(syntax.name) + " has " + std::to_string(syntax.messages.size()) + " messages; the limit is " + std::to_string(limits::max_messages));
        unit.messages_ok = false;
        return;
    }
    for (auto const& message_syntax : syntax.messages) {
        if (auto it = unit.message_index.find(message_syntax.name); it != unit.message_index.end()) {
            error(unit, message_syntax.location, "message " + quoted(message_syntax.name) + " is declared twice in contract " + quoted(syntax.name) + " (first at " + format_location(unit.message_locations[it->second]) + ")");
            unit.messages_ok = false;
            continue;
        }
        check_reserved(unit, message_syntax.location, message_syntax.name, "message name");
        if (message_syntax.arguments.size() > limits::max_arguments) {
            error(unit, message_syntax.location, "message " + quoted(message_syntax.name) + " has " + std::to_string(message_syntax.arguments.size()) + " arguments; the limit is " + std::to_string(limits::max_arguments));
            unit.messages_ok = false;
        }

        Message message;
        message.id = static_cast<uint16_t>(unit.contract.messages.size() + 1);
        message.name = message_syntax.name;
        message.direction = message_syntax.direction;
        bool types_ok = true;
        for (size_t i = 0; i < message_syntax.arguments.size() && i < limits::max_arguments; ++i) {
            auto const& argument = message_syntax.arguments[i];
            auto previous = std::find_if(message.arguments.begin(), message.arguments.end(), [&](Argument const& a) { return a.name == argument.name; });
            if (previous != message.arguments.end()) {
                error(unit, argument.location, "argument " + quoted(argument.name) + " is declared twice in message " + quoted(message.name));
                types_ok = false;
                continue;
            }
            check_reserved(unit, argument.location, argument.name, "argument name");
            size_t pending = unit.endpoints.size();
            auto type = check_type(unit, argument, message.name);
            if (!type) {
                types_ok = false;
                continue;
            }
            if (unit.endpoints.size() > pending)
                unit.endpoints.back().argument = message.arguments.size();
            message.arguments.push_back({ argument.name, *type, 0, 0 });
        }
        if (types_ok) {
            if (auto laid_out = lay_out(message); laid_out.is_error())
                error(unit, message_syntax.location, laid_out.error().message());
        } else {
            unit.messages_ok = false;
        }
        // The message stays even when its arguments are wrong, so that the
        // states can still be checked against it.
        unit.message_index.emplace(message.name, static_cast<uint16_t>(unit.contract.messages.size()));
        unit.message_locations.push_back(message_syntax.location);
        unit.message_docs.push_back(message_syntax.doc);
        unit.contract.messages.push_back(std::move(message));
    }
}

std::optional<uint16_t> Checker::add_intermediate_state(ContractUnit& unit, uint16_t named, ProtocolNode const& after)
{
    auto& states = unit.contract.machine.states;
    if (states.size() >= limits::max_states) {
        error(unit, after.location, "contract " + quoted(unit.contract.name) + " needs more than " + std::to_string(limits::max_states) + " protocol states");
        return std::nullopt;
    }
    uint32_t number = ++unit.intermediate_counts[named];
    states.push_back({ states[named].name + "#" + std::to_string(number), false, {} });
    unit.edge_locations.emplace_back();
    if (after.kind == ProtocolNode::Kind::Step)
        unit.state_descriptions.push_back("state " + quoted(states[named].name) + " after " + format_step(after.message, after.action));
    else
        unit.state_descriptions.push_back("state " + quoted(states[named].name) + " after the alternatives at " + format_location(after.location));
    return static_cast<uint16_t>(states.size() - 1);
}

// Lowers `sequence` to edges from `from` to `to`, with a fresh state between
// each two elements. Returns false only when the state limit stops lowering.
bool Checker::lower_sequence(ContractUnit& unit, std::vector<ProtocolNode> const& sequence, uint16_t from, uint16_t to, uint16_t named)
{
    uint16_t current = from;
    for (size_t i = 0; i < sequence.size(); ++i) {
        uint16_t next = to;
        if (i + 1 < sequence.size()) {
            auto state = add_intermediate_state(unit, named, sequence[i]);
            if (!state)
                return false;
            next = *state;
        }
        if (!lower_node(unit, sequence[i], current, next, named))
            return false;
        current = next;
    }
    return true;
}

bool Checker::lower_node(ContractUnit& unit, ProtocolNode const& node, uint16_t from, uint16_t to, uint16_t named)
{
    if (node.kind == ProtocolNode::Kind::Alternatives) {
        for (auto const& branch : node.branches) {
            if (!lower_sequence(unit, branch, from, to, named))
                return false;
        }
        return true;
    }

    auto const& contract_name = unit.contract.name;
    auto it = unit.message_index.find(node.message);
    if (it == unit.message_index.end()) {
        error(unit, node.location, "unknown message " + quoted(node.message) + " in " + unit.state_descriptions[named] + " of contract " + quoted(contract_name));
        unit.lowered_ok = false;
        return true;
    }
    auto const& message = unit.contract.messages[it->second];
    Action declared = action_for(message.direction);
    if (node.action != declared) {
        error(unit, node.location, "message " + quoted(message.name) + " is declared '" + direction_spelling(message.direction) + "', so the exporter " + (declared == Action::Send ? "sends" : "receives") + " it: write " + format_step(message.name, declared) + ", not " + format_step(message.name, node.action));
        unit.lowered_ok = false;
        return true;
    }
    auto& edges = unit.contract.machine.states[from].edges;
    for (size_t i = 0; i < edges.size(); ++i) {
        if (edges[i].message == it->second) {
            error(unit, node.location, "ambiguous transition: " + format_step(message.name, node.action) + " already leads from " + unit.state_descriptions[from] + " at " + format_location(unit.edge_locations[from][i]) + "; one message cannot lead two ways from the same state (merge them with '( ... or ... )')");
            unit.lowered_ok = false;
            return true;
        }
    }
    edges.push_back({ node.action, it->second, to });
    unit.edge_locations[from].push_back(node.location);
    return true;
}

void Checker::lower(ContractUnit& unit)
{
    auto const& syntax = *unit.syntax;
    auto& states = unit.contract.machine.states;
    if (syntax.states.empty()) {
        error(unit, syntax.location, "contract " + quoted(syntax.name) + " has no states; its first state is where the protocol starts");
        unit.lowered_ok = false;
        return;
    }

    // Named states first, in order, so that the first is state 0, the start.
    std::vector<StateSyntax const*> named_syntax;
    for (auto const& state : syntax.states) {
        if (auto it = unit.state_index.find(state.name); it != unit.state_index.end()) {
            error(unit, state.location, "state " + quoted(state.name) + " is declared twice in contract " + quoted(syntax.name) + " (first at " + format_location(named_syntax[it->second]->location) + ")");
            unit.lowered_ok = false;
            continue;
        }
        if (states.size() >= limits::max_states) {
            error(unit, state.location, "contract " + quoted(syntax.name) + " has more than " + std::to_string(limits::max_states) + " states");
            unit.lowered_ok = false;
            return;
        }
        unit.state_index.emplace(state.name, static_cast<uint16_t>(states.size()));
        states.push_back({ state.name, true, {} });
        named_syntax.push_back(&state);
        unit.edge_locations.emplace_back();
        unit.state_descriptions.push_back("state " + quoted(state.name));
    }
    unit.intermediate_counts.assign(states.size(), 0);

    for (uint16_t from = 0; from < named_syntax.size(); ++from) {
        for (auto const& transition : named_syntax[from]->transitions) {
            uint16_t to = from;
            if (auto target = unit.state_index.find(transition.target); target != unit.state_index.end()) {
                to = target->second;
            } else {
                error(unit, transition.target_location, "unknown state " + quoted(transition.target) + " in contract " + quoted(syntax.name));
                unit.lowered_ok = false;
            }
            // Lower even towards an unknown state, to check the steps' messages.
            if (!lower_sequence(unit, transition.sequence, from, to, from)) {
                unit.lowered_ok = false;
                return;
            }
        }
    }
}

void Checker::report_cycle(ContractUnit& unit, UniformCycle const& cycle)
{
    auto const& machine = unit.contract.machine;
    std::string steps;
    for (auto const& ref : cycle.edges) {
        auto const& edge = machine.states[ref.state].edges[ref.edge];
        if (!steps.empty())
            steps += " -> ";
        steps += format_step(unit.contract.messages[edge.message].name, edge.action);
    }
    auto const& first = cycle.edges.front();
    auto const& start = machine.states[first.state].name;
    bool sends = cycle.action == Action::Send;
    error(unit, unit.edge_locations[first.state][first.edge],
        std::string("cycle without a ") + (sends ? "receive" : "send") + ": from state " + quoted(start) + " the exporter can "
            + (sends ? "send " : "receive ") + steps + " and return to " + quoted(start) + " forever, so the "
            + (sends ? "exporter-to-importer" : "importer-to-exporter") + " queue has no bound; every cycle must contain a send and a receive (finiteness rule)");
}

void Checker::analyze_machine(ContractUnit& unit)
{
    auto const& machine = unit.contract.machine;
    auto analysis = analyze(machine);
    for (uint16_t state : analysis.unreachable_states) {
        // Intermediate states are reachable whenever their named state is.
        if (!machine.states[state].is_named)
            continue;
        auto const& syntax = *std::find_if(unit.syntax->states.begin(), unit.syntax->states.end(), [&](StateSyntax const& s) { return s.name == machine.states[state].name; });
        error(unit, syntax.location, "state " + quoted(syntax.name) + " is unreachable from the start state " + quoted(machine.states[0].name));
    }
    for (uint16_t state : analysis.mixed_states) {
        auto const& edges = machine.states[state].edges;
        // Report at the first edge that disagrees with the state's first edge.
        size_t odd = 1;
        while (edges[odd].action == edges[0].action)
            ++odd;
        size_t receive = edges[0].action == Action::Receive ? 0 : odd;
        size_t send = receive == 0 ? odd : 0;
        error(unit, unit.edge_locations[state][odd],
            unit.state_descriptions[state] + " both receives " + format_step(unit.contract.messages[edges[receive].message].name, Action::Receive)
                + " and sends " + format_step(unit.contract.messages[edges[send].message].name, Action::Send)
                + "; in each state only one end may send, or the two ends could race");
    }
    if (analysis.cycle_without_receive)
        report_cycle(unit, *analysis.cycle_without_receive);
    if (analysis.cycle_without_send)
        report_cycle(unit, *analysis.cycle_without_send);
    unit.sound = analysis.is_sound();
    unit.contract.bounds = analysis.bounds;
}

void Checker::resolve_endpoints(ContractUnit& unit)
{
    for (auto const& pending : unit.endpoints) {
        auto const& target = m_contracts[pending.target];
        auto& endpoint = unit.contract.messages[pending.message].arguments[pending.argument].type.endpoint;
        std::string spelled = endpoint.contract + "." + end_spelling(endpoint.end) + ":" + endpoint.state;
        auto state = target.state_index.find(endpoint.state);
        if (state == target.state_index.end()) {
            error(unit, pending.type->state_location, "contract " + quoted(endpoint.contract) + " has no state " + quoted(endpoint.state) + " (in endpoint type " + quoted(spelled) + ")");
            continue;
        }
        endpoint.state_index = state->second;
        // An unsound contract has its own diagnostics; do not guess at its turns.
        if (!target.sound)
            continue;
        endpoint.next = next_operation(target.contract.machine.states[state->second], endpoint.end);
        if (endpoint.next == NextOperation::Receive) {
            error(unit, pending.type->location,
                "endpoint type " + quoted(spelled) + " cannot travel in a message: in state " + quoted(endpoint.state) + " the "
                    + (endpoint.end == End::Exp ? "exporter" : "importer") + " end receives next, and an endpoint may be sent only when its next operation is a send (send-state rule)");
        }
    }
}

// The closure a descriptor of `unit` carries: every contract its endpoint types
// reach, directly or through other contracts' endpoint types, sorted by name.
// A descriptor names them by name, so two different contracts of one name in a
// closure are an error.
std::optional<std::vector<Contract>> Checker::referenced_by(ContractUnit const& unit)
{
    std::map<std::string, size_t> reached; // name -> unit index
    std::vector<size_t> pending { static_cast<size_t>(&unit - m_contracts.data()) };
    reached.emplace(unit.contract.name, pending.back());
    while (!pending.empty()) {
        auto const& from = m_contracts[pending.back()];
        pending.pop_back();
        for (auto const& endpoint : from.endpoints) {
            auto const& target = m_contracts[endpoint.target];
            auto [it, inserted] = reached.emplace(target.contract.name, endpoint.target);
            if (inserted) {
                pending.push_back(endpoint.target);
            } else if (it->second != endpoint.target) {
                auto const& other = m_contracts[it->second];
                error(unit, unit.syntax->location,
                    "contract " + quoted(unit.contract.name) + " reaches two different contracts named " + quoted(target.contract.name) + " (declared in "
                        + m_files[target.file].path + ":" + format_location(target.syntax->location) + " and " + m_files[other.file].path + ":"
                        + format_location(other.syntax->location) + ") through its endpoint types; a descriptor names contracts by name");
                return std::nullopt;
            }
        }
    }
    if (reached.size() - 1 > limits::max_referenced_contracts) {
        error(unit, unit.syntax->location,
            "contract " + quoted(unit.contract.name) + " reaches " + std::to_string(reached.size() - 1) + " other contracts through its endpoint types; a descriptor carries at most "
                + std::to_string(limits::max_referenced_contracts));
        return std::nullopt;
    }
    std::vector<Contract> referenced;
    for (auto const& [name, index] : reached) {
        if (&m_contracts[index] == &unit)
            continue;
        referenced.push_back(m_contracts[index].contract);
        referenced.back().referenced.clear();
    }
    return referenced; // std::map iterates in name order
}

void Checker::check_c_names(FileUnit& file)
{
    struct Owner {
        ContractUnit const* unit;
        std::optional<size_t> message;
    };
    auto describe_owner = [](Owner const& owner) {
        if (!owner.message)
            return "contract " + quoted(owner.unit->contract.name);
        return "message " + quoted(owner.unit->contract.messages[*owner.message].name) + " of contract " + quoted(owner.unit->contract.name);
    };
    std::map<std::string, Owner> owners;
    // One diagnostic per colliding pair: a message's names all collide together.
    std::set<std::pair<std::string, std::string>> reported;
    for (size_t unit_index : file.contracts) {
        auto const& unit = m_contracts[unit_index];
        // Duplicated names have been reported already; they would only collide here again.
        if (!unit.messages_ok)
            continue;
        for (auto const& name : cnames::file_scope_names(unit.contract)) {
            Owner owner { &unit, name.message };
            auto [it, inserted] = owners.emplace(name.identifier, owner);
            if (inserted)
                continue;
            if (!reported.emplace(describe_owner(owner), describe_owner(it->second)).second)
                continue;
            SourceLocation location = name.message ? unit.message_locations[*name.message] : unit.syntax->location;
            error(unit, location, "the C name " + quoted(name.identifier) + " generated for " + describe_owner(owner) + " is also generated for " + describe_owner(it->second));
        }
        for (size_t m = 0; m < unit.contract.messages.size(); ++m) {
            auto const& message = unit.contract.messages[m];
            auto parameters = cnames::parameter_names(message);
            for (size_t i = 0; i < parameters.size(); ++i) {
                for (size_t j = 0; j < i; ++j) {
                    if (parameters[i].identifier != parameters[j].identifier)
                        continue;
                    auto const& length_of = parameters[i].is_length ? parameters[i] : parameters[j];
                    auto const& plain = parameters[i].is_length ? parameters[j] : parameters[i];
                    error(unit, unit.syntax->messages[m].arguments[plain.argument].location,
                        "argument " + quoted(message.arguments[plain.argument].name) + " of message " + quoted(message.name) + " has the name of the length parameter of argument "
                            + quoted(message.arguments[length_of.argument].name) + " in the generated C");
                }
            }
        }
    }
}

CheckResult Checker::run(std::string const& path)
{
    std::vector<std::string> chain;
    std::string root_path = SourceProvider::resolve_import("", path);
    load(root_path, std::nullopt, chain);

    for (size_t file_index : m_post_order) {
        for (auto const& contract : m_files[file_index].syntax->contracts) {
            m_files[file_index].contracts.push_back(m_contracts.size());
            ContractUnit unit;
            unit.file = file_index;
            unit.syntax = &contract;
            unit.contract.name = contract.name;
            m_contracts.push_back(std::move(unit));
        }
    }
    for (size_t file_index : m_post_order)
        build_scope(file_index);
    for (auto& unit : m_contracts) {
        check_messages(unit);
        lower(unit);
        if (unit.lowered_ok)
            analyze_machine(unit);
    }
    for (auto& unit : m_contracts)
        resolve_endpoints(unit);
    for (size_t file_index : m_post_order)
        check_c_names(m_files[file_index]);

    CheckResult result;
    if (!m_diagnostics.has_errors()) {
        CheckedFile checked;
        checked.path = root_path;
        for (auto const& file : m_files)
            checked.sources.push_back(file.path);
        // Computed for all first: a closure copies contracts, which must not carry closures of their own.
        std::vector<std::optional<std::vector<Contract>>> closures;
        for (size_t unit_index : m_files[0].contracts)
            closures.push_back(referenced_by(m_contracts[unit_index]));
        for (size_t i = 0; i < m_files[0].contracts.size(); ++i) {
            auto& unit = m_contracts[m_files[0].contracts[i]];
            if (!closures[i])
                continue; // reported
            unit.contract.referenced = std::move(*closures[i]);
            // The checker's output must satisfy the decoder's rules; if it does
            // not, that is a bug here, reported rather than handed on.
            if (auto valid = validate(unit.contract); valid.is_error()) {
                error(unit, unit.syntax->location, "internal error: the checked contract fails validation: " + valid.error().message());
                continue;
            }
            if (size_t size = encode_descriptor(unit.contract).size(); size > limits::max_descriptor_size) {
                error(unit, unit.syntax->location,
                    "contract " + quoted(unit.contract.name) + " and the contracts its endpoint types reach make a descriptor of " + std::to_string(size)
                        + " bytes; the limit is " + std::to_string(limits::max_descriptor_size));
                continue;
            }
            checked.contracts.push_back({ std::move(unit.contract), unit.syntax->location, unit.syntax->doc, std::move(unit.message_docs) });
        }
        if (!m_diagnostics.has_errors())
            result.file = std::move(checked);
    }
    result.diagnostics = m_diagnostics.release();
    return result;
}

} // namespace

CheckResult check(std::string const& path, SourceProvider& sources)
{
    return Checker(sources).run(path);
}

CheckResult check(std::string const& path)
{
    FileSystemSources sources;
    return check(path, sources);
}

} // namespace signet::contracts
