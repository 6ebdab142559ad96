// Helpers the contract tests share: checking source text held in memory.
#pragma once

#include "contracts/Checker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

namespace signet::contracts {

// Checks `text` as the file "test.contract"; `imports` adds more files by path.
inline CheckResult check_source(std::string const& text, std::vector<std::pair<std::string, std::string>> const& imports = {})
{
    MemorySources sources;
    sources.add("test.contract", text);
    for (auto const& [path, contents] : imports)
        sources.add(path, contents);
    return check("test.contract", sources);
}

// The checked contract named `name`, failing the test if the source has errors.
inline Contract checked_contract(std::string const& text, std::string const& name)
{
    auto result = check_source(text);
    EXPECT_TRUE(result.ok()) << result.diagnostics_text();
    if (!result.ok())
        return {};
    for (auto const& checked : result.file->contracts) {
        if (checked.contract.name == name)
            return checked.contract;
    }
    ADD_FAILURE() << "no contract " << name;
    return {};
}

// The first diagnostic's message, or "" if the source checks.
inline std::string first_error(std::string const& text)
{
    auto result = check_source(text);
    return result.diagnostics.empty() ? std::string() : result.diagnostics.front().to_string();
}

// Whether a diagnostic reads `file:line:col: error: message`, on one line.
inline bool is_well_formed(Diagnostic const& diagnostic)
{
    std::string prefix = diagnostic.file + ":" + std::to_string(diagnostic.location.line) + ":" + std::to_string(diagnostic.location.column) + ": error: ";
    std::string text = diagnostic.to_string();
    return !diagnostic.file.empty() && diagnostic.file.find_first_of(":\n") == std::string::npos && diagnostic.location.line >= 1
        && diagnostic.location.column >= 1 && !diagnostic.message.empty() && diagnostic.message.find('\n') == std::string::npos
        && text.starts_with(prefix);
}

inline std::string const test_directory = SIGNET_CONTRACTS_TEST_DIR;

// A fresh directory under the system's temporary directory, removed with everything in it at the end of its scope.
class ScratchDirectory {
public:
    explicit ScratchDirectory(std::string const& name)
        : m_path(std::filesystem::temp_directory_path() / ("signet-contracts-" + name + "-" + std::to_string(::getpid())))
    {
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~ScratchDirectory()
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    ScratchDirectory(ScratchDirectory const&) = delete;
    ScratchDirectory& operator=(ScratchDirectory const&) = delete;

    std::string path(std::string const& name = {}) const { return name.empty() ? m_path.string() : (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

} // namespace signet::contracts
