// What the kernel needs to start an installed program (shared by run and boot).
#include "installer/Programs.h"
#include "kernel/Kernel.h"
#include "tools/signet/Commands.h"

namespace signet::cli {

Kernel::ProgramInfo program_info(installer::InstalledProgram const& record, std::shared_ptr<Image> image)
{
    Kernel::ProgramInfo info;
    info.image = std::move(image);
    info.principal = record.manifest.principal();
    info.may_create_children = record.manifest.may_create_children;
    info.domain = record.manifest.domain;
    info.limits.memory_bytes = record.manifest.limits.memory_bytes;
    info.limits.exchange_bytes = record.manifest.limits.exchange_bytes;
    info.limits.channel_bytes = record.manifest.limits.channel_bytes;
    info.limits.threads = record.manifest.limits.threads;
    info.limits.cpu_time_ns = record.manifest.limits.cpu_time_ns;
    for (auto const& parameter : record.manifest.parameters) {
        if (!parameter.required)
            info.parameters.emplace_back(parameter.name, parameter.default_value);
        using Type = installer::ManifestParameter::Type;
        info.parameter_types.emplace_back(parameter.name, parameter.type == Type::Integer ? "integer" : parameter.type == Type::Boolean ? "boolean" : "string");
    }
    info.directories.emplace();
    for (auto const& directory : record.manifest.directories)
        info.directories->push_back({ directory.guest, directory.path });
    for (auto const& service : record.manifest.services)
        info.services.push_back(service.path);
    for (auto const& resource : record.manifest.resources) {
        if (resource.kind == installer::ManifestResource::Kind::Disk)
            info.disks.push_back({ resource.name, resource.size_bytes });
        else
            info.ports.push_back(resource.name);
    }
    for (auto const& endpoint : record.endpoints) {
        info.endpoints.push_back({ endpoint.name, endpoint.contract, endpoint.end == "Exp" ? contracts::End::Exp : contracts::End::Imp,
            endpoint.state, endpoint.state_index, endpoint.descriptor_sha256 });
    }
    return info;
}

SpawnRequest program_request(std::string const& name, Kernel::ProgramInfo const& info, Stdio stdio)
{
    SpawnRequest request;
    request.image = info.image;
    request.name = name;
    request.args = { name };
    request.stdio = std::move(stdio);
    request.limits = info.limits;
    request.principal = info.principal;
    request.may_create_children = info.may_create_children;
    request.parameters = info.parameters;
    request.disks = info.disks;
    request.ports = info.ports;
    request.directories = info.directories;
    return request;
}

} // namespace signet::cli
