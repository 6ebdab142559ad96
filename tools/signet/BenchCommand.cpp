// signet bench: the whole benchmark suite in one command, laid out as the
// paper's tables, each operation next to its Linux equivalent measured in the
// same run (docs/evaluation.md, docs/cli.md). A thin command over bench/suite.
#include "bench/suite/Suite.h"
#include "tools/signet/Commands.h"

#include <cstdio>
#include <memory>

namespace signet::cli {

Action add_bench_command(CLI::App& app)
{
    auto* command = app.add_subcommand("bench", "Run the benchmark suite: Signet next to Linux, as the paper's tables");
    auto options = std::make_shared<bench::SuiteOptions>();
    command->add_flag("--quick", options->quick, "Fewer repetitions: the whole suite in under a minute");
    command->add_option("--json", options->json_path, "Also write every measurement to FILE as JSON")->option_text("FILE");
    command->add_option("--plot", options->plot_dir, "Also draw PNG charts (gnuplot) into DIR")->option_text("DIR");
    std::string parts;
    for (auto const& part : bench::suite_parts())
        parts += (parts.empty() ? "" : ", ") + part;
    command->add_option("--only", options->only, "Run only these parts: " + parts)->option_text("NAME...");

    return [options] {
        // A chart that cannot be drawn is known before minutes of measuring.
        if (!options->plot_dir.empty()) {
            if (auto gnuplot = bench::check_gnuplot(); gnuplot.is_error()) {
                print_error(gnuplot.error().message());
                return int(Failure);
            }
        }
        auto result = bench::run_suite(*options, stdout);
        if (result.is_error()) {
            print_error(result.error().message());
            return int(result.error().kind() == ErrorKind::InvalidInput ? BadInput : Failure);
        }
        bench::print_suite_tables(result.value(), stdout);
        int status = result.value().failures.empty() ? Success : Failure;
        if (!options->json_path.empty()) {
            if (auto written = bench::write_suite_json(result.value(), *options, options->json_path); written.is_error()) {
                print_error(written.error().message());
                status = Failure;
            } else {
                std::printf("wrote %s\n", options->json_path.c_str());
            }
        }
        if (!options->plot_dir.empty()) {
            if (auto drawn = bench::write_suite_plots(result.value(), options->plot_dir); drawn.is_error()) {
                print_error(drawn.error().message());
                status = Failure;
            } else {
                std::printf("drew %s/payload.png and %s/table8.png\n", options->plot_dir.c_str(), options->plot_dir.c_str());
            }
        }
        if (!result.value().failures.empty())
            print_error(std::to_string(result.value().failures.size()) + " measurement(s) failed; their rows are missing");
        return status;
    };
}

} // namespace signet::cli
