// The golden tests: every tests/contracts/golden/*.contract generates exactly
// its .h, and every tests/contracts/errors/*.contract fails with exactly the
// diagnostics of its .expected. contracts/regen-goldens.sh rewrites both.
#include "CheckSource.h"

#include "base/File.h"
#include "contracts/CGenerator.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace signet::contracts;

namespace {

std::vector<std::string> inputs_in(std::string const& directory)
{
    std::vector<std::string> inputs;
    for (auto const& entry : std::filesystem::directory_iterator(directory)) {
        if (entry.path().extension() == ".contract")
            inputs.push_back(entry.path().string());
    }
    std::sort(inputs.begin(), inputs.end());
    return inputs;
}

std::string read(std::string const& path)
{
    auto text = signet::read_text_file(path);
    EXPECT_FALSE(text.is_error()) << text.error().message();
    return text.is_error() ? std::string() : text.release_value();
}

std::string replace_all(std::string text, std::string const& from, std::string const& to)
{
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

}

TEST(ContractGoldens, EachContractGeneratesItsExpectedHeaderByteForByte)
{
    auto inputs = inputs_in(test_directory + "/golden");
    ASSERT_GE(inputs.size(), 4u);
    for (auto const& input : inputs) {
        SCOPED_TRACE(input);
        auto result = check(input);
        ASSERT_TRUE(result.ok()) << result.diagnostics_text();
        auto header = generate_c(*result.file);
        std::string expected_path = std::filesystem::path(input).replace_extension(".h").string();
        EXPECT_EQ(header.file_name, std::filesystem::path(expected_path).filename().string());
        EXPECT_TRUE(header.text == read(expected_path)) << input << " no longer generates " << expected_path
                                                        << "; if the change is intended, run contracts/regen-goldens.sh and review the diff";
    }
}

TEST(ContractGoldens, EachBadContractGetsExactlyItsExpectedDiagnostics)
{
    std::string directory = test_directory + "/errors";
    auto inputs = inputs_in(directory);
    ASSERT_GE(inputs.size(), 30u);
    for (auto const& input : inputs) {
        SCOPED_TRACE(input);
        auto result = check(input);
        EXPECT_FALSE(result.ok());
        // The expectations name files relative to the errors directory.
        std::string diagnostics = replace_all(result.diagnostics_text(), directory + "/", "");
        std::string expected_path = std::filesystem::path(input).replace_extension(".expected").string();
        EXPECT_EQ(diagnostics, read(expected_path));
    }
}
