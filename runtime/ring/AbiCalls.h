// Every ABI import function, numbered: how a call crosses the ring.
//
// Built from the same lists as the kernel's implementations and the SDK's
// declarations (sdk/include/signet/abi_functions.def, kernel/abi/WasiFunctions.def),
// so both ends of a ring number the functions the same way; the domain's hello
// carries the table's fingerprint and the kernel refuses a domain whose table differs.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace signet::ring {

struct AbiCall {
    std::string_view module;
    std::string_view name;
    std::string_view params;  // one letter per parameter: i i32, I i64, f f32, F f64
    std::string_view results; // at most one letter
    // Bit i: parameter i is 32-bit (i or f), which travels in the low half of
    // its 8 bytes with the high half zero.
    uint32_t narrow { 0 };
    // Bit i: parameter i is the address of memory the call writes (a pointer
    // that is not const in its C declaration). Not known for WASI's functions: 0.
    uint32_t outputs { 0 };
};

namespace detail {

constexpr bool is_word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// The output parameters of a C parameter list written as "(T a, U* b, V const* c)".
constexpr uint32_t output_parameters(std::string_view list)
{
    if (list.size() >= 2 && list.front() == '(' && list.back() == ')')
        list = list.substr(1, list.size() - 2);
    uint32_t outputs = 0;
    for (uint32_t index = 0; !list.empty(); ++index) {
        size_t comma = list.find(',');
        std::string_view param = list.substr(0, comma);
        bool pointer = param.find('*') != std::string_view::npos;
        bool constant = false;
        for (size_t at = param.find("const"); at != std::string_view::npos; at = param.find("const", at + 1)) {
            if ((at == 0 || !is_word_char(param[at - 1])) && (at + 5 == param.size() || !is_word_char(param[at + 5])))
                constant = true;
        }
        if (pointer && !constant)
            outputs |= 1u << index;
        list = comma == std::string_view::npos ? std::string_view {} : list.substr(comma + 1);
    }
    return outputs;
}

// The 32-bit parameters of a signature ("iIf": 0b101).
constexpr uint32_t narrow_parameters(std::string_view params)
{
    uint32_t narrow = 0;
    for (uint32_t i = 0; i < params.size(); ++i) {
        if (params[i] == 'i' || params[i] == 'f')
            narrow |= 1u << i;
    }
    return narrow;
}

// How many parameters a C parameter list has ("(void)" has none).
constexpr size_t parameter_count(std::string_view list)
{
    if (list == "(void)" || list == "()")
        return 0;
    size_t count = 1;
    for (char c : list)
        count += c == ',';
    return count;
}

} // namespace detail

inline constexpr AbiCall abi_calls[] = {
#define SIGNET_ABI(name, wasm_params, wasm_results, c_result, c_params) \
    { "signet_v1", #name, wasm_params, wasm_results, detail::narrow_parameters(wasm_params), detail::output_parameters(#c_params) },
#include <signet/abi_functions.def>
#undef SIGNET_ABI
#define WASI_FUNCTION(name, wasm_params, wasm_results) \
    { "wasi_snapshot_preview1", #name, wasm_params, wasm_results, detail::narrow_parameters(wasm_params) },
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

// Every signet_v1 function's C declaration has one parameter per WebAssembly
// parameter, so that `outputs` numbers them the same way.
#define SIGNET_ABI(name, wasm_params, wasm_results, c_result, c_params) \
    static_assert(detail::parameter_count(#c_params) == std::string_view(wasm_params).size(), #name ": C and WebAssembly parameters differ");
#include <signet/abi_functions.def>
#undef SIGNET_ABI
static_assert(detail::output_parameters("(uint32_t a, uint32_t* out_b, void const* c, char* d, uint32_t const* e)") == 0b01010);
static_assert(abi_calls[signet_call_index("channel_call")].outputs == (1u << 5 | 1u << 6 | 1u << 8));

// Calls `visit(address)` for each output argument of a call of `function`
// (AbiCall::outputs) that lies inside a memory of `memory_size` bytes.
template<typename Visit>
void for_each_output(uint32_t function, uint64_t const* arguments, uint64_t memory_size, Visit visit)
{
    for (uint32_t outputs = abi_calls[function].outputs; outputs; outputs &= outputs - 1) {
        uint64_t const address = arguments[std::countr_zero(outputs)];
        if (address < memory_size)
            visit(address);
    }
}

} // namespace signet::ring
