// Every refusal: one line naming the file and the problem, InvalidInput, and
// nothing written to the store.
#include "installer/Installer.h"
#include "installer/VerifiedModule.h"
#include "tests/installer/TestSupport.h"

#include <gtest/gtest.h>

#include <random>

using namespace signet;
using namespace signet::installer;
using namespace signet::installer::test;

namespace {

class Refusal : public ::testing::Test {
protected:
    // Installs and expects a refusal; returns its message.
    std::string refuse(std::vector<uint8_t> const& bytes, InstallOptions options = {})
    {
        options.store_dir = m_directory.store();
        options.optimization = "-O0";
        auto result = install_bytes(bytes, "prog.wasm", options);
        EXPECT_TRUE(result.is_error());
        if (!result.is_error())
            return {};
        EXPECT_EQ(result.error().kind(), ErrorKind::InvalidInput) << result.error().message();
        EXPECT_EQ(count_entries(m_directory.store()), 0u) << "a refused install wrote to the store";
        std::string const& message = result.error().message();
        EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
        EXPECT_EQ(message.rfind("prog.wasm: ", 0), 0u) << "does not name the file: " << message;
        return message;
    }

    std::string refuse_wat(std::string const& wat, InstallOptions options = {}) { return refuse(wat_to_wasm(wat), std::move(options)); }

    TemporaryDirectory m_directory;
};

std::string const minimal_command = R"((module
  (import "signet_v1" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 0))))
)";

} // namespace

TEST_F(Refusal, AnEmptyFileIsNotAModule)
{
    EXPECT_EQ(refuse({}), "prog.wasm: empty file, not a WebAssembly module");
}

TEST_F(Refusal, ArbitraryBytesAreNotAModule)
{
    std::string text = "#!/bin/sh\necho hello\n";
    EXPECT_EQ(refuse({ text.begin(), text.end() }), "prog.wasm: not a WebAssembly module (it does not start with \"\\0asm\")");
}

TEST_F(Refusal, TheTextFormatIsRecognisedAndRefused)
{
    EXPECT_NE(refuse({ minimal_command.begin(), minimal_command.end() }).find("this is the text format"), std::string::npos);
}

TEST_F(Refusal, AModuleCutShortIsTruncated)
{
    auto bytes = wat_to_wasm(minimal_command);
    ASSERT_GT(bytes.size(), 20u);
    for (size_t length : { size_t(3), size_t(6), bytes.size() / 2, bytes.size() - 1 }) {
        std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(length));
        auto message = refuse(cut);
        EXPECT_NE(message.find("truncated"), std::string::npos) << "length " << length << ": " << message;
    }
}

TEST_F(Refusal, AComponentIsNotACoreModule)
{
    std::vector<uint8_t> component = { 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00 };
    EXPECT_EQ(refuse(component), "prog.wasm: is a WebAssembly component, not a core module: Signet installs core modules");
}

TEST_F(Refusal, AModuleOverTheSizeLimitIsRefusedBeforeParsing)
{
    InstallOptions options;
    options.max_module_bytes = 16;
    auto bytes = wat_to_wasm(minimal_command);
    EXPECT_EQ(refuse(bytes, options), "prog.wasm: module is " + std::to_string(bytes.size()) + " bytes, larger than the limit of 16 bytes");
}

TEST_F(Refusal, InvalidCodeIsReportedWithItsOffset)
{
    auto message = refuse_wat(R"((module (func (result i32) (i64.const 1))))");
    EXPECT_EQ(message.rfind("prog.wasm: invalid module at offset 0x", 0), 0u) << message;
    EXPECT_NE(message.find("type mismatch"), std::string::npos) << message;
}

TEST_F(Refusal, AnImportFromAnUnknownModuleIsNotPartOfTheAbi)
{
    EXPECT_EQ(refuse_wat(R"((module (import "env" "foo" (func))))"),
        "prog.wasm: import 'env.foo' is not part of Signet's ABI (allowed modules: signet_v1, wasi_snapshot_preview1)");
}

