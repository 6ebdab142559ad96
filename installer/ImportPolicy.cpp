#include "installer/ImportPolicy.h"

namespace signet::installer {

char const* personality_name(Personality personality)
{
    switch (personality) {
    case Personality::Native:
        return "native";
    case Personality::Wasi:
        return "wasi";
    }
    return "?";
}

char const* import_kind_name(ImportKind kind)
{
    switch (kind) {
    case ImportKind::Function:
        return "function";
    case ImportKind::Table:
        return "table";
    case ImportKind::Memory:
        return "memory";
    case ImportKind::Global:
        return "global";
    }
    return "?";
}

static void add_native_abi(ImportPolicy& policy)
{
#define SIGNET_ABI(name, wasm_params, wasm_results, c_result, c_params) \
    policy.allow_function(std::string(native_abi_module), #name, wasm_params, wasm_results);
#include "sdk/include/signet/abi_functions.def"
#undef SIGNET_ABI
}

static void add_wasi_abi(ImportPolicy& policy)
{
#define WASI_FUNCTION(name, wasm_params, wasm_results) \
    policy.allow_function(std::string(wasi_abi_module), #name, wasm_params, wasm_results);
#include "kernel/abi/WasiFunctions.def"
#undef WASI_FUNCTION
}

ImportPolicy ImportPolicy::signet_default()
{
    ImportPolicy policy;
    add_native_abi(policy);
    add_wasi_abi(policy);
    return policy;
}

ImportPolicy ImportPolicy::for_personality(Personality personality)
{
    ImportPolicy policy;
    switch (personality) {
    case Personality::Native:
        add_native_abi(policy);
        break;
    case Personality::Wasi:
        add_wasi_abi(policy);
        break;
    }
    return policy;
}

void ImportPolicy::allow(std::string module, std::string name, ImportKind kind, std::string signature)
{
    m_modules[std::move(module)][std::move(name)] = Entry { kind, std::move(signature) };
}

void ImportPolicy::allow_function(std::string module, std::string name, std::string_view params, std::string_view results)
{
    std::string signature;
    signature.append(params).append("->").append(results);
    allow(std::move(module), std::move(name), ImportKind::Function, std::move(signature));
}

void ImportPolicy::allow_any(std::string module)
{
    m_any_modules.insert(std::move(module));
}

bool ImportPolicy::knows_module(std::string_view module) const
{
    return m_modules.find(module) != m_modules.end() || allows_any_from(module);
}

bool ImportPolicy::allows_any_from(std::string_view module) const
{
    return m_any_modules.find(module) != m_any_modules.end();
}

ImportPolicy::Entry const* ImportPolicy::find(std::string_view module, std::string_view name) const
{
    auto module_it = m_modules.find(module);
    if (module_it == m_modules.end())
        return nullptr;
    auto name_it = module_it->second.find(name);
    if (name_it == module_it->second.end())
        return nullptr;
    return &name_it->second;
}

std::vector<std::string> ImportPolicy::module_names() const
{
    std::set<std::string> names(m_any_modules.begin(), m_any_modules.end());
    for (auto const& [module, entries] : m_modules)
        names.insert(module);
    return { names.begin(), names.end() };
}

static std::string_view type_name_for_letter(char letter)
{
    switch (letter) {
    case 'i':
        return "i32";
    case 'I':
        return "i64";
    case 'f':
        return "f32";
    case 'F':
        return "f64";
    case 'x':
        return "externref";
    case 'c':
        return "funcref";
    default:
        return "?";
    }
}

static std::string format_type_list(std::string_view letters)
{
    std::string out = "(";
    for (size_t i = 0; i < letters.size(); ++i) {
        if (i > 0)
            out += ", ";
        out += type_name_for_letter(letters[i]);
    }
    out += ")";
    return out;
}

std::string format_function_signature(std::string_view letters)
{
    auto arrow = letters.find("->");
    if (arrow == std::string_view::npos)
        return std::string(letters);
    return format_type_list(letters.substr(0, arrow)) + "->" + format_type_list(letters.substr(arrow + 2));
}

} // namespace signet::installer
