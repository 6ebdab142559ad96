// signet boot: the kernel with a system image, its services and a shell.
//
// A system image is a directory (created on first boot):
//   IMAGE/store/      sealed images (the installer's store)
//   IMAGE/programs/   installed programs (manifests and records)
//   IMAGE/policy.toml the system policy (the directory's rules)
//   IMAGE/disk0.img   the virtual disk the block-device driver serves
//   IMAGE/system.log  what SIPs other than the console write to unbound
//                     streams, and the kernel's reports
// Boot installs the system programs from their manifests (a program already
// in the store is not recompiled), and the system's manifest of each --service
// it has one of (net, httpd), maps every installed program, seals the
// kernel (seccomp and Landlock: the system image and the store to read, the
// system log and the disk to write; docs/protection-domains.md) before its
// threads start, then starts the directory, the block device and the file
// system (when installed; the file system registers /service/fs), each --service
// (connected to the directory, once the one before has registered its
// services), the console and the shell, and gives the terminal to the console
// alone. When the shell ends (`exit`, `shutdown`, the end of its input) or the
// process gets SIGTERM, SIGINT or SIGHUP, the shell is stopped, then each
// --service; the file system commits and ends with its last client, and every
// other SIP is stopped. See docs/cli.md and docs/console.md.
#include "installer/Installer.h"
#include "installer/Programs.h"
#include "kernel/Kernel.h"
#include "kernel/abi/Streams.h"
#include "services/directory/SystemDirectory.h"
#include "tools/signet/Commands.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <pthread.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace signet::cli {

namespace {

struct BootOptions {
    std::string image;
    std::string system; // where the system programs' manifests are
    std::vector<std::string> install;
    std::vector<std::string> services; // installed programs started after the directory and the storage, connected to the directory
    std::vector<std::string> ports; // NAME=ADDRESS:PORT, for the network driver
    unsigned workers { 0 };
};

// The system programs, in the order they start. Only the console and the shell must exist.
char const* const system_programs[] = { "directory", "blockdev", "fs", "console", "shell" };

std::string default_image_dir()
{
    std::string store = installer::default_store_dir();
    return fs::path(store).parent_path().string() + "/image";
}

// The manifests are built next to the `signet` executable: build/services/NAME/NAME.toml.
std::string default_system_dir()
{
    std::error_code error;
    auto executable = fs::read_symlink("/proc/self/exe", error);
    return error ? std::string("services") : (executable.parent_path() / "services").string();
}

char const default_policy[] = R"(# The system policy of this Signet image (docs/directory.md).
# The first rule that matches decides; without one, the defaults below apply.
[directory]
duplicates = "refuse"
register = "allow"
bind = "allow"
)";

// The terminal's settings, restored on every way out.
struct Terminal {
    bool raw { false };
    termios saved {};

    void enter_raw()
    {
        if (tcgetattr(STDIN_FILENO, &saved) != 0)
            return;
        termios raw_mode = saved;
        // The console is the line discipline: no echo, no line editing, and
        // Ctrl-C reaches it as a byte instead of stopping the whole system.
        raw_mode.c_lflag &= ~(ICANON | ECHO | ISIG | IEXTEN);
        raw_mode.c_iflag &= ~(IXON);
        raw_mode.c_cc[VMIN] = 1;
        raw_mode.c_cc[VTIME] = 0;
        raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw_mode) == 0; // Keep what was typed ahead.
    }
    void restore()
    {
        if (raw)
            tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
        raw = false;
    }
};

// A SIP of a system program, not started yet.
ErrorOr<std::shared_ptr<Sip>> create_system_sip(Kernel& kernel, std::string const& name, Stdio stdio,
    std::vector<std::pair<std::string, std::string>> const& parameters = {})
{
    auto info = kernel.find_program_info(name);
    if (!info)
        return Error::not_found("the system program '" + name + "' is not installed");
    SpawnRequest request = program_request(name, *info, std::move(stdio));
    for (auto const& [key, value] : parameters) {
        std::erase_if(request.parameters, [&](auto const& p) { return p.first == key; });
        request.parameters.emplace_back(key, value);
    }
    return kernel.create_sip(std::move(request));
}

