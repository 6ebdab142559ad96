// Manifests: every field checked, every error naming file, field and problem;
// installing by manifest checks the module, its hash and its contracts, and a
// bad manifest installs nothing.
#include "installer/Manifest.h"
#include "installer/Programs.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

using namespace signet;
using namespace signet::installer;
namespace fs = std::filesystem;

namespace {

std::string const good = R"(
[program]
name = "greeter"
version = "1.0"
publisher = "acme"

[code]
module = "greeter.wasm"
abi = "signet_v1"
personality = "native"

[parameters]
times = { type = "integer", default = 2 }
name = { type = "string" }

[limits]
memory = "4MiB"
channel_memory = "1MiB"
threads = 2
cpu_time = "1500ms"

[privileges]
create_children = true
)";

std::string replaced(std::string text, std::string const& from, std::string const& to)
{
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    return text;
}

} // namespace

TEST(Manifest, AGoodManifestParsesWithEveryField)
{
    auto manifest = parse_manifest_text(good, "/apps/greeter.toml");
    ASSERT_FALSE(manifest.is_error()) << manifest.error().message();
    EXPECT_EQ(manifest.value().principal(), "acme/greeter");
    EXPECT_EQ(manifest.value().module_path, "/apps/greeter.wasm");
    EXPECT_EQ(manifest.value().limits.memory_bytes, 4u << 20);
    EXPECT_EQ(manifest.value().limits.channel_bytes, 1u << 20);
    EXPECT_EQ(manifest.value().limits.exchange_bytes, 64u << 20) << "a limit not given keeps its default";
    EXPECT_EQ(manifest.value().limits.cpu_time_ns, 1'500'000'000u);
    EXPECT_EQ(manifest.value().limits.threads, 2u);
    EXPECT_TRUE(manifest.value().may_create_children);
    ASSERT_EQ(manifest.value().parameters.size(), 2u);
}

struct BadField {
    char const* from;
    char const* to;
    char const* expected; // in the message, after the file name
};

class ManifestField : public ::testing::TestWithParam<BadField> { };

TEST_P(ManifestField, AWrongValueIsNamedWithFileFieldAndProblem)
{
    auto const& bad = GetParam();
    auto manifest = parse_manifest_text(replaced(good, bad.from, bad.to), "/apps/greeter.toml");
    ASSERT_TRUE(manifest.is_error());
    EXPECT_EQ(manifest.error().kind(), ErrorKind::InvalidInput);
    std::string const& message = manifest.error().message();
    EXPECT_EQ(message.rfind("/apps/greeter.toml", 0), 0u) << message;
    EXPECT_NE(message.find(bad.expected), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(EveryField, ManifestField,
    ::testing::Values(
        BadField { "name = \"greeter\"", "name = \"9lives\"", "field 'program.name'" },
        BadField { "name = \"greeter\"", "", "field 'program.name': missing" },
        BadField { "version = \"1.0\"", "version = 1", "field 'program.version': must be a string" },
        BadField { "publisher = \"acme\"", "publisher = \"a b\"", "field 'program.publisher'" },
        BadField { "module = \"greeter.wasm\"", "module = \"\"", "field 'code.module'" },
        BadField { "abi = \"signet_v1\"", "abi = \"signet_v9\"", "field 'code.abi'" },
        BadField { "personality = \"native\"", "personality = \"posix\"", "field 'code.personality'" },
        BadField { "[code]", "[code]\nsha256 = \"xyz\"", "field 'code.sha256'" },
        BadField { "[code]", "[code]\ncontracts = [\"nohash\"]", "field 'code.contracts[0]'" },
        BadField { "type = \"integer\", default = 2", "type = \"integer\", default = \"two\"", "field 'parameters.times.default'" },
        BadField { "type = \"integer\", default = 2", "type = \"float\"", "field 'parameters.times.type'" },
        BadField { "memory = \"4MiB\"", "memory = \"4 lots\"", "field 'limits.memory'" },
        BadField { "threads = 2", "threads = 0", "field 'limits.threads'" },
        BadField { "channel_memory = \"1MiB\"", "channel_memory = 1048576", "field 'limits.channel_memory': must be a size" },
        BadField { "channel_memory = \"1MiB\"", "channel_memory = \"lots\"", "field 'limits.channel_memory'" },
        BadField { "cpu_time = \"1500ms\"", "cpu_time = \"soon\"", "field 'limits.cpu_time'" },
        BadField { "cpu_time = \"1500ms\"", "disk = \"1GiB\"", "field 'limits.disk': unknown limit" },
        BadField { "create_children = true", "root = true", "field 'privileges.root': unknown privilege" },
        BadField { "[privileges]", "[extras]", "field 'extras': unknown section" },
        BadField { "[program]", "[[endpoint]]\nname = \"in\"\ncontract = \"x.contract\"\nend = \"Exp\"\nstate = \"S\"\n[program]", "field 'endpoint[0].contract'" },
        BadField { "[program]", "[[endpoint]]\nname = \"in\"\ncontract = \"x.contract#X\"\nend = \"Both\"\nstate = \"S\"\n[program]", "field 'endpoint[0].end'" },
        BadField { "[program]", "[[service]]\npath = \"relative\"\ncontract = \"x.contract#X\"\nend = \"Exp\"\nstate = \"S\"\n[program]", "field 'service[0].path'" },
        BadField { "[program]", "[[service]]\npath = \"/service/x\"\ncontract = \"x.contract#X\"\nend = \"Imp\"\nstate = \"S\"\n[program]", "field 'service[0].end'" },
        BadField { "[program]", "[[resource]]\nkind = \"tape\"\nname = \"t\"\nsize = \"1MiB\"\n[program]", "field 'resource[0].kind': unknown resource kind 'tape'" },
        BadField { "[program]", "[[resource]]\nkind = \"disk\"\nname = \"9d\"\nsize = \"1MiB\"\n[program]", "field 'resource[0].name'" },
        BadField { "[program]", "[[resource]]\nkind = \"disk\"\nname = \"d\"\nsize = \"1000B\"\n[program]", "field 'resource[0].size': a disk must be a multiple of 4KiB" },
        BadField { "[program]", "[[resource]]\nkind = \"disk\"\nname = \"d\"\nsize = \"2TiB\"\n[program]", "field 'resource[0].size'" },
        BadField { "[program]", "[[resource]]\nkind = \"disk\"\nname = \"d\"\n[program]", "field 'resource[0].size': missing" },
        BadField { "[program]", "[[resource]]\nkind = \"disk\"\nname = \"d\"\nsize = \"4KiB\"\nwritable = true\n[program]", "field 'resource[0].writable': unknown field" },
        BadField { "[program]", "[[resource]]\nkind = \"disk\"\nname = \"d\"\nsize = \"4KiB\"\n[[resource]]\nkind = \"disk\"\nname = \"d\"\nsize = \"4KiB\"\n[program]", "field 'resource[1].name'" },
        BadField { "[program]", "[[resource]]\nkind = \"tcp-listen\"\nname = \"http\"\nsize = \"4KiB\"\n[program]", "field 'resource[0].size': unknown field (known for tcp-listen: kind, name)" },
        BadField { "[program]", "[[resource]]\nkind = \"tcp-listen\"\n[program]", "field 'resource[0].name': missing" },
        BadField { "[program]", "[[resource]]\nkind = \"tcp-listen\"\nname = \"web server\"\n[program]", "field 'resource[0].name'" },
        BadField { "[program]", "[[resource]]\nkind = \"tcp-listen\"\nname = \"d\"\n[[resource]]\nkind = \"disk\"\nname = \"d\"\nsize = \"4KiB\"\n[program]", "field 'resource[1].name'" },
        BadField { "[program]", "[[directory]]\nguest = \"data\"\n[program]", "field 'directory[0].guest': 'data' is not an absolute path" },
        BadField { "[program]", "[[directory]]\nguest = \"/data/../etc\"\n[program]", "field 'directory[0].guest'" },
        BadField { "[program]", "[[directory]]\nguest = \"/\"\n[program]", "field 'directory[0].guest'" },
        BadField { "[program]", "[[directory]]\nguest = \"/data/\"\n[program]", "field 'directory[0].guest'" },
        BadField { "[program]", "[[directory]]\n[program]", "field 'directory[0].guest': missing" },
        BadField { "[program]", "[[directory]]\nguest = \"/data\"\nhost = \"/tmp\"\n[program]", "field 'directory[0].host': unknown field" },
        BadField { "[program]", "[[directory]]\nguest = \"/data\"\n[[directory]]\nguest = \"/data\"\n[program]", "field 'directory[1].guest': '/data' is granted twice" },
        BadField { "[program]", "[[directory]]\nguest = \"/data\"\npath = \"notes\"\n[program]", "field 'directory[0].path': 'notes' is not '/' or an absolute path" },
        BadField { "[program]", "[[directory]]\nguest = \"/data\"\npath = \"/notes/..\"\n[program]", "field 'directory[0].path'" },
        BadField { "[program]", "[[directory]]\nguest = \"/data\"\npath = \"/a//b\"\n[program]", "field 'directory[0].path'" },
        BadField { "[program]", "[[directory]]\nguest = \"/data\"\npath = 3\n[program]", "field 'directory[0].path'" },
        BadField { "[program]", "directory = \"/data\"\n[program]", "field 'directory': must be an array of tables" }),
    [](auto const& info) { return "case" + std::to_string(info.index); });

TEST(Manifest, ADiskIsDeclaredAsAResourceWithItsNameAndSize)
{
    auto manifest = parse_manifest_text(replaced(good, "[program]", "[[resource]]\nkind = \"disk\"\nname = \"disk0\"\nsize = \"64MiB\"\n[program]"),
        "/apps/greeter.toml");
    ASSERT_FALSE(manifest.is_error()) << manifest.error().message();
    ASSERT_EQ(manifest.value().resources.size(), 1u);
    EXPECT_EQ(manifest.value().resources[0].kind, ManifestResource::Kind::Disk);
    EXPECT_EQ(manifest.value().resources[0].name, "disk0");
    EXPECT_EQ(manifest.value().resources[0].size_bytes, 64u << 20);
}

TEST(Manifest, ATcpPortIsDeclaredAsAResourceByNameAlone)
{
    auto manifest = parse_manifest_text(
        replaced(good, "[program]", "[[resource]]\nkind = \"tcp-listen\"\nname = \"http\"\n[[resource]]\nkind = \"disk\"\nname = \"disk0\"\nsize = \"4KiB\"\n[program]"),
        "/apps/net.toml");
    ASSERT_FALSE(manifest.is_error()) << manifest.error().message();
    ASSERT_EQ(manifest.value().resources.size(), 2u);
    EXPECT_EQ(manifest.value().resources[0].kind, ManifestResource::Kind::TcpListen);
    EXPECT_EQ(manifest.value().resources[0].name, "http");
    EXPECT_EQ(manifest.value().resources[1].kind, ManifestResource::Kind::Disk);
    auto unknown = parse_manifest_text(replaced(good, "[program]", "[[resource]]\nkind = \"udp\"\nname = \"x\"\n[program]"), "/apps/net.toml");
    ASSERT_TRUE(unknown.is_error());
    EXPECT_NE(unknown.error().message().find("unknown resource kind 'udp' (known: disk, tcp-listen)"), std::string::npos) << unknown.error().message();
}

TEST(Manifest, DirectoriesAreGrantedByTheirGuestPathEachWithTheDirectoryItSees)
{
    auto manifest = parse_manifest_text(
        replaced(good, "[program]", "[[directory]]\nguest = \"/data\"\n[[directory]]\nguest = \"/srv/www\"\npath = \"/sites/one\"\n[program]"),
        "/apps/calc/manifest.toml");
    ASSERT_FALSE(manifest.is_error()) << manifest.error().message();
    auto const& directories = manifest.value().directories;
    ASSERT_EQ(directories.size(), 2u);
    EXPECT_EQ(directories[0].guest, "/data");
    EXPECT_EQ(directories[0].path, "/");
    EXPECT_EQ(directories[1].guest, "/srv/www");
    EXPECT_EQ(directories[1].path, "/sites/one");
    auto none = parse_manifest_text(good, "/apps/calc/manifest.toml");
    ASSERT_FALSE(none.is_error());
    EXPECT_TRUE(none.value().directories.empty());
}

TEST(Manifest, MalformedTomlIsReportedWithLineAndColumn)
{
    auto manifest = parse_manifest_text("[program\nname = 1", "/apps/broken.toml");
    ASSERT_TRUE(manifest.is_error());
    EXPECT_EQ(manifest.error().message().rfind("/apps/broken.toml:1:", 0), 0u) << manifest.error().message();
}

TEST(Manifest, DurationsHaveUnits)
{
    EXPECT_EQ(parse_duration("2s").value(), 2'000'000'000u);
    EXPECT_EQ(parse_duration("250us").value(), 250'000u);
    EXPECT_TRUE(parse_duration("2").is_error());
    EXPECT_TRUE(parse_duration("99999999999999999999m").is_error());
}

class ProgramInstall : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_root = fs::temp_directory_path() / ("signet-programs-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(m_root);
        fs::create_directories(m_root / "home");
        fs::copy_file(SIGNET_TEST_NATIVE_HELLO, m_root / "hello.wasm");
        m_options.store_dir = (m_root / "home" / "store").string();
        m_options.optimization = "-O0";
    }
    void TearDown() override { fs::remove_all(m_root); }

    std::string write(std::string const& name, std::string const& text)
    {
        std::ofstream((m_root / name).string()) << text;
        return (m_root / name).string();
    }
    size_t store_entries() const
    {
        size_t count = 0;
        std::error_code ignored;
        for (auto const& entry : fs::directory_iterator(m_options.store_dir, ignored))
            count += entry.path().filename().string()[0] != '.';
        return count;
    }

    fs::path m_root;
    InstallOptions m_options;
};

std::string const hello_manifest = R"(
[program]
name = "hello"
version = "1"
publisher = "acme"
[code]
module = "hello.wasm"
abi = "signet_v1"
personality = "native"
)";

TEST_F(ProgramInstall, InstallsRecordsListsAndUninstalls)
{
    auto installed = install_program(write("hello.toml", hello_manifest), m_options);
    ASSERT_FALSE(installed.is_error()) << installed.error().message();
    EXPECT_LE(installed.value().image.shaken_bytes, installed.value().image.module_bytes);
    auto names = list_programs(m_options.store_dir);
    ASSERT_FALSE(names.is_error());
    EXPECT_EQ(names.value(), std::vector<std::string> { "hello" });
    auto found = find_program(m_options.store_dir, "hello");
    ASSERT_FALSE(found.is_error()) << found.error().message();
    EXPECT_EQ(found.value().manifest.principal(), "acme/hello");
    EXPECT_FALSE(uninstall_program(m_options.store_dir, "hello").is_error());
    EXPECT_TRUE(find_program(m_options.store_dir, "hello").is_error());
    EXPECT_TRUE(uninstall_program(m_options.store_dir, "hello").is_error());
}

TEST_F(ProgramInstall, AMissingModuleAWrongHashOrAWrongPersonalityInstallsNothing)
{
    struct Case {
        std::string from, to, field;
    } cases[] = {
        { "module = \"hello.wasm\"", "module = \"absent.wasm\"", "field 'code.module'" },
        { "module = \"hello.wasm\"", "module = \"hello.wasm\"\nsha256 = \"" + std::string(64, 'a') + "\"", "field 'code.sha256': the module's SHA-256 is" },
        { "personality = \"native\"", "personality = \"wasi\"", "field 'code.personality'" },
        { "[code]", "[[endpoint]]\nname = \"e\"\ncontract = \"none.contract#X\"\nend = \"Exp\"\nstate = \"Start\"\n[code]", "field 'endpoint[0].contract'" },
    };
    for (auto const& entry : cases) {
        auto installed = install_program(write("bad.toml", replaced(hello_manifest, entry.from, entry.to)), m_options);
        ASSERT_TRUE(installed.is_error()) << entry.to;
        EXPECT_NE(installed.error().message().find(entry.field), std::string::npos) << installed.error().message();
    }
    EXPECT_EQ(store_entries(), 0u) << "a refused manifest writes nothing to the store";
    auto names = list_programs(m_options.store_dir);
    EXPECT_TRUE(names.is_error() || names.value().empty());
}

TEST_F(ProgramInstall, ContractStatesMustExistAndServicePathsMustBeUnique)
{
    write("pipe.contract", "contract Pipe {\n  in message Ping();\n  out message Pong();\n  state Start: one { Ping? -> Pong! -> Start; }\n}\n");
    std::string service = R"(
[[service]]
path = "/service/pipe"
contract = "pipe.contract#Pipe"
end = "Exp"
state = "Start"
)";
    auto with_state = [&](std::string const& state) { return replaced(hello_manifest + service, "state = \"Start\"", "state = \"" + state + "\""); };
    auto bad_state = install_program(write("a.toml", with_state("Nowhere")), m_options);
    ASSERT_TRUE(bad_state.is_error());
    EXPECT_NE(bad_state.error().message().find("field 'service[0].state': contract Pipe has no state 'Nowhere'"), std::string::npos) << bad_state.error().message();

    ASSERT_FALSE(install_program(write("a.toml", with_state("Start")), m_options).is_error());
    auto twice = install_program(write("b.toml", replaced(with_state("Start"), "name = \"hello\"", "name = \"hello-two\"")), m_options);
    ASSERT_TRUE(twice.is_error());
    EXPECT_NE(twice.error().message().find("path /service/pipe is already exported by hello"), std::string::npos) << twice.error().message();
}

// Mutants of a manifest with every kind of section: characters deleted,
// inserted and replaced, lines doubled and dropped. Each parses or is refused
// with an error that names the file; none crashes or throws.
TEST(Manifest, MutantsAreRefusedWithTheFileNamedAndNeverCrash)
{
    std::string const rich = replaced(good, "[program]",
        "[[endpoint]]\nname = \"in\"\ncontract = \"x.contract#X\"\nend = \"Exp\"\nstate = \"S\"\n"
        "[[service]]\npath = \"/service/x\"\ncontract = \"x.contract#X\"\nend = \"Exp\"\nstate = \"S\"\n"
        "[[resource]]\nkind = \"disk\"\nname = \"d\"\nsize = \"4KiB\"\n"
        "[[directory]]\nguest = \"/data\"\n[program]");
    ASSERT_FALSE(parse_manifest_text(rich, "/m/m.toml").is_error()) << parse_manifest_text(rich, "/m/m.toml").error().message();
    static char const alphabet[] = "[]{}=\",.#\n -_0123456789aZ\\'\t\x01\xff";
    uint32_t state = 12345;
    auto next = [&] {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state;
    };
    size_t refused = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string text = rich;
        for (uint32_t edits = 1 + next() % 4; edits > 0 && !text.empty(); --edits) {
            size_t at = next() % text.size();
            switch (next() % 5) {
            case 0:
                text.erase(at, 1 + next() % 8);
                break;
            case 1:
                text.insert(at, 1, alphabet[next() % (sizeof alphabet - 1)]);
                break;
            case 2:
                text[at] = alphabet[next() % (sizeof alphabet - 1)];
                break;
            case 3: { // a line twice
                size_t begin = text.rfind('\n', at);
                size_t end = text.find('\n', at);
                begin = begin == std::string::npos ? 0 : begin;
                end = end == std::string::npos ? text.size() : end;
                text.insert(end, text.substr(begin, end - begin));
                break;
            }
            default: { // a line gone
                size_t begin = text.rfind('\n', at);
                size_t end = text.find('\n', at);
                begin = begin == std::string::npos ? 0 : begin;
                end = end == std::string::npos ? text.size() : end;
                text.erase(begin, end - begin);
                break;
            }
            }
        }
        ErrorOr<Manifest> parsed = Error::invalid("not parsed");
        EXPECT_NO_THROW(parsed = parse_manifest_text(text, "/m/m.toml")) << text;
        if (parsed.is_error()) {
            ++refused;
            EXPECT_EQ(parsed.error().message().rfind("/m/m.toml", 0), 0u) << parsed.error().message() << "\nfor:\n" << text;
        }
    }
    EXPECT_GT(refused, 10000u) << "the mutations hardly change anything";
}
