#include "installer/VerifiedModule.h"
#include "installer/WasmFeatures.h"

#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader-nop.h>
#include <wabt/binary-reader.h>
#include <wabt/binary-writer.h>
#include <wabt/cast.h>
#include <wabt/error.h>
#include <wabt/ir.h>
#include <wabt/opcode.h>
#include <wabt/stream.h>
#include <wabt/validator.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>

namespace signet::installer {

namespace {

std::string hex(uint64_t value)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
    return buffer;
}

// wabt reports binary positions as offsets; 0 and ~0 mean "no position".
bool is_known_offset(size_t offset)
{
    return offset != 0 && offset != static_cast<size_t>(wabt::kInvalidOffset);
}

std::string trimmed(std::string text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    for (auto& c : text) {
        if (c == '\n')
            c = ' ';
    }
    return text;
}

// Names in a module are any UTF-8, newlines included; messages stay on one line.
std::string printable(std::string_view name)
{
    std::string out;
    for (char c : name) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f || c == '\'' || c == '\\') {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            out += escaped;
        } else {
            out += c;
        }
    }
    return out;
}

Error refusal(std::string const& display_name, std::string const& message)
{
    return Error::invalid(display_name + ": " + message);
}

// One line for a reader or validator error. A reader error at or past the end of
// the bytes means the file stops in the middle of something: call it truncated.
Error wabt_error(std::string const& display_name, size_t size, wabt::Error const& error)
{
    std::string message = trimmed(error.message);
    size_t offset = error.loc.offset;
    if (!is_known_offset(offset))
        return refusal(display_name, "invalid module: " + message);
    if (offset >= size || message.find("past end") != std::string::npos)
        return refusal(display_name, "truncated module at offset " + hex(offset) + " (the file is " + std::to_string(size) + " bytes): " + message);
    return refusal(display_name, "invalid module at offset " + hex(offset) + ": " + message);
}

Error first_wabt_error(std::string const& display_name, size_t size, wabt::Errors const& errors)
{
    for (auto const& error : errors) {
        if (error.error_level == wabt::ErrorLevel::Error)
            return wabt_error(display_name, size, error);
    }
    return refusal(display_name, "invalid module");
}

char letter_for_type(wabt::Type type)
{
    switch (type) {
    case wabt::Type::I32:
        return 'i';
    case wabt::Type::I64:
        return 'I';
    case wabt::Type::F32:
        return 'f';
    case wabt::Type::F64:
        return 'F';
    case wabt::Type::ExternRef:
        return 'x';
    case wabt::Type::FuncRef:
        return 'c';
    default:
        return '?';
    }
}

std::string signature_letters(wabt::FuncSignature const& signature)
{
    std::string letters;
    for (auto type : signature.param_types)
        letters += letter_for_type(type);
    letters += "->";
    for (auto type : signature.result_types)
        letters += letter_for_type(type);
    return letters;
}

char const* external_kind_noun(wabt::ExternalKind kind)
{
    switch (kind) {
    case wabt::ExternalKind::Func:
        return "a function";
    case wabt::ExternalKind::Table:
        return "a table";
    case wabt::ExternalKind::Memory:
        return "a memory";
    case wabt::ExternalKind::Global:
        return "a global";
    case wabt::ExternalKind::Tag:
        return "an exception tag";
    }
    return "an unknown kind of import";
}

ImportKind import_kind_for(wabt::ExternalKind kind)
{
    switch (kind) {
    case wabt::ExternalKind::Table:
        return ImportKind::Table;
    case wabt::ExternalKind::Memory:
        return ImportKind::Memory;
    case wabt::ExternalKind::Global:
        return ImportKind::Global;
    default:
        return ImportKind::Function;
    }
}

std::string joined(std::vector<std::string> const& items)
{
    std::string out;
    for (auto const& item : items) {
        if (!out.empty())
            out += ", ";
        out += item;
    }
    return out;
}

// Reads the module with every feature wabt can parse and notes the first use of
// something Signet refuses, so the error can name it ("function 3 uses the atomic
// instruction i32.atomic.load at offset 0x4a") instead of the reader's generic
// "unexpected opcode". It only observes: the real reading and validation follow.
class FeatureScanner final : public wabt::BinaryReaderNop {
public:
    bool OnError(wabt::Error const& error) override
    {
        if (!m_read_error)
            m_read_error = error;
        return true; // Handled: wabt must not print it.
    }

