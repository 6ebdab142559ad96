#include "installer/Manifest.h"
#include "base/File.h"
#include "base/Size.h"

#include <cctype>
#include <filesystem>
#include <set>
#include <string_view>
#include <toml++/toml.h>

namespace signet::installer {

namespace {

constexpr uint64_t max_manifest_bytes = 1 << 20;

bool is_name(std::string const& text)
{
    if (text.empty() || text.size() > 64 || !std::isalpha(static_cast<unsigned char>(text[0])))
        return false;
    for (char c : text) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

class Reader {
public:
    Reader(std::string path)
        : m_path(std::move(path))
    {
    }

    Error error(std::string const& field, std::string const& problem) const
    {
        return Error::invalid(m_path + ": field '" + field + "': " + problem);
    }

    ErrorOr<std::string> string(toml::table const& table, std::string const& prefix, std::string const& key, bool required = true) const
    {
        auto node = table.get(key);
        std::string field = prefix.empty() ? key : prefix + "." + key;
        if (!node) {
            if (required)
                return error(field, "missing");
            return std::string();
        }
        auto value = node->value<std::string>();
        if (!value)
            return error(field, "must be a string");
        return *value;
    }

    std::string const& path() const { return m_path; }

private:
    std::string m_path;
};

ErrorOr<ContractReference> contract_reference(Reader const& reader, toml::table const& table, std::string const& prefix, std::string const& base)
{
    ContractReference reference;
    std::string contract = TRY(reader.string(table, prefix, "contract"));
    // "file.contract#Name"
    auto hash = contract.find('#');
    if (hash == std::string::npos || hash == 0 || hash + 1 == contract.size())
        return reader.error(prefix + ".contract", "expected FILE.contract#Contract, got '" + contract + "'");
    reference.file = (std::filesystem::path(base) / contract.substr(0, hash)).lexically_normal().string();
    reference.contract = contract.substr(hash + 1);
    reference.end = TRY(reader.string(table, prefix, "end"));
    if (reference.end != "Imp" && reference.end != "Exp")
        return reader.error(prefix + ".end", "must be \"Imp\" or \"Exp\", not '" + reference.end + "'");
    reference.state = TRY(reader.string(table, prefix, "state"));
    if (!is_name(reference.state))
        return reader.error(prefix + ".state", "'" + reference.state + "' is not a state name");
    return reference;
}

// "/" or "/a/b": absolute, at most 255 characters, no control characters, no
// ".", ".." or empty component, no trailing '/'.
bool is_plain_absolute_path(std::string const& path)
{
    if (path == "/")
        return true;
    bool valid = path.size() >= 2 && path.size() <= 255 && path[0] == '/' && path.back() != '/';
    for (size_t at = 0; valid && at < path.size(); ++at) {
        unsigned char c = static_cast<unsigned char>(path[at]);
        if (c < 0x20 || c == 0x7f || (c == '/' && at + 1 < path.size() && path[at + 1] == '/'))
            valid = false;
    }
    for (std::string_view part : { "/./", "/../" }) {
        if (valid && (path + "/").find(part) != std::string::npos)
            valid = false;
    }
    return valid;
}

} // namespace

ErrorOr<uint64_t> parse_duration(std::string const& text)
{
    size_t i = 0;
    uint64_t value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        if (value > UINT64_MAX / 10 - 10)
            return Error::invalid("duration '" + text + "' is too large");
        value = value * 10 + static_cast<uint64_t>(text[i++] - '0');
    }
    if (i == 0)
        return Error::invalid("duration '" + text + "': expected a number with a unit (ms, s, m)");
    std::string unit = text.substr(i);
    uint64_t scale = 0;
    if (unit == "us")
        scale = 1'000;
    else if (unit == "ms")
        scale = 1'000'000;
    else if (unit == "s")
        scale = 1'000'000'000;
    else if (unit == "m")
        scale = 60'000'000'000;
    else
        return Error::invalid("duration '" + text + "': unknown unit '" + unit + "' (use us, ms, s or m)");
    if (value > UINT64_MAX / scale)
        return Error::invalid("duration '" + text + "' is too large");
    return value * scale;
}

ErrorOr<Manifest> parse_manifest(std::string const& path)
{
    auto text = read_text_file(path, max_manifest_bytes);
    if (text.is_error())
        return Error(text.error().kind(), path + ": " + text.error().message());
    return parse_manifest_text(text.value(), path);
}

ErrorOr<Manifest> parse_manifest_text(std::string const& text, std::string const& path)
{
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (toml::parse_error const& error) {
        auto const& where = error.source().begin;
        return Error::invalid(path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " + std::string(error.description()));
    }
    Reader reader(path);
    Manifest manifest;
    manifest.path = path;
    std::string base = std::filesystem::path(path).parent_path().string();

    static std::set<std::string> const known_sections { "program", "code", "endpoint", "service", "parameters", "limits", "privileges", "resource", "directory" };
    for (auto const& [key, node] : root) {
        if (!known_sections.contains(std::string(key.str())))
            return reader.error(std::string(key.str()), "unknown section (known: program, code, endpoint, service, parameters, limits, privileges, resource, directory)");
    }

    // [program]
    auto* program = root["program"].as_table();
    if (!program)
        return reader.error("program", "missing section");
    manifest.name = TRY(reader.string(*program, "program", "name"));
    if (!is_name(manifest.name))
        return reader.error("program.name", "'" + manifest.name + "' is not a valid name (letters, digits, '-', '_', '.', starting with a letter)");
    manifest.version = TRY(reader.string(*program, "program", "version"));
    if (manifest.version.empty())
        return reader.error("program.version", "must not be empty");
    manifest.publisher = TRY(reader.string(*program, "program", "publisher"));
    if (!is_name(manifest.publisher))
        return reader.error("program.publisher", "'" + manifest.publisher + "' is not a valid name");
    if (auto domain = TRY(reader.string(*program, "program", "domain", false)); !domain.empty()) {
        if (domain != "kernel" && domain != "own" && !is_name(domain))
            return reader.error("program.domain", "must be \"kernel\", \"own\" or the name of a shared domain, not '" + domain + "'");
        manifest.domain = domain;
    }

    // [code]
    auto* code = root["code"].as_table();
    if (!code)
        return reader.error("code", "missing section");
    std::string module = TRY(reader.string(*code, "code", "module"));
    if (module.empty())
        return reader.error("code.module", "must name a .wasm file");
    manifest.module_path = (std::filesystem::path(base) / module).lexically_normal().string();
    manifest.module_sha256 = TRY(reader.string(*code, "code", "sha256", false));
    if (!manifest.module_sha256.empty()) {
        bool hex = manifest.module_sha256.size() == 64;
        for (char c : manifest.module_sha256)
            hex = hex && std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c));
        if (!hex)
            return reader.error("code.sha256", "must be 64 lower-case hex digits");
    }
    manifest.abi = TRY(reader.string(*code, "code", "abi"));
    if (manifest.abi != "signet_v1")
        return reader.error("code.abi", "'" + manifest.abi + "' is not an ABI this system speaks (signet_v1)");
    manifest.personality = TRY(reader.string(*code, "code", "personality"));
    if (manifest.personality != "native" && manifest.personality != "wasi")
        return reader.error("code.personality", "must be \"native\" or \"wasi\", not '" + manifest.personality + "'");

