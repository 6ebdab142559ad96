// Installing for real: wasm2c, the C compiler and the store. Images are built
// with -O0 where their contents do not matter, to keep the suite fast.
#include "installer/Installer.h"
#include "installer/TreeShaker.h"
#include "installer/VerifiedModule.h"
#include "runtime/ImageAbi.h"
#include "tests/installer/TestSupport.h"

#include "base/Hash.h"

#include <gtest/gtest.h>
#include <wabt/ir.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <sys/stat.h>
#include <thread>

using namespace signet;
using namespace signet::installer;
using namespace signet::installer::test;

namespace {

std::string const hello_command = R"((module
  (import "signet_v1" "debug_log" (func $log (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "signet_v1" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello")
  (func (export "_start")
    (drop (call $log (i32.const 16) (i32.const 5)))
    (call $exit (i32.const 0)))
  (func (export "answer") (result i32) (i32.const 42))
  (func $unused (drop (call $write (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))))
)";

class Install : public ::testing::Test {
protected:
    InstallOptions options() const
    {
        InstallOptions options;
        options.store_dir = m_directory.store();
        options.optimization = "-O0";
        return options;
    }

    ImageInfo install(std::string const& wat, InstallOptions const& options)
    {
        auto result = install_bytes(wat_to_wasm(wat), "test.wasm", options);
        EXPECT_FALSE(result.is_error()) << result.error().message();
        return result.is_error() ? ImageInfo {} : result.release_value();
    }
    ImageInfo install(std::string const& wat) { return install(wat, options()); }

    TemporaryDirectory m_directory;
};

timespec modification_time(std::string const& path)
{
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_mtim;
}

} // namespace

TEST_F(Install, AValidModuleBecomesAnImageThatExportsOnlySignetImage)
{
    auto bytes = wat_to_wasm(hello_command);
    auto result = install_bytes(bytes, "hello.wasm", options());
    ASSERT_FALSE(result.is_error()) << result.error().message();
    auto const& info = result.value();

    EXPECT_EQ(info.module_hash, sha256_hex(bytes));
    EXPECT_FALSE(info.was_cached);
    EXPECT_TRUE(info.has_start);
    EXPECT_EQ(info.module_bytes, bytes.size());
    EXPECT_EQ(info.store_entry_dir, m_directory.store() + "/" + info.entry_key);
    EXPECT_EQ(info.image_path, info.store_entry_dir + "/image.so");
    EXPECT_EQ(info.image_sha256, sha256_hex(read_bytes(info.image_path)));
    EXPECT_NE(info.toolchain.find("wabt 1.0.32"), std::string::npos) << info.toolchain;
    EXPECT_NE(info.toolchain.find("binaryen"), std::string::npos) << info.toolchain;
    EXPECT_TRUE(info.warnings.empty());
    EXPECT_EQ(count_entries(m_directory.store()), 1u) << "the staging directory was left behind";
    EXPECT_EQ(count_entries(info.store_entry_dir), 2u);

    auto elf = read_elf(info.image_path);
    auto const* image = elf.find_dynamic(SIGNET_IMAGE_SYMBOL);
    ASSERT_NE(image, nullptr);
    EXPECT_TRUE(image->defined);
    EXPECT_EQ(image->binding, STB_GLOBAL);
    EXPECT_EQ(image->type, STT_OBJECT);
    EXPECT_EQ(image->visibility, STV_DEFAULT);

    // Only signet_image is exported; the imports and wasm_rt_* stay undefined for the
    // kernel executable to provide.
    for (auto const& symbol : elf.dynamic_symbols) {
        if (symbol.defined && !symbol.name.empty() && symbol.type != STT_SECTION) {
            EXPECT_EQ(symbol.name, SIGNET_IMAGE_SYMBOL) << "unexpected export";
        }
    }
    auto undefined = [&](std::string const& name) {
        auto const* symbol = elf.find_dynamic(name);
        return symbol && !symbol->defined;
    };
    EXPECT_TRUE(undefined("Z_signet_v1Z_debug_log"));
    EXPECT_TRUE(undefined("Z_signet_v1Z_exit"));
    EXPECT_TRUE(undefined("wasm_rt_trap"));
    EXPECT_TRUE(undefined("wasm_rt_allocate_memory"));

    // The table's plain fields, straight from the file (the pointers need relocation).
    auto header = elf.read_at(image->value, 16);
    ASSERT_TRUE(header.has_value());
    uint64_t magic = 0;
    uint32_t abi_version = 0;
    uint32_t instance_size = 0;
    std::memcpy(&magic, header->data(), 8);
    std::memcpy(&abi_version, header->data() + 8, 4);
    std::memcpy(&instance_size, header->data() + 12, 4);
    EXPECT_EQ(magic, SIGNET_IMAGE_MAGIC);
    EXPECT_EQ(abi_version, SIGNET_IMAGE_ABI_VERSION);
    EXPECT_GT(instance_size, 0u);

    // The module hash is in the image, for the kernel to compare with the store's.
    std::string image_bytes(elf.bytes.begin(), elf.bytes.end());
    EXPECT_NE(image_bytes.find(info.module_hash), std::string::npos);
}

TEST_F(Install, AModuleWithoutStartOrImportsInstalls)
{
    auto info = install(R"((module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))))");
    EXPECT_FALSE(info.has_start);
    EXPECT_TRUE(info.imported_functions.empty());
    EXPECT_EQ(info.personality, Personality::Native);
}

TEST_F(Install, ASecondInstallIsACacheHitThatDoesNotRebuild)
{
    auto first = install(hello_command);
    auto first_time = modification_time(first.image_path);
    auto second = install(hello_command);
    EXPECT_FALSE(first.was_cached);
    EXPECT_TRUE(second.was_cached);
    EXPECT_EQ(second.image_path, first.image_path);
    EXPECT_EQ(second.entry_key, first.entry_key);
    EXPECT_EQ(second.imported_functions, first.imported_functions);
    EXPECT_EQ(second.shaken_bytes, first.shaken_bytes);
    auto second_time = modification_time(second.image_path);
    EXPECT_EQ(second_time.tv_sec, first_time.tv_sec);
    EXPECT_EQ(second_time.tv_nsec, first_time.tv_nsec);
    EXPECT_EQ(count_entries(m_directory.store()), 1u);
}

// A thread's entry is named by its index in table 0, and the kernel calls
// through the table: a module that never does so itself keeps its table
// through tree shaking (binaryen would drop it, keeping the entry function).
TEST(TreeShaking, KeepsTheTableThatThreadCreateCallsThrough)
{
    std::string const threads = R"((module
  (import "signet_v1" "thread_create" (func $create (param i32 i32 i32 i32) (result i32)))
  (import "signet_v1" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (table 2 2 funcref)
  (elem (i32.const 1) $entry)
  (func $entry (param i32))
  (func (export "_start")
    (drop (call $create (i32.const 1) (i32.const 0) (i32.const 4096) (i32.const 8)))
    (call $exit (i32.const 0))))
)";
    auto tables_after_shaking = [](std::string const& wat) -> size_t {
        auto shaken = tree_shake(wat_to_wasm(wat), { "_start" });
        EXPECT_FALSE(shaken.is_error()) << shaken.error().message();
        if (shaken.is_error())
            return 0;
        auto verified = VerifiedModule::verify(shaken.value(), "shaken", ImportPolicy::signet_default());
        EXPECT_FALSE(verified.is_error()) << verified.error().message();
        return verified.is_error() ? 0 : verified.value().module().tables.size();
    };
    EXPECT_EQ(tables_after_shaking(threads), 1u);
    // Without thread_create nothing calls through it: it goes.
    std::string without = threads;
    without.replace(without.find("(drop (call $create"), std::string("(drop (call $create (i32.const 1) (i32.const 0) (i32.const 4096) (i32.const 8)))").size(), "");
    without.replace(without.find("  (import \"signet_v1\" \"thread_create\""), std::string("  (import \"signet_v1\" \"thread_create\" (func $create (param i32 i32 i32 i32) (result i32)))\n").size(), "");
    EXPECT_EQ(tables_after_shaking(without), 0u);
}

TEST_F(Install, DifferentOptionsGetDifferentEntries)
{
    auto shaken = install(hello_command);
    auto unshaken_options = options();
    unshaken_options.tree_shake = false;
    auto unshaken = install(hello_command, unshaken_options);
    auto extra_options = options();
    extra_options.extra_c_source = "int signet_test_marker(void) { return 42; }\n";
    auto with_extra = install(hello_command, extra_options);

    EXPECT_EQ(shaken.module_hash, unshaken.module_hash);
    EXPECT_NE(shaken.entry_key, unshaken.entry_key);
    EXPECT_NE(shaken.entry_key, with_extra.entry_key);
    EXPECT_FALSE(unshaken.was_cached);
    EXPECT_FALSE(with_extra.was_cached);
    EXPECT_EQ(count_entries(m_directory.store()), 3u);

    // The extra source is compiled into the glue unit.
    EXPECT_TRUE(read_elf(with_extra.image_path).has_symbol("signet_test_marker"));
    EXPECT_FALSE(read_elf(shaken.image_path).has_symbol("signet_test_marker"));
}

TEST_F(Install, LookupFindsEntriesByKeyByModuleHashAndByOptions)
{
    auto info = install(hello_command);
    auto by_key = lookup_verified(m_directory.store(), info.entry_key);
    ASSERT_FALSE(by_key.is_error()) << by_key.error().message();
    EXPECT_EQ(by_key.value().image_path, info.image_path);
    EXPECT_EQ(by_key.value().module_hash, info.module_hash);
    EXPECT_EQ(by_key.value().imported_functions, info.imported_functions);

    auto by_module = lookup_verified(m_directory.store(), info.module_hash);
    ASSERT_FALSE(by_module.is_error()) << by_module.error().message();
    EXPECT_EQ(by_module.value().entry_key, info.entry_key);

    auto by_options = lookup_verified(info.module_hash, options());
    ASSERT_FALSE(by_options.is_error()) << by_options.error().message();
    EXPECT_EQ(by_options.value().entry_key, info.entry_key);

    // Two entries for one module, neither with default options: ambiguous.
    auto other = options();
    other.tree_shake = false;
    install(hello_command, other);
    auto ambiguous = lookup_verified(m_directory.store(), info.module_hash);
    ASSERT_TRUE(ambiguous.is_error());
    EXPECT_EQ(ambiguous.error().kind(), ErrorKind::InvalidInput);

    auto missing = lookup_verified(m_directory.store(), std::string(64, 'a'));
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().kind(), ErrorKind::NotFound);
    auto malformed = lookup_verified(m_directory.store(), "../etc");
    ASSERT_TRUE(malformed.is_error());
    EXPECT_EQ(malformed.error().kind(), ErrorKind::InvalidInput);
}