    wabt::Result OnFuncType(wabt::Index index, wabt::Index param_count, wabt::Type* params, wabt::Index result_count, wabt::Type* results) override
    {
        if (m_type_param_counts.size() <= index)
            m_type_param_counts.resize(static_cast<size_t>(index) + 1, 0);
        m_type_param_counts[index] = param_count;
        for (wabt::Index i = 0; i < param_count; ++i)
            check_value_type(params[i], "type " + std::to_string(index));
        for (wabt::Index i = 0; i < result_count; ++i)
            check_value_type(results[i], "type " + std::to_string(index));
        return wabt::Result::Ok;
    }

    wabt::Result OnImportMemory(wabt::Index, std::string_view, std::string_view, wabt::Index memory_index, wabt::Limits const* limits) override
    {
        check_memory(memory_index, *limits);
        return wabt::Result::Ok;
    }

    wabt::Result OnMemory(wabt::Index index, wabt::Limits const* limits) override
    {
        check_memory(index, *limits);
        return wabt::Result::Ok;
    }

    wabt::Result OnImportGlobal(wabt::Index, std::string_view module, std::string_view field, wabt::Index, wabt::Type type, bool) override
    {
        check_value_type(type, "import '" + printable(module) + "." + printable(field) + "'");
        return wabt::Result::Ok;
    }

    wabt::Result BeginGlobal(wabt::Index index, wabt::Type type, bool) override
    {
        check_value_type(type, "global " + std::to_string(index));
        return wabt::Result::Ok;
    }

    wabt::Result OnImportTag(wabt::Index, std::string_view module, std::string_view field, wabt::Index, wabt::Index) override
    {
        note("import '" + printable(module) + "." + printable(field) + "' is an exception tag: exception handling is not supported");
        return wabt::Result::Ok;
    }

    wabt::Result OnTagCount(wabt::Index count) override
    {
        if (count > 0)
            note("module declares exception tags: exception handling is not supported");
        return wabt::Result::Ok;
    }

    wabt::Result BeginFunctionBody(wabt::Index index, wabt::Offset) override
    {
        m_function = index;
        m_depth = 0;
        m_in_function = true;
        return wabt::Result::Ok;
    }

    wabt::Result EndFunctionBody(wabt::Index) override
    {
        m_in_function = false;
        return wabt::Result::Ok;
    }

    wabt::Result OnLocalDecl(wabt::Index, wabt::Index, wabt::Type type) override
    {
        check_value_type(type, "function " + std::to_string(m_function));
        return wabt::Result::Ok;
    }

    wabt::Result OnOpcode(wabt::Opcode opcode) override
    {
        // wabt 1.0.32 counts some SIMD opcodes as enabled even with SIMD off, and
        // wasm2c aborts on them: every 0xfd-prefixed opcode is SIMD, so refuse them all.
        if (opcode.HasPrefix() && opcode.GetPrefix() == 0xfd) {
            size_t length = opcode.GetLength();
            size_t at = offset() >= length ? offset() - length : offset();
            note(location() + " uses the SIMD instruction '" + opcode.GetName() + "' at offset " + hex(at) + ": SIMD is not supported (wasm2c 1.0.32 cannot translate it)");
            return wabt::Result::Ok;
        }
        if (!opcode.IsEnabled(m_allowed))
            refuse_instruction(opcode);
        return wabt::Result::Ok;
    }

    wabt::Result OnBlockExpr(wabt::Type signature) override { return enter_block(signature); }
    wabt::Result OnLoopExpr(wabt::Type signature) override { return enter_block(signature); }
    wabt::Result OnIfExpr(wabt::Type signature) override { return enter_block(signature); }
    wabt::Result OnTryExpr(wabt::Type signature) override { return enter_block(signature); }

    wabt::Result OnEndExpr() override
    {
        if (m_depth > 0)
            --m_depth;
        return wabt::Result::Ok;
    }

    std::optional<std::string> finding() const
    {
        if (!m_finding)
            return {};
        if (*m_finding == s_too_many_memories)
            return "module has " + std::to_string(m_memory_count) + " memories: Signet SIPs have at most one memory";
        return m_finding;
    }
    std::optional<wabt::Error> const& read_error() const { return m_read_error; }
    bool has_block_parameters() const { return m_has_block_parameters; }

private:
    static constexpr char const* s_too_many_memories = "\x01too many memories";

    void note(std::string message)
    {
        if (!m_finding)
            m_finding = std::move(message);
    }

    size_t offset() const { return state ? state->offset : 0; }

    std::string location() const
    {
        return m_in_function ? "function " + std::to_string(m_function) : std::string("a constant expression");
    }

