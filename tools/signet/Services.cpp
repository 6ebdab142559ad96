// Services connected to the directory, started one after another: `signet run
// --service` and `signet boot --service` (docs/directory.md).
#include "services/directory/SystemDirectory.h"
#include "tools/signet/Commands.h"

#include <algorithm>
#include <cstdio>

namespace signet::cli {

bool is_directory_connection(Kernel::RequiredEndpoint const& endpoint)
{
    return endpoint.contract == "Directory" && endpoint.end == contracts::End::Imp;
}

std::string describe_endpoint(Kernel::RequiredEndpoint const& endpoint)
{
    return "endpoint " + endpoint.name + " (" + endpoint.contract + "." + (endpoint.end == contracts::End::Exp ? "Exp" : "Imp") + ":" + endpoint.state + ")";
}

ErrorOr<void> connect_to_directory(SystemDirectory& directory, Sip& sip, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        auto connection = directory.connect();
        if (connection.is_error())
            return Error(connection.error().kind(), "cannot connect " + sip.name() + " to the directory: " + connection.error().message());
        sip.adopt_startup_handle(connection.release_value());
    }
    return {};
}

int start_service(Kernel& kernel, SystemDirectory& directory, std::string const& name, Stdio stdio, std::string const& context,
    std::vector<std::shared_ptr<Sip>>& started)
{
    auto info = kernel.find_program_info(name);
    if (!info || !info->image) {
        print_error(context + "--service " + name + ": no such installed program (see 'signet list')");
        return BadInput;
    }
    for (auto const& endpoint : info->endpoints) {
        if (!is_directory_connection(endpoint)) {
            print_error(context + "--service " + name + ": required " + describe_endpoint(endpoint) + " is not a Directory connection, so nothing here can bind it");
            return BadInput;
        }
    }
    auto created = kernel.create_sip(program_request(name, *info, std::move(stdio)));
    if (created.is_error()) {
        print_error(context + "--service " + name + ": " + created.error().message());
        return Failure;
    }
    if (auto connected = connect_to_directory(directory, *created.value(), info->endpoints.size()); connected.is_error()) {
        print_error(context + "--service " + name + ": " + connected.error().message());
        return Failure;
    }
    if (auto running = kernel.start(*created.value()); running.is_error()) {
        print_error(context + "--service " + name + ": could not start it: " + running.error().message());
        return Failure;
    }
    started.push_back(created.value());
    // What starts next finds every path this service declares: it binds once, without
    // retrying, and a service that depends on this one never races its registration.
    if (auto registered = directory.await_registration(*created.value(), info->services, service_registration_timeout); registered.is_error()) {
        print_error(context + "--service: " + registered.error().message());
        return Failure;
    }
    return Success;
}

std::optional<std::pair<std::string, std::string>> split_assignment(std::string const& entry, bool value_required)
{
    auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0 || (value_required && equals + 1 == entry.size()))
        return {};
    return std::pair { entry.substr(0, equals), entry.substr(equals + 1) };
}

std::optional<std::vector<BoundPort>> bind_ports(std::vector<std::string> const& entries, std::string const& context)
{
    std::vector<BoundPort> ports;
    for (auto const& entry : entries) {
        auto assignment = split_assignment(entry, true);
        if (!assignment) {
            print_error(context + "--listen '" + entry + "': expected NAME=ADDRESS:PORT (e.g. http=127.0.0.1:8080)");
            return std::nullopt;
        }
        std::string const& name = assignment->first;
        std::string const& address = assignment->second;
        if (std::any_of(ports.begin(), ports.end(), [&](BoundPort const& port) { return port.name() == name; })) {
            print_error(context + "--listen '" + entry + "': port '" + name + "' is given twice");
            return std::nullopt;
        }
        auto bound = bind_port(name, address);
        if (bound.is_error()) {
            print_error(context + "--listen '" + entry + "': " + bound.error().message());
            return std::nullopt;
        }
        std::fprintf(stderr, "%slistening for '%s' on %s\n", context.empty() ? "signet: " : context.c_str(), bound.value().name().c_str(),
            bound.value().address().c_str());
        ports.push_back(bound.release_value());
    }
    std::fflush(stderr);
    return ports;
}

ErrorOr<void> give_ports(Kernel& kernel, std::vector<BoundPort>& ports)
{
    for (auto& port : ports)
        TRY(kernel.ports().add(std::move(port)));
    ports.clear();
    return {};
}

} // namespace signet::cli
