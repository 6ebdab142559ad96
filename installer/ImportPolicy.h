// ImportPolicy: which imports a module may declare to be installed.
//
// A SIP talks to the world only through its imports, so the import list is the
// whole of its authority. The default policy is exactly Signet's two ABI
// personalities: `signet_v1` (sdk/include/signet/abi_functions.def) and
// `wasi_snapshot_preview1` (kernel/abi/WasiFunctions.def), each function with
// its declared signature. Test harnesses (e.g. the spec-test "spectest"
// module) extend a policy with their own entries.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace signet::installer {

// The import modules a module may use; recorded with every image.
enum class Personality {
    Native, // Only signet_v1, or no imports at all.
    Wasi,   // Imports wasi_snapshot_preview1 (possibly also signet_v1).
};

char const* personality_name(Personality);

enum class ImportKind {
    Function,
    Table,
    Memory,
    Global,
};

char const* import_kind_name(ImportKind);

inline constexpr std::string_view native_abi_module = "signet_v1";
inline constexpr std::string_view wasi_abi_module = "wasi_snapshot_preview1";

class ImportPolicy {
public:
    struct Entry {
        ImportKind kind;
        // Functions: "params->results" in the letters of abi_functions.def (i = i32,
        // I = i64, f = f32, F = f64) plus x = externref and c = funcref, e.g. "iI->i".
        // Globals: one letter, with a "mut " prefix for a mutable global.
        // Tables and memories: empty; their limits are checked by the validator.
        std::string signature;
    };

    // signet_v1 + wasi_snapshot_preview1, exactly as the ABI lists declare them.
    static ImportPolicy signet_default();
    // Only the import module of one personality.
    static ImportPolicy for_personality(Personality);
    // Nothing at all: a pure computation.
    static ImportPolicy none() { return {}; }

    // Allows `module.name` of the given kind and signature (see Entry).
    void allow(std::string module, std::string name, ImportKind, std::string signature = {});
    void allow_function(std::string module, std::string name, std::string_view params, std::string_view results);
    // Allows every import from `module`, whatever its name, kind or signature (memories,
    // tables and globals still need allow_imported_state()). For test harnesses only.
    void allow_any(std::string module);
    // Harness use only: a SIP owns its memory, tables and globals, so importing them is
    // refused unless this is called.
    void allow_imported_state() { m_imported_state_allowed = true; }

    bool allows_imported_state() const { return m_imported_state_allowed; }
    bool knows_module(std::string_view module) const;
    bool allows_any_from(std::string_view module) const;
    Entry const* find(std::string_view module, std::string_view name) const;
    // Sorted, for error messages.
    std::vector<std::string> module_names() const;

private:
    std::map<std::string, std::map<std::string, Entry, std::less<>>, std::less<>> m_modules;
    std::set<std::string, std::less<>> m_any_modules;
    bool m_imported_state_allowed { false };
};

// "(i32, i64)->(i32)" for a function signature in Entry's letter form "iI->i".
std::string format_function_signature(std::string_view letters);

} // namespace signet::installer
