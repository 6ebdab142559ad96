// signet_v1 child SIPs: create from a named program with initial endpoints,
// start, stop, wait. These are the only calls by which one SIP affects another.
#include "kernel/abi/Abi.h"
#include "kernel/domain/DomainSip.h"
#include "kernel/object/Channel.h"
#include "kernel/object/Child.h"

namespace cx = signet::contracts;

using namespace signet;
using namespace signet::abi;

namespace {

constexpr uint32_t max_program_name = 256;
constexpr uint32_t max_startup_handles = 64;
constexpr uint32_t max_args_bytes = 64 * 1024;
constexpr uint32_t max_environment_bytes = 64 * 1024;
constexpr size_t max_environment_entries = 1024;

// child_suspend and child_resume: a child never started has nothing to suspend,
// and one whose code runs in a protection domain runs in another process.
uint32_t set_suspended(Sip& sip, uint32_t handle, bool suspended)
{
    auto child = sip.handles().get_as<Child>(handle);
    if (!child)
        return SIGNET_BAD_HANDLE;
    Sip& target = child->sip();
    if (target.state() == Sip::State::Created)
        return SIGNET_INVALID_ARGUMENT;
    if (target.in_domain())
        return SIGNET_UNSUPPORTED;
    if (suspended)
        target.suspend();
    else
        target.resume();
    return SIGNET_OK;
}

} // namespace

