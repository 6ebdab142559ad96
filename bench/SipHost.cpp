#include "bench/SipHost.h"
#include "bench/Harness.h"

namespace signet::bench {

ErrorOr<installer::ImageInfo> install_guest(std::string const& wasm_path, std::string const& store_dir)
{
    installer::InstallOptions options;
    options.store_dir = store_dir;
    return installer::install_file(wasm_path, options);
}

ErrorOr<std::unique_ptr<SipHost>> SipHost::create(unsigned workers)
{
    auto kernel = TRY(Kernel::create({ .workers = workers, .diagnostics = {} }));
    return std::unique_ptr<SipHost>(new SipHost(std::move(kernel)));
}

ErrorOr<std::shared_ptr<Image>> SipHost::load(installer::ImageInfo const& info)
{
    return m_kernel->load_image(info.image_path, info.module_hash);
}

ErrorOr<SipHost::RunResult> SipHost::run(std::shared_ptr<Image> image, std::vector<std::string> args)
{
    auto out = std::make_shared<BufferOutputStream>();
    SpawnRequest request;
    request.image = std::move(image);
    request.name = args.empty() ? "guest" : args.front();
    request.args = std::move(args);
    request.stdio = Stdio::host();
    request.stdio.in = nullptr; // no input: a read sees end of file
    request.stdio.out = out;

    RunResult result;
    uint64_t start = monotonic_ns();
    auto sip = TRY(m_kernel->spawn(std::move(request)));
    result.exit = sip->wait_from_host();
    result.wall_ns = monotonic_ns() - start;
    result.out = out->contents();
    return result;
}

std::string describe_exit(ExitInfo const& exit)
{
    switch (exit.how) {
    case ExitInfo::How::Exited:
        return "exited with " + std::to_string(exit.status);
    case ExitInfo::How::Trapped:
        return std::string("trapped: ") + trap_kind_description(exit.trap) + exit.detail;
    case ExitInfo::How::Killed:
        return "was killed: " + exit.detail;
    }
    return "ended";
}

} // namespace signet::bench
