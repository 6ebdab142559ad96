#include "installer/Programs.h"
#include "base/File.h"
#include "base/Hash.h"
#include "contracts/Checker.h"
#include "contracts/Descriptor.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <toml++/toml.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace signet::installer {

namespace {

Error field_error(Manifest const& manifest, std::string const& field, std::string const& problem)
{
    return Error::invalid(manifest.path + ": field '" + field + "': " + problem);
}

// Checks one endpoint or service type against its contract file.
ErrorOr<ResolvedEndpointType> resolve(Manifest const& manifest, std::string const& field, std::string const& name, ContractReference const& reference,
    std::map<std::string, std::vector<uint8_t>>& descriptors)
{
    auto checked = contracts::check(reference.file);
    if (!checked.ok()) {
        std::string first = checked.diagnostics.empty() ? "cannot read it" : checked.diagnostics_text();
        if (auto newline = first.find('\n'); newline != std::string::npos)
            first.resize(newline);
        return field_error(manifest, field + ".contract", first);
    }
    for (auto const& candidate : checked.file->contracts) {
        auto const& contract = candidate.contract;
        if (contract.name != reference.contract)
            continue;
        ResolvedEndpointType resolved;
        resolved.name = name;
        if (reference.end.empty()) {
            // A contract the code uses itself: no end or state to check.
            auto bytes = contracts::encode_descriptor(contract);
            resolved.contract = contract.name;
            resolved.descriptor_sha256 = sha256_hex(bytes);
            descriptors[contract.name] = std::move(bytes);
            return resolved;
        }
        resolved.contract = contract.name;
        resolved.end = reference.end;
        resolved.state = reference.state;
        bool found = false;
        for (size_t i = 0; i < contract.machine.states.size(); ++i) {
            if (contract.machine.states[i].is_named && contract.machine.states[i].name == reference.state) {
                resolved.state_index = static_cast<uint16_t>(i);
                found = true;
            }
        }
        if (!found)
            return field_error(manifest, field + ".state", "contract " + contract.name + " has no state '" + reference.state + "'");
        auto bytes = contracts::encode_descriptor(contract);
        resolved.descriptor_sha256 = sha256_hex(bytes);
        if (auto existing = descriptors.find(contract.name); existing != descriptors.end() && existing->second != bytes)
            return field_error(manifest, field + ".contract", "two different contracts are both called " + contract.name);
        descriptors[contract.name] = std::move(bytes);
        return resolved;
    }
    return field_error(manifest, field + ".contract", reference.file + " declares no contract '" + reference.contract + "'");
}

// Contract descriptors the module carries in its data (the generated headers embed them):
// the contracts its code can open channels of.
std::vector<std::pair<std::string, std::vector<uint8_t>>> embedded_descriptors(std::vector<uint8_t> const& module)
{
    std::vector<std::pair<std::string, std::vector<uint8_t>>> found;
    auto const* magic = contracts::descriptor_magic;
    for (size_t i = 0; i + contracts::descriptor_header_size <= module.size(); ++i) {
        if (std::memcmp(module.data() + i, magic, 4) != 0)
            continue;
        uint32_t size = 0;
        std::memcpy(&size, module.data() + i + 8, 4);
        if (size < contracts::descriptor_header_size || size > module.size() - i)
            continue;
        std::vector<uint8_t> bytes(module.begin() + static_cast<long>(i), module.begin() + static_cast<long>(i + size));
        auto contract = contracts::decode_descriptor(bytes);
        if (contract.is_error())
            continue;
        found.emplace_back(contract.value().name, std::move(bytes));
        i += size - 1;
    }
    return found;
}

std::string hex(std::vector<uint8_t> const& bytes)
{
    static char const digits[] = "0123456789abcdef";
    std::string out;
    for (uint8_t byte : bytes) {
        out += digits[byte >> 4];
        out += digits[byte & 15];
    }
    return out;
}

void write_type(toml::array& array, ResolvedEndpointType const& type)
{
    array.push_back(toml::table {
        { "name", type.name },
        { "contract", type.contract },
        { "end", type.end },
        { "state", type.state },
        { "state_index", static_cast<int64_t>(type.state_index) },
        { "descriptor_sha256", type.descriptor_sha256 },
    });
}

std::vector<ResolvedEndpointType> read_types(toml::table const& table, char const* key)
{
    std::vector<ResolvedEndpointType> types;
    if (auto* array = table[key].as_array()) {
        for (auto const& node : *array) {
            auto const* entry = node.as_table();
            if (!entry)
                continue;
            ResolvedEndpointType type;
            type.name = (*entry)["name"].value_or(std::string());
            type.contract = (*entry)["contract"].value_or(std::string());
            type.end = (*entry)["end"].value_or(std::string());
            type.state = (*entry)["state"].value_or(std::string());
            type.state_index = static_cast<uint16_t>((*entry)["state_index"].value_or(int64_t(0)));
            type.descriptor_sha256 = (*entry)["descriptor_sha256"].value_or(std::string());
            types.push_back(std::move(type));
        }
    }
    return types;
}

} // namespace

