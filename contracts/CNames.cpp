#include "contracts/CNames.h"

#include <algorithm>
#include <iterator>
#include <cctype>

namespace signet::contracts::cnames {

static std::string join(std::initializer_list<std::string_view> parts)
{
    std::string name;
    for (auto part : parts) {
        if (!name.empty())
            name += '_';
        name += part;
    }
    return name;
}

std::string message_id(std::string_view contract, std::string_view message) { return join({ contract, "MSG", message }); }
std::string message_struct(std::string_view contract, std::string_view message) { return join({ contract, message }); }
std::string message_valid(std::string_view contract, std::string_view message) { return join({ contract, message, "valid" }); }
std::string send(std::string_view contract, End end, std::string_view message) { return join({ contract, end_spelling(end), "send", message }); }
std::string send_message(std::string_view contract, End end, std::string_view message) { return join({ contract, end_spelling(end), "send", message, "message" }); }
std::string tag_type(std::string_view contract, End end) { return join({ contract, end_spelling(end), "tag" }); }
std::string tag(std::string_view contract, End end, std::string_view message) { return join({ contract, end_spelling(end), message }); }
std::string tag_closed(std::string_view contract, End end) { return join({ contract, end_spelling(end), "CLOSED" }); }
std::string tag_failed(std::string_view contract, End end) { return join({ contract, end_spelling(end), "FAILED" }); }
std::string received(std::string_view contract, End end) { return join({ contract, end_spelling(end), "message" }); }
std::string accept(std::string_view contract, End end) { return join({ contract, end_spelling(end), "accept" }); }
std::string recv(std::string_view contract, End end) { return join({ contract, end_spelling(end), "recv" }); }
std::string select_recv(std::string_view contract, End end) { return join({ contract, end_spelling(end), "select_recv" }); }
std::string call(std::string_view contract, End end, std::string_view message) { return join({ contract, end_spelling(end), "call", message }); }
std::string descriptor(std::string_view contract) { return join({ contract, "descriptor" }); }
std::string descriptor_size(std::string_view contract) { return join({ contract, "DESCRIPTOR_SIZE" }); }

End sender(Direction direction) { return direction == Direction::In ? End::Imp : End::Exp; }
End receiver(Direction direction) { return direction == Direction::In ? End::Exp : End::Imp; }

bool receives_any(Contract const& contract, End end)
{
    return std::any_of(contract.messages.begin(), contract.messages.end(), [&](Message const& message) { return receiver(message.direction) == end; });
}

std::vector<FileScopeName> file_scope_names(Contract const& contract)
{
    std::string_view name = contract.name;
    std::vector<FileScopeName> names;
    names.push_back({ descriptor(name), {} });
    names.push_back({ descriptor_size(name), {} });
    for (End end : { End::Imp, End::Exp }) {
        if (!receives_any(contract, end))
            continue;
        for (auto identifier : { tag_type(name, end), tag_closed(name, end), tag_failed(name, end), received(name, end), accept(name, end), recv(name, end), select_recv(name, end) })
            names.push_back({ std::move(identifier), {} });
    }
    for (size_t index = 0; index < contract.messages.size(); ++index) {
        auto const& message = contract.messages[index];
        names.push_back({ message_id(name, message.name), index });
        names.push_back({ send(name, sender(message.direction), message.name), index });
        names.push_back({ tag(name, receiver(message.direction), message.name), index });
        if (receives_any(contract, sender(message.direction)))
            names.push_back({ call(name, sender(message.direction), message.name), index });
        if (!message.arguments.empty()) {
            names.push_back({ message_struct(name, message.name), index });
            names.push_back({ message_valid(name, message.name), index });
            names.push_back({ send_message(name, sender(message.direction), message.name), index });
        }
    }
    return names;
}

std::vector<ParameterName> parameter_names(Message const& message)
{
    std::vector<ParameterName> names;
    for (size_t index = 0; index < message.arguments.size(); ++index) {
        auto const& argument = message.arguments[index];
        names.push_back({ argument.name, index, false });
        if (argument.type.kind == TypeKind::Bytes || argument.type.kind == TypeKind::String)
            names.push_back({ argument.name + "_length", index, true });
    }
    return names;
}

// C17, C23 and C++20 keywords, and the standard names the generated header uses.
static constexpr std::string_view reserved_words[] = {
    "_Alignas", "_Alignof", "_Atomic", "_BitInt", "_Bool", "_Complex", "_Decimal128", "_Decimal32",
    "_Decimal64", "_Generic", "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local", "alignas",
    "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
    "char", "char16_t", "char32_t", "char8_t", "class", "co_await", "co_return", "co_yield", "compl",
    "concept", "const", "const_cast", "consteval", "constexpr", "constinit", "continue", "decltype",
    "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern",
    "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace",
    "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected",
    "public", "register", "reinterpret_cast", "requires", "restrict", "return", "short", "signed",
    "sizeof", "static", "static_assert", "static_cast", "struct", "switch", "template", "this",
    "thread_local", "throw", "true", "try", "typedef", "typeid", "typename", "typeof", "typeof_unqual",
    "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
    "NULL", "offsetof", "memcpy", "memset",
};

std::optional<std::string> reserved_reason(std::string_view name)
{
    if (std::find(std::begin(reserved_words), std::end(reserved_words), name) != std::end(reserved_words))
        return "it is a keyword or a standard name in C or C++";
    if (name.starts_with('_') || name.find("__") != std::string_view::npos)
        return "names that start with '_' or contain '__' are reserved in C and C++";
    if (name.ends_with("_t"))
        return "names ending in '_t' are reserved for types";
    std::string lower(name.substr(0, 7));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "signet" || lower == "signet_")
        return "names starting with 'signet_' are reserved for Signet";
    return std::nullopt;
}

} // namespace signet::contracts::cnames
