// The Table 7 analogue: how much of each program's code the installer's tree
// shaking removes. A sealed program can be shaken down to what its entry point
// reaches, because nothing will ever be loaded into it later.
//
// The programs are whatever the build tree holds under examples/ and services/
// when the suite runs, found by walking those folders for .wasm modules: the
// list is never written down here. Each module goes through what a manifest
// install does to it: verification, wabt's re-encoding (no custom sections:
// the "whole" column), and binaryen's shaking down to `_start` (the "shaken"
// column). The module as built is already the output of wasm-ld, whose
// --gc-sections drops what no symbol references; docs/evaluation.md says what
// that means for the comparison. Programs on the C library are also compared
// with the whole library (bench_libc_whole.wasm): what an open process, which
// may load code later, would have to carry.
#include "base/File.h"
#include "bench/suite/Suite.h"
#include "installer/ImportPolicy.h"
#include "installer/TreeShaker.h"
#include "installer/VerifiedModule.h"

#include <algorithm>
#include <filesystem>

namespace signet::bench {

namespace {

namespace fs = std::filesystem;

std::vector<CodeSizeRow> discover(std::string const& build_dir)
{
    std::vector<CodeSizeRow> rows;
    for (auto const& [folder, kind] : { std::pair { "examples", "example" }, std::pair { "services", "service" } }) {
        fs::path root = fs::path(build_dir) / folder;
        std::error_code error;
        if (!fs::is_directory(root, error))
            continue;
        auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, error);
        for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
            if (it->is_directory() && it->path().filename() == "CMakeFiles") {
                it.disable_recursion_pending();
                continue;
            }
            if (it->is_regular_file() && it->path().extension() == ".wasm") {
                CodeSizeRow row;
                row.program = it->path().stem().string();
                row.kind = kind;
                row.module_path = it->path().string();
                rows.push_back(std::move(row));
            }
        }
    }
    std::sort(rows.begin(), rows.end(), [](auto const& a, auto const& b) { return std::tie(a.kind, a.program) < std::tie(b.kind, b.program); });
    return rows;
}

// The whole library, verified and re-encoded like the programs (no custom sections).
ErrorOr<uint64_t> open_library_bytes()
{
    auto bytes = TRY(read_file(SIGNET_BENCH_LIBC_WHOLE, 64ull * 1024 * 1024));
    auto verified = TRY(installer::VerifiedModule::verify(bytes, SIGNET_BENCH_LIBC_WHOLE, installer::ImportPolicy::signet_default()));
    auto whole = TRY(verified.encode());
    return whole.size();
}

ErrorOr<void> measure(CodeSizeRow& row, uint64_t open_library)
{
    auto bytes = TRY(read_file(row.module_path, 64ull * 1024 * 1024));
    row.file_bytes = bytes.size();
    auto policy = installer::ImportPolicy::signet_default();
    auto verified = TRY(installer::VerifiedModule::verify(bytes, row.module_path, policy));
    if (verified.has_block_parameters())
        return Error(ErrorKind::Unsupported, "binaryen 108 cannot read blocks with parameters");
    auto whole = TRY(verified.encode());
    auto shaken = TRY(installer::tree_shake(whole, { "_start" }));
    // What the installer would do next: verify the shaken module again.
    TRY(installer::VerifiedModule::verify(shaken, row.module_path + " (tree-shaken)", policy));
    row.whole_bytes = whole.size();
    row.shaken_bytes = shaken.size();
    if (verified.personality() == installer::Personality::Wasi)
        row.open_bytes = open_library;
    return {};
}

} // namespace

std::vector<CodeSizeRow> measure_code_sizes(Report& report)
{
    std::string const build_dir = SIGNET_BENCH_BUILD_DIR;
    auto rows = discover(build_dir);
    report.section("tree shaking: " + std::to_string(rows.size()) + " modules under " + build_dir + "/examples and /services");
    if (rows.empty())
        report.failure("treeshake: no .wasm module under " + build_dir + "/examples or /services (build the examples first)");
    auto open_library = open_library_bytes();
    if (open_library.is_error())
        report.detail("the whole C library: not measured: " + open_library.error().message());
    else
        report.detail("the whole of wasi-libc, every symbol exported (what an open process carries): "
            + std::to_string(open_library.value()) + " B");
    for (auto& row : rows) {
        if (auto measured = measure(row, open_library.is_error() ? 0 : open_library.value()); measured.is_error()) {
            row.problem = measured.error().message();
            report.detail(row.program + ": not measured: " + row.problem);
            continue;
        }
        char line[200];
        std::snprintf(line, sizeof line, "%-28s %-8s %8llu B as built, %8llu B whole, %8llu B shaken (-%.1f%%)", row.program.c_str(), row.kind.c_str(),
            static_cast<unsigned long long>(row.file_bytes), static_cast<unsigned long long>(row.whole_bytes),
            static_cast<unsigned long long>(row.shaken_bytes), 100 * row.reduction());
        report.detail(line);
    }
    return rows;
}

} // namespace signet::bench
