// Deterministic fuzzing, run on every build: thousands of mutated contracts
// through the checker and generator, and mutated descriptors through the
// decoder. Nothing may crash; every diagnostic must say where; whatever the
// checker accepts must encode and decode to itself. The libFuzzer targets in
// contracts/fuzz/ explore further when built with clang.
#include "CheckSource.h"

#include "base/File.h"
#include "contracts/CGenerator.h"
#include "contracts/Descriptor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

using namespace signet::contracts;

namespace {

std::vector<std::string> golden_sources()
{
    std::vector<std::string> sources;
    for (auto const& entry : std::filesystem::directory_iterator(test_directory + "/golden")) {
        if (entry.path().extension() == ".contract")
            sources.push_back(signet::read_text_file(entry.path().string()).release_value());
    }
    std::sort(sources.begin(), sources.end());
    return sources;
}

// Checks one input and holds the checker to its promises. Returns whether it checked.
bool check_survives(std::string const& text)
{
    MemorySources sources;
    sources.add("fuzz.contract", text);
    // Imports of the goldens resolve, and an input may import itself.
    sources.add("logger.contract", "contract Logger { out message Ready(); in message Go(); state Ready: one { Ready! -> Go? -> Ready; } }");
    auto result = check("fuzz.contract", sources);

    for (auto const& diagnostic : result.diagnostics) {
        EXPECT_TRUE(is_well_formed(diagnostic)) << diagnostic.to_string();
        EXPECT_FALSE(diagnostic.message.starts_with("internal error")) << diagnostic.to_string() << "\ninput:\n" << text;
    }
    EXPECT_EQ(result.ok(), result.diagnostics.empty());
    if (!result.ok())
        return false;
    EXPECT_FALSE(generate_c(*result.file).text.empty());
    for (auto const& checked : result.file->contracts) {
        auto decoded = decode_descriptor(encode_descriptor(checked.contract));
        EXPECT_FALSE(decoded.is_error()) << decoded.error().message() << "\ninput:\n" << text;
        EXPECT_TRUE(!decoded.is_error() && decoded.value() == checked.contract) << text;
    }
    return true;
}

std::string const vocabulary[] = {
    "contract", "import", "in", "out", "message", "state", "one", "or", "{", "}", "(", ")", "<", ">", ";", ":", ",", ".",
    "->", "?", "!", "Start", "Done", "Add", "Sum", "i32", "bytes<4096>", "string<0>", "block", "Logger.Exp:Ready",
    "Calculator.Imp:Start", "\"logger.contract\"", "\"fuzz.contract\"", "///", "//", "\n", " ", "99999999999999999999", "#",
};

}

TEST(ContractRobustness, SurvivesEveryTruncationOfTheGoldens)
{
    size_t inputs = 0;
    for (auto const& source : golden_sources()) {
        for (size_t length = 0; length <= source.size(); ++length, ++inputs)
            check_survives(source.substr(0, length));
    }
    EXPECT_GT(inputs, 3000u);
}

TEST(ContractRobustness, SurvivesRandomByteChanges)
{
    std::mt19937 random(20240611);
    auto sources = golden_sources();
    size_t checked = 0;
    for (int round = 0; round < 2000; ++round) {
        std::string text = sources[random() % sources.size()];
        int changes = 1 + static_cast<int>(random() % 4);
        for (int i = 0; i < changes; ++i) {
            size_t at = random() % text.size();
            // Mostly printable characters, which get past the lexer; sometimes anything.
            text[at] = random() % 4 == 0 ? static_cast<char>(random() % 256) : static_cast<char>(' ' + random() % 95);
        }
        checked += check_survives(text) ? 1 : 0;
    }
    // Changes inside comments and names leave valid contracts: those take the generator's path too.
    EXPECT_GT(checked, 100u);
}

TEST(ContractRobustness, SurvivesSplicedTokens)
{
    std::mt19937 random(7);
    auto sources = golden_sources();
    for (int round = 0; round < 2000; ++round) {
        std::string text = sources[random() % sources.size()];
        int edits = 1 + static_cast<int>(random() % 3);
        for (int i = 0; i < edits; ++i) {
            size_t at = random() % (text.size() + 1);
            switch (random() % 3) {
            case 0: // Insert a token.
                text.insert(at, " " + std::string(vocabulary[random() % std::size(vocabulary)]) + " ");
                break;
            case 1: // Delete a stretch.
                text.erase(at, random() % 12);
                break;
            default: // Duplicate a stretch elsewhere.
                text.insert(random() % (text.size() + 1), text.substr(at, random() % 40));
                break;
            }
        }
        check_survives(text);
    }
}

TEST(ContractRobustness, SurvivesPathologicalShapes)
{
    std::string const prefix = "contract C { in message A(); out message B(); state S: one { A? -> ";
    check_survives(prefix + std::string(10000, '(') + "B!");
    check_survives(prefix + std::string(10000, '(') + "B!" + std::string(10000, ')') + " -> S; } }");
    check_survives(std::string(10000, '{'));
    check_survives("contract C { " + std::string(10000, '}'));
    check_survives("import \"fuzz.contract\"; contract C { in message A(fuzz.Imp:S x); state S: one { } }");
    std::string many_states = "contract C { in message A(); out message B(); ";
    for (int i = 0; i < 5000; ++i)
        many_states += "state S" + std::to_string(i) + ": one { A? -> B! -> S" + std::to_string((i + 1) % 5000) + "; } ";
    check_survives(many_states + "}");
    std::string many_messages = "contract C { ";
    for (int i = 0; i < 1100; ++i)
        many_messages += "in message M" + std::to_string(i) + "(bytes<1048576> a, bytes<1048576> b); ";
    check_survives(many_messages + "state S: one { } }");
    check_survives(std::string(1, '\0'));
    check_survives("contract C { state S: one { " + std::string(200000, '?') + " } }");
}

TEST(ContractRobustness, DecoderSurvivesMutatedDescriptors)
{
    std::vector<std::vector<uint8_t>> descriptors;
    for (auto const& source : golden_sources()) {
        MemorySources sources;
        sources.add("golden.contract", source);
        sources.add("logger.contract", "contract Logger { out message Ready(); in message Go(); state Ready: one { Ready! -> Go? -> Ready; } }");
        auto result = check("golden.contract", sources);
        ASSERT_TRUE(result.ok()) << result.diagnostics_text();
        for (auto const& checked : result.file->contracts)
            descriptors.push_back(encode_descriptor(checked.contract));
    }

    auto survives = [](std::vector<uint8_t> const& bytes) {
        auto decoded = decode_descriptor(bytes);
        if (decoded.is_error())
            return;
        // Whatever decodes is canonical and sound.
        EXPECT_EQ(encode_descriptor(decoded.value()), bytes);
        EXPECT_FALSE(validate(decoded.value()).is_error());
    };

    std::mt19937 random(1234);
    size_t accepted_mutants = 0;
    for (int round = 0; round < 4000; ++round) {
        auto bytes = descriptors[random() % descriptors.size()];
        switch (random() % 4) {
        case 0:
            bytes.resize(random() % bytes.size());
            break;
        case 1:
        case 2: {
            int flips = 1 + static_cast<int>(random() % 3);
            for (int i = 0; i < flips; ++i)
                bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
            break;
        }
        default:
            for (auto& byte : bytes)
                byte = static_cast<uint8_t>(random());
            break;
        }
        survives(bytes);
        accepted_mutants += decode_descriptor(bytes).is_error() ? 0 : 1;
    }
    // A flipped byte in a name can leave a valid descriptor; most mutants must fail.
    EXPECT_LT(accepted_mutants, 400u);
}