TEST_F(Install, ATamperedImageIsNeverHandedOutAndIsRebuilt)
{
    auto info = install(hello_command);
    auto original = read_bytes(info.image_path);
    flip_byte(info.image_path, original.size() / 2);

    auto lookup = lookup_verified(m_directory.store(), info.entry_key);
    ASSERT_TRUE(lookup.is_error());
    EXPECT_EQ(lookup.error().kind(), ErrorKind::Corrupt);
    EXPECT_NE(lookup.error().message().find("image.so does not match"), std::string::npos) << lookup.error().message();

    auto rebuilt = install(hello_command);
    EXPECT_FALSE(rebuilt.was_cached);
    EXPECT_EQ(rebuilt.image_path, info.image_path);
    ASSERT_FALSE(rebuilt.warnings.empty());
    EXPECT_NE(rebuilt.warnings.back().find("rebuilt a damaged store entry"), std::string::npos);
    EXPECT_EQ(read_bytes(rebuilt.image_path), original);
    EXPECT_FALSE(lookup_verified(m_directory.store(), info.entry_key).is_error());
    EXPECT_EQ(count_entries(m_directory.store()), 1u);
}

TEST_F(Install, ConcurrentInstallsRepairADamagedEntryOnce)
{
    auto info = install(hello_command);
    auto original = read_bytes(info.image_path);
    flip_byte(info.image_path, 100);
    auto bytes = wat_to_wasm(hello_command);
    std::vector<std::optional<ImageInfo>> results(3);
    std::vector<std::string> errors(3);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < results.size(); ++i) {
        threads.emplace_back([&, i] {
            auto result = install_bytes(bytes, "race.wasm", options());
            if (result.is_error())
                errors[i] = result.error().message();
            else
                results[i] = result.release_value();
        });
    }
    for (auto& thread : threads)
        thread.join();
    for (size_t i = 0; i < results.size(); ++i)
        ASSERT_TRUE(results[i].has_value()) << errors[i];
    EXPECT_EQ(read_bytes(info.image_path), original);
    EXPECT_FALSE(lookup_verified(m_directory.store(), info.entry_key).is_error());
    EXPECT_EQ(count_entries(m_directory.store()), 1u);
}