    void check_value_type(wabt::Type type, std::string const& where)
    {
        if (type == wabt::Type::V128)
            note(where + " uses the SIMD type v128 at offset " + hex(offset()) + ": SIMD is not supported (wasm2c 1.0.32 cannot translate it)");
    }

    void check_memory(wabt::Index index, wabt::Limits const& limits)
    {
        ++m_memory_count;
        std::string memory = "memory " + std::to_string(index);
        if (limits.is_64)
            note(memory + " is a 64-bit memory: memory64 is not supported");
        else if (limits.is_shared)
            note(memory + " is shared: Signet SIPs may not share memory");
        else if (limits.initial > max_memory_pages)
            note(memory + " has an initial size of " + std::to_string(limits.initial) + " pages: Signet limits a memory to " + std::to_string(max_memory_pages) + " pages (64 KiB short of 4 GiB)");
        if (m_memory_count == 2)
            note(s_too_many_memories);
    }

    wabt::Result enter_block(wabt::Type signature)
    {
        if (++m_depth > max_block_nesting)
            note(location() + " nests blocks more than " + std::to_string(max_block_nesting) + " deep at offset " + hex(offset()) + ": that is Signet's limit");
        if (signature.IsIndex()) {
            auto index = signature.GetIndex();
            if (index < m_type_param_counts.size() && m_type_param_counts[index] > 0)
                m_has_block_parameters = true;
        }
        return wabt::Result::Ok;
    }

    void refuse_instruction(wabt::Opcode opcode)
    {
        // The reader calls OnOpcode after consuming the opcode's bytes.
        size_t length = opcode.GetLength();
        size_t at = offset() >= length ? offset() - length : offset();
        std::string what = location() + " uses the ";
        std::string name = std::string("'") + opcode.GetName() + "' at offset " + hex(at);

        std::string feature;
#define WABT_FEATURE(variable, flag, default_, help)     \
    if (feature.empty()) {                               \
        wabt::Features with = m_allowed;                 \
        with.enable_##variable();                        \
        if (opcode.IsEnabled(with))                      \
            feature = flag;                              \
    }
#include <wabt/feature.def>
#undef WABT_FEATURE

        if (feature == "threads")
            note(what + "atomic instruction " + name + ": Signet SIPs are single-threaded and may not use atomics");
        else if (feature == "simd" || feature == "relaxed-simd")
            note(what + "SIMD instruction " + name + ": SIMD is not supported (wasm2c 1.0.32 cannot translate it)");
        else if (feature == "tail-call")
            note(what + "tail-call instruction " + name + ": tail calls are not supported");
        else if (feature == "exceptions")
            note(what + "exception-handling instruction " + name + ": exception handling is not supported");
        else if (!feature.empty())
            note(what + "instruction " + name + ", which needs the '" + feature + "' feature: Signet does not support it");
        else
            note(what + "instruction " + name + ", which Signet does not support");
    }

    wabt::Features m_allowed { signet_features() };
    std::optional<std::string> m_finding;
    std::optional<wabt::Error> m_read_error;
    std::vector<wabt::Index> m_type_param_counts;
    wabt::Index m_function { 0 };
    bool m_in_function { false };
    uint32_t m_memory_count { 0 };
    uint32_t m_depth { 0 };
    bool m_has_block_parameters { false };
};

uint32_t read_u32_le(std::span<uint8_t const> bytes, size_t at)
{
    return static_cast<uint32_t>(bytes[at]) | static_cast<uint32_t>(bytes[at + 1]) << 8
        | static_cast<uint32_t>(bytes[at + 2]) << 16 | static_cast<uint32_t>(bytes[at + 3]) << 24;
}

bool looks_like_text_format(std::span<uint8_t const> bytes)
{
    size_t i = 0;
    while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\n' || bytes[i] == '\r'))
        ++i;
    static constexpr std::string_view module_keyword = "(module";
    return bytes.size() - i >= module_keyword.size()
        && std::equal(module_keyword.begin(), module_keyword.end(), bytes.begin() + static_cast<ptrdiff_t>(i));
}

ErrorOr<void> check_header(std::span<uint8_t const> bytes, std::string const& display_name)
{
    static constexpr uint8_t magic[4] = { 0x00, 0x61, 0x73, 0x6d };
    if (bytes.empty())
        return refusal(display_name, "empty file, not a WebAssembly module");
    size_t magic_bytes = std::min<size_t>(bytes.size(), 4);
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(magic_bytes), magic)) {
        if (looks_like_text_format(bytes))
            return refusal(display_name, "not a WebAssembly module: this is the text format; convert it with wat2wasm first");
        return refusal(display_name, "not a WebAssembly module (it does not start with \"\\0asm\")");
    }
    if (bytes.size() < 8)
        return refusal(display_name, "truncated module: " + std::to_string(bytes.size()) + " bytes, shorter than the 8-byte header");
    uint32_t version = read_u32_le(bytes, 4);
    if (version != 1) {
        if ((version >> 16) == 1)
            return refusal(display_name, "is a WebAssembly component, not a core module: Signet installs core modules");
        return refusal(display_name, "unsupported WebAssembly binary version " + std::to_string(version) + " (Signet reads version 1)");
    }
    return {};
}

} // namespace

