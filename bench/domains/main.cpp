// signet-bench-domains: what a protection domain costs (docs/protection-domains.md,
// docs/benchmarks.md). A thin main over bench/domains/DomainBench.h.
#include "bench/domains/DomainBench.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace signet::bench;
    CommonOptions common;
    CLI::App app { "What a protection domain costs: ABI calls, message round trips and SIP start with SIPs in the kernel domain and in domains of "
                   "their own, next to Linux" };
    add_common_options(app, common, "Fewer repetitions: the whole run takes a few seconds");
    std::vector<std::string> parts;
    app.add_option("--part", parts, "Run only these parts: calls, round-trips, starts (default: all)")->option_text("PART...");
    CLI11_PARSE(app, argc, argv);
    Report report(stdout, "domains");
    auto ran = run_domain_benchmarks({ .quick = common.quick, .cpu = common.cpu, .store_dir = common.store_dir, .parts = parts }, report);
    return finish_run("signet-bench-domains", ran, report, "{}", common);
}
