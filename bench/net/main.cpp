// signet-bench-net: the file-serving macrobenchmark, Signet's SIPs (net, httpd,
// fs, blockdev) next to a Linux HTTP server of the same design, in one run
// (docs/evaluation.md). A thin main over bench/net/NetBench.h.
#include "bench/net/NetBench.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace signet::bench;
    CommonOptions common;
    NetBenchOptions options;
    CLI::App app { "File serving over HTTP: Signet (net -> httpd -> fs -> blockdev SIPs) next to a Linux epoll server, the same load on both" };
    app.add_flag("--quick", common.quick, "One short window per load: a few seconds after the first boot");
    app.add_option("--json", common.json_path, "Also write the measurements to FILE as JSON")->option_text("FILE");
    app.add_option("--cpu", common.cpu, "Run both servers on this CPU (default: the last one allowed; the load generator takes another)")
        ->option_text("N");
    app.add_option("--image", options.image_dir, "Signet's system image (default: " + default_net_image_dir() + "); its disk is made anew")
        ->option_text("DIR");
    app.add_option("--workers", options.workers, "signet boot --workers (default: 1, as the Linux server has one thread)")->option_text("N");
    app.add_option("--server", options.servers, "Measure only these sides: signet, linux (default: both)")
        ->option_text("NAME...")
        ->check(CLI::IsMember({ "signet", "linux" }));
    CLI11_PARSE(app, argc, argv);
    options.quick = common.quick;
    options.cpu = common.cpu;

    Report report(stdout, "net");
    report.set_legend("times: \"per request\" rows: the measured window over the requests answered in it (1 / throughput), median of the\n"
                      "repetitions; \"latency\" rows: median over every request (p99 in the notes).\n"
                      "ratio: linux/signet time, so for \"per request\" rows signet/linux requests per second (below 1: Signet serves fewer).");
    std::string machine_json = "{}";
    auto ran = run_net_benchmark(options, report, machine_json);
    return finish_run("signet-bench-net", ran, report, machine_json, common);
}