    if (auto* uses = code->get("contracts")) {
        auto* array = uses->as_array();
        if (!array)
            return reader.error("code.contracts", "must be a list of \"FILE.contract#Contract\"");
        for (size_t i = 0; i < array->size(); ++i) {
            auto text = (*array)[i].value<std::string>();
            auto hash = text ? text->find('#') : std::string::npos;
            if (!text || hash == std::string::npos || hash == 0 || hash + 1 == text->size())
                return reader.error("code.contracts[" + std::to_string(i) + "]", "expected \"FILE.contract#Contract\"");
            ContractReference reference;
            reference.file = (std::filesystem::path(base) / text->substr(0, hash)).lexically_normal().string();
            reference.contract = text->substr(hash + 1);
            manifest.uses.push_back(std::move(reference));
        }
    }

    // [[endpoint]] and [[service]]
    std::set<std::string> endpoint_names;
    if (auto* endpoints = root["endpoint"].as_array()) {
        for (size_t i = 0; i < endpoints->size(); ++i) {
            std::string prefix = "endpoint[" + std::to_string(i) + "]";
            auto* table = (*endpoints)[i].as_table();
            if (!table)
                return reader.error(prefix, "must be a table");
            ManifestEndpoint endpoint;
            endpoint.name = TRY(reader.string(*table, prefix, "name"));
            if (!is_name(endpoint.name) || !endpoint_names.insert(endpoint.name).second)
                return reader.error(prefix + ".name", "'" + endpoint.name + "' is not a valid, unique endpoint name");
            endpoint.type = TRY(contract_reference(reader, *table, prefix, base));
            manifest.endpoints.push_back(std::move(endpoint));
        }
    } else if (root.contains("endpoint")) {
        return reader.error("endpoint", "must be an array of tables ([[endpoint]])");
    }
    std::set<std::string> service_paths;
    if (auto* services = root["service"].as_array()) {
        for (size_t i = 0; i < services->size(); ++i) {
            std::string prefix = "service[" + std::to_string(i) + "]";
            auto* table = (*services)[i].as_table();
            if (!table)
                return reader.error(prefix, "must be a table");
            ManifestService service;
            service.path = TRY(reader.string(*table, prefix, "path"));
            if (service.path.size() < 2 || service.path[0] != '/' || service.path.back() == '/' || service.path.find("//") != std::string::npos
                || service.path.find("/../") != std::string::npos || !service_paths.insert(service.path).second)
                return reader.error(prefix + ".path", "'" + service.path + "' is not a valid, unique absolute path such as /service/name");
            service.type = TRY(contract_reference(reader, *table, prefix, base));
            if (service.type.end != "Exp")
                return reader.error(prefix + ".end", "a service is exported: its end must be \"Exp\"");
            manifest.services.push_back(std::move(service));
        }
    } else if (root.contains("service")) {
        return reader.error("service", "must be an array of tables ([[service]])");
    }

