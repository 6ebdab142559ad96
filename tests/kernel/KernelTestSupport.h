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
