// signet_spec_tests: runs the WebAssembly core spec tests (.wast scripts)
// through Signet's install pipeline and kernel. See ScriptRunner.h for how,
// docs/conformance.md for the results and what is skipped.
//
//   signet_spec_tests [options] [SCRIPT...]     run scripts (all when none named)
//   signet_spec_tests --summary DIR             total the per-file results in DIR
//
// A SCRIPT is a path, or a file name inside the data folder. Exit status: 0 when
// every failure is a known one, 1 otherwise, 77 (ctest's SKIP_RETURN_CODE) when
// the test data is absent.
#include "base/File.h"
#include "kernel/Kernel.h"
#include "tests/spec/ScriptRunner.h"
#include "tests/spec/WastScript.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace signet;
using namespace signet::spec;

namespace {

constexpr int exit_skipped = 77;

std::string default_data_dir()
{
    if (char const* testdata = std::getenv("SIGNET_TESTDATA"); testdata && *testdata)
        return std::string(testdata) + "/wasm-spec";
    return SIGNET_SPEC_DEFAULT_DATA_DIR;
}

ErrorOr<std::set<std::string>> read_known_failures(std::string const& path)
{
    std::set<std::string> known;
    if (path.empty())
        return known;
    auto text = TRY(read_text_file(path));
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#')
            continue;
        auto end = line.find_first_of(" \t", start);
        known.insert(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    }
    return known;
}

std::string counts_line(uint64_t passed, uint64_t failed, uint64_t skipped)
{
    return std::to_string(passed) + " passed, " + std::to_string(failed) + " failed, " + std::to_string(skipped) + " skipped";
}

// The results file a ctest run leaves for the summary: a counts line, then one
// line per skip reason.
std::string results_text(FileReport const& report)
{
    std::string out = report.name + " " + std::to_string(report.passed) + " " + std::to_string(report.failed) + " "
        + std::to_string(report.skipped) + " " + std::to_string(report.known_failures) + "\n";
    for (auto const& [reason, count] : report.skip_reasons)
        out += "skip " + std::to_string(count) + " " + reason + "\n";
    return out;
}

void print_skip_reasons(std::map<std::string, uint64_t> const& reasons)
{
    for (auto const& [reason, count] : reasons)
        std::printf("  skipped %llu: %s\n", static_cast<unsigned long long>(count), reason.c_str());
}

int summarize(std::string const& directory)
{
    std::vector<fs::path> files;
    std::error_code error;
    for (auto const& entry : fs::directory_iterator(directory, error)) {
        if (entry.path().extension() == ".result")
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::printf("spec: skipped: no results in %s (the spec tests did not run)\n", directory.c_str());
        return exit_skipped;
    }
    uint64_t passed = 0, failed = 0, skipped = 0, known = 0;
    std::map<std::string, uint64_t> reasons;
    for (auto const& file : files) {
        std::ifstream in(file);
        std::string name;
        uint64_t p = 0, f = 0, s = 0, k = 0;
        if (!(in >> name >> p >> f >> s >> k))
            continue;
        std::printf("%s: %s\n", name.c_str(), counts_line(p, f, s).c_str());
        passed += p;
        failed += f;
        skipped += s;
        known += k;
        std::string word;
        uint64_t count = 0;
        while (in >> word >> count) {
            std::string reason;
            std::getline(in, reason);
            reasons[reason.substr(reason.find_first_not_of(' '))] += count;
        }
    }
    print_skip_reasons(reasons);
    if (known)
        std::printf("%llu of the failures are known (docs/conformance.md)\n", static_cast<unsigned long long>(known));
    std::printf("%s\n", counts_line(passed, failed, skipped).c_str());
    return failed == known ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app { "Runs the WebAssembly spec tests through Signet's installer and kernel" };
    std::vector<std::string> scripts;
    std::string data_dir = default_data_dir();
    std::string store_dir = SIGNET_SPEC_DEFAULT_STORE_DIR;
    std::string known_failures_path = SIGNET_SPEC_KNOWN_FAILURES;
    std::string results_dir;
    std::string summary_dir;
    std::string expected_totals;
    std::string optimization = "-O0";
    bool tree_shake = false;
    bool verbose = false;
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    unsigned sip_time_limit = 60;
    app.add_option("scripts", scripts, "Scripts to run (paths, or names in the data folder); all when none");
    app.add_option("--data-dir", data_dir, "The wasm-spec folder ($SIGNET_TESTDATA/wasm-spec by default)")->capture_default_str();
    app.add_option("--store", store_dir, "The image store (reused between runs)")->capture_default_str();
    app.add_option("--optimization", optimization, "C compiler flags for the images")->capture_default_str();
    app.add_flag("--tree-shake", tree_shake, "Tree-shake modules with binaryen as real installs do");
    app.add_option("--jobs", jobs, "Modules installed at once")->capture_default_str();
    app.add_option("--sip-time-limit", sip_time_limit, "Seconds a SIP may run before it is killed and its call fails")->capture_default_str();
    app.add_option("--known-failures", known_failures_path, "The list of known failures")->capture_default_str();
    app.add_option("--results-dir", results_dir, "Leave each file's counts here, for --summary");
    app.add_option("--summary", summary_dir, "Print the totals of the results left in this folder, run nothing");
    app.add_option("--expect", expected_totals, "Succeed exactly when the totals are these (\"N passed, N failed, N skipped\"): for the harness's self-test");
    app.add_flag("-v,--verbose", verbose, "Print every skip and expected refusal");
    CLI11_PARSE(app, argc, argv);

    if (!summary_dir.empty())
        return summarize(summary_dir);

    // Scripts given as paths (the self-test) need no data folder; the suite's do.
    bool needs_data = scripts.empty();
    for (auto const& script : scripts)
        needs_data = needs_data || !fs::exists(script);
    if (needs_data && !fs::is_directory(data_dir)) {
        std::printf("spec: skipped: no WebAssembly spec test data at %s (set SIGNET_TESTDATA to the testdata folder)\n", data_dir.c_str());
        return exit_skipped;
    }
    std::vector<fs::path> paths;
    if (scripts.empty()) {
        for (auto const& entry : fs::directory_iterator(data_dir)) {
            if (entry.path().extension() == ".wast")
                paths.push_back(entry.path());
        }
        std::sort(paths.begin(), paths.end());
    }
    for (auto const& script : scripts)
        paths.push_back(fs::exists(script) ? fs::path(script) : fs::path(data_dir) / script);

    auto known_failures = read_known_failures(known_failures_path);
    if (known_failures.is_error()) {
        std::fprintf(stderr, "spec: %s\n", known_failures.error().message().c_str());
        return 1;
    }

    RunnerOptions options;
    options.install.store_dir = store_dir;
    options.install.optimization = optimization;
    options.install.tree_shake = tree_shake;
    options.jobs = jobs;
    options.sip_time_limit_seconds = sip_time_limit;
    options.known_failures = known_failures.release_value();
    options.verbose = verbose;

    auto kernel = Kernel::create({ .workers = 1, .diagnostics = quiet_diagnostics() });
    if (kernel.is_error()) {
        std::fprintf(stderr, "spec: %s\n", kernel.error().message().c_str());
        return 1;
    }
    ScriptRunner runner(*kernel.value(), options);

    auto started = std::chrono::steady_clock::now();
    uint64_t passed = 0, failed = 0, skipped = 0, known = 0;
    std::map<std::string, uint64_t> reasons;
    bool ok = true;
    for (auto const& path : paths) {
        std::string name = path.filename().string();
        auto script = WastScript::parse(path.string());
        FileReport report;
        report.name = name;
        if (script.is_error()) {
            report.failed = 1;
            report.failures.push_back(name + ": " + script.error().message());
        } else {
            report = runner.run(script.value(), name);
        }
        for (auto const& failure : report.failures)
            std::printf("%s\n", failure.c_str());
        for (auto const& location : report.stale_known_failures)
            std::printf("%s: no longer fails, but is listed as a known failure: remove it from %s and docs/conformance.md\n", location.c_str(), known_failures_path.c_str());
        std::printf("%s: %s\n", name.c_str(), counts_line(report.passed, report.failed, report.skipped).c_str());
        if (verbose || paths.size() == 1) {
            std::map<std::string, uint64_t> file_reasons(report.skip_reasons.begin(), report.skip_reasons.end());
            print_skip_reasons(file_reasons);
        }
        std::fflush(stdout);
        if (!results_dir.empty()) {
            if (auto made = make_directories(results_dir); made.is_error())
                std::fprintf(stderr, "spec: %s\n", made.error().message().c_str());
            else if (auto written = write_file_atomic(results_dir + "/" + name + ".result", results_text(report)); written.is_error())
                std::fprintf(stderr, "spec: %s\n", written.error().message().c_str());
        }
        passed += report.passed;
        failed += report.failed;
        skipped += report.skipped;
        known += report.known_failures;
        for (auto const& [reason, count] : report.skip_reasons)
            reasons[reason] += count;
        ok = ok && report.ok();
    }
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (paths.size() > 1) {
        print_skip_reasons(reasons);
        if (known)
            std::printf("%llu of the failures are known (docs/conformance.md)\n", static_cast<unsigned long long>(known));
    }
    std::fprintf(stderr, "spec: %.1f s\n", seconds);
    std::string totals = counts_line(passed, failed, skipped);
    std::printf("%s\n", totals.c_str());
    if (!expected_totals.empty()) {
        if (totals == expected_totals)
            return 0;
        std::printf("spec: expected %s\n", expected_totals.c_str());
        return 1;
    }
    return ok ? 0 : 1;
}