    // [[resource]]: kind = "disk", name = "disk0", size = "64MiB"; kind = "tcp-listen", name = "http"
    std::set<std::string> resource_names;
    if (auto* resources = root["resource"].as_array()) {
        for (size_t i = 0; i < resources->size(); ++i) {
            std::string prefix = "resource[" + std::to_string(i) + "]";
            auto* table = (*resources)[i].as_table();
            if (!table)
                return reader.error(prefix, "must be a table");
            ManifestResource resource;
            std::string kind = TRY(reader.string(*table, prefix, "kind"));
            if (kind == "disk")
                resource.kind = ManifestResource::Kind::Disk;
            else if (kind == "tcp-listen")
                resource.kind = ManifestResource::Kind::TcpListen;
            else
                return reader.error(prefix + ".kind", "unknown resource kind '" + kind + "' (known: disk, tcp-listen)");
            bool const disk = resource.kind == ManifestResource::Kind::Disk;
            for (auto const& [key, node] : *table) {
                std::string field(key.str());
                if (field != "kind" && field != "name" && (field != "size" || !disk))
                    return reader.error(prefix + "." + field, disk ? "unknown field (known: kind, name, size)" : "unknown field (known for tcp-listen: kind, name)");
            }
            resource.name = TRY(reader.string(*table, prefix, "name"));
            if (!is_name(resource.name) || !resource_names.insert(resource.name).second)
                return reader.error(prefix + ".name", "'" + resource.name + "' is not a valid, unique resource name");
            if (!disk) {
                manifest.resources.push_back(std::move(resource));
                continue;
            }
            std::string size_text = TRY(reader.string(*table, prefix, "size"));
            auto size = parse_size(size_text);
            if (size.is_error())
                return reader.error(prefix + ".size", size.error().message());
            // A disk is whole 4 KiB blocks, at most 1 TiB.
            if (size.value() == 0 || size.value() % 4096 != 0 || size.value() > (1ull << 40))
                return reader.error(prefix + ".size", "a disk must be a multiple of 4KiB between 4KiB and 1TiB, not '" + size_text + "'");
            resource.size_bytes = size.value();
            manifest.resources.push_back(std::move(resource));
        }
    } else if (root.contains("resource")) {
        return reader.error("resource", "must be an array of tables ([[resource]])");
    }

    // [[directory]]: guest = "/data" -- the system file system, preopened at that WASI path;
    // path = "/notes" -- only that directory of it (default "/": all of it).
    if (auto* directories = root["directory"].as_array()) {
        for (size_t i = 0; i < directories->size(); ++i) {
            std::string prefix = "directory[" + std::to_string(i) + "]";
            auto* table = (*directories)[i].as_table();
            if (!table)
                return reader.error(prefix, "must be a table");
            for (auto const& [key, node] : *table) {
                if (key.str() != "guest" && key.str() != "path")
                    return reader.error(prefix + "." + std::string(key.str()), "unknown field (known: guest, path)");
            }
            Manifest::Directory directory;
            directory.guest = TRY(reader.string(*table, prefix, "guest"));
            if (!is_plain_absolute_path(directory.guest) || directory.guest == "/")
                return reader.error(prefix + ".guest", "'" + directory.guest + "' is not an absolute path of 1 to 255 characters without '.', '..', '//' or a trailing '/'");
            if (table->contains("path")) {
                directory.path = TRY(reader.string(*table, prefix, "path"));
                if (!is_plain_absolute_path(directory.path))
                    return reader.error(prefix + ".path", "'" + directory.path + "' is not '/' or an absolute path of 1 to 255 characters without '.', '..', '//' or a trailing '/'");
            }
            for (auto const& other : manifest.directories) {
                if (other.guest == directory.guest)
                    return reader.error(prefix + ".guest", "'" + directory.guest + "' is granted twice");
            }
            manifest.directories.push_back(std::move(directory));
        }
    } else if (root.contains("directory")) {
        return reader.error("directory", "must be an array of tables ([[directory]])");
    }