TEST_F(Refusal, AnUnknownFunctionOfAnAbiModuleIsNotPartOfTheAbi)
{
    EXPECT_EQ(refuse_wat(R"((module (import "signet_v1" "fork" (func))))"),
        "prog.wasm: import 'signet_v1.fork' is not part of Signet's ABI (signet_v1 has no 'fork')");
}

TEST_F(Refusal, NamesInMessagesCannotBreakTheLine)
{
    EXPECT_EQ(refuse_wat("(module (import \"env\" \"a\\0ab'\" (func)))"),
        "prog.wasm: import 'env.a\\x0ab\\x27' is not part of Signet's ABI (allowed modules: signet_v1, wasi_snapshot_preview1)");
}

TEST_F(Refusal, AnExportNameCannotInjectCodeIntoTheImage)
{
    // wasm2c writes export names into C comments: "*/" would end the comment.
    std::string message = refuse_wat(R"((module (func (export "x */ int injected; /*"))))");
    EXPECT_NE(message.find("has a name containing \"*/\""), std::string::npos) << message;
}

TEST_F(Refusal, EverySimdOpcodeIsRefusedEvenThoseWabtCountsAsEnabled)
{
    std::string message = refuse_wat("(module (memory 1) (func (drop (v128.load8x8_s (i32.const 0)))))");
    EXPECT_NE(message.find("SIMD"), std::string::npos) << message;
}

TEST_F(Refusal, AnImportWithTheWrongSignatureNamesBothSignatures)
{
    EXPECT_EQ(refuse_wat(R"((module (import "signet_v1" "yield" (func (param i32)))))"),
        "prog.wasm: import 'signet_v1.yield' has signature (i32)->() but the ABI declares ()->()");
    EXPECT_EQ(refuse_wat(R"((module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i64) (result i32)))))"),
        "prog.wasm: import 'wasi_snapshot_preview1.fd_write' has signature (i32, i32, i32, i64)->(i32) but the ABI declares (i32, i32, i32, i32)->(i32)");
}

TEST_F(Refusal, AnImportedMemoryTableOrGlobalIsRefused)
{
    EXPECT_EQ(refuse_wat(R"((module (import "signet_v1" "memory" (memory 1))))"),
        "prog.wasm: import 'signet_v1.memory' is a memory: a SIP owns its memory, tables and globals and may not import them");
    EXPECT_NE(refuse_wat(R"((module (import "signet_v1" "table" (table 1 funcref))))").find("is a table: a SIP owns"), std::string::npos);
    EXPECT_NE(refuse_wat(R"((module (import "signet_v1" "g" (global i32))))").find("is a global: a SIP owns"), std::string::npos);
}

TEST_F(Refusal, SharedMemoryIsRefused)
{
    EXPECT_EQ(refuse_wat(R"((module (memory 1 1 shared)))"), "prog.wasm: memory 0 is shared: Signet SIPs may not share memory");
}

TEST_F(Refusal, AnAtomicInstructionIsNamedWithItsOffset)
{
    auto message = refuse_wat(R"((module (memory 1) (func (result i32) (i32.atomic.load (i32.const 0)))))");
    EXPECT_EQ(message.rfind("prog.wasm: function 0 uses the atomic instruction 'i32.atomic.load' at offset 0x", 0), 0u) << message;
    EXPECT_NE(message.find("single-threaded"), std::string::npos) << message;
    EXPECT_NE(refuse_wat(R"((module (func (atomic.fence))))").find("atomic instruction 'atomic.fence'"), std::string::npos);
}

TEST_F(Refusal, SimdIsRefused)
{
    auto message = refuse_wat(R"((module (func (drop (v128.const i32x4 1 2 3 4)))))");
    EXPECT_EQ(message.rfind("prog.wasm: function 0 uses the SIMD instruction 'v128.const' at offset 0x", 0), 0u) << message;
    EXPECT_NE(refuse_wat(R"((module (func (param v128))))").find("uses the SIMD type v128"), std::string::npos);
}

