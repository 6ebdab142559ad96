// signet uninstall / list / show: the programs installed from manifests.
#include "installer/Programs.h"
#include "tools/signet/Commands.h"

#include <fmt/format.h>

namespace signet::cli {

namespace {

char const* type_name(installer::ManifestParameter::Type type)
{
    switch (type) {
    case installer::ManifestParameter::Type::String:
        return "string";
    case installer::ManifestParameter::Type::Integer:
        return "integer";
    case installer::ManifestParameter::Type::Boolean:
        return "boolean";
    }
    return "?";
}

} // namespace

void print_program(installer::InstalledProgram const& program)
{
    auto const& manifest = program.manifest;
    fmt::print("{} {} by {} (principal {})\n", manifest.name, manifest.version, manifest.publisher, manifest.principal());
    fmt::print("  code: {} ({}, {}), module {}\n", manifest.module_path, manifest.abi, manifest.personality, program.image.module_hash.substr(0, 16));
    double removed = program.image.module_bytes ? 100.0 * (1.0 - double(program.image.shaken_bytes) / double(program.image.module_bytes)) : 0.0;
    fmt::print("  size: {} bytes, {} after tree shaking ({:.1f}% removed)\n", program.image.module_bytes, program.image.shaken_bytes, removed);
    for (auto const& endpoint : program.endpoints)
        fmt::print("  requires endpoint {}: {}.{}:{}\n", endpoint.name, endpoint.contract, endpoint.end, endpoint.state);
    for (auto const& service : program.services)
        fmt::print("  exports service {}: {}.{}:{}\n", service.name, service.contract, service.end, service.state);
    for (auto const& parameter : manifest.parameters)
        fmt::print("  parameter {}: {}{}\n", parameter.name, type_name(parameter.type), parameter.required ? " (required)" : " = " + parameter.default_value);
    for (auto const& resource : manifest.resources) {
        if (resource.kind == installer::ManifestResource::Kind::Disk)
            fmt::print("  resource disk {}: {} bytes\n", resource.name, resource.size_bytes);
        else
            fmt::print("  resource tcp-listen {}\n", resource.name);
    }
    auto const& limits = manifest.limits;
    fmt::print("  limits: memory {} bytes, exchange heap {} bytes, channel memory {} bytes, {} threads, CPU time {}\n", limits.memory_bytes, limits.exchange_bytes,
        limits.channel_bytes, limits.threads,
        limits.cpu_time_ns ? fmt::format("{} ms", limits.cpu_time_ns / 1'000'000) : std::string("unlimited"));
    fmt::print("  privileges: {}\n", manifest.may_create_children ? "create children" : "none");
    fmt::print("  imports:");
    for (auto const& import : program.image.imported_functions)
        fmt::print(" {}", import);
    fmt::print("\n");
}

Action add_program_commands(CLI::App& app)
{
    auto name = std::make_shared<std::string>();
    auto* uninstall = app.add_subcommand("uninstall", "Remove an installed program (its image stays in the store)");
    uninstall->add_option("name", *name, "Program name")->required();
    auto* list = app.add_subcommand("list", "List the installed programs");
    auto* show = app.add_subcommand("show", "Show what an installed program may do: endpoints, services, limits, ABI imports");
    show->add_option("name", *name, "Program name")->required();

    return [=] {
        std::string store = installer::default_store_dir();
        if (*uninstall) {
            auto removed = installer::uninstall_program(store, *name);
            if (removed.is_error()) {
                print_error(removed.error().message());
                return int(Failure);
            }
            fmt::print("uninstalled {}\n", *name);
            return int(Success);
        }
        if (*list) {
            auto names = installer::list_programs(store);
            if (names.is_error()) {
                print_error(names.error().message());
                return int(Failure);
            }
            for (auto const& program_name : names.value()) {
                auto program = installer::find_program(store, program_name);
                if (program.is_error())
                    fmt::print("{}  (damaged: {})\n", program_name, program.error().message());
                else
                    fmt::print("{}  {}  {}\n", program_name, program.value().manifest.version, program.value().manifest.principal());
            }
            return int(Success);
        }
        auto program = installer::find_program(store, *name);
        if (program.is_error()) {
            print_error(program.error().message());
            return int(Failure);
        }
        print_program(program.value());
        return int(Success);
    };
}

} // namespace signet::cli
