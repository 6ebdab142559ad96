#include "tests/spec/WastScript.h"
#include "tests/spec/WabtSupport.h"

#include "base/File.h"

#include <wabt/binary-writer.h>
#include <wabt/cast.h>
#include <wabt/error-formatter.h>
#include <wabt/feature.h>
#include <wabt/ir.h>
#include <wabt/stream.h>
#include <wabt/wast-lexer.h>
#include <wabt/wast-parser.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace signet::spec {

namespace {

ErrorOr<std::vector<uint8_t>> encode(wabt::Module const& module)
{
    wabt::MemoryStream stream;
    // The options wast2json uses: canonical LEBs, no relocations, no name section.
    wabt::WriteBinaryOptions options(script_features(), true, false, false);
    if (wabt::Failed(wabt::WriteBinaryModule(&stream, &module, options)))
        return Error::invalid("wabt cannot encode the module at line " + std::to_string(module.loc.line));
    return std::move(stream.output_buffer().data);
}

ErrorOr<Value> convert_value(wabt::Const const& constant)
{
    Value value;
    value.type = TRY(value_type_of(constant.type()));
    switch (value.type) {
    case ValueType::I32:
        value.bits = constant.u32();
        break;
    case ValueType::I64:
        value.bits = constant.u64();
        break;
    case ValueType::F32:
        value.bits = constant.f32_bits();
        break;
    case ValueType::F64:
        value.bits = constant.f64_bits();
        break;
    case ValueType::FuncRef:
    case ValueType::ExternRef:
        value.is_null = constant.ref_bits() == wabt::Const::kRefNullBits;
        value.bits = value.is_null ? 0 : constant.ref_bits();
        break;
    case ValueType::V128:
        // Only the low lanes matter for counting; SIMD scripts never run.
        value.bits = constant.vec128().u64(0);
        break;
    }
    switch (constant.expected_nan()) {
    case wabt::ExpectedNan::None:
        break;
    case wabt::ExpectedNan::Canonical:
        value.nan = NanPattern::Canonical;
        break;
    case wabt::ExpectedNan::Arithmetic:
        value.nan = NanPattern::Arithmetic;
        break;
    }
    return value;
}

ErrorOr<std::vector<Value>> convert_values(wabt::ConstVector const& constants)
{
    std::vector<Value> values;
    values.reserve(constants.size());
    for (auto const& constant : constants)
        values.push_back(TRY(convert_value(constant)));
    return values;
}

ErrorOr<Action> convert_action(wabt::Action const& action)
{
    Action out;
    out.kind = action.type() == wabt::ActionType::Invoke ? ActionKind::Invoke : ActionKind::Get;
    if (action.module_var.is_name())
        out.module_name = action.module_var.name();
    out.field = action.name;
    if (auto const* invoke = wabt::dyn_cast<wabt::InvokeAction>(&action))
        out.arguments = TRY(convert_values(invoke->args));
    return out;
}

ErrorOr<ModuleSource> convert_script_module(wabt::ScriptModule const& script_module)
{
    ModuleSource source;
    switch (script_module.type()) {
    case wabt::ScriptModuleType::Text: {
        auto const& text = *wabt::cast<wabt::TextScriptModule>(&script_module);
        source.form = ModuleForm::Text;
        source.name = text.module.name;
        source.bytes = TRY(encode(text.module));
        break;
    }
    case wabt::ScriptModuleType::Binary: {
        auto const& binary = *wabt::cast<wabt::BinaryScriptModule>(&script_module);
        source.form = ModuleForm::Binary;
        source.name = binary.name;
        source.bytes = binary.data;
        break;
    }
    case wabt::ScriptModuleType::Quoted: {
        auto const& quoted = *wabt::cast<wabt::QuotedScriptModule>(&script_module);
        source.form = ModuleForm::Quoted;
        source.name = quoted.name;
        break;
    }
    }
    return source;
}

// assert_malformed, assert_invalid, assert_unlinkable and assert_uninstantiable:
// a module and the message the reference interpreter gives.
template<typename Assertion>
ErrorOr<void> convert_module_assertion(Assertion const& assertion, CommandKind kind, Command& out)
{
    out.kind = kind;
    out.line = static_cast<uint32_t>(assertion.module->location().line);
    out.module = TRY(convert_script_module(*assertion.module));
    out.text = assertion.text;
    return {};
}

// assert_trap and assert_exhaustion: an action and the expected message.
template<typename Assertion>
ErrorOr<void> convert_trap_assertion(Assertion const& assertion, CommandKind kind, Command& out)
{
    out.kind = kind;
    out.line = static_cast<uint32_t>(assertion.action->loc.line);
    out.action = TRY(convert_action(*assertion.action));
    out.text = assertion.text;
    return {};
}

std::string format_bits(char const* type, uint64_t bits)
{
    char text[64];
    std::snprintf(text, sizeof text, "(%s.const 0x%" PRIx64 ")", type, bits);
    return text;
}

std::string quoted(std::string const& text)
{
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\%02x", c);
            out += escape;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

} // namespace

wabt::Features script_features()
{
    wabt::Features features;
    features.enable_simd();
    features.enable_relaxed_simd();
    features.enable_threads();
    features.enable_exceptions();
    features.enable_tail_call();
    features.enable_memory64();
    features.enable_multi_memory();
    features.enable_extended_const();
    return features;
}

ErrorOr<ValueType> value_type_of(wabt::Type type)
{
    switch (type) {
    case wabt::Type::I32:
        return ValueType::I32;
    case wabt::Type::I64:
        return ValueType::I64;
    case wabt::Type::F32:
        return ValueType::F32;
    case wabt::Type::F64:
        return ValueType::F64;
    case wabt::Type::FuncRef:
        return ValueType::FuncRef;
    case wabt::Type::ExternRef:
        return ValueType::ExternRef;
    case wabt::Type::V128:
        return ValueType::V128;
    default:
        return Error::invalid(std::string("value type ") + type.GetName() + " is not one the harness can pass");
    }
}

char const* value_type_name(ValueType type)
{
    switch (type) {
    case ValueType::I32:
        return "i32";
    case ValueType::I64:
        return "i64";
    case ValueType::F32:
        return "f32";
    case ValueType::F64:
        return "f64";
    case ValueType::FuncRef:
        return "funcref";
    case ValueType::ExternRef:
        return "externref";
    case ValueType::V128:
        return "v128";
    }
    return "?";
}

std::string format_value(Value const& value)
{
    if (value.nan == NanPattern::Canonical)
        return std::string("(") + value_type_name(value.type) + ".const nan:canonical)";
    if (value.nan == NanPattern::Arithmetic)
        return std::string("(") + value_type_name(value.type) + ".const nan:arithmetic)";
    switch (value.type) {
    case ValueType::I32:
    case ValueType::I64:
    case ValueType::F32:
    case ValueType::F64:
    case ValueType::V128:
        return format_bits(value_type_name(value.type), value.bits);
    case ValueType::FuncRef:
        return value.is_null ? "(ref.null func)" : "(ref.func)";
    case ValueType::ExternRef:
        return value.is_null ? "(ref.null extern)" : "(ref.extern " + std::to_string(value.bits) + ")";
    }
    return "?";
}

std::string format_action(Action const& action)
{
    std::string out = action.kind == ActionKind::Invoke ? "invoke " : "get ";
    if (!action.module_name.empty())
        out += action.module_name + " ";
    out += quoted(action.field);
    for (auto const& argument : action.arguments)
        out += " " + format_value(argument);
    return out;
}

char const* command_kind_name(CommandKind kind)
{
    switch (kind) {
    case CommandKind::Module:
        return "module";
    case CommandKind::Register:
        return "register";
    case CommandKind::Action:
        return "action";
    case CommandKind::AssertReturn:
        return "assert_return";
    case CommandKind::AssertTrap:
        return "assert_trap";
    case CommandKind::AssertExhaustion:
        return "assert_exhaustion";
    case CommandKind::AssertInvalid:
        return "assert_invalid";
    case CommandKind::AssertMalformed:
        return "assert_malformed";
    case CommandKind::AssertUnlinkable:
        return "assert_unlinkable";
    case CommandKind::AssertUninstantiable:
        return "assert_uninstantiable";
    case CommandKind::AssertException:
        return "assert_exception";
    }
    return "?";
}

ErrorOr<WastScript> WastScript::parse(std::string const& path)
{
    auto text = TRY(read_text_file(path));
    wabt::Errors errors;
    auto lexer = wabt::WastLexer::CreateBufferLexer(path, text.data(), text.size(), &errors);
    wabt::WastParseOptions options(script_features());
    std::unique_ptr<wabt::Script> script;
    if (wabt::Failed(wabt::ParseWastScript(lexer.get(), &script, &errors, &options))) {
        std::string message = path + ": wabt cannot parse the script";
        if (!errors.empty())
            message += ": " + wabt::FormatErrorsToString(errors, wabt::Location::Type::Text);
        return Error::invalid(message);
    }

    WastScript result;
    result.m_path = path;
    for (auto const& command_pointer : script->commands) {
        wabt::Command const& command = *command_pointer;
        Command out;
        switch (command.type) {
        case wabt::CommandType::Module: {
            auto const& module = wabt::cast<wabt::ModuleCommand>(&command)->module;
            out.kind = CommandKind::Module;
            out.line = static_cast<uint32_t>(module.loc.line);
            out.module.form = ModuleForm::Text;
            out.module.name = module.name;
            out.module.bytes = TRY(encode(module));
            break;
        }
        case wabt::CommandType::ScriptModule: {
            auto const& module_command = *wabt::cast<wabt::ScriptModuleCommand>(&command);
            out.kind = CommandKind::Module;
            out.line = static_cast<uint32_t>(module_command.script_module->location().line);
            out.module = TRY(convert_script_module(*module_command.script_module));
            if (out.module.form == ModuleForm::Quoted) {
                // A (module quote ...) command: wabt parsed the text already.
                out.module.form = ModuleForm::Text;
                out.module.bytes = TRY(encode(module_command.module));
            }
            if (out.module.name.empty())
                out.module.name = module_command.module.name;
            break;
        }
        case wabt::CommandType::Action: {
            auto const& action = *wabt::cast<wabt::ActionCommand>(&command)->action;
            out.kind = CommandKind::Action;
            out.line = static_cast<uint32_t>(action.loc.line);
            out.action = TRY(convert_action(action));
            break;
        }
        case wabt::CommandType::Register: {
            auto const& register_command = *wabt::cast<wabt::RegisterCommand>(&command);
            out.kind = CommandKind::Register;
            out.line = static_cast<uint32_t>(register_command.var.loc.line);
            out.register_as = register_command.module_name;
            if (register_command.var.is_name())
                out.register_module = register_command.var.name();
            break;
        }
        case wabt::CommandType::AssertMalformed:
            TRY(convert_module_assertion(*wabt::cast<wabt::AssertMalformedCommand>(&command), CommandKind::AssertMalformed, out));
            break;
        case wabt::CommandType::AssertInvalid:
            TRY(convert_module_assertion(*wabt::cast<wabt::AssertInvalidCommand>(&command), CommandKind::AssertInvalid, out));
            break;
        case wabt::CommandType::AssertUnlinkable:
            TRY(convert_module_assertion(*wabt::cast<wabt::AssertUnlinkableCommand>(&command), CommandKind::AssertUnlinkable, out));
            break;
        case wabt::CommandType::AssertUninstantiable:
            TRY(convert_module_assertion(*wabt::cast<wabt::AssertUninstantiableCommand>(&command), CommandKind::AssertUninstantiable, out));
            break;
        case wabt::CommandType::AssertReturn: {
            auto const& assertion = *wabt::cast<wabt::AssertReturnCommand>(&command);
            out.kind = CommandKind::AssertReturn;
            out.line = static_cast<uint32_t>(assertion.action->loc.line);
            out.action = TRY(convert_action(*assertion.action));
            out.expects_either = assertion.expected->type() == wabt::ExpectationType::Either;
            out.expected = TRY(convert_values(assertion.expected->expected));
            break;
        }
        case wabt::CommandType::AssertTrap:
            TRY(convert_trap_assertion(*wabt::cast<wabt::AssertTrapCommand>(&command), CommandKind::AssertTrap, out));
            break;
        case wabt::CommandType::AssertExhaustion:
            TRY(convert_trap_assertion(*wabt::cast<wabt::AssertExhaustionCommand>(&command), CommandKind::AssertExhaustion, out));
            break;
        case wabt::CommandType::AssertException: {
            auto const& assertion = *wabt::cast<wabt::AssertExceptionCommand>(&command);
            out.kind = CommandKind::AssertException;
            out.line = static_cast<uint32_t>(assertion.action->loc.line);
            out.action = TRY(convert_action(*assertion.action));
            break;
        }
        }
        result.m_commands.push_back(std::move(out));
    }
    return result;
}

} // namespace signet::spec
