// signet: the command-line face of the kernel, the installer and the contract compiler.
#include "contracts/ContractTool.h"
#include "tools/signet/Commands.h"

#include <iostream>

using namespace signet;

namespace {

cli::Action add_contract_command(CLI::App& app)
{
    auto* contract = app.add_subcommand("contract", "Check contracts or generate bindings from them");
    contract->require_subcommand(1);

    auto files = std::make_shared<std::vector<std::string>>();
    auto* check = contract->add_subcommand("check", "Check contract files; exit 1 with diagnostics if any is wrong");
    check->add_option("files", *files, "Contract files")->required();

    struct Gen {
        std::string lang { "c" };
        std::string file;
        std::string out_dir { "." };
    };
    auto gen_options = std::make_shared<Gen>();
    auto* gen = contract->add_subcommand("gen", "Generate bindings for SIP code from a contract file");
    gen->add_option("--lang", gen_options->lang, "Target language (c)")->capture_default_str();
    gen->add_option("file", gen_options->file, "Contract file")->required();
    gen->add_option("-o,--output", gen_options->out_dir, "Output directory")->capture_default_str();

    return [=] {
        if (*check)
            return contracts::contract_check_main(*files, std::cout, std::cerr);
        return contracts::contract_gen_main(gen_options->lang, gen_options->file, gen_options->out_dir, std::cout, std::cerr);
    };
}

} // namespace

void signet::cli::print_error(std::string const& message)
{
    std::cerr << "signet: " << message << "\n";
}

int main(int argc, char** argv)
{
    CLI::App app { "Signet: a sealed-process operating system hosted on Linux.\n"
                   "Programs are WebAssembly modules, verified and compiled at install time, run as\n"
                   "software-isolated processes that share nothing and talk only over typed channels." };
    app.set_version_flag("--version", std::string("signet ") + SIGNET_VERSION);
    app.require_subcommand(1);

    std::vector<std::pair<CLI::App*, cli::Action>> commands;
    auto run = cli::add_run_command(app);
    commands.emplace_back(app.get_subcommand("run"), run);
    auto install = cli::add_install_command(app);
    commands.emplace_back(app.get_subcommand("install"), install);
    auto programs = cli::add_program_commands(app);
    for (char const* name : { "uninstall", "list", "show" })
        commands.emplace_back(app.get_subcommand(name), programs);
    auto boot = cli::add_boot_command(app);
    commands.emplace_back(app.get_subcommand("boot"), boot);
    auto contract = add_contract_command(app);
    commands.emplace_back(app.get_subcommand("contract"), contract);
#ifdef SIGNET_HAS_BENCH
    auto bench = cli::add_bench_command(app);
    commands.emplace_back(app.get_subcommand("bench"), bench);
#endif

    try {
        app.parse(argc, argv);
    } catch (CLI::CallForHelp const& e) {
        return app.exit(e);
    } catch (CLI::CallForAllHelp const& e) {
        return app.exit(e);
    } catch (CLI::CallForVersion const& e) {
        return app.exit(e);
    } catch (CLI::ParseError const& e) {
        cli::print_error(e.what());
        std::cerr << "Run 'signet --help' for usage.\n";
        return cli::BadInput;
    }

    for (auto& [command, action] : commands) {
        if (command->parsed())
            return action();
    }
    return cli::BadInput;
}
