#include "installer/CCompiler.h"
#include "installer/Process.h"

#include <map>
#include <mutex>

namespace signet::installer {

namespace {

constexpr size_t max_reported_output = 4000;
constexpr size_t max_reported_lines = 25;

std::string joined_words(std::vector<std::string> const& words)
{
    std::string out;
    for (auto const& word : words) {
        if (!out.empty())
            out += ' ';
        out += word;
    }
    return out;
}

// The head of the compiler's output: the first error is what matters, and a
// translation unit of generated code can produce megabytes of follow-up noise.
std::string excerpt(ProcessResult const& result)
{
    std::string out;
    size_t lines = 0;
    for (char c : result.output) {
        if (out.size() >= max_reported_output || lines >= max_reported_lines) {
            out += "\n[... output truncated]";
            return out;
        }
        out += c;
        if (c == '\n')
            ++lines;
    }
    while (!out.empty() && out.back() == '\n')
        out.pop_back();
    if (result.output_truncated)
        out += "\n[... output truncated]";
    return out;
}

} // namespace

std::vector<std::string> image_compile_flags()
{
    return {
        "-shared",
        "-fPIC",
        "-DNDEBUG",
        "-fno-omit-frame-pointer",
        "-fstack-clash-protection",
        // WebAssembly semantics: a signalling NaN must come out of x-0, x*1 ... quietened,
        // and unbounded recursion must exhaust the stack (and trap), not become a loop.
        "-fsignaling-nans",
        "-fno-optimize-sibling-calls",
        "-fvisibility=hidden",
        "-w",
        "-Wl,-z,now",
        "-Wl,-z,noexecstack",
        "-Wl,-z,relro",
    };
}

ErrorOr<void> compile_image(CompileJob const& job)
{
    std::vector<std::string> argv = job.compiler;
    argv.insert(argv.end(), job.optimization.begin(), job.optimization.end());
    auto flags = image_compile_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    // The build directory has a random name; keep it out of the image.
    argv.push_back("-ffile-prefix-map=" + job.include_dir + "=.");
    argv.push_back("-I" + job.include_dir);
    argv.push_back("-o");
    argv.push_back(job.output);
    argv.insert(argv.end(), job.sources.begin(), job.sources.end());
    argv.push_back("-lm");

    auto result = run_process(argv);
    if (result.is_error())
        return Error(ErrorKind::Toolchain, "cannot run the C compiler: " + result.error().message());
    if (!result.value().succeeded()) {
        std::string output = excerpt(result.value());
        return Error(ErrorKind::Toolchain, "the C compiler '" + joined_words(job.compiler) + "' failed (" + result.value().describe() + ")"
                + (output.empty() ? std::string() : ":\n" + output));
    }
    return {};
}

ErrorOr<std::string> c_compiler_version(std::vector<std::string> const& compiler)
{
    static std::mutex mutex;
    static std::map<std::vector<std::string>, std::string> versions;
    {
        std::lock_guard lock(mutex);
        if (auto it = versions.find(compiler); it != versions.end())
            return it->second;
    }

    std::vector<std::string> argv = compiler;
    argv.push_back("--version");
    auto result = run_process(argv, 4096);
    if (result.is_error())
        return Error(ErrorKind::Toolchain, "cannot run the C compiler: " + result.error().message());
    if (!result.value().succeeded())
        return Error(ErrorKind::Toolchain, "the C compiler '" + joined_words(compiler) + "' failed to report its version (" + result.value().describe() + ")");
    std::string const& output = result.value().output;
    std::string version = output.substr(0, output.find('\n'));
    if (version.empty())
        version = joined_words(compiler) + " (no version)";

    std::lock_guard lock(mutex);
    versions.emplace(compiler, version);
    return version;
}

} // namespace signet::installer
