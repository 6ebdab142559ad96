#include "contracts/ContractTool.h"

#include "base/File.h"
#include "contracts/CGenerator.h"
#include "contracts/Checker.h"

#include <filesystem>

namespace signet::contracts {

int contract_check_main(std::vector<std::string> const& files, std::ostream& out, std::ostream& err)
{
    if (files.empty()) {
        err << "contract check: no contract files given\n";
        return 1;
    }
    bool failed = false;
    for (auto const& file : files) {
        auto result = check(file);
        if (!result.ok()) {
            err << result.diagnostics_text();
            failed = true;
            continue;
        }
        for (auto const& checked : result.file->contracts) {
            auto const& contract = checked.contract;
            out << result.file->path << ": contract " << contract.name << ": " << contract.messages.size() << " messages, "
                << contract.machine.states.size() << " protocol states; queue bounds: exporter->importer "
                << contract.bounds.exporter_to_importer << ", importer->exporter " << contract.bounds.importer_to_exporter << "\n";
        }
    }
    return failed ? 1 : 0;
}

// Make's syntax wants spaces, '#' and '$' escaped in file names.
static std::string make_escaped(std::string const& path)
{
    std::string escaped;
    for (char c : path) {
        if (c == ' ' || c == '#')
            escaped += '\\';
        if (c == '$')
            escaped += '$';
        escaped += c;
    }
    return escaped;
}

static ErrorOr<void> write_if_changed(std::string const& path, std::string const& text)
{
    if (auto existing = read_text_file(path); !existing.is_error() && existing.value() == text)
        return {};
    return write_file_atomic(path, text);
}

int contract_gen_main(std::string const& lang, std::string const& file, std::string const& out_dir, std::ostream&, std::ostream& err,
    std::string const& depfile)
{
    if (lang != "c") {
        err << "contract gen: unknown language '" << lang << "'; the generator knows 'c'\n";
        return 1;
    }
    auto result = check(file);
    if (!result.ok()) {
        err << result.diagnostics_text();
        return 1;
    }
    auto header = generate_c(*result.file);
    std::string header_path = (std::filesystem::path(out_dir) / header.file_name).string();
    auto written = [&]() -> ErrorOr<void> {
        TRY(make_directories(out_dir));
        TRY(write_if_changed(header_path, header.text));
        if (!depfile.empty()) {
            std::string rule = make_escaped(header_path) + ":";
            for (auto const& source : result.file->sources)
                rule += " " + make_escaped(source);
            TRY(write_if_changed(depfile, rule + "\n"));
        }
        return {};
    }();
    if (written.is_error()) {
        err << "contract gen: " << written.error().message() << "\n";
        return 1;
    }
    return 0;
}

} // namespace signet::contracts
