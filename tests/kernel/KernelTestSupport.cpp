#include "KernelTestSupport.h"

#include <filesystem>

namespace signet::testing {

std::string guest(std::string const& name)
{
    return std::string(SIGNET_TEST_GUESTS) + "/" + name + ".wasm";
}

std::string example(std::string const& name)
{
    return std::string(SIGNET_EXAMPLES) + "/" + name + ".wasm";
}

std::string KernelTest::store_dir()
{
    // Shared by all tests of this binary (and kept between runs) so each guest compiles once.
    return std::string(SIGNET_TEST_GUESTS) + "/store";
}

void KernelTest::SetUp()
{
    m_diagnostics = std::make_shared<BufferOutputStream>();
    auto kernel = Kernel::create({ .workers = 2, .diagnostics = m_diagnostics });
    ASSERT_FALSE(kernel.is_error());
    m_kernel = kernel.release_value();
}

void KernelTest::TearDown()
{
    m_kernel.reset();
}

std::shared_ptr<Image> KernelTest::image(std::string const& wasm_path)
{
    return install_and_load(*m_kernel, wasm_path, store_dir());
}

SpawnRequest KernelTest::request(std::string const& wasm_path, std::vector<std::string> args, std::string stdin_text)
{
    SpawnRequest request;
    request.image = image(wasm_path);
    request.name = std::filesystem::path(wasm_path).filename().string();
    request.args = { request.name };
    request.args.insert(request.args.end(), args.begin(), args.end());
    request.stdio.in = std::make_shared<BufferInputStream>(std::move(stdin_text));
    request.stdio.out = std::make_shared<BufferOutputStream>();
    request.stdio.err = std::make_shared<BufferOutputStream>();
    return request;
}

RunResult KernelTest::run(std::string const& wasm_path, std::vector<std::string> args, std::string stdin_text)
{
    auto spawn = request(wasm_path, std::move(args), std::move(stdin_text));
    auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto err = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.err);
    RunResult result;
    if (!spawn.image) {
        ADD_FAILURE() << "no image for " << wasm_path;
        return result;
    }
    auto sip = m_kernel->spawn(std::move(spawn));
    if (sip.is_error()) {
        ADD_FAILURE() << sip.error().message();
        return result;
    }
    result.exit = sip.value()->wait_from_host();
    result.out = out->contents();
    result.err = err->contents();
    result.diagnostics = m_diagnostics->contents();
    return result;
}

} // namespace signet::testing