TEST_F(Refusal, OtherUnsupportedFeaturesAreNamed)
{
    EXPECT_NE(refuse_wat(R"((module (func $f (return_call $f))))").find("tail-call instruction 'return_call'"), std::string::npos);
    EXPECT_NE(refuse_wat(R"((module (tag $e) (func (throw $e))))").find("exception"), std::string::npos);
    EXPECT_NE(refuse_wat(R"((module (memory i64 1)))").find("memory 0 is a 64-bit memory"), std::string::npos);
}

TEST_F(Refusal, MoreThanOneMemoryIsRefused)
{
    EXPECT_EQ(refuse_wat(R"((module (memory 1) (memory 1) (memory 2)))"), "prog.wasm: module has 3 memories: Signet SIPs have at most one memory");
}

TEST_F(Refusal, AMemoryOfFourGibibytesIsRefused)
{
    auto message = refuse_wat(R"((module (memory 65536)))");
    EXPECT_EQ(message.rfind("prog.wasm: memory 0 has an initial size of 65536 pages: Signet limits a memory to 65535 pages", 0), 0u) << message;
}

TEST_F(Refusal, NestingDeeperThanTheLimitIsRefused)
{
    auto message = refuse(deeply_nested_module(max_block_nesting + 1));
    EXPECT_EQ(message.rfind("prog.wasm: function 0 nests blocks more than 50000 deep at offset 0x", 0), 0u) << message;
}

TEST_F(Refusal, AStartExportMustTakeAndReturnNothing)
{
    EXPECT_EQ(refuse_wat(R"((module (func (export "_start") (param i32))))"),
        "prog.wasm: export '_start' has signature (i32)->() but a command's _start must be ()->()");
    EXPECT_EQ(refuse_wat(R"((module (global (export "_start") i32 (i32.const 0))))"),
        "prog.wasm: export '_start' is a global, but a command's _start must be a function ()->()");
}

TEST_F(Refusal, KeepExportsMustNameExports)
{
    InstallOptions options;
    options.keep_exports = { "main" };
    EXPECT_EQ(refuse_wat(minimal_command, options), "prog.wasm: keep_exports names 'main', which the module does not export");
}

TEST(Verification, AMemoryWhoseMaximumIsFourGibibytesIsAccepted)
{
    auto bytes = wat_to_wasm(R"((module (memory 1 65536)))");
    auto verified = VerifiedModule::verify(bytes, "prog.wasm", ImportPolicy::signet_default());
    EXPECT_FALSE(verified.is_error()) << verified.error().message();
}

TEST(Verification, ThePersonalityFollowsTheImports)
{
    auto wasi = wat_to_wasm(R"((module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))))");
    auto verified = VerifiedModule::verify(wasi, "wasi.wasm", ImportPolicy::signet_default());
    ASSERT_FALSE(verified.is_error()) << verified.error().message();
    EXPECT_EQ(verified.value().personality(), Personality::Wasi);
    EXPECT_EQ(verified.value().imported_functions(), std::vector<std::string> { "wasi_snapshot_preview1.proc_exit" });

    auto native_only = VerifiedModule::verify(wasi, "wasi.wasm", ImportPolicy::for_personality(Personality::Native));
    ASSERT_TRUE(native_only.is_error());
    EXPECT_EQ(native_only.error().message(), "wasi.wasm: import 'wasi_snapshot_preview1.proc_exit' is not part of Signet's ABI (allowed modules: signet_v1)");
}

