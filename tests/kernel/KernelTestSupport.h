// A kernel with a private store, and helpers to install and run guests.
#pragma once

#include "installer/Installer.h"
#include "kernel/Kernel.h"

#include <gtest/gtest.h>
#include <memory>
#include <string>

namespace signet::testing {

std::string guest(std::string const& name);   // path of a test guest module
std::string example(std::string const& name); // path of an example module

// Installs `wasm_path` into `store_dir` and maps its image in `kernel`; null
// (and a test failure naming why) if either step fails.
inline std::shared_ptr<Image> install_and_load(Kernel& kernel, std::string const& wasm_path, std::string const& store_dir)
{
    installer::InstallOptions options;
    options.store_dir = store_dir;
    auto installed = installer::install_file(wasm_path, options);
    EXPECT_FALSE(installed.is_error()) << installed.error().message();
    if (installed.is_error())
        return nullptr;
    auto image = kernel.load_image(installed.value().image_path, installed.value().module_hash);
    EXPECT_FALSE(image.is_error()) << image.error().message();
    return image.is_error() ? nullptr : image.release_value();
}

struct RunResult {
    ExitInfo exit;
    std::string out;
    std::string err;
    std::string diagnostics;
};

class KernelTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    std::shared_ptr<Image> image(std::string const& wasm_path);
    SpawnRequest request(std::string const& wasm_path, std::vector<std::string> args = {}, std::string stdin_text = {});
    RunResult run(std::string const& wasm_path, std::vector<std::string> args = {}, std::string stdin_text = {});

    std::unique_ptr<Kernel> m_kernel;
    std::shared_ptr<BufferOutputStream> m_diagnostics;
    static std::string store_dir();
};

} // namespace signet::testing
