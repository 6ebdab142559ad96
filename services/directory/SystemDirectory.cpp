#include "services/directory/SystemDirectory.h"
#include "base/File.h"
#include "installer/Programs.h"
#include "kernel/abi/KernelChannel.h"
#include "runtime/Trap.h"
#include <signet/abi.h> // statuses

#include "Directory.h"
#include "DirectoryCodes.h"

#include <chrono>
#include <cstring>
#include <thread>
#include <toml++/toml.h>

namespace cx = signet::contracts;

namespace signet {

namespace {

constexpr uint64_t max_policy_bytes = 1 << 20;
// How long connect() waits for the directory's answer before giving up on it.
constexpr auto answer_timeout = std::chrono::seconds(30);

Error field_error(std::string const& path, std::string const& field, std::string const& problem)
{
    return Error::invalid(path + ": field '" + field + "': " + problem);
}

// Patterns and reasons travel as tab-separated lines: no control characters.
bool printable(std::string const& text)
{
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

ErrorOr<bool> allow_or_deny(toml::node_view<toml::node const> node, std::string const& path, std::string const& field, bool fallback)
{
    if (!node)
        return fallback;
    auto value = node.value<std::string>();
    if (!value || (*value != "allow" && *value != "deny"))
        return field_error(path, field, "must be \"allow\" or \"deny\"");
    return *value == "allow";
}

ErrorOr<void> check_keys(toml::table const& table, std::string const& path, std::string const& prefix, std::initializer_list<char const*> known)
{
    for (auto const& [key, value] : table) {
        bool ok = false;
        for (char const* name : known)
            ok = ok || key.str() == name;
        if (!ok)
            return field_error(path, prefix + std::string(key.str()), "unknown field");
    }
    return {};
}

// A message the kernel itself sends on an end it holds: abi::kernel_send, which
// checks it as a SIP's send would be (layout, protocol, peer) and wakes the peer.
ErrorOr<void> host_send(Endpoint& endpoint, uint16_t message_id, std::span<uint8_t const> bytes)
{
    switch (abi::kernel_send(endpoint, message_id, bytes)) {
    case SIGNET_OK:
        return {};
    case SIGNET_CLOSED:
        return Error(ErrorKind::NotFound, "the directory has ended");
    default:
        return Error(ErrorKind::Internal, "the kernel's " + endpoint.contract_type().contract.name + " connection may not send message "
                + std::to_string(message_id) + " now");
    }
}

struct HostMessage {
    uint16_t id { 0 };
    std::vector<uint8_t> bytes;
    std::vector<std::shared_ptr<KernelObject>> carried;
};

// Takes the next message sent to an end the kernel holds, waiting up to
// `timeout`: a host thread cannot block like a fiber, so it waits as the
// channel's HostWaiter, which the message or the peer's close releases.
ErrorOr<HostMessage> host_receive(Endpoint& endpoint, std::chrono::steady_clock::duration timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    Channel& channel = endpoint.channel();
    HostWaiter waiter; // registered only while this waits, and always unregistered under the lock
    bool last_look = false;
    for (;;) {
        {
            std::lock_guard guard(channel.lock());
            channel.set_host_waiter(endpoint, nullptr);
            if (QueuedMessage* queued = channel.front(endpoint)) {
                HostMessage message;
                message.id = queued->id;
                message.bytes.assign(queued->bytes.begin(), queued->bytes.begin() + queued->length);
                for (auto& object : queued->carried) {
                    if (object->type() == ObjectType::Endpoint)
                        static_cast<Endpoint&>(*object).set_holder(nullptr);
                    message.carried.push_back(std::move(object));
                }
                channel.pop(endpoint);
                return message;
            }
            if (channel.peer_gone(endpoint))
                return Error(ErrorKind::NotFound, "the directory has ended");
            if (last_look)
                return Error(ErrorKind::Limit, "the directory did not answer in time");
            channel.set_host_waiter(endpoint, &waiter);
        }
        if (!waiter.signal.try_acquire_until(deadline))
            last_look = true;
    }
}

} // namespace

ErrorOr<DirectoryPolicy> DirectoryPolicy::load(std::string const& path)
{
    auto text = read_text_file(path, max_policy_bytes);
    if (text.is_error())
        return Error(text.error().kind(), path + ": " + text.error().message());
    return parse(text.value(), path);
}

ErrorOr<DirectoryPolicy> DirectoryPolicy::parse(std::string_view text, std::string const& path)
{
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (toml::parse_error const& error) {
        auto const& where = error.source().begin;
        return Error::invalid(path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " + std::string(error.description()));
    }
    DirectoryPolicy policy;
    TRY(check_keys(root, path, "", { "directory" }));
    auto const* directory = root.get_as<toml::table>("directory");
    if (!directory) {
        if (root.contains("directory"))
            return field_error(path, "directory", "must be a table");
        return policy;
    }
    TRY(check_keys(*directory, path, "directory.", { "duplicates", "register", "bind", "services", "rule" }));
    if (auto services = (*directory)["services"]) {
        auto value = services.value<std::string>();
        if (!value || (*value != "any" && *value != "declared"))
            return field_error(path, "directory.services", "must be \"any\" or \"declared\"");
        policy.declared_only = *value == "declared";
    }
    if (auto duplicates = (*directory)["duplicates"]) {
        auto value = duplicates.value<std::string>();
        if (!value || (*value != "refuse" && *value != "replace"))
            return field_error(path, "directory.duplicates", "must be \"refuse\" or \"replace\"");
        policy.duplicates = *value == "replace" ? Duplicates::Replace : Duplicates::Refuse;
    }
    policy.allow_register = TRY(allow_or_deny((*directory)["register"], path, "directory.register", true));
    policy.allow_bind = TRY(allow_or_deny((*directory)["bind"], path, "directory.bind", true));
    if (auto rules = (*directory)["rule"]) {
        auto const* array = rules.as_array();
        if (!array)
            return field_error(path, "directory.rule", "must be an array of tables ([[directory.rule]])");
        if (array->size() > max_rules)
            return field_error(path, "directory.rule", "at most " + std::to_string(max_rules) + " rules");
        for (size_t i = 0; i < array->size(); ++i) {
            std::string prefix = "directory.rule[" + std::to_string(i) + "]";
            auto const* table = (*array)[i].as_table();
            if (!table)
                return field_error(path, prefix, "must be a table");
            TRY(check_keys(*table, path, prefix + ".", { "action", "path", "principal", "effect", "reason" }));
            Rule rule;
            auto text_field = [&](char const* key, bool required, size_t limit) -> ErrorOr<std::string> {
                auto node = (*table)[key];
                std::string field = prefix + "." + key;
                if (!node) {
                    if (required)
                        return field_error(path, field, "missing");
                    return std::string();
                }
                auto value = node.value<std::string>();
                if (!value)
                    return field_error(path, field, "must be a string");
                if (value->size() > limit || !printable(*value))
                    return field_error(path, field, "must be at most " + std::to_string(limit) + " bytes without control characters");
                return *value;
            };
            std::string action = TRY(text_field("action", true, 16));
            if (action != "register" && action != "bind")
                return field_error(path, prefix + ".action", "must be \"register\" or \"bind\" (bind covers Bind and Open)");
            rule.action = action == "register" ? Action::Register : Action::Bind;
            rule.path = TRY(text_field("path", true, max_pattern));
            if (rule.path.empty() || rule.path[0] != '/')
                return field_error(path, prefix + ".path", "must be an absolute path pattern, e.g. \"/service/**\"");
            rule.principal = TRY(text_field("principal", false, max_pattern));
            if (rule.principal.empty())
                rule.principal = "**";
            auto effect = (*table)["effect"];
            if (!effect)
                return field_error(path, prefix + ".effect", "missing");
            rule.allow = TRY(allow_or_deny(effect, path, prefix + ".effect", true));
            rule.reason = TRY(text_field("reason", false, max_reason));
            policy.rules.push_back(std::move(rule));
        }
    }
    return policy;
}

ErrorOr<void> DirectoryPolicy::add_installed_services(std::string const& store_dir)
{
    auto names = TRY(installer::list_programs(store_dir));
    for (auto const& name : names) {
        // A record that no longer reads or verifies cannot be started either: it declares nothing.
        auto program = installer::find_program(store_dir, name);
        if (program.is_error())
            continue;
        for (auto const& service : program.value().manifest.services)
            declared_services.emplace_back(program.value().manifest.principal(), service.path);
    }
    return {};
}

std::string DirectoryPolicy::encode() const
{
    std::string text;
    text += std::string("duplicates\t") + (duplicates == Duplicates::Replace ? "replace" : "refuse") + "\n";
    text += std::string("services\t") + (declared_only ? "declared" : "any") + "\n";
    for (auto const& [principal, service_path] : declared_services)
        text += "declared\t" + principal + "\t" + service_path + "\n";
    text += std::string("default\tregister\t") + (allow_register ? "allow" : "deny") + "\n";
    text += std::string("default\tbind\t") + (allow_bind ? "allow" : "deny") + "\n";
    for (auto const& rule : rules) {
        text += std::string("rule\t") + (rule.action == Action::Register ? "register" : "bind") + "\t" + (rule.allow ? "allow" : "deny") + "\t" + rule.path + "\t"
            + rule.principal + "\t" + rule.reason + "\n";
    }
    return text;
}

ErrorOr<std::unique_ptr<SystemDirectory>> SystemDirectory::start(Kernel& kernel, std::string const& program, DirectoryPolicy const& policy, Stdio stdio)
{
    auto info = kernel.find_program_info(program);
    if (!info)
        return Error::not_found("no program '" + program + "' to start the directory from (install services/directory/directory.toml)");
    auto type = TRY(kernel.contract_type({ Directory_descriptor, Directory_DESCRIPTOR_SIZE }));
    auto [importer, exporter] = Channel::create(type);
    if (!info->endpoints.empty() && !Kernel::binds(*exporter, info->endpoints.front()))
        return Error::invalid("program '" + program + "' is not the directory: its endpoint " + info->endpoints.front().name + " is not Directory.Exp:Start");

    SpawnRequest request;
    request.image = info->image;
    request.name = program;
    request.args = { program };
    request.stdio = std::move(stdio);
    request.limits = info->limits;
    request.principal = info->principal;
    request.parameters = info->parameters;
    std::erase_if(request.parameters, [](auto const& parameter) { return parameter.first == "policy"; });
    request.parameters.emplace_back("policy", policy.encode());
    auto sip = TRY(kernel.create_sip(std::move(request)));
    sip->adopt_startup_handle(exporter);
    if (auto started = kernel.start(*sip); started.is_error()) {
        kernel.kill(*sip);
        return started.release_error();
    }
    return std::unique_ptr<SystemDirectory>(new SystemDirectory(kernel, std::move(sip), std::move(importer)));
}

SystemDirectory::~SystemDirectory()
{
    stop();
}

void SystemDirectory::stop()
{
    std::lock_guard guard(m_lock);
    if (m_connection) {
        m_connection->close();
        m_connection = nullptr;
    }
    m_kernel.kill(*m_sip);
}

ErrorOr<std::shared_ptr<Endpoint>> SystemDirectory::connect()
{
    std::lock_guard guard(m_lock);
    if (!m_connection)
        return Error(ErrorKind::NotFound, "the directory was stopped");
    Directory_Open open {};
    open.path.length = sizeof DIRECTORY_SELF_PATH - 1;
    std::memcpy(open.path.data, DIRECTORY_SELF_PATH, open.path.length);
    TRY(host_send(*m_connection, Directory_MSG_Open, { reinterpret_cast<uint8_t const*>(&open), sizeof open }));
    auto answer = TRY(host_receive(*m_connection, answer_timeout));
    if (answer.id == Directory_MSG_Opened && answer.carried.size() == 1 && answer.carried[0]->type() == ObjectType::Endpoint)
        return std::static_pointer_cast<Endpoint>(std::move(answer.carried[0]));
    if (answer.id == Directory_MSG_Refused && answer.bytes.size() == sizeof(Directory_Refused)) {
        Directory_Refused refused;
        std::memcpy(&refused, answer.bytes.data(), sizeof refused);
        return Error(ErrorKind::Limit, "the directory refused a new connection: " + std::string(refused.reason.data, std::min<uint32_t>(refused.reason.length, sizeof refused.reason.data)));
    }
    return Error(ErrorKind::Internal, "the directory answered Open with message " + std::to_string(answer.id));
}

ErrorOr<std::string> SystemDirectory::lookup(std::string const& path)
{
    std::lock_guard guard(m_lock);
    // NotFound is kept for "nobody registered it": the directory itself gone is Io.
    if (!m_connection)
        return Error::io("the directory was stopped");
    if (path.size() > DIRECTORY_PATH_MAX)
        return Error::invalid("a service path is at most " + std::to_string(DIRECTORY_PATH_MAX) + " bytes");
    Directory_Lookup lookup {};
    lookup.path.length = uint32_t(path.size());
    std::memcpy(lookup.path.data, path.data(), path.size());
    if (auto sent = host_send(*m_connection, Directory_MSG_Lookup, { reinterpret_cast<uint8_t const*>(&lookup), sizeof lookup }); sent.is_error())
        return Error::io(sent.error().message());
    auto received = host_receive(*m_connection, answer_timeout);
    if (received.is_error())
        return Error::io(received.error().message());
    auto answer = received.release_value();
    if (answer.id == Directory_MSG_Found && answer.bytes.size() == sizeof(Directory_Found)) {
        Directory_Found found;
        std::memcpy(&found, answer.bytes.data(), sizeof found);
        return std::string(found.principal.data, std::min<uint32_t>(found.principal.length, sizeof found.principal.data));
    }
    if (answer.id == Directory_MSG_Refused && answer.bytes.size() == sizeof(Directory_Refused)) {
        Directory_Refused refused;
        std::memcpy(&refused, answer.bytes.data(), sizeof refused);
        std::string reason(refused.reason.data, std::min<uint32_t>(refused.reason.length, sizeof refused.reason.data));
        return Error(refused.code == DIRECTORY_REFUSED_NOT_FOUND ? ErrorKind::NotFound : ErrorKind::InvalidInput, reason);
    }
    return Error(ErrorKind::Internal, "the directory answered Lookup with message " + std::to_string(answer.id));
}

namespace {

std::string how_it_ended(ExitInfo const& exit)
{
    switch (exit.how) {
    case ExitInfo::How::Exited:
        return "it exited with status " + std::to_string(exit.status);
    case ExitInfo::How::Trapped:
        return std::string("it trapped: ") + trap_kind_description(exit.trap);
    case ExitInfo::How::Killed:
        return "it was killed: " + exit.detail;
    }
    return "it ended";
}

} // namespace

ErrorOr<void> SystemDirectory::await_registration(Sip& service, std::vector<std::string> const& paths, std::chrono::steady_clock::duration timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(100);
    for (auto const& path : paths) {
        for (;;) {
            // Asked before the service's state is looked at: a service that registered
            // and then ended at once still counts as registered (its clients see Gone).
            auto holder = lookup(path);
            if (!holder.is_error()) {
                // The service itself, or a SIP it started (whose chain ends with it).
                std::string const& own = service.principal();
                std::string const& who = holder.value();
                bool its_own = who == own || (who.size() > own.size() + 4 && who.ends_with(" <- " + own));
                if (!its_own)
                    return Error::invalid(service.name() + " cannot serve " + path + ": " + holder.value() + " registered it first");
                break;
            }
            if (holder.error().kind() != ErrorKind::NotFound)
                return Error(holder.error().kind(), service.name() + " cannot register " + path + ": " + holder.error().message());
            if (service.state() == Sip::State::Finished)
                return Error::invalid(service.name() + " ended before it registered " + path + ": " + how_it_ended(service.exit_info()));
            if (std::chrono::steady_clock::now() >= deadline) {
                return Error(ErrorKind::Limit, service.name() + " did not register " + path + " within "
                        + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) + " ms");
            }
            std::this_thread::sleep_for(pause);
            pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
        }
    }
    return {};
}

} // namespace signet