TEST(Verification, AHarnessPolicyMayAllowItsOwnImportsAndImportedState)
{
    auto bytes = wat_to_wasm(R"((module
      (import "spectest" "print_i32" (func (param i32)))
      (import "spectest" "memory" (memory 1 2))
      (import "spectest" "global_i32" (global i32))))");
    auto refused = VerifiedModule::verify(bytes, "harness.wasm", ImportPolicy::signet_default());
    ASSERT_TRUE(refused.is_error());

    auto policy = ImportPolicy::signet_default();
    policy.allow_function("spectest", "print_i32", "i", "");
    policy.allow("spectest", "memory", ImportKind::Memory);
    policy.allow("spectest", "global_i32", ImportKind::Global, "i");
    auto still_refused = VerifiedModule::verify(bytes, "harness.wasm", policy);
    ASSERT_TRUE(still_refused.is_error());
    EXPECT_NE(still_refused.error().message().find("is a memory: a SIP owns"), std::string::npos);

    policy.allow_imported_state();
    auto accepted = VerifiedModule::verify(bytes, "harness.wasm", policy);
    EXPECT_FALSE(accepted.is_error()) << accepted.error().message();

    auto any = ImportPolicy::none();
    any.allow_any("spectest");
    any.allow_imported_state();
    auto accepted_by_wildcard = VerifiedModule::verify(bytes, "harness.wasm", any);
    EXPECT_FALSE(accepted_by_wildcard.is_error()) << accepted_by_wildcard.error().message();
}

TEST(Verification, HostileBytesNeverCrashTheVerifier)
{
    // Every prefix and a spread of single-byte corruptions of a real module: each one
    // is accepted or refused, never a crash. (A prefix that ends between sections is
    // a valid module: sections are optional.)
    auto bytes = wat_to_wasm(R"((module
      (import "signet_v1" "debug_log" (func $log (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "hello")
      (table 2 funcref)
      (elem (i32.const 0) $a $b)
      (global $g (mut i32) (i32.const 7))
      (func $a (result i32) (global.get $g))
      (func $b (result i32) (call_indirect (result i32) (i32.const 0)))
      (func (export "_start") (drop (call $log (i32.const 16) (i32.const 5))))))");
    auto policy = ImportPolicy::signet_default();
    for (size_t length = 0; length <= bytes.size(); ++length) {
        std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(length));
        auto result = VerifiedModule::verify(prefix, "fuzz.wasm", policy);
        if (result.is_error()) {
            EXPECT_EQ(result.error().kind(), ErrorKind::InvalidInput);
        }
    }
    // Random multi-byte mutations, insertions and deletions, with a fixed seed.
    std::mt19937 random(20240611);
    for (int round = 0; round < 3000; ++round) {
        auto mutated = bytes;
        int edits = 1 + static_cast<int>(random() % 4);
        for (int edit = 0; edit < edits && mutated.size() > 9; ++edit) {
            size_t position = 8 + random() % (mutated.size() - 8);
            switch (random() % 3) {
            case 0:
                mutated[position] = static_cast<uint8_t>(random());
                break;
            case 1:
                mutated.insert(mutated.begin() + static_cast<ptrdiff_t>(position), static_cast<uint8_t>(random()));
                break;
            default:
                mutated.erase(mutated.begin() + static_cast<ptrdiff_t>(position));
                break;
            }
        }
        auto result = VerifiedModule::verify(mutated, "fuzz.wasm", policy);
        if (result.is_error()) {
            EXPECT_EQ(result.error().kind(), ErrorKind::InvalidInput);
            EXPECT_EQ(result.error().message().find('\n'), std::string::npos) << result.error().message();
        }
    }
    for (size_t position = 8; position < bytes.size(); ++position) {
        for (uint8_t value : { uint8_t(0x00), uint8_t(0x7f), uint8_t(0x80), uint8_t(0xfd), uint8_t(0xfe), uint8_t(0xff) }) {
            auto corrupted = bytes;
            corrupted[position] = value;
            auto result = VerifiedModule::verify(corrupted, "fuzz.wasm", policy);
            if (result.is_error()) {
                EXPECT_EQ(result.error().kind(), ErrorKind::InvalidInput);
            }
        }
    }
}
