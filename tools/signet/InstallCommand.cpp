#include "base/Size.h"
#include "installer/Installer.h"
#include "installer/Programs.h"
#include "tools/signet/Commands.h"

#include <fmt/format.h>

namespace signet::cli {

namespace {

std::string human_size(uint64_t bytes)
{
    if (bytes >= 1024 * 1024)
        return fmt::format("{:.1f} MiB", double(bytes) / (1024.0 * 1024.0));
    if (bytes >= 1024)
        return fmt::format("{:.1f} KiB", double(bytes) / 1024.0);
    return fmt::format("{} B", bytes);
}

} // namespace

Action add_install_command(CLI::App& app)
{
    auto* command = app.add_subcommand("install", "Install programs from manifests (.toml), or verify and compile bare modules (.wasm)");
    auto files = std::make_shared<std::vector<std::string>>();
    command->add_option("files", *files, "Manifests (.toml) or WebAssembly modules (.wasm)")->required();
    auto no_shake = std::make_shared<bool>(false);
    command->add_flag("--no-tree-shake", *no_shake, "Keep unused code");

    return [=] {
        installer::InstallOptions options;
        options.store_dir = installer::default_store_dir();
        options.tree_shake = !*no_shake;
        int status = Success;
        for (auto const& file : *files) {
            if (file.size() > 5 && file.ends_with(".toml")) {
                auto program = installer::install_program(file, options);
                if (program.is_error()) {
                    print_error(program.error().message());
                    status = program.error().kind() == ErrorKind::InvalidInput || program.error().kind() == ErrorKind::Limit ? BadInput : Failure;
                    continue;
                }
                fmt::print("installed program {}\n", program.value().manifest.name);
                print_program(program.value());
                continue;
            }
            auto installed = installer::install_file(file, options);
            if (installed.is_error()) {
                print_error(installed.error().message());
                status = installed.error().kind() == ErrorKind::InvalidInput || installed.error().kind() == ErrorKind::Limit ? BadInput : Failure;
                continue;
            }
            auto const& info = installed.value();
            double saved = info.module_bytes ? 100.0 * (1.0 - double(info.shaken_bytes) / double(info.module_bytes)) : 0.0;
            fmt::print("installed {}: {} ({}; {} -> {} after tree shaking, {:.1f}% removed){}\n", file, info.module_hash.substr(0, 16),
                installer::personality_name(info.personality), human_size(info.module_bytes), human_size(info.shaken_bytes), saved,
                info.was_cached ? ", already in the store" : "");
            for (auto const& warning : info.warnings)
                fmt::print("  note: {}\n", warning);
        }
        return status;
    };
}

} // namespace signet::cli
