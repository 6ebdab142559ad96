#include "base/Size.h"
#include "installer/Installer.h"
#include "installer/Programs.h"
#include "kernel/Kernel.h"
#include "kernel/domain/DomainSip.h"
#include "runtime/seal/Seal.h"
#include "kernel/abi/WasiFiles.h"
#include "services/hostdir/HostDirectory.h"
#include "services/directory/SystemDirectory.h"
#include "tools/signet/Commands.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <optional>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace signet::cli {

namespace {

// Each of a repeated option's "NAME=VALUE" entries split, or nothing once one is
// not of that form (`form`, e.g. "KEY=VALUE"), with an error naming the option
// and the entry printed.
std::optional<std::vector<std::pair<std::string, std::string>>> split_assignments(std::vector<std::string> const& entries, char const* option,
    char const* form, bool value_required)
{
    std::vector<std::pair<std::string, std::string>> split;
    for (auto const& entry : entries) {
        auto assignment = split_assignment(entry, value_required);
        if (!assignment) {
            print_error(std::string(option) + " '" + entry + "': expected " + form);
            return {};
        }
        split.push_back(std::move(*assignment));
    }
    return split;
}

struct RunOptions {
    std::vector<std::string> environment;
    std::vector<std::string> parameters; // k=v
    std::vector<std::string> programs; // NAME=PATH.wasm
    std::vector<std::string> disks; // NAME=PATH
    std::vector<std::string> ports; // NAME=ADDRESS:PORT
    std::vector<std::string> dirs; // HOST[::GUEST]
    std::string memory { "256MiB" };
    std::string exchange { "64MiB" };
    std::string channel_memory { "64MiB" };
    std::string stack { "1MiB" };
    unsigned workers { 0 };
    std::string domain; // kernel, own or a name; default: the manifest's, else kernel
    bool directory { false };
    std::string policy; // the system policy file, for the directory
    std::vector<std::string> services; // installed programs started first, connected to the directory
    std::vector<std::string> seal_checks; // host paths to try to open once sealed (tests)
    std::vector<std::string> exec_checks; // host programs to try to execute once sealed (tests)
};

} // namespace

