#include "tests/spec/HostModules.h"

#include "base/Verify.h"

#include <cstdint>
#include <map>
#include <mutex>

namespace signet::spec {

namespace {

constexpr uint32_t no_maximum = UINT32_MAX;

HostExport function(std::string field, std::string signature)
{
    return { std::move(field), ExternalKind::Function, std::move(signature), {} };
}

HostExport global(std::string field, std::string type)
{
    return { std::move(field), ExternalKind::Global, std::move(type), {} };
}

HostExport table(std::string field, uint64_t initial, std::optional<uint64_t> maximum)
{
    return { std::move(field), ExternalKind::Table, {}, { initial, maximum } };
}

HostExport memory(std::string field, uint64_t initial, std::optional<uint64_t> maximum)
{
    return { std::move(field), ExternalKind::Memory, {}, { initial, maximum } };
}

std::vector<HostModule> make_host_modules()
{
    std::vector<HostModule> modules;
    // The reference interpreter's spectest module (interpreter/host/spectest.ml).
    modules.push_back({ "spectest", {},
        {
            function("print", "->"),
            function("print_i32", "i->"),
            function("print_i64", "I->"),
            function("print_f32", "f->"),
            function("print_f64", "F->"),
            function("print_i32_f32", "if->"),
            function("print_f64_f64", "FF->"),
            global("global_i32", "i"),
            global("global_i64", "I"),
            global("global_f32", "f"),
            global("global_f64", "F"),
            table("table", 10, 20),
            memory("memory", 1, 2),
        } });
    // table_copy.wast and table_init.wast: (func (export "efN") (result i32) (i32.const N)) for N = 0..4.
    modules.push_back({ "a", "01d091029bc53cad2da6e87bde8e476d1546640dab16796b07ba882e209d0857",
        {
            function("ef0", "->i"),
            function("ef1", "->i"),
            function("ef2", "->i"),
            function("ef3", "->i"),
            function("ef4", "->i"),
        } });
    // ref_func.wast: (func (export "f") (param $x i32) (result i32) (local.get $x)).
    modules.push_back({ "M", "639764056377fdfe1bfc65e87a7e5a2d705ecd9211823228a4cf70294acfd437",
        {
            function("f", "i->i"),
        } });
    // imports.wast's auxiliary module "test".
    modules.push_back({ "test", "f4e5d00c66a879d7dad14cd930205a46ea2bce58898d57b13533b6106401bf97",
        {
            function("func", "->"),
            function("func-i32", "i->"),
            function("func-f32", "f->"),
            function("func->i32", "->i"),
            function("func->f32", "->f"),
            function("func-i32->i32", "i->i"),
            function("func-i64->i64", "I->I"),
            global("global-i32", "i"),
            global("global-f32", "f"),
            global("global-mut-i64", "mut I"),
            table("table-10-inf", 10, std::nullopt),
            table("table-10-20", 10, 20),
            memory("memory-2-inf", 2, std::nullopt),
        } });
    return modules;
}

char letter(ValueType type)
{
    switch (type) {
    case ValueType::I32:
        return 'i';
    case ValueType::I64:
        return 'I';
    case ValueType::F32:
        return 'f';
    case ValueType::F64:
        return 'F';
    case ValueType::ExternRef:
        return 'x';
    case ValueType::FuncRef:
        return 'c';
    case ValueType::V128:
        return 'v';
    }
    return '?';
}

installer::ImportKind policy_kind(ExternalKind kind)
{
    switch (kind) {
    case ExternalKind::Table:
        return installer::ImportKind::Table;
    case ExternalKind::Memory:
        return installer::ImportKind::Memory;
    case ExternalKind::Global:
        return installer::ImportKind::Global;
    default:
        return installer::ImportKind::Function;
    }
}

// The spec's import subtyping for limits: the provided range lies inside the imported one.
bool limits_match(Limits const& provided, Limits const& imported)
{
    if (provided.initial < imported.initial)
        return false;
    if (!imported.maximum)
        return true;
    return provided.maximum && *provided.maximum <= *imported.maximum;
}

std::mutex s_instances_lock;
std::map<void*, HostInstance*> s_instances;

HostInstance& instance_of(void* host)
{
    std::lock_guard guard(s_instances_lock);
    auto it = s_instances.find(host);
    VERIFY(it != s_instances.end());
    return *it->second;
}

// The import getters run during instantiation, on the SIP's fiber, so the
// allocations belong to that SIP and are freed with it. An allocation that
// fails traps; nothing with a destructor may be alive here when it does.
wasm_rt_memory_t* memory_of(void* host, uint32_t initial, uint32_t maximum)
{
    HostInstance& instance = instance_of(host);
    if (!instance.memory.data)
        wasm_rt_allocate_memory(&instance.memory, initial, maximum);
    return &instance.memory;
}

wasm_rt_funcref_table_t* table_of(wasm_rt_funcref_table_t* table, uint32_t initial, uint32_t maximum)
{
    if (!table->data)
        wasm_rt_allocate_funcref_table(table, initial, maximum);
    return table;
}

uint32_t const s_global_i32 = 666;
uint64_t const s_global_i64 = 666;
float const s_global_f32 = 666.6f;
double const s_global_f64 = 666.6;
uint32_t const s_test_global_i32 = 55;
float const s_test_global_f32 = 44.0f;

} // namespace

HostExport const* HostModule::find(std::string const& field) const
{
    for (auto const& export_ : exports) {
        if (export_.field == field)
            return &export_;
    }
    return nullptr;
}

std::vector<HostModule> const& host_modules()
{
    static std::vector<HostModule> const modules = make_host_modules();
    return modules;
}

HostModule const* find_host_module(std::string const& name)
{
    for (auto const& module : host_modules()) {
        if (module.name == name)
            return &module;
    }
    return nullptr;
}

HostModule const* find_stand_in(std::string const& name, std::string const& module_sha256)
{
    HostModule const* module = find_host_module(name);
    if (!module || module->stands_for != module_sha256)
        return nullptr;
    return module;
}

installer::ImportPolicy host_import_policy(std::vector<HostModule const*> const& available)
{
    installer::ImportPolicy policy;
    for (HostModule const* module : available) {
        for (auto const& export_ : module->exports)
            policy.allow(module->name, export_.field, policy_kind(export_.kind), export_.signature);
    }
    policy.allow_imported_state();
    return policy;
}

ErrorOr<void> link_imports(ModuleInterface const& interface, std::vector<HostModule const*> const& available)
{
    for (auto const& import : interface.imports()) {
        std::string const what = "import '" + import.module + "." + import.field + "'";
        HostExport const* provided = nullptr;
        for (HostModule const* module : available) {
            if (module->name == import.module)
                provided = module->find(import.field);
        }
        if (!provided)
            return Error::invalid("unknown import: " + what);
        if (provided->kind != import.kind)
            return Error::invalid("incompatible import type: " + what + " has another kind");
        switch (import.kind) {
        case ExternalKind::Function: {
            std::string signature;
            for (auto type : import.parameters)
                signature += letter(type);
            signature += "->";
            for (auto type : import.results)
                signature += letter(type);
            if (signature != provided->signature)
                return Error::invalid("incompatible import type: " + what + " is " + signature + ", provided " + provided->signature);
            break;
        }
        case ExternalKind::Global: {
            std::string type = std::string(import.is_mutable ? "mut " : "") + letter(import.type);
            if (type != provided->signature)
                return Error::invalid("incompatible import type: " + what + " is '" + type + "', provided '" + provided->signature + "'");
            break;
        }
        case ExternalKind::Table:
            if (import.type != ValueType::FuncRef || !limits_match(provided->limits, import.limits))
                return Error::invalid("incompatible import type: " + what + " does not fit the provided table");
            break;
        case ExternalKind::Memory:
            if (import.is_shared_or_64 || !limits_match(provided->limits, import.limits))
                return Error::invalid("incompatible import type: " + what + " does not fit the provided memory");
            break;
        case ExternalKind::Tag:
            return Error::invalid("incompatible import type: " + what + " is a tag");
        }
    }
    return {};
}

void attach_host_instance(void* host, HostInstance* instance)
{
    std::lock_guard guard(s_instances_lock);
    s_instances[host] = instance;
}

void detach_host_instance(void* host)
{
    std::lock_guard guard(s_instances_lock);
    s_instances.erase(host);
}

} // namespace signet::spec

