#include "base/Size.h"
#include "installer/Installer.h"
#include "kernel/Kernel.h"
#include "tools/signet/Commands.h"

#include <filesystem>

namespace signet::cli {

namespace {

struct RunOptions {
    std::vector<std::string> environment;
    std::vector<std::string> programs; // NAME=PATH.wasm
    std::string memory { "256MiB" };
    std::string exchange { "64MiB" };
    std::string stack { "1MiB" };
    unsigned workers { 0 };
};

} // namespace

Action add_run_command(CLI::App& app)
{
    auto options = std::make_shared<RunOptions>();
    auto* command = app.add_subcommand("run", "Install (if needed) and run a module as a sealed process");
    command->add_option("--env", options->environment, "Give the program an environment variable K=V (it sees no others)")->allow_extra_args(false);
    command->add_option("--program", options->programs, "Let SIPs create children from PATH.wasm by NAME (NAME=PATH.wasm)")->allow_extra_args(false);
    command->add_option("--memory", options->memory, "Most linear memory the program may use, e.g. 64MiB")->capture_default_str();
    command->add_option("--exchange-heap", options->exchange, "Most exchange-heap blocks the program may own at once, e.g. 16MiB")->capture_default_str();
    command->add_option("--stack", options->stack, "Native stack of the program's thread, e.g. 512KiB")->capture_default_str();
    command->add_option("--workers", options->workers, "Worker threads (default: one per core)");
    // Everything from the module on belongs to the program, options included.
    command->prefix_command();

    return [=, command = command] {
        auto rest = command->remaining();
        if (rest.empty()) {
            print_error("run: which module? Usage: signet run [--env K=V]... [--memory SIZE] PROG.wasm [ARGS...]");
            return int(BadInput);
        }
        std::string const program = rest.front();

        for (auto const& entry : options->environment) {
            auto equals = entry.find('=');
            if (equals == std::string::npos || equals == 0) {
                print_error("--env '" + entry + "': expected KEY=VALUE");
                return int(BadInput);
            }
        }
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
        auto stack = parse_size(options->stack);
        if (stack.is_error() || stack.value() < 64 * 1024 || stack.value() > (256ull << 20)) {
            print_error("--stack: expected a size between 64KiB and 256MiB");
            return int(BadInput);
        }

        std::vector<std::pair<std::string, std::string>> programs; // name, path
        for (auto const& entry : options->programs) {
            auto equals = entry.find('=');
            if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
                print_error("--program '" + entry + "': expected NAME=PATH.wasm");
                return int(BadInput);
            }
            programs.emplace_back(entry.substr(0, equals), entry.substr(equals + 1));
        }

        auto kernel = Kernel::create({ .workers = options->workers, .diagnostics = {} });
        if (kernel.is_error()) {
            print_error(kernel.error().message());
            return int(Failure);
        }
        // Installs a module and maps its image; on failure, prints why and gives the exit status.
        auto load = [&](std::string const& path, std::shared_ptr<Image>& out) -> int {
            installer::InstallOptions install_options;
            install_options.store_dir = installer::default_store_dir();
            auto installed = installer::install_file(path, install_options);
            if (installed.is_error()) {
                print_error(installed.error().message());
                auto kind = installed.error().kind();
                return int(kind == ErrorKind::InvalidInput || kind == ErrorKind::Limit ? BadInput : Failure);
            }
            auto image = kernel.value()->load_image(installed.value().image_path, installed.value().module_hash);
            if (image.is_error()) {
                print_error(image.error().message() + " (reinstall with 'signet install " + path + "')");
                return int(Failure);
            }
            out = image.release_value();
            return int(Success);
        };
        std::shared_ptr<Image> image;
        if (int status = load(program, image); status != Success)
            return status;
        kernel.value()->register_program(std::filesystem::path(program).stem().string(), image);
        for (auto const& [name, path] : programs) {
            std::shared_ptr<Image> child_image;
            if (int status = load(path, child_image); status != Success)
                return status;
            kernel.value()->register_program(name, child_image);
        }

        SpawnRequest request;
        request.image = image;
        request.name = std::filesystem::path(program).filename().string();
        request.args.assign(rest.begin(), rest.end());
        request.environment = options->environment;
        request.stdio = Stdio::host();
        request.limits.memory_bytes = memory.value();
        request.limits.stack_bytes = stack.value();
        request.limits.exchange_bytes = exchange.value();
        auto sip = kernel.value()->spawn(std::move(request));
        if (sip.is_error()) {
            print_error(sip.error().message());
            return int(Failure);
        }
        ExitInfo exit = sip.value()->wait_from_host();
        // The kernel goes away with the process; a host read still pending on stdin must not hold it.
        std::fflush(stdout);
        std::_Exit(exit.host_exit_status());
    };
}

} // namespace signet::cli