extern "C" {

uint32_t Z_signet_v1Z_child_create(void* host, uint32_t program, uint32_t program_length, uint32_t handles, uint32_t handle_count,
    uint32_t args, uint32_t args_length, uint32_t out_child)
{
    Sip& sip = sip_from(host);
    Kernel& kernel = sip.kernel();
    GuestMemory memory(sip.runtime());
    if (!memory.valid(program, program_length) || !memory.valid(handles, uint64_t(handle_count) * 4) || !memory.valid(args, args_length)
        || !memory.valid(out_child, 4))
        return SIGNET_OUT_OF_BOUNDS;
    if (program_length == 0 || program_length > max_program_name || handle_count > max_startup_handles || args_length > max_args_bytes)
        return SIGNET_INVALID_ARGUMENT;
    std::string name(reinterpret_cast<char const*>(memory.range(program, program_length)), program_length);
    if (!sip.may_create_children()) {
        (void)kernel.diagnostics().write("signet: SIP " + std::to_string(sip.id()) + " (" + sip.name() + ") cannot start " + name
            + ": its manifest does not grant privileges.create_children\n");
        return SIGNET_DENIED;
    }
    auto info = kernel.find_program_info(name);
    if (!info)
        return SIGNET_NOT_FOUND;

    // The endpoints the child starts with: live, distinct endpoint handles of the caller.
    std::vector<uint32_t> given(handle_count);
    for (uint32_t i = 0; i < handle_count; ++i) {
        memory.read(handles + i * 4, given[i]);
        if (!sip.handles().get_as<Endpoint>(given[i]))
            return SIGNET_BAD_HANDLE;
        for (uint32_t j = 0; j < i; ++j) {
            if (given[j] == given[i])
                return SIGNET_INVALID_ARGUMENT;
        }
    }
    // The child's handle needs a slot; the startup handles leave this table before it goes in.
    if (sip.handles().free_slots() + handle_count < 1)
        return SIGNET_LIMIT;
    // A program installed from a manifest starts only with every endpoint it
    // requires bound, in the manifest's order, each of the declared type and state.
    if (!info->endpoints.empty()) {
        std::string unbound;
        for (size_t i = 0; i < info->endpoints.size() && unbound.empty(); ++i) {
            auto const& required = info->endpoints[i];
            auto endpoint = i < given.size() ? sip.handles().get_as<Endpoint>(given[i]) : nullptr;
            if (!endpoint || !Kernel::binds(*endpoint, required))
                unbound = required.name + " (" + required.contract + "." + cx::end_spelling(required.end) + ":" + required.state + ")";
        }
        if (unbound.empty() && given.size() > info->endpoints.size())
            unbound = "(none: " + std::to_string(given.size() - info->endpoints.size()) + " endpoints too many)";
        if (!unbound.empty()) {
            (void)kernel.diagnostics().write("signet: SIP " + std::to_string(sip.id()) + " (" + sip.name() + ") cannot start " + name
                + ": required endpoint " + unbound + " is not bound\n");
            return SIGNET_INVALID_ARGUMENT;
        }
    }

    // Arguments: NUL-separated strings; args[0] is the program name.
    SpawnRequest request;
    request.image = info->image;
    request.name = name;
    request.args.push_back(name);
    auto const* text = reinterpret_cast<char const*>(memory.range(args, args_length));
    for (uint32_t start = 0; start < args_length;) {
        uint32_t end = start;
        while (end < args_length && text[end] != '\0')
            ++end;
        request.args.emplace_back(text + start, end - start);
        start = end + 1;
    }
    request.stdio = sip.stdio();
    request.limits = info->endpoints.empty() && info->principal.rfind("unsigned/", 0) == 0 ? sip.limits() : info->limits;
    request.principal = info->principal + " <- " + sip.principal();
    request.may_create_children = info->may_create_children;
    request.parameters = info->parameters;
    request.disks = info->disks;
    request.ports = info->ports;
    request.directories = info->directories;
    // Its manifest's placement: a child in a domain gets its domain process now.
    if (auto placed = place_in_domain(kernel, request, DomainPlacement::parse(info->domain)); placed.is_error()) {
        (void)kernel.diagnostics().write("signet: SIP " + std::to_string(sip.id()) + " (" + sip.name() + ") cannot start " + name + ": "
            + placed.error().message() + "\n");
        auto kind = placed.error().kind();
        return kind == ErrorKind::Limit ? SIGNET_LIMIT : kind == ErrorKind::Unsupported ? SIGNET_UNSUPPORTED : SIGNET_IO;
    }
    auto child = kernel.create_sip(std::move(request));
    if (child.is_error())
        return SIGNET_LIMIT;

    // Commit: move the endpoints into the child's table, and give the parent its handle.
    for (uint32_t handle : given) {
        auto endpoint = sip.handles().remove(handle);
        child.value()->adopt_startup_handle(std::move(endpoint));
    }
    uint32_t child_handle = sip.handles().insert(std::make_shared<Child>(child.value()));
    VERIFY(child_handle);
    memory.write(out_child, child_handle);
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_child_start(void* host, uint32_t handle)
{
    Sip& sip = sip_from(host);
    auto child = sip.handles().get_as<Child>(handle);
    if (!child)
        return SIGNET_BAD_HANDLE;
    if (child->sip().state() != Sip::State::Created)
        return SIGNET_INVALID_ARGUMENT;
    if (sip.kernel().start(child->sip()).is_error())
        return SIGNET_LIMIT;
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_child_stop(void* host, uint32_t handle)
{
    Sip& sip = sip_from(host);
    auto child = sip.handles().get_as<Child>(handle);
    if (!child)
        return SIGNET_BAD_HANDLE;
    sip.kernel().kill(child->sip());
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_child_suspend(void* host, uint32_t handle)
{
    return set_suspended(sip_from(host), handle, true);
}

uint32_t Z_signet_v1Z_child_resume(void* host, uint32_t handle)
{
    return set_suspended(sip_from(host), handle, false);
}

uint32_t Z_signet_v1Z_child_wait(void* host, uint32_t handle, uint64_t raw_timeout, uint32_t out_status)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto child = sip.handles().get_as<Child>(handle);
    if (!child)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(out_status, 4))
        return SIGNET_OUT_OF_BOUNDS;
    if (child->sip().state() == Sip::State::Created)
        return SIGNET_INVALID_ARGUMENT; // Waiting for a child that was never started would never end.
    uint64_t deadline = deadline_after(static_cast<int64_t>(raw_timeout));
    bool finished = child->sip().wait_from_fiber(deadline);
    int32_t status = finished ? child->sip().exit_info().host_exit_status() : 0;
    // Unwinding skips destructors: this SIP may leave here only holding nothing.
    child.reset();
    leave_if_killed();
    if (!finished)
        return SIGNET_TIMED_OUT;
    memory.write(out_status, status);
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_child_set_environment(void* host, uint32_t handle, uint32_t entries, uint32_t length)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto child = sip.handles().get_as<Child>(handle);
    if (!child)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(entries, length))
        return SIGNET_OUT_OF_BOUNDS;
    if (length > max_environment_bytes)
        return SIGNET_LIMIT;
    if (child->sip().state() != Sip::State::Created)
        return SIGNET_INVALID_ARGUMENT;
    // "NAME=value\0" each: a name of at least one byte and no '=', then the value.
    std::vector<std::string> environment;
    std::string_view text(reinterpret_cast<char const*>(memory.range(entries, length)), length);
    if (!text.empty() && text.back() != '\0')
        return SIGNET_INVALID_ARGUMENT;
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\0', start);
        std::string_view entry = text.substr(start, end - start);
        size_t equals = entry.find('=');
        if (equals == 0 || equals == std::string_view::npos)
            return SIGNET_INVALID_ARGUMENT;
        if (environment.size() == max_environment_entries)
            return SIGNET_LIMIT;
        environment.emplace_back(entry);
        start = end + 1;
    }
    child->sip().set_environment(std::move(environment));
    return SIGNET_OK;
}

} // extern "C"