std::string programs_dir(std::string const& store_dir)
{
    return (fs::path(store_dir).parent_path() / "programs").string();
}

ErrorOr<InstalledProgram> install_program(std::string const& manifest_path, InstallOptions const& options)
{
    InstalledProgram program;
    program.manifest = TRY(parse_manifest(manifest_path));
    Manifest const& manifest = program.manifest;
    std::string const store_dir = options.store_dir.empty() ? default_store_dir() : options.store_dir;

    // The code: present, and the module the manifest names by hash.
    auto module = read_file(manifest.module_path, options.max_module_bytes);
    if (module.is_error())
        return field_error(manifest, "code.module", module.error().message());
    std::string module_hash = sha256_hex(module.value());
    if (!manifest.module_sha256.empty() && manifest.module_sha256 != module_hash)
        return field_error(manifest, "code.sha256", "the module's SHA-256 is " + module_hash + ", not " + manifest.module_sha256);

    // Endpoints and services: each contract known, each state a named state of it.
    for (size_t i = 0; i < manifest.endpoints.size(); ++i) {
        auto const& endpoint = manifest.endpoints[i];
        program.endpoints.push_back(TRY(resolve(manifest, "endpoint[" + std::to_string(i) + "]", endpoint.name, endpoint.type, program.descriptors)));
    }
    for (size_t i = 0; i < manifest.services.size(); ++i) {
        auto const& service = manifest.services[i];
        program.services.push_back(TRY(resolve(manifest, "service[" + std::to_string(i) + "]", service.path, service.type, program.descriptors)));
    }
    for (size_t i = 0; i < manifest.uses.size(); ++i)
        TRY(resolve(manifest, "code.contracts[" + std::to_string(i) + "]", manifest.uses[i].contract, manifest.uses[i], program.descriptors));
    // Every contract the code carries must be one the manifest declares.
    for (auto const& [name, bytes] : embedded_descriptors(module.value())) {
        auto declared = program.descriptors.find(name);
        if (declared == program.descriptors.end())
            return field_error(manifest, "endpoint", "the module uses contract " + name + ", which the manifest declares for no endpoint or service, nor in code.contracts");
        if (declared->second != bytes)
            return field_error(manifest, "endpoint", "the module's contract " + name + " differs from the one the manifest names");
    }
    // No two programs export the same service path.
    auto installed = list_programs(store_dir);
    if (!installed.is_error()) {
        for (auto const& other_name : installed.value()) {
            if (other_name == manifest.name)
                continue;
            auto other = find_program(store_dir, other_name);
            if (other.is_error())
                continue;
            for (auto const& service : manifest.services) {
                for (auto const& theirs : other.value().services) {
                    if (theirs.name == service.path)
                        return field_error(manifest, "service", "path " + service.path + " is already exported by " + other_name);
                }
            }
        }
    }

    // The module, tree-shaken to exactly the manifest's entry point.
    InstallOptions module_options = options;
    module_options.store_dir = store_dir;
    module_options.keep_exports = { "_start" };
    auto image = install_bytes(module.value(), manifest.module_path, module_options);
    if (image.is_error())
        return image.release_error();
    program.image = image.release_value();
    // Checks that need the verified module; failing one takes back what this install stored.
    auto refuse = [&](std::string const& field, std::string const& problem) -> Error {
        if (!program.image.was_cached) {
            std::error_code ignored;
            fs::remove_all(program.image.store_entry_dir, ignored);
        }
        return field_error(manifest, field, problem);
    };
    bool wasi = program.image.personality == Personality::Wasi;
    if (wasi != (manifest.personality == "wasi"))
        return refuse("code.personality", "is \"" + manifest.personality + "\", but the module " + (wasi ? "imports WASI" : "uses only signet_v1"));
    if (!program.image.has_start)
        return refuse("code.module", "the module has no _start entry point");

    // Record it: a fresh directory, renamed into place.
    std::string const root = programs_dir(store_dir);
    TRY(make_directories(root));
    std::string staging = root + "/." + manifest.name + ".new-" + std::to_string(::getpid());
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    TRY(make_directories(staging));
    auto manifest_text = TRY(read_text_file(manifest.path));
    TRY(write_file_atomic(staging + "/manifest.toml", manifest_text));
    toml::table record {
        { "name", manifest.name },
        { "manifest_path", fs::absolute(manifest.path).string() },
        { "module_path", fs::absolute(manifest.module_path).string() },
        { "module_sha256", module_hash },
        { "entry_key", program.image.entry_key },
    };
    toml::array endpoints;
    for (auto const& type : program.endpoints)
        write_type(endpoints, type);
    toml::array services;
    for (auto const& type : program.services)
        write_type(services, type);
    record.insert("endpoint", endpoints);
    record.insert("service", services);
    toml::table descriptors;
    for (auto const& [name, bytes] : program.descriptors)
        descriptors.insert(name, hex(bytes));
    record.insert("descriptors", descriptors);
    std::ostringstream text;
    text << record;
    TRY(write_file_atomic(staging + "/installed.toml", text.str() + "\n"));
    std::string final_dir = root + "/" + manifest.name;
    std::string old_dir = root + "/." + manifest.name + ".old-" + std::to_string(::getpid());
    if (fs::exists(final_dir))
        fs::rename(final_dir, old_dir, ignored);
    fs::rename(staging, final_dir, ignored);
    if (ignored)
        return Error::io("cannot record program " + manifest.name + " in " + root + ": " + ignored.message());
    fs::remove_all(old_dir, ignored);
    return program;
}