VerifiedModule::VerifiedModule(std::unique_ptr<wabt::Module> module)
    : m_module(std::move(module))
{
}

VerifiedModule::VerifiedModule(VerifiedModule&&) noexcept = default;
VerifiedModule& VerifiedModule::operator=(VerifiedModule&&) noexcept = default;
VerifiedModule::~VerifiedModule() = default;

ErrorOr<VerifiedModule> VerifiedModule::verify(std::span<uint8_t const> bytes, std::string const& display_name, ImportPolicy const& policy)
{
    // 1. Header.
    TRY(check_header(bytes, display_name));

    // 2. Diagnostic scan: name the refused feature, if any.
    FeatureScanner scanner;
    {
        wabt::ReadBinaryOptions options(diagnostic_features(), nullptr, /* read_debug_names */ false,
            /* stop_on_first_error */ true, /* fail_on_custom_section_error */ false);
        auto result = wabt::ReadBinary(bytes.data(), bytes.size(), &scanner, options);
        if (auto finding = scanner.finding())
            return refusal(display_name, *finding);
        if (wabt::Failed(result)) {
            if (scanner.read_error())
                return wabt_error(display_name, bytes.size(), *scanner.read_error());
            return refusal(display_name, "invalid module");
        }
    }

    // 3. The real reading and validation, with exactly Signet's features.
    auto features = signet_features();
    auto module = std::make_unique<wabt::Module>();
    wabt::Errors errors;
    wabt::ReadBinaryOptions options(features, nullptr, /* read_debug_names */ false,
        /* stop_on_first_error */ true, /* fail_on_custom_section_error */ true);
    if (wabt::Failed(wabt::ReadBinaryIr(display_name.c_str(), bytes.data(), bytes.size(), options, &errors, module.get())))
        return first_wabt_error(display_name, bytes.size(), errors);
    if (wabt::Failed(wabt::ValidateModule(module.get(), &errors, wabt::ValidateOptions(features))))
        return first_wabt_error(display_name, bytes.size(), errors);

    VerifiedModule verified(std::move(module));
    verified.m_has_block_parameters = scanner.has_block_parameters();
    wabt::Module const& ir = *verified.m_module;

    // 4. Signet's rules. wasm2c copies import and export names into /* */
    //    comments of the generated C (and mangles them into identifiers): a
    //    name containing "*/" would let a module write C code into its image.
    auto unsafe_name = [](std::string const& name) { return name.find("*/") != std::string::npos; };
    for (wabt::Import const* import : ir.imports) {
        if (unsafe_name(import->module_name) || unsafe_name(import->field_name))
            return refusal(display_name, "import '" + printable(import->module_name) + "." + printable(import->field_name)
                    + "' has a name containing \"*/\", which Signet does not allow (it would end a comment in the generated C)");
    }
    for (wabt::Export const* export_ : ir.exports) {
        if (unsafe_name(export_->name))
            return refusal(display_name, "export '" + printable(export_->name) + "' has a name containing \"*/\", which Signet does not allow (it would end a comment in the generated C)");
    }
    // Active segments need an offset expression (wabt 1.0.32 accepts an empty one).
    for (size_t i = 0; i < ir.data_segments.size(); ++i) {
        if (ir.data_segments[i]->kind == wabt::SegmentKind::Active && ir.data_segments[i]->offset.empty())
            return refusal(display_name, "data segment " + std::to_string(i) + " is active but has no offset expression");
    }
    for (size_t i = 0; i < ir.elem_segments.size(); ++i) {
        if (ir.elem_segments[i]->kind == wabt::SegmentKind::Active && ir.elem_segments[i]->offset.empty())
            return refusal(display_name, "element segment " + std::to_string(i) + " is active but has no offset expression");
    }

    // Imports first: they are the module's whole authority.
    std::set<std::string> seen_functions;
    for (wabt::Import const* import : ir.imports) {
        std::string qualified = "'" + printable(import->module_name) + "." + printable(import->field_name) + "'";
        if (!policy.knows_module(import->module_name)) {
            auto allowed = policy.module_names();
            return refusal(display_name, "import " + qualified + " is not part of Signet's ABI ("
                    + (allowed.empty() ? std::string("this install allows no imports") : "allowed modules: " + joined(allowed)) + ")");
        }
        if (import->kind() == wabt::ExternalKind::Tag)
            return refusal(display_name, "import " + qualified + " is an exception tag: exception handling is not supported");
        if (import->kind() != wabt::ExternalKind::Func && !policy.allows_imported_state())
            return refusal(display_name, "import " + qualified + " is " + external_kind_noun(import->kind())
                    + ": a SIP owns its memory, tables and globals and may not import them");

        if (import->kind() == wabt::ExternalKind::Func) {
            std::string qualified_name = import->module_name + "." + import->field_name;
            if (seen_functions.insert(qualified_name).second)
                verified.m_imported_functions.push_back(qualified_name);
            if (import->module_name == wasi_abi_module)
                verified.m_personality = Personality::Wasi;
        }
        if (policy.allows_any_from(import->module_name))
            continue;

        auto const* entry = policy.find(import->module_name, import->field_name);
        if (!entry)
            return refusal(display_name, "import " + qualified + " is not part of Signet's ABI (" + printable(import->module_name) + " has no '" + printable(import->field_name) + "')");
        if (entry->kind != import_kind_for(import->kind()))
            return refusal(display_name, "import " + qualified + " is " + external_kind_noun(import->kind()) + " but the ABI declares a " + import_kind_name(entry->kind));

        switch (import->kind()) {
        case wabt::ExternalKind::Func: {
            auto const& signature = wabt::cast<wabt::FuncImport>(import)->func.decl.sig;
            auto letters = signature_letters(signature);
            if (letters != entry->signature)
                return refusal(display_name, "import " + qualified + " has signature " + format_function_signature(letters)
                        + " but the ABI declares " + format_function_signature(entry->signature));
            break;
        }
        case wabt::ExternalKind::Global: {
            auto const& global = wabt::cast<wabt::GlobalImport>(import)->global;
            std::string letters = std::string(global.mutable_ ? "mut " : "") + letter_for_type(global.type);
            if (letters != entry->signature)
                return refusal(display_name, "import " + qualified + " is a global of type '" + letters + "' but the ABI declares '" + entry->signature + "'");
            break;
        }
        default:
            break;
        }
    }

    // The stage-2 scan refuses these already; the IR is checked again so the rule does
    // not depend on the scanner's callbacks.
    verified.m_memory_count = static_cast<uint32_t>(ir.memories.size());
    if (ir.memories.size() > 1)
        return refusal(display_name, "module has " + std::to_string(ir.memories.size()) + " memories: Signet SIPs have at most one memory");
    for (size_t i = 0; i < ir.memories.size(); ++i) {
        auto const& limits = ir.memories[i]->page_limits;
        if (limits.is_shared)
            return refusal(display_name, "memory " + std::to_string(i) + " is shared: Signet SIPs may not share memory");
        if (limits.is_64 || limits.initial > max_memory_pages)
            return refusal(display_name, "memory " + std::to_string(i) + " has an initial size of " + std::to_string(limits.initial) + " pages: Signet limits a memory to " + std::to_string(max_memory_pages) + " pages");
    }

    for (wabt::Export const* export_ : ir.exports)
        verified.m_export_names.push_back(export_->name);

    if (wabt::Export const* start = ir.GetExport("_start")) {
        if (start->kind != wabt::ExternalKind::Func)
            return refusal(display_name, "export '_start' is " + std::string(external_kind_noun(start->kind)) + ", but a command's _start must be a function ()->()");
        wabt::Func const* function = ir.GetFunc(start->var);
        if (!function)
            return refusal(display_name, "export '_start' names no function");
        auto letters = signature_letters(function->decl.sig);
        if (letters != "->")
            return refusal(display_name, "export '_start' has signature " + format_function_signature(letters) + " but a command's _start must be ()->()");
        verified.m_has_start = true;
    }

    return verified;
}

ErrorOr<std::vector<uint8_t>> VerifiedModule::encode() const
{
    wabt::MemoryStream stream;
    wabt::WriteBinaryOptions options(signet_features(), /* canonicalize_lebs */ true, /* relocatable */ false, /* write_debug_names */ false);
    if (wabt::Failed(wabt::WriteBinaryModule(&stream, m_module.get(), options)))
        return Error(ErrorKind::Internal, "wabt could not re-encode a verified module");
    return std::move(stream.output_buffer().data);
}

} // namespace signet::installer
