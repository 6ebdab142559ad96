// Modules as the SDK builds them (clang for wasm32-wasi), not hand-written WAT.
#include "installer/Installer.h"
#include "tests/installer/TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace signet;
using namespace signet::installer;
using namespace signet::installer::test;

TEST(RealProgram, AWasiLibcCommandInstallsAsWasiAndShrinks)
{
    TemporaryDirectory directory;
    InstallOptions options;
    options.store_dir = directory.store();
    options.optimization = "-O0";
    auto result = install_file(SIGNET_TEST_WASI_HELLO, options);
    ASSERT_FALSE(result.is_error()) << result.error().message();
    auto const& info = result.value();
    EXPECT_EQ(info.personality, Personality::Wasi);
    EXPECT_TRUE(info.has_start);
    EXPECT_TRUE(info.warnings.empty()) << info.warnings[0];
    EXPECT_LT(info.shaken_bytes, info.module_bytes);
    auto const& imports = info.imported_functions;
    EXPECT_NE(std::find(imports.begin(), imports.end(), "wasi_snapshot_preview1.fd_write"), imports.end());
    EXPECT_NE(std::find(imports.begin(), imports.end(), "wasi_snapshot_preview1.proc_exit"), imports.end());
    for (auto const& name : imports)
        EXPECT_EQ(name.rfind("wasi_snapshot_preview1.", 0), 0u) << name;
    EXPECT_NE(read_elf(info.image_path).find_dynamic("signet_image"), nullptr);
}

TEST(RealProgram, ANativeCommandInstallsWithTheDefaultOptimization)
{
    TemporaryDirectory directory;
    InstallOptions options;
    options.store_dir = directory.store();
    auto result = install_file(SIGNET_TEST_NATIVE_HELLO, options);
    ASSERT_FALSE(result.is_error()) << result.error().message();
    auto const& info = result.value();
    EXPECT_EQ(info.personality, Personality::Native);
    EXPECT_TRUE(info.has_start);
    EXPECT_EQ(info.imported_functions, (std::vector<std::string> { "signet_v1.stdio_write", "signet_v1.yield", "signet_v1.exit" }));

    auto native_only = options;
    native_only.policy = ImportPolicy::for_personality(Personality::Native);
    auto again = install_file(SIGNET_TEST_NATIVE_HELLO, native_only);
    ASSERT_FALSE(again.is_error()) << again.error().message();
    EXPECT_TRUE(again.value().was_cached) << "the policy is not part of the key: verification runs on every install";
}