ErrorOr<void> uninstall_program(std::string const& store_dir, std::string const& name)
{
    std::string dir = programs_dir(store_dir) + "/" + name;
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.' || !fs::exists(dir + "/installed.toml"))
        return Error::not_found("no installed program named '" + name + "'");
    std::error_code error;
    fs::remove_all(dir, error);
    if (error)
        return Error::io("cannot remove " + dir + ": " + error.message());
    return {};
}

ErrorOr<std::vector<std::string>> list_programs(std::string const& store_dir)
{
    std::vector<std::string> names;
    std::error_code error;
    for (auto const& entry : fs::directory_iterator(programs_dir(store_dir), error)) {
        std::string name = entry.path().filename().string();
        if (!name.empty() && name[0] != '.' && fs::exists(entry.path() / "installed.toml"))
            names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

ErrorOr<InstalledProgram> find_program(std::string const& store_dir, std::string const& name)
{
    std::string dir = programs_dir(store_dir) + "/" + name;
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.' || !fs::exists(dir + "/installed.toml"))
        return Error::not_found("no installed program named '" + name + "' (install it with 'signet install MANIFEST')");
    InstalledProgram program;
    auto manifest_text = TRY(read_text_file(dir + "/manifest.toml"));
    auto record_text = TRY(read_text_file(dir + "/installed.toml"));
    toml::table record;
    try {
        record = toml::parse(record_text, dir + "/installed.toml");
    } catch (toml::parse_error const& error) {
        return Error(ErrorKind::Corrupt, dir + "/installed.toml: " + std::string(error.description()));
    }
    // Relative paths in the manifest resolve against where it was installed from.
    std::string original = record["manifest_path"].value_or(std::string());
    program.manifest = TRY(parse_manifest_text(manifest_text, original));
    program.endpoints = read_types(record, "endpoint");
    program.services = read_types(record, "service");
    if (auto* descriptors = record["descriptors"].as_table()) {
        for (auto const& [key, node] : *descriptors) {
            std::string text = node.value_or(std::string());
            std::vector<uint8_t> bytes;
            for (size_t i = 0; i + 1 < text.size(); i += 2)
                bytes.push_back(static_cast<uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16)));
            program.descriptors[std::string(key.str())] = std::move(bytes);
        }
    }
    std::string entry_key = record["entry_key"].value_or(std::string());
    program.image = TRY(lookup_verified(store_dir, entry_key));
    return program;
}

} // namespace signet::installer