TEST_F(Install, AbandonedStagingDirectoriesAreRemovedAfterADay)
{
    std::filesystem::create_directories(m_directory.store() + "/.tmp-abandoned/build");
    std::filesystem::create_directories(m_directory.store() + "/.tmp-inprogress/build");
    auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(48);
    std::filesystem::last_write_time(m_directory.store() + "/.tmp-abandoned", old);
    install(hello_command);
    EXPECT_FALSE(std::filesystem::exists(m_directory.store() + "/.tmp-abandoned"));
    EXPECT_TRUE(std::filesystem::exists(m_directory.store() + "/.tmp-inprogress"));
}

TEST_F(Install, ATamperedOrMissingMetaFileIsCorrupt)
{
    auto info = install(hello_command);
    std::string meta = info.store_entry_dir + "/meta.toml";
    auto text = read_bytes(meta);
    auto position = std::string(text.begin(), text.end()).find("module_bytes");
    ASSERT_NE(position, std::string::npos);
    flip_byte(meta, position);
    auto lookup = lookup_verified(m_directory.store(), info.entry_key);
    ASSERT_TRUE(lookup.is_error());
    EXPECT_EQ(lookup.error().kind(), ErrorKind::Corrupt);
    EXPECT_NE(lookup.error().message().find("checksum"), std::string::npos) << lookup.error().message();

    EXPECT_FALSE(install(hello_command).was_cached);
    std::filesystem::remove(info.image_path);
    auto without_image = lookup_verified(m_directory.store(), info.entry_key);
    ASSERT_TRUE(without_image.is_error());
    EXPECT_EQ(without_image.error().kind(), ErrorKind::Corrupt);
    EXPECT_FALSE(install(hello_command).was_cached);
    EXPECT_FALSE(lookup_verified(m_directory.store(), info.entry_key).is_error());
}

