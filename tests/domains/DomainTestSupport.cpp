#include "DomainTestSupport.h"

#include "tests/kernel/KernelTestSupport.h"
#include "kernel/domain/DomainProcess.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

namespace signet::test {

std::unique_ptr<Kernel> create_domain_test_kernel(std::shared_ptr<OutputStream> diagnostics, std::chrono::microseconds quantum)
{
    auto kernel = Kernel::create({ .workers = 2, .diagnostics = std::move(diagnostics), .quantum = quantum });
    if (kernel.is_error()) {
        ADD_FAILURE() << kernel.error().message();
        return nullptr;
    }
    DomainProcess::set_default_host_executable(SIGNET_DOMAIN_HOST);
    return kernel.release_value();
}

std::string domain_test_store() { return std::string(SIGNET_TEST_BINARY_DIR) + "/store"; }

std::shared_ptr<Image> install_image(Kernel& kernel, std::string const& wasm)
{
    return signet::testing::install_and_load(kernel, wasm, domain_test_store());
}

SpawnRequest buffered_request(std::shared_ptr<Image> image, std::string const& name, std::vector<std::string> const& args)
{
    SpawnRequest request;
    request.image = std::move(image);
    request.name = name;
    request.args = { name };
    request.args.insert(request.args.end(), args.begin(), args.end());
    request.stdio.in = std::make_shared<BufferInputStream>(std::string {});
    request.stdio.out = std::make_shared<BufferOutputStream>();
    request.stdio.err = std::make_shared<BufferOutputStream>();
    request.principal = "test/" + name;
    return request;
}

std::vector<pid_t> live_domains()
{
    std::vector<pid_t> found;
    for (auto const& entry : std::filesystem::directory_iterator("/proc")) {
        std::ifstream stat(entry.path() / "stat");
        std::string pid, name, state;
        pid_t parent = 0;
        if (!(stat >> pid >> name >> state >> parent))
            continue;
        if (parent == ::getpid() && name == "(signet-domain)" && state != "Z")
            found.push_back(pid_t(std::stoi(pid)));
    }
    return found;
}

int in_child(std::function<int()> const& body)
{
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0)
        ::_exit(std::min(body(), 100));
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return status;
}

} // namespace signet::test