using namespace signet::spec;

// The symbols images link against: wasm2c's names for module.field (see
// mangle_name). They are exported from the harness executable by exports.list.
#define SIGNET_SPEC_HOST extern "C" __attribute__((visibility("default"), used))

// spectest. The reference interpreter prints its arguments; nothing checks that
// output, and a quiet harness is easier to read.
SIGNET_SPEC_HOST void Z_spectestZ_print(void*) { }
SIGNET_SPEC_HOST void Z_spectestZ_print_i32(void*, uint32_t) { }
SIGNET_SPEC_HOST void Z_spectestZ_print_i64(void*, uint64_t) { }
SIGNET_SPEC_HOST void Z_spectestZ_print_f32(void*, float) { }
SIGNET_SPEC_HOST void Z_spectestZ_print_f64(void*, double) { }
SIGNET_SPEC_HOST void Z_spectestZ_print_i32_f32(void*, uint32_t, float) { }
SIGNET_SPEC_HOST void Z_spectestZ_print_f64_f64(void*, double, double) { }
// Immutable: generated code only reads through these pointers.
SIGNET_SPEC_HOST uint32_t* Z_spectestZ_global_i32(void*) { return const_cast<uint32_t*>(&s_global_i32); }
SIGNET_SPEC_HOST uint64_t* Z_spectestZ_global_i64(void*) { return const_cast<uint64_t*>(&s_global_i64); }
SIGNET_SPEC_HOST float* Z_spectestZ_global_f32(void*) { return const_cast<float*>(&s_global_f32); }
SIGNET_SPEC_HOST double* Z_spectestZ_global_f64(void*) { return const_cast<double*>(&s_global_f64); }
SIGNET_SPEC_HOST wasm_rt_funcref_table_t* Z_spectestZ_table(void* host)
{
    return table_of(&instance_of(host).spectest_table, 10, 20);
}
SIGNET_SPEC_HOST wasm_rt_memory_t* Z_spectestZ_memory(void* host) { return memory_of(host, 1, 2); }