Action add_run_command(CLI::App& app)
{
    auto options = std::make_shared<RunOptions>();
    auto* command = app.add_subcommand("run", "Install (if needed) and run a module as a sealed process");
    command->add_option("--env", options->environment, "Give the program an environment variable K=V (it sees no others)")->allow_extra_args(false);
    command->add_option("--program", options->programs, "Let SIPs create children from PATH.wasm by NAME (NAME=PATH.wasm)")->allow_extra_args(false);
    command->add_option("--dir", options->dirs, "Give a WASI program the host directory HOST as GUEST (HOST[::GUEST]), and nothing outside it")->allow_extra_args(false);
    command->add_option("--disk", options->disks, "Back disk NAME, which a driver's manifest declares, with the host file PATH (NAME=PATH)")->allow_extra_args(false);
    command->add_option("--listen", options->ports, "Listen for port NAME, which a network driver's manifest declares, on ADDRESS:PORT (NAME=ADDRESS:PORT; port 0: any free port)")
        ->allow_extra_args(false);
    command->add_option("--param", options->parameters, "Set a parameter of an installed program (k=v), checked against its manifest")->allow_extra_args(false);
    command->add_option("--memory", options->memory, "Most linear memory the program may use, e.g. 64MiB")->capture_default_str();
    command->add_option("--exchange-heap", options->exchange, "Most exchange-heap blocks the program may own at once, e.g. 16MiB")->capture_default_str();
    command->add_option("--channel-memory", options->channel_memory, "Most kernel memory the channels the program creates may take, e.g. 4MiB")
        ->capture_default_str();
    command->add_option("--stack", options->stack, "Native stack of the program's thread, e.g. 512KiB")->capture_default_str();
    command->add_option("--workers", options->workers, "Worker threads (default: one per core)");
    command->add_option("--domain", options->domain, "Where the program runs: kernel (the default), own (a sealed process of its own), or a shared domain's NAME");
    command->add_flag("--directory", options->directory, "Start the directory service (the installed program 'directory') and connect the program to it");
    command->add_option("--policy", options->policy, "The directory's system policy, a TOML file (implies --directory)");
    command->add_option("--service", options->services, "Start the installed program NAME first, connected to the directory (implies --directory)")
        ->allow_extra_args(false);
    // For tests of the seal: what the sealed kernel itself can still open.
    command->add_option("--check-seal", options->seal_checks, "After sealing, try to open PATH for reading and say what Linux answered")
        ->allow_extra_args(false)
        ->group("");
    command->add_option("--check-exec", options->exec_checks, "After sealing, try to execute PATH and say what Linux answered")
        ->allow_extra_args(false)
        ->group("");
    // Everything from the module on belongs to the program, options included.
    command->prefix_command();

    return [=, command = command] {
        auto rest = command->remaining();
        if (rest.empty()) {
            print_error("run: which module? Usage: signet run [--env K=V]... [--memory SIZE] PROG.wasm [ARGS...]");
            return int(BadInput);
        }
        std::string const program = rest.front();
        bool const use_directory = options->directory || !options->policy.empty() || !options->services.empty();
        // `signet run NAME --param k=v ...`: for a program given by name, parameters may
        // follow the name (a module's own arguments are all passed through untouched).
        if (!program.ends_with(".wasm")) {
            std::vector<std::string> kept { program };
            for (size_t i = 1; i < rest.size(); ++i) {
                if (rest[i] == "--param" && i + 1 < rest.size())
                    options->parameters.push_back(rest[++i]);
                else if (rest[i].rfind("--param=", 0) == 0)
                    options->parameters.push_back(rest[i].substr(8));
                else
                    kept.push_back(rest[i]);
            }
            rest = kept;
        }

        if (!split_assignments(options->environment, "--env", "KEY=VALUE", false))
            return int(BadInput);
        // A parameter's value may be empty (a string parameter), its name may not;
        // whether the program declares it, and the value's type, are checked against
        // its manifest below.
        auto const parameters = split_assignments(options->parameters, "--param", "NAME=VALUE", false);
        if (!parameters)
            return int(BadInput);
        auto memory = parse_size(options->memory);
        if (memory.is_error()) {
            print_error("--memory: " + memory.error().message());
            return int(BadInput);
        }
        auto exchange = parse_size(options->exchange);
        if (exchange.is_error()) {
            print_error("--exchange-heap: " + exchange.error().message());
            return int(BadInput);
        }
        auto channel_memory = parse_size(options->channel_memory);
        if (channel_memory.is_error()) {
            print_error("--channel-memory: " + channel_memory.error().message());
            return int(BadInput);
        }
        auto stack = parse_size(options->stack);
        if (stack.is_error() || stack.value() < 64 * 1024 || stack.value() > (256ull << 20)) {
            print_error("--stack: expected a size between 64KiB and 256MiB");
            return int(BadInput);
        }

        auto const programs = split_assignments(options->programs, "--program", "NAME=PATH.wasm", true); // name, path
        if (!programs)
            return int(BadInput);

        // Everything that needs broad file access happens first: installing, mapping
        // every image the kernel will need, reading the policy, creating disk files.
        // Then the kernel seals itself (seccomp and Landlock), and only then does it
        // start its threads, so that Landlock reaches all of them
        // (docs/protection-domains.md).
        std::string const store = installer::default_store_dir();
        std::map<std::string, std::shared_ptr<Image>> mapped; // by image path
        auto map_image = [&](std::string const& path, std::string const& hash) -> ErrorOr<std::shared_ptr<Image>> {
            if (auto it = mapped.find(path); it != mapped.end())
                return it->second;
            auto image = TRY(Image::load(path, hash));
            mapped.emplace(path, image);
            return image;
        };
        // Installs a module and maps its image; on failure, prints why and gives the exit status.
        auto load = [&](std::string const& path, std::shared_ptr<Image>& out) -> int {
            installer::InstallOptions install_options;
            install_options.store_dir = store;
            auto installed = installer::install_file(path, install_options);
            if (installed.is_error()) {
                print_error(installed.error().message());
                auto kind = installed.error().kind();
                return int(kind == ErrorKind::InvalidInput || kind == ErrorKind::Limit ? BadInput : Failure);
            }
            auto image = map_image(installed.value().image_path, installed.value().module_hash);
            if (image.is_error()) {
                print_error(image.error().message() + " (reinstall with 'signet install " + path + "')");
                return int(Failure);
            }
            out = image.release_value();
            return int(Success);
        };
        // Every installed program can be started by name: by the command line, or by a SIP
        // creating a child. Each is registered with what its manifest says.
        std::vector<std::pair<std::string, Kernel::ProgramInfo>> registrations;
        std::optional<Kernel::ProgramInfo> by_name;
        std::string manifest_domain = "kernel";
        auto installed_names = installer::list_programs(store);
        for (auto const& name : installed_names.is_error() ? std::vector<std::string> {} : installed_names.value()) {
            auto installed = installer::find_program(store, name);
            if (installed.is_error()) {
                if (name == program) {
                    print_error(installed.error().message());
                    return int(Failure);
                }
                continue;
            }
            auto const& record = installed.value();
            auto image_of = map_image(record.image.image_path, record.image.module_hash);
            if (image_of.is_error()) {
                print_error(image_of.error().message());
                return int(Failure);
            }
            Kernel::ProgramInfo info = program_info(record, image_of.release_value());
            if (name == program) {
                // Launch by manifest: typed parameters, and no unbound required endpoint.
                // The --param values are this SIP's alone: the program's record, which a
                // --service of the same program and any child started by name get, keeps
                // the manifest's defaults.
                Kernel::ProgramInfo own = info;
                for (auto const& [key, value] : *parameters) {
                    std::string const entry = key + "=" + value;
                    auto declared = std::find_if(record.manifest.parameters.begin(), record.manifest.parameters.end(), [&](auto const& p) { return p.name == key; });
                    if (declared == record.manifest.parameters.end()) {
                        print_error("--param '" + entry + "': " + name + " has no parameter '" + key + "' (see 'signet show " + name + "')");
                        return int(BadInput);
                    }
                    bool ok = true;
                    if (declared->type == installer::ManifestParameter::Type::Integer)
                        ok = !value.empty() && value.find_first_not_of("-0123456789") == std::string::npos;
                    else if (declared->type == installer::ManifestParameter::Type::Boolean)
                        ok = value == "true" || value == "false";
                    if (!ok) {
                        print_error("--param '" + entry + "': '" + value + "' is not a valid value for a parameter of this type");
                        return int(BadInput);
                    }
                    std::erase_if(own.parameters, [&](auto const& p) { return p.first == key; });
                    own.parameters.emplace_back(key, value);
                }
                for (auto const& parameter : record.manifest.parameters) {
                    bool given = std::any_of(own.parameters.begin(), own.parameters.end(), [&](auto const& p) { return p.first == parameter.name; });
                    if (!given) {
                        print_error("cannot start " + name + ": parameter '" + parameter.name + "' is required (--param " + parameter.name + "=...)");
                        return int(BadInput);
                    }
                }
                auto unbound = std::find_if(own.endpoints.begin(), own.endpoints.end(),
                    [&](auto const& endpoint) { return !use_directory || !is_directory_connection(endpoint); });
                if (unbound != own.endpoints.end()) {
                    auto const& first = *unbound;
                    print_error("cannot start " + name + ": required " + describe_endpoint(first) + " is not bound; it can only be started by a SIP that binds it");
                    return int(BadInput);
                }
                by_name = std::move(own);
                manifest_domain = record.manifest.domain;
            }
            registrations.emplace_back(name, std::move(info));
        }
        if (!by_name && !parameters->empty()) {
            print_error("--param applies only to installed programs, and '" + program + "' is not one");
            return int(BadInput);
        }

        std::shared_ptr<Image> image;
        std::vector<std::pair<std::string, std::shared_ptr<Image>>> bare_programs; // registered with every privilege
        if (by_name) {
            image = by_name->image;
        } else {
            if (int status = load(program, image); status != Success)
                return status;
            bare_programs.emplace_back(std::filesystem::path(program).stem().string(), image);
        }
        for (auto const& [name, path] : *programs) {
            std::shared_ptr<Image> child_image;
            if (int status = load(path, child_image); status != Success)
                return status;
            bare_programs.emplace_back(name, child_image);
        }

        // --directory: the policy, and what each installed program's manifest declares
        // for `services = "declared"`, are read now.
        std::optional<DirectoryPolicy> policy;
        if (use_directory) {
            policy.emplace();
            if (!options->policy.empty()) {
                auto loaded = DirectoryPolicy::load(options->policy);
                if (loaded.is_error()) {
                    print_error(loaded.error().message());
                    return int(BadInput);
                }
                policy = loaded.release_value();
            }
            if (auto added = policy->add_installed_services(store); added.is_error()) {
                print_error(added.error().message());
                return int(Failure);
            }
        }

        // The host paths the sealed kernel keeps: each --disk's backing file (created
        // now if missing: the sealed kernel can create nothing) and each --dir.
        std::vector<seal::PathGrant> host_grants;
        std::vector<std::pair<std::string, std::string>> disks; // name, path
        for (auto const& entry : options->disks) {
            auto disk = split_assignment(entry, true);
            if (!disk) {
                print_error("--disk '" + entry + "': expected NAME=PATH");
                return int(BadInput);
            }
            auto const& [name, path] = *disk;
            int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (fd < 0) {
                print_error("--disk '" + entry + "': cannot open or create '" + path + "': " + std::strerror(errno));
                return int(BadInput);
            }
            ::close(fd);
            disks.emplace_back(name, path);
            host_grants.push_back({ path, seal::PathGrant::Access::File });
        }
        struct HostDir {
            std::string entry, host, guest;
        };
        std::vector<HostDir> dirs;
        for (auto const& entry : options->dirs) {
            auto separator = entry.find("::");
            std::string host = entry.substr(0, separator);
            std::string guest = separator == std::string::npos ? host : entry.substr(separator + 2);
            if (host.empty() || guest.empty()) {
                print_error("--dir '" + entry + "': expected HOST[::GUEST]");
                return int(BadInput);
            }
            dirs.push_back({ entry, host, guest });
            host_grants.push_back({ host, seal::PathGrant::Access::ReadWrite });
        }
        auto ports = bind_ports(options->ports, "");
        if (!ports)
            return int(BadInput);
        if (int status = seal_kernel_process(store, host_grants); status != Success)
            return status;
        for (auto const& path : options->seal_checks) {
            int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            std::fprintf(stderr, "signet: seal check: %s: %s\n", path.c_str(), fd >= 0 ? "opened" : std::strerror(errno));
            if (fd >= 0)
                ::close(fd);
        }
        for (auto const& path : options->exec_checks) {
            // Its output, if it runs at all, goes nowhere.
            posix_spawn_file_actions_t actions;
            posix_spawn_file_actions_init(&actions);
            for (int fd : { 0, 1, 2 })
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
            std::string program = path;
            char* argv[] = { program.data(), nullptr };
            char* envp[] = { nullptr };
            pid_t pid = -1;
            int spawned = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp);
            posix_spawn_file_actions_destroy(&actions);
            if (spawned == 0)
                ::waitpid(pid, nullptr, 0);
            std::fprintf(stderr, "signet: exec check: %s: %s\n", path.c_str(), spawned == 0 ? "executed" : std::strerror(spawned));
        }

        auto kernel = Kernel::create({ .workers = options->workers, .diagnostics = {} });
        if (kernel.is_error()) {
            print_error(kernel.error().message());
            return int(Failure);
        }
        for (auto const& [name, path] : disks) {
            if (auto bound = kernel.value()->disks().bind(name, path); bound.is_error()) {
                print_error("--disk '" + name + "=" + path + "': " + bound.error().message());
                return int(BadInput);
            }
        }
        if (auto given = give_ports(*kernel.value(), *ports); given.is_error()) {
            print_error("--listen: " + given.error().message());
            return int(BadInput);
        }
        for (auto& [name, info] : registrations)
            kernel.value()->register_program(name, std::move(info));
        for (auto const& [name, bare] : bare_programs)
            kernel.value()->register_program(name, bare);

        SpawnRequest request;
        request.image = image;
        request.name = std::filesystem::path(program).filename().string();
        request.args.assign(rest.begin(), rest.end());
        request.environment = options->environment;
        request.stdio = Stdio::host();
        request.limits.memory_bytes = memory.value();
        request.limits.stack_bytes = stack.value();
        request.limits.exchange_bytes = exchange.value();
        request.limits.channel_bytes = channel_memory.value();
        if (by_name) {
            // The manifest's limits; the command line may only lower them.
            request.limits.memory_bytes = std::min(request.limits.memory_bytes, by_name->limits.memory_bytes);
            request.limits.exchange_bytes = std::min(request.limits.exchange_bytes, by_name->limits.exchange_bytes);
            request.limits.channel_bytes = std::min(request.limits.channel_bytes, by_name->limits.channel_bytes);
            request.limits.threads = by_name->limits.threads;
            request.limits.cpu_time_ns = by_name->limits.cpu_time_ns;
            request.principal = by_name->principal;
            request.may_create_children = by_name->may_create_children;
            request.parameters = by_name->parameters;
            request.disks = by_name->disks;
            request.ports = by_name->ports;
            request.directories = by_name->directories;
        } else {
            request.principal = "unsigned/" + request.name;
        }
        // --domain, else the manifest's placement: a domain process is started now.
        auto placement = DomainPlacement::parse(options->domain.empty() ? manifest_domain : options->domain);
        if (auto placed = place_in_domain(*kernel.value(), request, placement); placed.is_error()) {
            print_error(placed.error().message());
            return int(placed.error().kind() == ErrorKind::Unsupported ? BadInput : Failure);
        }
        // --directory: the directory first, then the services, each once the one before
        // has registered its paths, and the program once the last has.
        std::unique_ptr<SystemDirectory> directory;
        if (use_directory) {
            auto started = SystemDirectory::start(*kernel.value(), "directory", *policy);
            if (started.is_error()) {
                print_error("--directory: " + started.error().message());
                return int(Failure);
            }
            directory = started.release_value();
            std::vector<std::shared_ptr<Sip>> services;
            for (auto const& name : options->services) {
                if (int status = start_service(*kernel.value(), *directory, name, Stdio::host(), "", services); status != Success)
                    return status;
            }
        }
        auto sip = kernel.value()->create_sip(std::move(request));
        if (sip.is_error()) {
            print_error(sip.error().message());
            return int(Failure);
        }
        // --dir: each host directory served through FileSystem by a server of its own,
        // preopened for the program as descriptors 3, 4, ...
        if (!dirs.empty()) {
            std::vector<WasiPreopen> preopens;
            for (auto const& dir : dirs) {
                auto endpoint = serve_host_directory(*kernel.value(), image, dir.host);
                if (endpoint.is_error()) {
                    print_error("--dir '" + dir.entry + "': " + endpoint.error().message());
                    return int(BadInput);
                }
                preopens.push_back({ dir.guest, endpoint.release_value() });
            }
            sip.value()->wasi_files = make_wasi_file_table(std::move(preopens));
        }
        // A program by name gets a connection for each endpoint it requires (all are
        // Directory connections, checked above); a bare module gets one as handle 0.
        if (directory) {
            if (auto connected = connect_to_directory(*directory, *sip.value(), by_name ? by_name->endpoints.size() : 1); connected.is_error()) {
                print_error(connected.error().message());
                return int(Failure);
            }
        }
        if (auto started = kernel.value()->start(*sip.value()); started.is_error()) {
            print_error(started.error().message());
            return int(Failure);
        }
        ExitInfo exit = sip.value()->wait_from_host();
        // The kernel goes away with the process; a host read still pending on stdin must not hold it.
        std::fflush(stdout);
        std::_Exit(exit.host_exit_status());
    };
}

} // namespace signet::cli
