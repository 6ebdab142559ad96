// One table of every ABI function, in the ring's numbering, each entry calling
// the kernel's own implementation with the arguments converted back to the
// types its wasm signature gives them.
#include "kernel/domain/DomainCalls.h"

#include "kernel/abi/Abi.h"
#include "runtime/ring/AbiCalls.h"

#include <bit>

namespace signet {

namespace {

template<typename T>
T from_raw(uint64_t raw)
{
    if constexpr (std::is_same_v<T, float>)
        return std::bit_cast<float>(uint32_t(raw));
    else if constexpr (std::is_same_v<T, double>)
        return std::bit_cast<double>(raw);
    else
        return T(raw);
}

template<typename T>
uint64_t to_raw(T value)
{
    if constexpr (std::is_same_v<T, float>)
        return std::bit_cast<uint32_t>(value);
    else if constexpr (std::is_same_v<T, double>)
        return std::bit_cast<uint64_t>(value);
    else
        return uint64_t(value);
}

template<auto Function, typename Type>
struct Thunk;

template<auto Function, typename Result, typename... Parameters>
struct Thunk<Function, Result(void*, Parameters...)> {
    static uint64_t call(Sip& sip, uint64_t const* arguments)
    {
        return invoke(sip, arguments, std::index_sequence_for<Parameters...> {});
    }
    template<size_t... I>
    static uint64_t invoke(Sip& sip, uint64_t const* arguments, std::index_sequence<I...>)
    {
        if constexpr (std::is_void_v<Result>) {
            Function(&sip, from_raw<Parameters>(arguments[I])...);
            return 0;
        } else {
            return to_raw(Function(&sip, from_raw<Parameters>(arguments[I])...));
        }
    }
};

using Entry = uint64_t (*)(Sip&, uint64_t const*);

constexpr Entry entries[] = {
#define SIGNET_ABI(name, wasm_params, wasm_results, c_result, c_params) \
    &Thunk<&Z_signet_v1Z_##name, abi::detail::FunctionOf<wasm_params, wasm_results>::type>::call,
#include <signet/abi_functions.def>
#undef SIGNET_ABI
#define WASI_FUNCTION(name, wasm_params, wasm_results) \
    &Thunk<&Z_wasi_snapshot_preview1Z_##name, abi::detail::FunctionOf<wasm_params, wasm_results>::type>::call,
#include "kernel/abi/WasiFunctions.def"
#undef WASI_FUNCTION
};
static_assert(sizeof(entries) / sizeof(entries[0]) == ring::abi_call_count, "the ring numbers the ABI functions from the same lists");

} // namespace

bool domain_call_supported(uint32_t function)
{
    // Every function crosses now: exchange-heap blocks as copies (ExchangeBlock.h).
    return function < ring::abi_call_count;
}

// Constants: ring::signet_call_index at run time would walk the whole table
// at every ABI call a domain makes.
constexpr uint32_t thread_create_index = ring::signet_call_index("thread_create");
constexpr uint32_t thread_exit_index = ring::signet_call_index("thread_exit");
static_assert(thread_create_index < ring::abi_call_count && thread_exit_index < ring::abi_call_count);

uint32_t domain_thread_create_call() { return thread_create_index; }
uint32_t domain_thread_exit_call() { return thread_exit_index; }

uint64_t domain_thread_create(Sip& sip, uint64_t const* arguments, std::function<ErrorOr<std::shared_ptr<ThreadHandle>>(uint32_t stack_top)> const& start)
{
    uint32_t stack_top = uint32_t(arguments[2]);
    uint32_t out_thread = uint32_t(arguments[3]);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out_thread, 4))
        return SIGNET_OUT_OF_BOUNDS;
    // The new thread's shadow stack grows down from stack_top, inside memory.
    if (stack_top == 0 || stack_top % 16 != 0 || !memory.valid(stack_top - 16, 16))
        return SIGNET_INVALID_ARGUMENT;
    return abi::finish_thread_create(sip, out_thread, [&] { return start(stack_top); });
}

uint64_t execute_domain_call(Sip& sip, uint32_t function, uint64_t const* arguments)
{
    if (!domain_call_supported(function))
        return SIGNET_UNSUPPORTED;
    // The SIP's exchange-heap blocks live in its memory file, which the kernel
    // sees through its own view: its arena works remotely (BlockArena.h), from
    // before the first call that could give it a block.
    auto& runtime = sip.runtime();
    if (!runtime.blocks.is_remote() && runtime.wasm_memory && runtime.wasm_memory->data)
        runtime.blocks.set_remote(runtime.wasm_memory->data);
    return entries[function](sip, arguments);
}

std::vector<uint8_t> take_domain_memory_changes(Sip& sip)
{
    auto& blocks = sip.runtime().blocks;
    if (!blocks.is_remote())
        return {};
    auto changes = blocks.take_remote_changes();
    return changes.empty() ? std::vector<uint8_t> {} : encode_remote_changes(changes);
}

} // namespace signet