// a
SIGNET_SPEC_HOST uint32_t Z_aZ_ef0(void*) { return 0; }
SIGNET_SPEC_HOST uint32_t Z_aZ_ef1(void*) { return 1; }
SIGNET_SPEC_HOST uint32_t Z_aZ_ef2(void*) { return 2; }
SIGNET_SPEC_HOST uint32_t Z_aZ_ef3(void*) { return 3; }
SIGNET_SPEC_HOST uint32_t Z_aZ_ef4(void*) { return 4; }

// M
SIGNET_SPEC_HOST uint32_t Z_MZ_f(void*, uint32_t x) { return x; }

// test
SIGNET_SPEC_HOST void Z_testZ_func(void*) { }
SIGNET_SPEC_HOST void Z_testZ_funcZ2Di32(void*, uint32_t) { }
SIGNET_SPEC_HOST void Z_testZ_funcZ2Df32(void*, float) { }
SIGNET_SPEC_HOST uint32_t Z_testZ_funcZ2DZ3Ei32(void*) { return 22; }
SIGNET_SPEC_HOST float Z_testZ_funcZ2DZ3Ef32(void*) { return 11.0f; }
SIGNET_SPEC_HOST uint32_t Z_testZ_funcZ2Di32Z2DZ3Ei32(void*, uint32_t x) { return x; }
SIGNET_SPEC_HOST uint64_t Z_testZ_funcZ2Di64Z2DZ3Ei64(void*, uint64_t x) { return x; }
SIGNET_SPEC_HOST uint32_t* Z_testZ_globalZ2Di32(void*) { return const_cast<uint32_t*>(&s_test_global_i32); }
SIGNET_SPEC_HOST float* Z_testZ_globalZ2Df32(void*) { return const_cast<float*>(&s_test_global_f32); }
SIGNET_SPEC_HOST uint64_t* Z_testZ_globalZ2DmutZ2Di64(void* host) { return &instance_of(host).test_global_mut_i64; }
SIGNET_SPEC_HOST wasm_rt_funcref_table_t* Z_testZ_tableZ2D10Z2Dinf(void* host)
{
    return table_of(&instance_of(host).test_table_10_inf, 10, no_maximum);
}
SIGNET_SPEC_HOST wasm_rt_funcref_table_t* Z_testZ_tableZ2D10Z2D20(void* host)
{
    return table_of(&instance_of(host).test_table_10_20, 10, 20);
}
SIGNET_SPEC_HOST wasm_rt_memory_t* Z_testZ_memoryZ2D2Z2Dinf(void* host) { return memory_of(host, 2, 65536); }
