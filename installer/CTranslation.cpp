#include "installer/CTranslation.h"

#include <wabt/apply-names.h>
#include <wabt/c-writer.h>
#include <wabt/generate-names.h>
#include <wabt/ir.h>
#include <wabt/stream.h>

#include <string_view>

namespace signet::installer {

ErrorOr<CTranslation> translate_to_c(wabt::Module& module)
{
    // The same sequence as wabt 1.0.32's wasm2c tool after validation.
    if (wabt::Failed(wabt::GenerateNames(&module)))
        return Error(ErrorKind::Internal, "wasm2c: cannot name the module's items");
    // wasm2c ignores this result too: a name that cannot be applied is simply not used.
    (void)wabt::ApplyNames(&module);

    wabt::MemoryStream c_stream;
    wabt::MemoryStream h_stream;
    wabt::WriteCOptions options;
    options.module_name = translated_module_name;
    if (wabt::Failed(wabt::WriteC(&c_stream, &h_stream, translated_header_name, &module, options)))
        return Error(ErrorKind::Internal, "wasm2c could not translate a verified module");

    auto const& c_data = c_stream.output_buffer().data;
    auto const& h_data = h_stream.output_buffer().data;
    return CTranslation {
        std::string(c_data.begin(), c_data.end()),
        std::string(h_data.begin(), h_data.end()),
    };
}

namespace {

// The parameter list of a declaration "<prefix>(...);" in the generated header.
ErrorOr<std::vector<std::string>> declared_parameters(std::string const& header, std::string_view prefix)
{
    auto start = header.find(prefix);
    if (start == std::string::npos)
        return Error(ErrorKind::Internal, "the wasm2c header declares no " + std::string(prefix) + ")");
    start += prefix.size();
    auto end = header.find(");", start);
    if (end == std::string::npos)
        return Error(ErrorKind::Internal, "cannot parse the wasm2c declaration of " + std::string(prefix) + ")");
    std::vector<std::string> parameters;
    std::string current;
    for (size_t i = start; i < end; ++i) {
        if (header[i] == ',') {
            parameters.push_back(current);
            current.clear();
        } else if (header[i] != '\n') {
            current += header[i];
        }
    }
    parameters.push_back(current);
    for (auto& parameter : parameters) {
        auto first = parameter.find_first_not_of(' ');
        auto last = parameter.find_last_not_of(' ');
        parameter = first == std::string::npos ? std::string() : parameter.substr(first, last - first + 1);
    }
    return parameters;
}

std::string c_string_literal(std::string const& text)
{
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

} // namespace

// The C member that holds global 0 in the instance struct: the first value
// member (not a pointer to an import's instance or an imported global).
std::string first_global_member(std::string const& header, std::string const& instance_type)
{
    auto start = header.find("typedef struct " + instance_type + " {");
    if (start == std::string::npos)
        return {};
    auto end = header.find("} " + instance_type + ";", start);
    if (end == std::string::npos)
        return {};
    size_t line_start = header.find('\n', start) + 1;
    while (line_start < end) {
        size_t line_end = header.find('\n', line_start);
        std::string line = header.substr(line_start, line_end - line_start);
        line_start = line_end + 1;
        if (line.find('*') != std::string::npos)
            continue;
        auto first = line.find_first_not_of(' ');
        if (first == std::string::npos)
            continue;
        line = line.substr(first);
        // Only the first value member counts; it must be a u32 for global 0 to be the stack pointer.
        if (line.rfind("u32 w2c_", 0) != 0 || line.back() != ';')
            return {};
        return line.substr(4, line.size() - 5);
    }
    return {};
}

ErrorOr<std::string> generate_glue(std::string const& header, std::string const& module_hash, bool has_start, bool stack_pointer_global,
    std::string const& extra_c_source)
{
    std::string const instance_type = std::string("Z_") + translated_module_name + "_instance_t";
    std::string const instantiate = std::string("Z_") + translated_module_name + "_instantiate";
    std::string const init_module = std::string("Z_") + translated_module_name + "_init_module";
    std::string const start_export = std::string("Z_") + translated_module_name + "Z__start";

    // wasm2c 1.0.32 declares Z_sip_instantiate(Z_sip_instance_t*, struct Z_<module>_instance_t*...)
    // with one parameter per distinct import module, in order of first import. Every one
    // of them receives `host`, so only their number matters; read it from the header.
    auto parameters = TRY(declared_parameters(header, "void " + instantiate + "("));
    if (parameters.empty() || parameters[0] != instance_type + "*")
        return Error(ErrorKind::Internal, "unexpected wasm2c declaration of " + instantiate);
    if (header.find("void " + init_module + "(void);") == std::string::npos)
        return Error(ErrorKind::Internal, "the wasm2c header declares no " + init_module);
    if (has_start && header.find("void " + start_export + "(" + instance_type + "*);") == std::string::npos)
        return Error(ErrorKind::Internal, "the wasm2c header declares no " + start_export + " for the _start export");

    std::string arguments = "(" + instance_type + "*)instance";
    for (size_t i = 1; i < parameters.size(); ++i)
        arguments += ", host";

    std::string glue;
    glue += "/* Generated by the Signet installer: the image's entry table (see runtime/ImageAbi.h). */\n";
    glue += "#include <stddef.h>\n";
    glue += "#include <stdint.h>\n";
    glue += "#include \"ImageAbi.h\"\n";
    glue += "#include \"" + std::string(translated_header_name) + "\"\n\n";
    glue += "_Static_assert(sizeof(" + instance_type + ") <= UINT32_MAX, \"instance struct too large\");\n\n";
    glue += "static void signet_glue_instantiate(void* instance, void* host)\n{\n";
    glue += "    (void)host;\n";
    glue += "    " + instantiate + "(" + arguments + ");\n}\n\n";
    if (has_start) {
        glue += "static void signet_glue_start(void* instance)\n{\n";
        glue += "    " + start_export + "((" + instance_type + "*)instance);\n}\n\n";
    }
    glue += "__attribute__((visibility(\"default\"))) const SignetImage signet_image = {\n";
    glue += "    .magic = SIGNET_IMAGE_MAGIC,\n";
    glue += "    .abi_version = SIGNET_IMAGE_ABI_VERSION,\n";
    glue += "    .instance_size = (uint32_t)sizeof(" + instance_type + "),\n";
    glue += "    .init_module = " + init_module + ",\n";
    glue += "    .instantiate = signet_glue_instantiate,\n";
    glue += std::string("    .start = ") + (has_start ? "signet_glue_start" : "NULL") + ",\n";
    glue += "    .module_hash = " + c_string_literal(module_hash) + ",\n";
    std::string stack_pointer = stack_pointer_global ? first_global_member(header, instance_type) : std::string();
    if (stack_pointer.empty())
        glue += "    .stack_pointer_offset = SIGNET_IMAGE_NO_STACK_POINTER,\n";
    else
        glue += "    .stack_pointer_offset = (uint32_t)offsetof(" + instance_type + ", " + stack_pointer + "),\n";
    glue += "};\n";
    if (!extra_c_source.empty()) {
        glue += "\n/* extra_c_source */\n";
        glue += extra_c_source;
        glue += "\n";
    }
    return glue;
}

} // namespace signet::installer