TEST_F(Install, TreeShakingRemovesUnusedFunctionsAndImports)
{
    auto shaken = install(hello_command);
    auto unshaken_options = options();
    unshaken_options.tree_shake = false;
    auto unshaken = install(hello_command, unshaken_options);

    EXPECT_LT(shaken.shaken_bytes, shaken.module_bytes);
    EXPECT_EQ(unshaken.shaken_bytes, unshaken.module_bytes);
    // $unused was the only caller of fd_write.
    EXPECT_EQ(shaken.imported_functions, (std::vector<std::string> { "signet_v1.debug_log", "signet_v1.exit" }));
    EXPECT_EQ(shaken.personality, Personality::Native);
    EXPECT_EQ(unshaken.imported_functions, (std::vector<std::string> { "signet_v1.debug_log", "wasi_snapshot_preview1.fd_write", "signet_v1.exit" }));
    EXPECT_EQ(unshaken.personality, Personality::Wasi);
    EXPECT_TRUE(shaken.warnings.empty());
}

TEST_F(Install, KeepExportsDropsTheOtherExports)
{
    auto keep = options();
    keep.keep_exports = { "answer" };
    auto info = install(R"((module
      (memory (export "memory") 1)
      (func (export "_start"))
      (func (export "answer") (result i32) (i32.const 42))
      (func (export "dropped") (result i32) (i32.const 7))))", keep);
    auto elf = read_elf(info.image_path);
    ASSERT_FALSE(elf.symbols.empty()) << "the image has no symbol table";
    EXPECT_TRUE(elf.has_symbol("Z_sipZ_answer"));
    EXPECT_TRUE(elf.has_symbol("Z_sipZ__start"));
    EXPECT_TRUE(elf.has_symbol("Z_sipZ_memory"));
    EXPECT_FALSE(elf.has_symbol("Z_sipZ_dropped"));

    auto without_shaking = keep;
    without_shaking.tree_shake = false;
    auto refused = install_bytes(wat_to_wasm(hello_command), "test.wasm", without_shaking);
    ASSERT_TRUE(refused.is_error());
    EXPECT_EQ(refused.error().kind(), ErrorKind::InvalidInput);
}

TEST_F(Install, BlockParametersSkipTreeShakingWithAWarning)
{
    auto info = install(R"((module
      (func (export "f") (param i32) (result i32)
        (local.get 0)
        (block (param i32) (result i32) (i32.const 1) (i32.add)))))");
    ASSERT_EQ(info.warnings.size(), 1u);
    EXPECT_NE(info.warnings[0].find("binaryen 108 cannot read blocks with parameters"), std::string::npos) << info.warnings[0];
    EXPECT_EQ(info.shaken_bytes, info.module_bytes);
}

