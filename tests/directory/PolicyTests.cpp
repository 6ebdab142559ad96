// The system policy file: every field checked, errors naming file, field and problem.
#include "services/directory/SystemDirectory.h"

#include <gtest/gtest.h>

namespace signet {
namespace {

TEST(DirectoryPolicy, AnEmptyPolicyAllowsEverythingAndRefusesDuplicates)
{
    auto policy = DirectoryPolicy::parse("", "policy.toml");
    ASSERT_FALSE(policy.is_error());
    EXPECT_TRUE(policy.value().allow_register);
    EXPECT_TRUE(policy.value().allow_bind);
    EXPECT_EQ(policy.value().duplicates, DirectoryPolicy::Duplicates::Refuse);
    EXPECT_TRUE(policy.value().rules.empty());
}

TEST(DirectoryPolicy, RulesAreReadInOrderAndEncodedOneALine)
{
    auto policy = DirectoryPolicy::parse(R"(
[directory]
duplicates = "replace"
register = "deny"
[[directory.rule]]
action = "register"
path = "/service/**"
principal = "signet-system/*"
effect = "allow"
[[directory.rule]]
action = "bind"
path = "/dev/*"
effect = "deny"
reason = "devices are for drivers"
)",
        "policy.toml");
    ASSERT_FALSE(policy.is_error()) << policy.error().message();
    auto const& rules = policy.value().rules;
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_EQ(rules[0].principal, "signet-system/*");
    EXPECT_EQ(rules[1].principal, "**"); // no principal: everyone
    EXPECT_FALSE(rules[1].allow);
    EXPECT_EQ(policy.value().encode(),
        "duplicates\treplace\nservices\tany\ndefault\tregister\tdeny\ndefault\tbind\tallow\n"
        "rule\tregister\tallow\t/service/**\tsignet-system/*\t\n"
        "rule\tbind\tdeny\t/dev/*\t**\tdevices are for drivers\n");
}

TEST(DirectoryPolicy, EveryBadFieldIsNamed)
{
    struct Bad {
        char const* text;
        char const* error;
    };
    Bad const cases[] = {
        { "[directory]\nduplicates = \"keep\"\n", "policy.toml: field 'directory.duplicates': must be \"refuse\" or \"replace\"" },
        { "[directory]\nregister = true\n", "policy.toml: field 'directory.register': must be \"allow\" or \"deny\"" },
        { "[directory]\nbind = \"maybe\"\n", "policy.toml: field 'directory.bind': must be \"allow\" or \"deny\"" },
        { "[directory]\nservices = \"all\"\n", "policy.toml: field 'directory.services': must be \"any\" or \"declared\"" },
        { "[directory]\nextra = 1\n", "policy.toml: field 'directory.extra': unknown field" },
        { "[elsewhere]\n", "policy.toml: field 'elsewhere': unknown field" },
        { "directory = 3\n", "policy.toml: field 'directory': must be a table" },
        { "[directory]\nrule = 3\n", "policy.toml: field 'directory.rule': must be an array of tables" },
        { "[[directory.rule]]\npath = \"/a\"\neffect = \"allow\"\n", "policy.toml: field 'directory.rule[0].action': missing" },
        { "[[directory.rule]]\naction = \"list\"\npath = \"/a\"\neffect = \"allow\"\n", "policy.toml: field 'directory.rule[0].action': must be \"register\" or \"bind\"" },
        { "[[directory.rule]]\naction = \"bind\"\neffect = \"allow\"\n", "policy.toml: field 'directory.rule[0].path': missing" },
        { "[[directory.rule]]\naction = \"bind\"\npath = \"service\"\neffect = \"allow\"\n", "policy.toml: field 'directory.rule[0].path': must be an absolute path pattern" },
        { "[[directory.rule]]\naction = \"bind\"\npath = \"/a\\tb\"\neffect = \"allow\"\n", "policy.toml: field 'directory.rule[0].path': must be at most 200 bytes without control characters" },
        { "[[directory.rule]]\naction = \"bind\"\npath = \"/a\"\n", "policy.toml: field 'directory.rule[0].effect': missing" },
        { "[[directory.rule]]\naction = \"bind\"\npath = \"/a\"\neffect = \"yes\"\n", "policy.toml: field 'directory.rule[0].effect': must be \"allow\" or \"deny\"" },
        { "[[directory.rule]]\naction = \"bind\"\npath = \"/a\"\neffect = \"deny\"\nwhy = \"x\"\n", "policy.toml: field 'directory.rule[0].why': unknown field" },
        { "[[directory.rule]]\naction = \"bind\"\npath = \"/a\"\neffect = \"deny\"\nprincipal = 7\n", "policy.toml: field 'directory.rule[0].principal': must be a string" },
        { "[directory\n", "policy.toml:1:" },
    };
    for (auto const& bad : cases) {
        auto policy = DirectoryPolicy::parse(bad.text, "policy.toml");
        ASSERT_TRUE(policy.is_error()) << bad.text;
        EXPECT_NE(policy.error().message().find(bad.error), std::string::npos) << policy.error().message();
    }
}

TEST(DirectoryPolicy, DeclaredServicesAreEncodedForTheDirectory)
{
    auto policy = DirectoryPolicy::parse("[directory]\nservices = \"declared\"\n", "policy.toml");
    ASSERT_FALSE(policy.is_error()) << policy.error().message();
    EXPECT_TRUE(policy.value().declared_only);
    policy.value().declared_services.emplace_back("signet-system/fs", "/service/fs");
    EXPECT_NE(policy.value().encode().find("services\tdeclared\ndeclared\tsignet-system/fs\t/service/fs\n"), std::string::npos);
}

TEST(DirectoryPolicy, AMissingFileIsAnError)
{
    auto policy = DirectoryPolicy::load("/nonexistent/policy.toml");
    ASSERT_TRUE(policy.is_error());
    EXPECT_NE(policy.error().message().find("/nonexistent/policy.toml"), std::string::npos);
}

} // namespace
} // namespace signet