ErrorOr<std::shared_ptr<ContractType const>> contract_of(Kernel& kernel, installer::InstalledProgram const& record, std::string const& name)
{
    auto found = record.descriptors.find(name);
    if (found == record.descriptors.end())
        return Error::not_found("program " + record.manifest.name + " declares no contract " + name);
    return kernel.contract_type(found->second);
}

// Set by the signal thread; the main thread acts on it.
std::atomic<bool> g_stop_requested { false };

// Waits for SIGTERM, SIGINT or SIGHUP (blocked in every other thread) and stops the shell.
void watch_signals(sigset_t signals, std::shared_ptr<Sip> shell)
{
    int signal = 0;
    if (sigwait(&signals, &signal) != 0)
        return;
    g_stop_requested = true;
    shell->kernel().kill(*shell);
}

int boot(BootOptions const& options)
{
    // 1. The image: created on first boot.
    std::string image_dir = options.image.empty() ? default_image_dir() : options.image;
    std::error_code error;
    fs::create_directories(image_dir + "/store", error);
    if (error) {
        print_error("boot: cannot create the system image " + image_dir + ": " + error.message());
        return Failure;
    }
    std::string const store = image_dir + "/store";
    std::string const policy_path = image_dir + "/policy.toml";
    if (!fs::exists(policy_path)) {
        std::ofstream policy(policy_path);
        policy << default_policy;
        if (!policy) {
            print_error("boot: cannot write " + policy_path);
            return Failure;
        }
    }

    // 2. The system programs and any asked for, installed into the image.
    installer::InstallOptions install_options;
    install_options.store_dir = store;
    std::string system_dir = options.system.empty() ? default_system_dir() : options.system;
    std::vector<std::string> manifests;
    for (char const* name : system_programs) {
        std::string manifest = system_dir + "/" + name + "/" + name + ".toml";
        if (fs::exists(manifest))
            manifests.push_back(manifest);
    }
    // The system's optional services (net, httpd: services/NAME/NAME.toml too) are
    // installed only into an image booted with --service NAME, so that every other
    // image is spared compiling them.
    for (auto const& name : options.services) {
        std::string manifest = system_dir + "/" + name + "/" + name + ".toml";
        if (fs::exists(manifest) && std::ranges::find(manifests, manifest) == manifests.end())
            manifests.push_back(manifest);
    }
    manifests.insert(manifests.end(), options.install.begin(), options.install.end());
    for (auto const& manifest : manifests) {
        auto installed = installer::install_program(manifest, install_options);
        if (installed.is_error()) {
            print_error("boot: " + installed.error().message());
            return installed.error().kind() == ErrorKind::InvalidInput ? BadInput : Failure;
        }
    }

    // 3. The kernel. Its reports and every unbound stream go to the system log:
    //    the terminal belongs to the console.
    std::string log_path = image_dir + "/system.log";
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        print_error("boot: cannot open " + log_path);
        return Failure;
    }
    auto log = std::make_shared<FdOutputStream>(log_fd);
    Stdio logged { nullptr, log, log };

    // 4. Every installed program, mapped now: after sealing, the kernel can read
    //    the store but no longer runs the installer.
    std::map<std::string, installer::InstalledProgram> records;
    std::map<std::string, std::shared_ptr<Image>> images;
    auto names = installer::list_programs(store);
    for (auto const& name : names.is_error() ? std::vector<std::string> {} : names.value()) {
        auto record = installer::find_program(store, name);
        if (record.is_error()) {
            print_error("boot: " + record.error().message());
            continue;
        }
        auto image = Image::load(record.value().image.image_path, record.value().image.module_hash);
        if (image.is_error()) {
            print_error("boot: " + image.error().message());
            continue;
        }
        images.emplace(name, image.release_value());
        records.emplace(name, record.release_value());
    }
    for (char const* required : { "console", "shell" }) {
        if (!records.contains(required)) {
            print_error(std::string("boot: the system program '") + required + "' is not installed (no manifest in " + system_dir + ")");
            return Failure;
        }
    }
    if (!options.services.empty() && !records.contains("directory")) {
        print_error("boot: --service " + options.services.front() + ": the directory, which services register with, is not installed (no manifest in " + system_dir + ")");
        return BadInput;
    }
    auto fail = [&](Error const& problem) {
        print_error("boot: " + problem.message());
        std::_Exit(Failure);
    };
    // The directory's policy, and what each installed program's manifest declares
    // for `services = "declared"`.
    std::optional<DirectoryPolicy> policy;
    if (records.contains("directory")) {
        auto loaded = DirectoryPolicy::load(policy_path);
        if (loaded.is_error())
            fail(loaded.error());
        policy = loaded.release_value();
        if (auto added = policy->add_installed_services(store); added.is_error())
            fail(added.error());
    }
    // The disk the block device serves: created now, since the sealed kernel can
    // create no file; the driver sizes it when it opens it.
    // (The file system registers with the directory: no storage without it.)
    bool const storage = records.contains("blockdev") && records.contains("fs") && records.contains("directory");
    std::string const disk_path = image_dir + "/disk0.img";
    if (storage) {
        int disk_fd = ::open(disk_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (disk_fd < 0) {
            print_error("boot: cannot create " + disk_path + ": " + std::strerror(errno));
            return Failure;
        }
        ::close(disk_fd);
    }

    // The ports a network driver listens on: bound now, since the sealed kernel may bind none.
    auto ports = bind_ports(options.ports, "boot: ");
    if (!ports)
        return BadInput;

    // 5. The seal (docs/protection-domains.md), before any thread starts: from here
    //    on the kernel reads the system image and the store, writes the system log
    //    and the disk, and nothing else.
    std::vector<seal::PathGrant> host_grants { { log_path, seal::PathGrant::Access::File } };
    if (storage)
        host_grants.push_back({ disk_path, seal::PathGrant::Access::File });
    if (int status = seal_kernel_process(store, host_grants); status != Success)
        return status;

    // Signals are taken by one thread only: block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    auto created = Kernel::create({ .workers = options.workers, .diagnostics = log });
    if (created.is_error()) {
        print_error("boot: " + created.error().message());
        return Failure;
    }
    Kernel& kernel = *created.value();
    if (auto given = give_ports(kernel, *ports); given.is_error()) {
        print_error("boot: --listen: " + given.error().message());
        return BadInput;
    }
    for (auto const& [name, record] : records)
        kernel.register_program(name, program_info(record, images.at(name)));

    // 6. The directory, first: the system's namespace.
    std::unique_ptr<SystemDirectory> directory;
    std::vector<std::shared_ptr<Sip>> directory_services;
    if (policy) {
        auto started = SystemDirectory::start(kernel, "directory", *policy, logged);
        if (started.is_error())
            fail(started.error());
        directory = started.release_value();
    }

    // 7. Storage: the block device on the image's disk, and the file system on it,
    //    which registers /service/fs with the directory once it has mounted. The
    //    shell gets the file system's first connection; every other SIP opens
    //    /service/fs. Then each --service, connected to the directory, once the one
    //    before (the file system first) has registered the paths its manifest
    //    declares: a service that opens another's path at its start finds it there.
    std::shared_ptr<Sip> file_system;
    std::shared_ptr<Endpoint> shell_files;
    std::vector<std::shared_ptr<Sip>> services;
    if (storage) {
        if (auto bound = kernel.disks().bind("disk0", disk_path); bound.is_error())
            fail(bound.error());
        auto device_type = contract_of(kernel, records.at("blockdev"), "BlockDevice");
        auto files_type = contract_of(kernel, records.at("fs"), "FileSystem");
        if (device_type.is_error())
            fail(device_type.error());
        if (files_type.is_error())
            fail(files_type.error());
        auto [device_imp, device_exp] = Channel::create(device_type.value());
        auto [files_imp, files_exp] = Channel::create(files_type.value());
        auto blockdev = create_system_sip(kernel, "blockdev", logged);
        auto fs_sip = create_system_sip(kernel, "fs", logged);
        if (blockdev.is_error())
            fail(blockdev.error());
        if (fs_sip.is_error())
            fail(fs_sip.error());
        blockdev.value()->adopt_startup_handle(device_exp);
        fs_sip.value()->adopt_startup_handle(device_imp);
        fs_sip.value()->adopt_startup_handle(files_exp);
        if (auto connected = connect_to_directory(*directory, *fs_sip.value(), 1); connected.is_error())
            fail(connected.error());
        file_system = fs_sip.value();
        shell_files = files_imp;
        services.push_back(blockdev.value());
        services.push_back(fs_sip.value());
        for (auto const& sip : services) {
            if (auto started = kernel.start(*sip); started.is_error())
                fail(started.error());
        }
        std::vector<std::string> const paths = kernel.find_program_info("fs")->services;
        if (auto registered = directory->await_registration(*file_system, paths, service_registration_timeout); registered.is_error())
            fail(registered.error());
    }
    if (directory) {
        for (auto const& name : options.services) {
            if (int status = start_service(kernel, *directory, name, logged, "boot: ", directory_services); status != Success)
                std::_Exit(status);
        }
    }

    // 8. The console, with the terminal, and the shell, with console sessions for its streams.
    bool interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    auto stream_type = contract_of(kernel, records.at("console"), "Stream");
    auto console_type = contract_of(kernel, records.at("console"), "Console");
    if (stream_type.is_error())
        fail(stream_type.error());
    if (console_type.is_error())
        fail(console_type.error());
    std::string interactive_text = interactive ? "true" : "false";
    auto console = create_system_sip(kernel, "console", Stdio::host(), { { "interactive", interactive_text } });
    auto shell = create_system_sip(kernel, "shell", logged, { { "interactive", interactive_text } });
    if (console.is_error())
        fail(console.error());
    if (shell.is_error())
        fail(shell.error());
    auto [control_imp, control_exp] = Channel::create(console_type.value());
    console.value()->adopt_startup_handle(control_exp);
    shell.value()->adopt_startup_handle(control_imp);
    if (shell_files)
        shell.value()->adopt_startup_handle(shell_files);
    for (uint32_t stream = 0; stream < 3; ++stream) {
        auto [reader, writer] = Channel::create(stream_type.value());
        // stdin: the console writes, the shell reads; stdout and stderr the other way.
        console.value()->adopt_startup_handle(stream == 0 ? writer : reader);
        if (auto bound = abi::bind_stream(*shell.value(), stream, stream == 0 ? reader : writer, interactive); bound.is_error())
            fail(bound.error());
    }
    services.push_back(console.value());

    // 9. Start the console and the shell, and give the terminal to the console.
    Terminal terminal;
    if (interactive)
        terminal.enter_raw();
    for (auto const& sip : { console.value(), shell.value() }) {
        if (auto started = kernel.start(*sip); started.is_error()) {
            terminal.restore();
            fail(started.error());
        }
    }
    std::thread(watch_signals, signals, shell.value()).detach();

    // 10. Until the shell ends; then shut down: the file system commits once its
    //    last client is gone (the shell, and any --service that opened /service/fs:
    //    those are stopped first), the console prints what it was given.
    ExitInfo shell_exit = shell.value()->wait_from_host();
    for (auto const& sip : directory_services)
        kernel.kill(*sip);
    services.insert(services.end(), directory_services.begin(), directory_services.end());
    if (file_system && !file_system->wait_from_host_for(std::chrono::seconds(30)))
        print_error("boot: the file system did not finish within 30 s; stopping it");
    console.value()->wait_from_host_for(std::chrono::seconds(2));
    for (auto const& sip : services)
        kernel.kill(*sip);
    if (directory)
        directory->stop();
    for (auto const& sip : services)
        sip->wait_from_host_for(std::chrono::seconds(5));
    terminal.restore();
    std::fflush(stdout);
    int status = g_stop_requested ? Success : shell_exit.host_exit_status();
    // The kernel goes with the process: the console may still wait for a host read.
    std::_Exit(status);
}

} // namespace

Action add_boot_command(CLI::App& app)
{
    auto options = std::make_shared<BootOptions>();
    auto* command = app.add_subcommand("boot", "Boot the system: services and a shell on a system image (created on first boot)");
    command->add_option("--image", options->image, "The system image directory (default: $SIGNET_HOME/image)");
    command->add_option("--system", options->system, "Where the system programs' manifests are (default: the services next to this executable)");
    command->add_option("--install", options->install, "Also install this program (a manifest) into the image")->allow_extra_args(false);
    command->add_option("--service", options->services,
                "Start the installed program NAME after the directory and the file system, connected to the directory, once the one before has "
                "registered its services")
        ->allow_extra_args(false);
    command->add_option("--listen", options->ports,
                "Listen for port NAME, which a network driver's manifest declares, on ADDRESS:PORT (NAME=ADDRESS:PORT; port 0: any free port)")
        ->allow_extra_args(false);
    command->add_option("--workers", options->workers, "Worker threads (default: one per core)");
    return [=] { return boot(*options); };
}

} // namespace signet::cli