TEST_F(Install, NestingUpToTheLimitInstallsWhateverTheCallersStack)
{
    // wasm2c's C writer recurses per level: this depth overflows an 8 MiB stack, so it
    // only works because the pipeline runs on its own large stack.
    auto result = install_bytes(deeply_nested_module(max_block_nesting), "deep.wasm", options());
    ASSERT_FALSE(result.is_error()) << result.error().message();
}

TEST_F(Install, ReferenceTypesBulkMemoryAndMultiValueInstall)
{
    auto info = install(R"((module
      (memory (export "memory") 1)
      (table $t 2 funcref)
      (table $x 1 externref)
      (data $d "abc")
      (elem $e func $pair)
      (func $pair (export "pair") (result i32 i64) (i32.const 1) (i64.const 2))
      (func (export "_start")
        (memory.init $d (i32.const 0) (i32.const 0) (i32.const 3))
        (memory.copy (i32.const 8) (i32.const 0) (i32.const 3))
        (memory.fill (i32.const 16) (i32.const 0) (i32.const 4))
        (data.drop $d)
        (table.set $t (i32.const 1) (ref.func $pair))
        (drop (table.grow $x (ref.null extern) (i32.const 1)))
        (drop (i32.trunc_sat_f32_s (f32.const 1.5)))
        (drop (i32.extend8_s (i32.const 255)))
        (drop (ref.func $pair))
        (drop (call $pair)) (drop))))");
    EXPECT_TRUE(info.has_start);
    EXPECT_TRUE(info.warnings.empty()) << info.warnings[0];
}

TEST_F(Install, WhatBinaryenCannotReadIsInstalledUnshakenWithAWarning)
{
    // binaryen 108 predates table.init; wabt and wasm2c 1.0.32 handle it.
    auto info = install(R"((module
      (table $t 2 funcref)
      (elem $e func $f)
      (func $f)
      (func (export "_start") (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1)))))");
    ASSERT_EQ(info.warnings.size(), 1u);
    EXPECT_EQ(info.warnings[0].rfind("tree shaking skipped: binaryen failed", 0), 0u) << info.warnings[0];
    EXPECT_EQ(info.shaken_bytes, info.module_bytes);
    EXPECT_TRUE(info.has_start);
    // The warning is part of the entry, so a cache hit reports it too.
    auto again = install(R"((module
      (table $t 2 funcref)
      (elem $e func $f)
      (func $f)
      (func (export "_start") (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1)))))");
    EXPECT_TRUE(again.was_cached);
    EXPECT_EQ(again.warnings, info.warnings);
}

TEST_F(Install, AHarnessCanAllowItsImportsAndCallExportsFromExtraSource)
{
    auto harness = options();
    harness.policy.allow_function("spectest", "print_i32", "i", "");
    harness.policy.allow("spectest", "memory", ImportKind::Memory);
    harness.policy.allow_imported_state();
    harness.tree_shake = false;
    harness.extra_c_source = R"(
__attribute__((visibility("default"))) u32 signet_harness_call_add(void* instance, u32 a, u32 b)
{
    return Z_sipZ_add((Z_sip_instance_t*)instance, a, b);
}
)";
    auto info = install(R"((module
      (import "spectest" "print_i32" (func $print (param i32)))
      (import "spectest" "memory" (memory 1))
      (func (export "add") (param i32 i32) (result i32)
        (call $print (local.get 0))
        (i32.add (local.get 0) (local.get 1)))))", harness);
    auto elf = read_elf(info.image_path);
    auto const* call = elf.find_dynamic("signet_harness_call_add");
    ASSERT_NE(call, nullptr);
    EXPECT_TRUE(call->defined);
    EXPECT_EQ(info.imported_functions, std::vector<std::string> { "spectest.print_i32" });
}

TEST_F(Install, ACompilerFailureIsAToolchainErrorAndLeavesNothingBehind)
{
    auto broken = options();
    broken.extra_c_source = "#error deliberately broken\n";
    auto result = install_bytes(wat_to_wasm(hello_command), "broken.wasm", broken);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().kind(), ErrorKind::Toolchain);
    EXPECT_EQ(result.error().message().rfind("broken.wasm: the C compiler", 0), 0u) << result.error().message();
    EXPECT_NE(result.error().message().find("deliberately broken"), std::string::npos) << result.error().message();
    EXPECT_EQ(count_entries(m_directory.store()), 0u);

    auto missing = options();
    missing.c_compiler = "/nonexistent/signet-cc";
    auto not_run = install_bytes(wat_to_wasm(hello_command), "broken.wasm", missing);
    ASSERT_TRUE(not_run.is_error());
    EXPECT_EQ(not_run.error().kind(), ErrorKind::Toolchain);
    EXPECT_EQ(count_entries(m_directory.store()), 0u);
}

