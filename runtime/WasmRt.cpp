// Signet's implementation of the wasm-rt.h contract that wasm2c output links
// against. It replaces wabt's reference wasm-rt-impl.c, whose trap state is
// process-global, whose memory free leaks its reservation, and whose fault
// handler turns any fault in the process into a wasm trap.
#include "runtime/SipContext.h"

#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace signet {

constinit thread_local SipContext* current_sip_context __attribute__((tls_model("initial-exec"))) = nullptr;

void unwind_current(int code)
{
    SipContext* sip = current_sip_context;
    VERIFY(sip && sip->trap_target);
    _longjmp(sip->trap_target->jump_buffer, code);
}

void SipContext::release_resources()
{
    blocks = BlockArena {};
    memory.release();
    wasm_memory = nullptr;
    for (auto* table : funcref_tables) {
        std::free(table->data);
        table->data = nullptr;
        table->size = 0;
    }
    funcref_tables.clear();
    for (auto* table : externref_tables) {
        std::free(table->data);
        table->data = nullptr;
        table->size = 0;
    }
    externref_tables.clear();
}

namespace {

// Function types are registered by every image at load; identical signatures
// must get identical indices so call_indirect type checks work across modules.
struct FuncType {
    std::vector<wasm_rt_type_t> params;
    std::vector<wasm_rt_type_t> results;
    bool operator==(FuncType const&) const = default;
};
std::mutex s_types_lock;
std::vector<FuncType> s_types;

[[noreturn]] void trap_out_of_memory()
{
    unwind_current(static_cast<int>(TrapKind::OutOfMemory));
}

SipContext& current()
{
    SipContext* sip = current_sip_context;
    VERIFY(sip);
    return *sip;
}

} // namespace

} // namespace signet

using namespace signet;

extern "C" {

void wasm_rt_init(void) { }
bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_free(void) { }

void wasm_rt_trap(wasm_rt_trap_t code)
{
    // wasm_rt_trap_t's values are the first TrapKind values; EXHAUSTION sits right after them.
    int kind = code == WASM_RT_TRAP_EXHAUSTION ? static_cast<int>(TrapKind::StackExhausted) : static_cast<int>(code);
    if (kind == 0)
        kind = static_cast<int>(TrapKind::Unreachable);
    unwind_current(kind);
}

char const* wasm_rt_strerror(wasm_rt_trap_t trap)
{
    if (trap == WASM_RT_TRAP_EXHAUSTION)
        return trap_kind_description(TrapKind::StackExhausted);
    return trap_kind_description(static_cast<TrapKind>(trap));
}

uint32_t wasm_rt_register_func_type(uint32_t param_count, uint32_t result_count, ...)
{
    FuncType type;
    va_list args;
    va_start(args, result_count);
    for (uint32_t i = 0; i < param_count; ++i)
        type.params.push_back(static_cast<wasm_rt_type_t>(va_arg(args, int)));
    for (uint32_t i = 0; i < result_count; ++i)
        type.results.push_back(static_cast<wasm_rt_type_t>(va_arg(args, int)));
    va_end(args);

    std::lock_guard guard(s_types_lock);
    for (size_t i = 0; i < s_types.size(); ++i) {
        if (s_types[i] == type)
            return static_cast<uint32_t>(i + 1); // 0 is never a valid index: null funcrefs carry it.
    }
    s_types.push_back(std::move(type));
    return static_cast<uint32_t>(s_types.size());
}

void wasm_rt_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages)
{
    SipContext& sip = current();
    if (sip.wasm_memory || uint64_t(initial_pages) * LinearMemory::page_size > sip.memory_limit_bytes)
        trap_out_of_memory();
    sip.memory_maximum_pages = max_pages > LinearMemory::max_pages ? LinearMemory::max_pages : max_pages;
    if (sip.memory.allocate(initial_pages).is_error())
        trap_out_of_memory();
    sip.wasm_memory = memory;
    memory->data = sip.memory.base();
    memory->pages = initial_pages;
    memory->max_pages = sip.memory_maximum_pages;
    memory->size = initial_pages * static_cast<uint32_t>(LinearMemory::page_size);
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* memory, uint32_t delta)
{
    SipContext& sip = current();
    uint32_t old_pages = memory->pages;
    uint64_t new_pages = uint64_t(old_pages) + delta;
    // What the exchange heap grew is not the program's memory: its quota is separate.
    if (new_pages > memory->max_pages || new_pages * LinearMemory::page_size > sip.memory_limit_bytes + sip.blocks.grown_bytes())
        return UINT32_MAX;
    if (memory != sip.wasm_memory || !sip.memory.grow_to(static_cast<uint32_t>(new_pages)))
        return UINT32_MAX;
    memory->pages = static_cast<uint32_t>(new_pages);
    memory->size = static_cast<uint32_t>(new_pages * LinearMemory::page_size);
    return old_pages;
}

void wasm_rt_free_memory(wasm_rt_memory_t* memory)
{
    // Memory is released with the SIP (SipContext::release_resources), never piecemeal.
    (void)memory;
}

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* table, uint32_t elements, uint32_t max_elements)
{
    SipContext& sip = current();
    if (elements > sip.table_limit_elements)
        trap_out_of_memory();
    table->data = static_cast<wasm_rt_funcref_t*>(std::calloc(elements ? elements : 1, sizeof(wasm_rt_funcref_t)));
    if (!table->data)
        trap_out_of_memory();
    table->size = elements;
    table->max_size = max_elements;
    sip.funcref_tables.push_back(table);
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t*) { }

void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t* table, uint32_t elements, uint32_t max_elements)
{
    SipContext& sip = current();
    if (elements > sip.table_limit_elements)
        trap_out_of_memory();
    table->data = static_cast<wasm_rt_externref_t*>(std::calloc(elements ? elements : 1, sizeof(wasm_rt_externref_t)));
    if (!table->data)
        trap_out_of_memory();
    table->size = elements;
    table->max_size = max_elements;
    sip.externref_tables.push_back(table);
}

void wasm_rt_free_externref_table(wasm_rt_externref_table_t*) { }

uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t* table, uint32_t delta, wasm_rt_funcref_t init)
{
    SipContext& sip = current();
    uint32_t old_size = table->size;
    uint64_t new_size = uint64_t(old_size) + delta;
    if (new_size > table->max_size || new_size > sip.table_limit_elements)
        return UINT32_MAX;
    if (delta == 0)
        return old_size;
    auto* data = static_cast<wasm_rt_funcref_t*>(std::realloc(table->data, new_size * sizeof(wasm_rt_funcref_t)));
    if (!data)
        return UINT32_MAX;
    for (uint64_t i = old_size; i < new_size; ++i)
        data[i] = init;
    table->data = data;
    table->size = static_cast<uint32_t>(new_size);
    return old_size;
}

uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t* table, uint32_t delta, wasm_rt_externref_t init)
{
    SipContext& sip = current();
    uint32_t old_size = table->size;
    uint64_t new_size = uint64_t(old_size) + delta;
    if (new_size > table->max_size || new_size > sip.table_limit_elements)
        return UINT32_MAX;
    if (delta == 0)
        return old_size;
    auto* data = static_cast<wasm_rt_externref_t*>(std::realloc(table->data, new_size * sizeof(wasm_rt_externref_t)));
    if (!data)
        return UINT32_MAX;
    for (uint64_t i = old_size; i < new_size; ++i)
        data[i] = init;
    table->data = data;
    table->size = static_cast<uint32_t>(new_size);
    return old_size;
}

} // extern "C"
