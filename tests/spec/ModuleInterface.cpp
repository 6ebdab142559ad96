#include "tests/spec/ModuleInterface.h"

#include "installer/CTranslation.h"
#include "tests/spec/WabtSupport.h"

#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/cast.h>
#include <wabt/error.h>
#include <wabt/ir.h>

namespace signet::spec {

namespace {

ErrorOr<std::vector<ValueType>> value_types(wabt::TypeVector const& types)
{
    std::vector<ValueType> out;
    for (auto type : types)
        out.push_back(TRY(value_type_of(type)));
    return out;
}

Limits limits_of(wabt::Limits const& limits)
{
    Limits out;
    out.initial = limits.initial;
    if (limits.has_max)
        out.maximum = limits.max;
    return out;
}

// wasm2c's C type for a value type.
char const* c_type(ValueType type)
{
    switch (type) {
    case ValueType::I32:
        return "u32";
    case ValueType::I64:
        return "u64";
    case ValueType::F32:
        return "f32";
    case ValueType::F64:
        return "f64";
    case ValueType::FuncRef:
        return "wasm_rt_funcref_t";
    case ValueType::ExternRef:
        return "wasm_rt_externref_t";
    case ValueType::V128:
        return "v128";
    }
    return "?";
}

// wasm2c's letter for a value type in multi-value result structs (wasm_multi_<letters>).
char multi_value_letter(ValueType type)
{
    switch (type) {
    case ValueType::I32:
        return 'i';
    case ValueType::I64:
        return 'j';
    case ValueType::F32:
        return 'f';
    case ValueType::F64:
        return 'd';
    case ValueType::FuncRef:
        return 'r';
    case ValueType::ExternRef:
        return 'e';
    case ValueType::V128:
        return 'o';
    }
    return '?';
}

// C expression turning slot `slot` into an argument of `type`.
std::string argument_expression(ValueType type, size_t slot)
{
    std::string value = "arguments[" + std::to_string(slot) + "]";
    switch (type) {
    case ValueType::I32:
        return "(u32)" + value;
    case ValueType::I64:
        return "(u64)" + value;
    case ValueType::F32:
        return "signet_spec_to_f32(" + value + ")";
    case ValueType::F64:
        return "signet_spec_to_f64(" + value + ")";
    case ValueType::ExternRef:
        return "(wasm_rt_externref_t)(uintptr_t)" + value;
    case ValueType::FuncRef:
        return "wasm_rt_funcref_null_value";
    case ValueType::V128:
        break;
    }
    return "0";
}

// C expression turning `value` of `type` into a result slot.
std::string result_expression(ValueType type, std::string const& value)
{
    switch (type) {
    case ValueType::I32:
    case ValueType::I64:
        return "(uint64_t)(" + value + ")";
    case ValueType::F32:
        return "signet_spec_from_f32(" + value + ")";
    case ValueType::F64:
        return "signet_spec_from_f64(" + value + ")";
    case ValueType::ExternRef:
        return "(uint64_t)(uintptr_t)(" + value + ")";
    case ValueType::FuncRef:
        return "(uint64_t)(uintptr_t)(" + value + ").func";
    case ValueType::V128:
        break;
    }
    return "0";
}

std::string export_symbol(std::string const& name)
{
    return std::string("Z_") + installer::translated_module_name + mangle_name(name);
}

} // namespace

std::string mangle_name(std::string const& name)
{
    static constexpr char hex_digits[] = "0123456789ABCDEF";
    std::string out = "Z_";
    for (char c : name) {
        auto byte = static_cast<unsigned char>(c);
        bool is_ascii_alphanumeric = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9');
        if ((is_ascii_alphanumeric && byte != 'Z') || byte == '_') {
            out += c;
        } else {
            out += 'Z';
            out += hex_digits[byte >> 4];
            out += hex_digits[byte & 0xf];
        }
    }
    return out;
}

ErrorOr<ModuleInterface> ModuleInterface::read(std::span<uint8_t const> bytes)
{
    wabt::Module module;
    wabt::Errors errors;
    wabt::ReadBinaryOptions options(script_features(), nullptr, false, true, false);
    if (wabt::Failed(wabt::ReadBinaryIr("module", bytes.data(), bytes.size(), options, &errors, &module)))
        return Error::invalid(errors.empty() ? std::string("wabt cannot read the module") : errors.front().message);

    ModuleInterface interface;
    for (wabt::Import const* import : module.imports) {
        Import out;
        out.module = import->module_name;
        out.field = import->field_name;
        switch (import->kind()) {
        case wabt::ExternalKind::Func: {
            auto const& signature = wabt::cast<wabt::FuncImport>(import)->func.decl.sig;
            out.kind = ExternalKind::Function;
            out.parameters = TRY(value_types(signature.param_types));
            out.results = TRY(value_types(signature.result_types));
            break;
        }
        case wabt::ExternalKind::Table: {
            auto const& table = wabt::cast<wabt::TableImport>(import)->table;
            out.kind = ExternalKind::Table;
            out.type = TRY(value_type_of(table.elem_type));
            out.limits = limits_of(table.elem_limits);
            break;
        }
        case wabt::ExternalKind::Memory: {
            auto const& memory = wabt::cast<wabt::MemoryImport>(import)->memory;
            out.kind = ExternalKind::Memory;
            out.limits = limits_of(memory.page_limits);
            out.is_shared_or_64 = memory.page_limits.is_shared || memory.page_limits.is_64;
            break;
        }
        case wabt::ExternalKind::Global: {
            auto const& global = wabt::cast<wabt::GlobalImport>(import)->global;
            out.kind = ExternalKind::Global;
            out.type = TRY(value_type_of(global.type));
            out.is_mutable = global.mutable_;
            break;
        }
        case wabt::ExternalKind::Tag:
            out.kind = ExternalKind::Tag;
            break;
        }
        interface.m_imports.push_back(std::move(out));
    }

    for (wabt::Export const* export_ : module.exports) {
        Export out;
        out.name = export_->name;
        switch (export_->kind) {
        case wabt::ExternalKind::Func: {
            wabt::Func const* function = module.GetFunc(export_->var);
            if (!function)
                return Error::invalid("export '" + export_->name + "' names no function");
            out.kind = ExternalKind::Function;
            out.parameters = TRY(value_types(function->decl.sig.param_types));
            out.results = TRY(value_types(function->decl.sig.result_types));
            break;
        }
        case wabt::ExternalKind::Global: {
            wabt::Global const* global = module.GetGlobal(export_->var);
            if (!global)
                return Error::invalid("export '" + export_->name + "' names no global");
            out.kind = ExternalKind::Global;
            out.results.push_back(TRY(value_type_of(global->type)));
            break;
        }
        case wabt::ExternalKind::Table:
            out.kind = ExternalKind::Table;
            break;
        case wabt::ExternalKind::Memory:
            out.kind = ExternalKind::Memory;
            break;
        case wabt::ExternalKind::Tag:
            out.kind = ExternalKind::Tag;
            break;
        }
        interface.m_exports.push_back(std::move(out));
    }
    return interface;
}

std::optional<uint32_t> ModuleInterface::find_export(std::string const& name) const
{
    for (size_t i = 0; i < m_exports.size(); ++i) {
        if (m_exports[i].name == name)
            return static_cast<uint32_t>(i);
    }
    return {};
}

std::string ModuleInterface::dispatcher_source() const
{
    std::string const instance_type = std::string("Z_") + installer::translated_module_name + "_instance_t";
    std::string out;
    out += "/* The spec-test harness's dispatcher (tests/spec/ModuleInterface.h). */\n";
    out += "#include <string.h>\n\n";
    out += "static inline f32 signet_spec_to_f32(uint64_t slot) { uint32_t bits = (uint32_t)slot; f32 value; memcpy(&value, &bits, 4); return value; }\n";
    out += "static inline f64 signet_spec_to_f64(uint64_t slot) { f64 value; memcpy(&value, &slot, 8); return value; }\n";
    out += "static inline uint64_t signet_spec_from_f32(f32 value) { uint32_t bits; memcpy(&bits, &value, 4); return bits; }\n";
    out += "static inline uint64_t signet_spec_from_f64(f64 value) { uint64_t bits; memcpy(&bits, &value, 8); return bits; }\n\n";
    out += "__attribute__((visibility(\"default\"))) int " + std::string(dispatcher_symbol)
        + "(void* instance, uint32_t export_index, uint64_t const* arguments, uint64_t* results)\n{\n";
    out += "    " + instance_type + "* self = (" + instance_type + "*)instance;\n";
    out += "    (void)self;\n    (void)arguments;\n    (void)results;\n";
    out += "    switch (export_index) {\n";
    for (size_t index = 0; index < m_exports.size(); ++index) {
        auto const& export_ = m_exports[index];
        std::string const symbol = export_symbol(export_.name);
        std::string const case_label = "    case " + std::to_string(index) + ": {\n";
        if (export_.kind == ExternalKind::Global) {
            out += case_label;
            out += "        results[0] = " + result_expression(export_.results[0], "*" + symbol + "(self)") + ";\n";
            out += "        return 0;\n    }\n";
            continue;
        }
        if (export_.kind != ExternalKind::Function)
            continue;
        bool passable = true;
        for (auto type : export_.parameters)
            passable = passable && type != ValueType::V128;
        for (auto type : export_.results)
            passable = passable && type != ValueType::V128;
        if (!passable)
            continue;

        out += case_label;
        for (size_t i = 0; i < export_.parameters.size(); ++i) {
            if (export_.parameters[i] == ValueType::FuncRef)
                out += "        if (arguments[" + std::to_string(i) + "] != 0) return -2;\n";
        }
        std::string call = symbol + "(self";
        for (size_t i = 0; i < export_.parameters.size(); ++i)
            call += ", " + argument_expression(export_.parameters[i], i);
        call += ")";
        if (export_.results.empty()) {
            out += "        " + call + ";\n";
        } else if (export_.results.size() == 1) {
            out += "        " + std::string(c_type(export_.results[0])) + " value = " + call + ";\n";
            out += "        results[0] = " + result_expression(export_.results[0], "value") + ";\n";
        } else {
            std::string letters;
            for (auto type : export_.results)
                letters += multi_value_letter(type);
            out += "        struct wasm_multi_" + letters + " value = " + call + ";\n";
            for (size_t i = 0; i < export_.results.size(); ++i) {
                std::string field = "value." + std::string(1, letters[i]) + std::to_string(i);
                out += "        results[" + std::to_string(i) + "] = " + result_expression(export_.results[i], field) + ";\n";
            }
        }
        out += "        return 0;\n    }\n";
    }
    out += "    default:\n        return -1;\n    }\n}\n";
    return out;
}

} // namespace signet::spec
