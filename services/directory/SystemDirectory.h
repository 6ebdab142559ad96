// The host's side of the directory service (docs/directory.md): the system
// policy, read from its TOML file, and the directory SIP started with it.
//
//   auto policy = TRY(DirectoryPolicy::load("policy.toml"));      // or DirectoryPolicy {}
//   auto directory = TRY(SystemDirectory::start(kernel, "directory", policy));
//   auto sip = TRY(kernel.create_sip(request));                   // a SIP that requires Directory.Imp:Start
//   sip->adopt_startup_handle(TRY(directory->connect()));
//   TRY(kernel.start(*sip));
//
// The directory is a SIP like any other: the kernel gives it its policy as its
// `policy` parameter and its first connection as its startup endpoint; it never
// reads a host file. The kernel's own connection speaks Directory like any
// client's (its principal is "kernel").
#pragma once

#include "base/ErrorOr.h"
#include "kernel/Kernel.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace signet {

struct DirectoryPolicy {
    enum class Action : uint8_t { Register, Bind }; // Bind covers Bind and Open
    struct Rule {
        Action action { Action::Bind };
        bool allow { true };
        std::string path;      // glob over path segments: * and ? within one, ** any number of them
        std::string principal; // glob over principal elements ("publisher/program", joined by " <- ")
        std::string reason;    // what a refused client is told
    };
    // What happens when a service registers a path another live service holds.
    enum class Duplicates : uint8_t { Refuse, Replace };

    std::vector<Rule> rules; // the first rule that matches decides
    bool allow_register { true }; // when no rule matches
    bool allow_bind { true };
    Duplicates duplicates { Duplicates::Refuse };
    // The [[service]] paths each program's manifest declares, by principal
    // (publisher/program). With `declared_only` (the file's `services = "declared"`),
    // a SIP may register only what its own program declares.
    std::vector<std::pair<std::string, std::string>> declared_services;
    bool declared_only { false };

    // Named limits: rules per policy, bytes in a pattern or reason.
    static constexpr size_t max_rules = 256;
    static constexpr size_t max_pattern = 200;
    static constexpr size_t max_reason = 150;

    // Errors name the file, the field and the problem: `policy.toml: field 'directory.rule[2].path': ...`.
    static ErrorOr<DirectoryPolicy> load(std::string const& path);
    static ErrorOr<DirectoryPolicy> parse(std::string_view toml_text, std::string const& path);
    // Adds the [[service]] entries of every program installed in `store_dir`.
    ErrorOr<void> add_installed_services(std::string const& store_dir);
    // The line form the directory SIP reads from its `policy` parameter.
    std::string encode() const;
};

class SystemDirectory {
public:
    // The program the kernel knows as `program` (registered from the directory's
    // manifest, services/directory/directory.toml) started with `policy`. Its
    // first required endpoint, if it declares one, must be Directory.Exp:Start.
    // Its standard streams are `stdio` (under `signet boot`, the system log: the
    // terminal is the console's alone).
    static ErrorOr<std::unique_ptr<SystemDirectory>> start(Kernel&, std::string const& program, DirectoryPolicy const&, Stdio stdio = Stdio::host());
    // Stops the directory SIP if it still runs. Destroy it before its kernel.
    ~SystemDirectory();

    // A new connection to the directory: the Imp end of a fresh Directory
    // channel (state Start), whose Exp end the directory now serves. Give it to
    // a new SIP with Sip::adopt_startup_handle before starting it. From a host
    // thread only (it waits for the directory's answer); thread-safe.
    ErrorOr<std::shared_ptr<Endpoint>> connect();

    // Who registered the service at `path` (its principal, cut at 200 bytes), as the
    // directory answers a Lookup; NotFound if nobody has. From a host thread only.
    ErrorOr<std::string> lookup(std::string const& path);
    // Waits until `service` has registered each of `paths`, asking lookup() again
    // and again (backing off to 10 ms). Fails with a message naming the service and
    // the path if the service ends first (saying how), if another SIP holds the path,
    // or if `timeout` passes first. From a host thread only.
    ErrorOr<void> await_registration(Sip& service, std::vector<std::string> const& paths, std::chrono::steady_clock::duration timeout);

    Sip& sip() { return *m_sip; }
    // Ends the directory: every registration and connection closes.
    void stop();

private:
    SystemDirectory(Kernel& kernel, std::shared_ptr<Sip> sip, std::shared_ptr<Endpoint> connection)
        : m_kernel(kernel)
        , m_sip(std::move(sip))
        , m_connection(std::move(connection))
    {
    }

    Kernel& m_kernel;
    std::shared_ptr<Sip> m_sip;
    std::mutex m_lock; // one request at a time on the kernel's connection
    std::shared_ptr<Endpoint> m_connection; // Directory.Imp, held by the kernel
};

} // namespace signet
