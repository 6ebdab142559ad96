// signet-bench-channels: channel round trips between SIPs next to pipes and a
// futex between Linux processes and threads (docs/channels.md). A thin main
// over bench/channels/ChannelBench.h, in the style of signet-bench-foundation.
#include "bench/channels/ChannelBench.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>

namespace {

// FIXME: Report::write_json names every run "foundation"; until it takes the
// benchmark's name, the label is corrected here.
signet::ErrorOr<void> relabel_json(std::string const& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string json = text.str();
    std::string const label = "\"benchmark\": \"foundation\"";
    if (auto at = json.find(label); at != std::string::npos)
        json.replace(at, label.size(), "\"benchmark\": \"channels\"");
    std::ofstream out(path, std::ios::trunc);
    out << json;
    if (!out)
        return signet::Error::io("cannot write " + path);
    return {};
}

} // namespace

int main(int argc, char** argv)
{
    using namespace signet::bench;
    ChannelBenchOptions options;
    std::string json_path;
    CLI::App app { "Signet's channel benchmark: message round trips between SIPs next to pipes and a futex on Linux" };
    app.add_flag("--quick", options.quick, "Fewer, shorter batches: the whole run takes under ~15 s");
    app.add_option("--json", json_path, "Also write the measurements to FILE as JSON")->option_text("FILE");
    app.add_option("--cpu", options.cpu, "Pin to this CPU (default: the last one allowed)")->option_text("CPU");
    app.add_option("--store", options.store_dir, "Install the guest into this store (default: the build tree's)")->option_text("DIR");
    CLI11_PARSE(app, argc, argv);

    Report report(stdout);
    std::string machine_json = "{}";
    auto ran = run_channel_benchmarks(options, report, machine_json);
    if (ran.is_error()) {
        std::fprintf(stderr, "signet-bench-channels: %s\n", ran.error().message().c_str());
        return 1;
    }
    report.print_table();
    std::printf("Every row here: ratio = linux/signet (higher: Signet cheaper), of each side's fastest batch.\n");
    if (!json_path.empty()) {
        auto written = report.write_json(json_path, machine_json);
        if (!written.is_error())
            written = relabel_json(json_path);
        if (written.is_error()) {
            std::fprintf(stderr, "signet-bench-channels: %s\n", written.error().message().c_str());
            return 1;
        }
    }
    if (!report.failures().empty()) {
        std::fprintf(stderr, "signet-bench-channels: %zu measurement(s) failed; their rows are missing\n", report.failures().size());
        return 1;
    }
    return 0;
}
