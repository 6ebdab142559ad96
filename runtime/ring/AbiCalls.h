// Every ABI import function, numbered: how a call crosses the ring.
//
// Built from the same lists as the kernel's implementations and the SDK's
// declarations (sdk/include/signet/abi_functions.def, kernel/abi/WasiFunctions.def),
// so both ends of a ring number the functions the same way; the domain's hello
// carries the table's fingerprint and the kernel refuses a domain whose table differs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace signet::ring {

struct AbiCall {
    std::string_view module;
    std::string_view name;
    std::string_view params;  // one letter per parameter: i i32, I i64, f f32, F f64
    std::string_view results; // at most one letter
};

inline constexpr AbiCall abi_calls[] = {
#define SIGNET_ABI(name, wasm_params, wasm_results, c_result, c_params) { "signet_v1", #name, wasm_params, wasm_results },
#include <signet/abi_functions.def>
#undef SIGNET_ABI
#define WASI_FUNCTION(name, wasm_params, wasm_results) { "wasi_snapshot_preview1", #name, wasm_params, wasm_results },
#include "kernel/abi/WasiFunctions.def"
#undef WASI_FUNCTION
};
inline constexpr uint32_t abi_call_count = sizeof(abi_calls) / sizeof(abi_calls[0]);
inline constexpr uint32_t max_call_arguments = 16;

// The ring's number of the signet_v1 function `name`; abi_call_count if there is
// none. Meant for constants: evaluated at run time it walks the whole table.
constexpr uint32_t signet_call_index(std::string_view name)
{
    for (uint32_t i = 0; i < abi_call_count; ++i) {
        if (abi_calls[i].module == "signet_v1" && abi_calls[i].name == name)
            return i;
    }
    return abi_call_count;
}

// FNV-1a over every module, name and signature, in order.
constexpr uint32_t abi_call_fingerprint()
{
    uint32_t hash = 2166136261u;
    auto mix = [&](std::string_view text) {
        for (char c : text)
            hash = (hash ^ uint8_t(c)) * 16777619u;
        hash = (hash ^ 0xff) * 16777619u;
    };
    for (auto const& call : abi_calls) {
        mix(call.module);
        mix(call.name);
        mix(call.params);
        mix(call.results);
    }
    return hash;
}

constexpr bool abi_calls_fit()
{
    for (auto const& call : abi_calls) {
        if (call.params.size() > max_call_arguments || call.results.size() > 1)
            return false;
    }
    return true;
}
static_assert(abi_calls_fit(), "an ABI function has more parameters than a ring call carries");

} // namespace signet::ring