TEST_F(Install, BadOptionsAreRefused)
{
    auto flags = options();
    flags.optimization = "-O2 -o/etc/passwd";
    auto result = install_bytes(wat_to_wasm(hello_command), "test.wasm", flags);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().kind(), ErrorKind::InvalidInput);
    EXPECT_EQ(count_entries(m_directory.store()), 0u);
}

TEST_F(Install, ConcurrentInstallsOfOneModuleAgreeOnOneEntry)
{
    constexpr int installers = 4;
    std::vector<ErrorOr<ImageInfo>> results;
    results.reserve(installers);
    for (int i = 0; i < installers; ++i)
        results.emplace_back(Error(ErrorKind::Internal, "not run"));
    auto bytes = wat_to_wasm(hello_command);
    std::vector<std::thread> threads;
    for (int i = 0; i < installers; ++i)
        threads.emplace_back([&, i] { results[i] = install_bytes(bytes, "race.wasm", options()); });
    for (auto& thread : threads)
        thread.join();
    for (auto& result : results) {
        ASSERT_FALSE(result.is_error()) << result.error().message();
        EXPECT_EQ(result.value().image_path, results[0].value().image_path);
    }
    EXPECT_EQ(count_entries(m_directory.store()), 1u);
    EXPECT_FALSE(lookup_verified(m_directory.store(), results[0].value().entry_key).is_error());
}

TEST_F(Install, InstallFileNamesTheFileAndReadsIt)
{
    std::string path = m_directory.path() + "/prog.wasm";
    auto bytes = wat_to_wasm(hello_command);
    {
        FILE* file = std::fopen(path.c_str(), "wb");
        ASSERT_NE(file, nullptr);
        std::fwrite(bytes.data(), 1, bytes.size(), file);
        std::fclose(file);
    }
    auto result = install_file(path, options());
    ASSERT_FALSE(result.is_error()) << result.error().message();
    EXPECT_EQ(result.value().module_hash, sha256_hex(bytes));

    auto small = options();
    small.max_module_bytes = 10;
    auto too_big = install_file(path, small);
    ASSERT_TRUE(too_big.is_error());
    EXPECT_EQ(too_big.error().kind(), ErrorKind::InvalidInput);
    EXPECT_EQ(too_big.error().message(), path + ": module is " + std::to_string(bytes.size()) + " bytes, larger than the limit of 10 bytes");

    auto missing = install_file(m_directory.path() + "/missing.wasm", options());
    ASSERT_TRUE(missing.is_error());
    EXPECT_NE(missing.error().message().find("missing.wasm"), std::string::npos);
    EXPECT_EQ(count_entries(m_directory.store()), 1u);
}

TEST(StoreLocation, FollowsSignetHomeThenXdgDataHomeThenHome)
{
    auto saved = [](char const* name) -> std::optional<std::string> {
        char const* value = std::getenv(name);
        return value ? std::optional<std::string>(value) : std::nullopt;
    };
    auto restore = [](char const* name, std::optional<std::string> const& value) {
        if (value)
            ::setenv(name, value->c_str(), 1);
        else
            ::unsetenv(name);
    };
    auto signet_home = saved("SIGNET_HOME");
    auto xdg = saved("XDG_DATA_HOME");
    auto home = saved("HOME");

    ::setenv("SIGNET_HOME", "/srv/signet", 1);
    ::setenv("XDG_DATA_HOME", "/xdg", 1);
    ::setenv("HOME", "/home/user", 1);
    EXPECT_EQ(default_store_dir(), "/srv/signet/store");
    ::unsetenv("SIGNET_HOME");
    EXPECT_EQ(default_store_dir(), "/xdg/signet/store");
    ::unsetenv("XDG_DATA_HOME");
    EXPECT_EQ(default_store_dir(), "/home/user/.local/share/signet/store");

    restore("SIGNET_HOME", signet_home);
    restore("XDG_DATA_HOME", xdg);
    restore("HOME", home);
}
