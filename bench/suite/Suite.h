// The whole benchmark suite in one run, laid out as the paper's tables
// (docs/evaluation.md): every area's measurements (foundation, scheduler,
// channels, exchange, domains, net), round trips across cores, and the code size that tree
// shaking removes, each next to its Linux equivalent measured in the same run
// and to the ratio Singularity reported against Linux. `signet bench` is a thin
// command over this.
#pragma once

#include "base/ErrorOr.h"
#include "bench/Harness.h"

#include <cstdio>
#include <string>
#include <vector>

namespace signet::bench {

struct SuiteOptions {
    // Fewer repetitions everywhere: the whole suite in under a minute (after the
    // first run, which installs the guests).
    bool quick { false };
    // Run only these parts (see suite_parts()); empty: all of them.
    std::vector<std::string> only;
    std::string json_path; // empty: no JSON
    std::string plot_dir;  // empty: no charts
};

// The parts, in the order they run: abi, spawn, compute, yield, channels,
// crosscore, exchange, domains, net, treeshake.
std::vector<std::string> const& suite_parts();

// The gnuplot terminal that draws PNG files here ("pngcairo" or "png"), or an
// Error saying what to install.
ErrorOr<std::string> check_gnuplot();

// One measurement as the suite reports it.
struct SuiteRow {
    std::string table;        // "8", "9", "compute", "isolation", "files", "other"
    std::string area;         // the benchmark that measured it: "foundation", "channels", ...
    Measurement measurement;  // times in ns, as the area reported them
    // Linux / Singularity in the paper for this operation (Table 8 or 9); 0: the paper has none.
    double paper_ratio { 0 };
    std::string paper_source; // "Table 8: API call (91 vs 437 cycles)"
    // The x of the payload sweep (bytes), 0 elsewhere (a Table 8 row may be a point
    // of it too); "block" or "inline" for the two kinds of payload.
    uint64_t payload_bytes { 0 };
    std::string payload_kind;
};

// The Table 7 analogue: one module's code before and after the installer's tree shaking.
struct CodeSizeRow {
    std::string program; // the module's name: "hello", "blockdev"
    std::string kind;    // "example" or "service"
    std::string module_path;
    uint64_t file_bytes { 0 };   // the module as linked, custom sections included
    uint64_t whole_bytes { 0 };  // re-encoded without custom sections: what tree shaking starts from
    uint64_t shaken_bytes { 0 }; // after tree shaking to `_start`, as a manifest install does
    // For a program on the C library (WASI personality): the whole of wasi-libc with every
    // symbol exported, which an open process would have to carry. A lower bound of such a
    // process's code (its own code comes on top); 0 for programs without the C library.
    uint64_t open_bytes { 0 };
    std::string problem;         // why it could not be measured (the other fields are then 0)

    double reduction() const { return whole_bytes ? 1.0 - double(shaken_bytes) / double(whole_bytes) : 0; }
    // At least this much smaller than the open process (0 when open_bytes is unknown).
    double reduction_from_open() const { return open_bytes ? 1.0 - double(shaken_bytes) / double(open_bytes) : 0; }
};

struct SuiteResult {
    std::vector<SuiteRow> rows;
    std::vector<CodeSizeRow> code_sizes;
    std::vector<std::string> failures;
    std::string machine_json { "{}" };
    std::string machine_summary;
    double seconds { 0 };
};

// Runs the suite, printing each part's details to `out` as it runs. An Error
// means it could not run at all (a bad part name); a part that failed is in
// `failures`, and the others still run.
ErrorOr<SuiteResult> run_suite(SuiteOptions const&, FILE* out);

// The paper-style tables.
void print_suite_tables(SuiteResult const&, FILE* out);
ErrorOr<void> write_suite_json(SuiteResult const&, SuiteOptions const&, std::string const& path);
// payload.png (the sweep, log-log) and table8.png (ratios against the paper's), with
// their data and gnuplot script beside them.
ErrorOr<void> write_suite_plots(SuiteResult const&, std::string const& directory);

// Round trips between two cores (a pair of SIPs on two workers, pipes and a futex
// between two CPUs): the parts of the suite that no area measures.
void run_cross_core_bench(bool quick, Report&);
// The Table 7 analogue over every module found under the build tree's examples/
// and services/ (discovered at run time: whatever has been built is measured).
std::vector<CodeSizeRow> measure_code_sizes(Report&);

} // namespace signet::bench