    // [parameters]: name = { type = "string" | "integer" | "boolean", default = ... }
    if (auto* parameters = root["parameters"].as_table()) {
        for (auto const& [key, node] : *parameters) {
            std::string name(key.str());
            std::string prefix = "parameters." + name;
            if (!is_name(name))
                return reader.error(prefix, "'" + name + "' is not a valid parameter name");
            auto* table = node.as_table();
            if (!table)
                return reader.error(prefix, "must be a table such as { type = \"integer\", default = 3 }");
            ManifestParameter parameter;
            parameter.name = name;
            std::string type = TRY(reader.string(*table, prefix, "type"));
            auto default_node = table->get("default");
            parameter.required = !default_node;
            if (type == "string") {
                parameter.type = ManifestParameter::Type::String;
                if (default_node) {
                    auto value = default_node->value<std::string>();
                    if (!value)
                        return reader.error(prefix + ".default", "must be a string");
                    parameter.default_value = *value;
                }
            } else if (type == "integer") {
                parameter.type = ManifestParameter::Type::Integer;
                if (default_node) {
                    auto value = default_node->value<int64_t>();
                    if (!value || !default_node->is_integer())
                        return reader.error(prefix + ".default", "must be an integer");
                    parameter.default_value = std::to_string(*value);
                }
            } else if (type == "boolean") {
                parameter.type = ManifestParameter::Type::Boolean;
                if (default_node) {
                    auto value = default_node->value<bool>();
                    if (!value)
                        return reader.error(prefix + ".default", "must be true or false");
                    parameter.default_value = *value ? "true" : "false";
                }
            } else {
                return reader.error(prefix + ".type", "must be \"string\", \"integer\" or \"boolean\", not '" + type + "'");
            }
            manifest.parameters.push_back(std::move(parameter));
        }
    } else if (root.contains("parameters")) {
        return reader.error("parameters", "must be a table");
    }

    // [limits]
    if (auto* limits = root["limits"].as_table()) {
        for (auto const& [key, node] : *limits) {
            std::string name(key.str());
            std::string field = "limits." + name;
            if (name == "memory" || name == "exchange_heap" || name == "channel_memory") {
                auto text = node.value<std::string>();
                if (!text)
                    return reader.error(field, "must be a size such as \"64MiB\"");
                auto size = parse_size(*text);
                if (size.is_error())
                    return reader.error(field, size.error().message());
                (name == "memory"          ? manifest.limits.memory_bytes
                        : name == "exchange_heap" ? manifest.limits.exchange_bytes
                                                  : manifest.limits.channel_bytes)
                    = size.value();
            } else if (name == "threads") {
                auto count = node.value<int64_t>();
                if (!count || *count < 1 || *count > 4096)
                    return reader.error(field, "must be an integer from 1 to 4096");
                manifest.limits.threads = static_cast<uint32_t>(*count);
            } else if (name == "cpu_time") {
                auto text = node.value<std::string>();
                if (!text)
                    return reader.error(field, "must be a duration such as \"10s\"");
                auto duration = parse_duration(*text);
                if (duration.is_error())
                    return reader.error(field, duration.error().message());
                manifest.limits.cpu_time_ns = duration.value();
            } else {
                return reader.error(field, "unknown limit (known: memory, exchange_heap, channel_memory, threads, cpu_time)");
            }
        }
    } else if (root.contains("limits")) {
        return reader.error("limits", "must be a table");
    }

    // [privileges]
    if (auto* privileges = root["privileges"].as_table()) {
        for (auto const& [key, node] : *privileges) {
            std::string name(key.str());
            if (name != "create_children")
                return reader.error("privileges." + name, "unknown privilege (known: create_children)");
            auto value = node.value<bool>();
            if (!value)
                return reader.error("privileges." + name, "must be true or false");
            manifest.may_create_children = *value;
        }
    } else if (root.contains("privileges")) {
        return reader.error("privileges", "must be a table");
    }
    return manifest;
}

} // namespace signet::installer
