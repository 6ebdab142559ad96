#include "installer/Installer.h"
#include "installer/CCompiler.h"
#include "installer/CTranslation.h"
#include "installer/EmbeddedHeaders.h"
#include "installer/Process.h"
#include "installer/Store.h"
#include "installer/TreeShaker.h"
#include "installer/VerifiedModule.h"
#include "installer/Version.h"

#include "base/File.h"

#include <wabt/ir.h>
#include "base/Hash.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <optional>
#include <pthread.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace signet::installer {

namespace {

// InstallOptions made concrete: the words to run and the recipe for the store key.
struct ResolvedOptions {
    std::vector<std::string> compiler;
    std::vector<std::string> optimization;
    std::string store_dir;
    ImageRecipe recipe;
};

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

bool is_allowed_optimization_flag(std::string const& flag)
{
    return flag.size() >= 2 && flag[0] == '-' && (flag[1] == 'O' || flag[1] == 'f' || flag[1] == 'm' || flag[1] == 'g');
}

ErrorOr<ResolvedOptions> resolve_options(InstallOptions const& options)
{
    ResolvedOptions resolved;
    std::string compiler = options.c_compiler;
    if (compiler == "cc") {
        if (char const* from_environment = std::getenv("SIGNET_CC"); from_environment && *from_environment)
            compiler = from_environment;
    }
    resolved.compiler = split_words(compiler);
    if (resolved.compiler.empty())
        return Error::invalid("install options: no C compiler given");
    resolved.optimization = split_words(options.optimization);
    for (auto const& flag : resolved.optimization) {
        if (!is_allowed_optimization_flag(flag))
            return Error::invalid("install options: optimization flag '" + flag + "' is not allowed (only -O, -f, -m and -g flags are)");
    }
    if (!options.keep_exports.empty() && !options.tree_shake)
        return Error::invalid("install options: keep_exports needs tree_shake");
    resolved.store_dir = options.store_dir.empty() ? default_store_dir() : options.store_dir;
    if (resolved.store_dir.empty())
        return Error::invalid("install options: no store directory (set SIGNET_HOME)");

    resolved.recipe.tree_shake = options.tree_shake;
    resolved.recipe.keep_exports = options.keep_exports;
    std::sort(resolved.recipe.keep_exports.begin(), resolved.recipe.keep_exports.end());
    resolved.recipe.keep_exports.erase(std::unique(resolved.recipe.keep_exports.begin(), resolved.recipe.keep_exports.end()), resolved.recipe.keep_exports.end());
    resolved.recipe.extra_source_sha256 = sha256_hex(options.extra_c_source);
    resolved.recipe.optimization = joined_words(resolved.optimization);
    resolved.recipe.c_compiler = joined_words(resolved.compiler);
    return resolved;
}

// Intermediate files: removed with the staging directory, so no fsync.
ErrorOr<void> write_intermediate(std::string const& path, std::string_view text)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return Error::from_errno("cannot create " + path, errno);
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return Error::from_errno("cannot write " + path, err);
        }
        done += static_cast<size_t>(n);
    }
    if (::close(fd) < 0)
        return Error::from_errno("cannot write " + path, errno);
    return {};
}

Error with_context(std::string const& display_name, Error const& error)
{
    return Error(error.kind(), display_name + ": " + error.message());
}

struct ShakenModule {
    VerifiedModule module;
    uint64_t bytes;
};

// Shakes and verifies the result again. Any error means "use the unshaken module".
ErrorOr<ShakenModule> shake(VerifiedModule const& verified, std::string const& display_name, ImportPolicy const& policy, std::vector<std::string> const& keep_exports)
{
    if (verified.has_block_parameters())
        return Error(ErrorKind::Unsupported, "binaryen 108 cannot read blocks with parameters");
    auto canonical = TRY(verified.encode());
    auto shaken_bytes = TRY(tree_shake(canonical, keep_exports));
    auto shaken = VerifiedModule::verify(shaken_bytes, display_name + " (tree-shaken)", policy);
    if (shaken.is_error())
        return Error(ErrorKind::Internal, "binaryen's output failed verification: " + shaken.error().message());
    if (shaken.value().has_start() != verified.has_start() || shaken.value().memory_count() != verified.memory_count())
        return Error(ErrorKind::Internal, "binaryen removed the memory or the _start export");
    return ShakenModule { shaken.release_value(), shaken_bytes.size() };
}

// Enough for translating max_block_nesting levels (about 1 KiB each in wabt's C
// writer) with room to spare. Only touched pages are ever committed.
constexpr size_t pipeline_stack_bytes = 256 * 1024 * 1024;

// Runs `body` on a fresh thread with a pipeline_stack_bytes stack, so that deep
// but valid nesting cannot overflow the caller's stack (a 2 MiB thread, or worse).
ErrorOr<ImageInfo> run_on_pipeline_stack(std::function<ErrorOr<ImageInfo>()> const& body)
{
    struct Job {
        std::function<ErrorOr<ImageInfo>()> const* body;
        std::optional<ErrorOr<ImageInfo>> result;
    };
    Job job { &body, std::nullopt };
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, pipeline_stack_bytes);
    pthread_t thread;
    auto entry = [](void* argument) -> void* {
        auto* job = static_cast<Job*>(argument);
        job->result.emplace((*job->body)());
        return nullptr;
    };
    int error = ::pthread_create(&thread, &attributes, entry, &job);
    pthread_attr_destroy(&attributes);
    if (error != 0)
        return Error::from_errno("cannot start the installer's pipeline thread", error);
    ::pthread_join(thread, nullptr);
    return std::move(*job.result);
}

ErrorOr<ImageInfo> install_on_pipeline_stack(std::span<uint8_t const> module, std::string const& display_name, InstallOptions const& options);

} // namespace

std::string installer_toolchain()
{
    return std::string("signet-installer ") + installer_version + " (image ABI " + std::to_string(image_abi_version) + "); wabt "
        + wabt_version + "; binaryen " + binaryen_version;
}

std::string default_store_dir()
{
    if (char const* home = std::getenv("SIGNET_HOME"); home && *home)
        return std::string(home) + "/store";
    // The XDG Base Directory spec says to ignore relative paths.
    if (char const* data = std::getenv("XDG_DATA_HOME"); data && data[0] == '/')
        return std::string(data) + "/signet/store";
    if (char const* home = std::getenv("HOME"); home && *home)
        return std::string(home) + "/.local/share/signet/store";
    if (passwd const* entry = ::getpwuid(::getuid()); entry && entry->pw_dir && *entry->pw_dir)
        return std::string(entry->pw_dir) + "/.local/share/signet/store";
    return {};
}

ErrorOr<ImageInfo> install_file(std::string const& wasm_path, InstallOptions const& options)
{
    auto bytes = read_file(wasm_path, options.max_module_bytes);
    if (bytes.is_error()) {
        // Too large is the module's fault, like any other refusal.
        if (bytes.error().kind() == ErrorKind::Limit) {
            struct stat info {};
            std::string size = ::stat(wasm_path.c_str(), &info) == 0 ? std::to_string(info.st_size) + " bytes" : std::string("too large");
            return Error::invalid(wasm_path + ": module is " + size + ", larger than the limit of " + std::to_string(options.max_module_bytes) + " bytes");
        }
        return bytes.release_error();
    }
    return install_bytes(bytes.value(), wasm_path, options);
}

ErrorOr<ImageInfo> install_bytes(std::span<uint8_t const> module, std::string const& display_name, InstallOptions const& options)
{
    return run_on_pipeline_stack([&] { return install_on_pipeline_stack(module, display_name, options); });
}

namespace {

ErrorOr<ImageInfo> install_on_pipeline_stack(std::span<uint8_t const> module, std::string const& display_name, InstallOptions const& options)
{
    if (module.size() > options.max_module_bytes)
        return Error::invalid(display_name + ": module is " + std::to_string(module.size()) + " bytes, larger than the limit of "
            + std::to_string(options.max_module_bytes) + " bytes");
    auto resolved = TRY(resolve_options(options));

    // 1. Verify. This runs even when the image is cached: a cached image is never a
    //    way around the policy of this install.
    std::string module_hash = sha256_hex(module);
    auto verified = TRY(VerifiedModule::verify(module, display_name, options.policy));
    for (auto const& name : resolved.recipe.keep_exports) {
        auto const& exports = verified.export_names();
        if (std::find(exports.begin(), exports.end(), name) == exports.end())
            return Error::invalid(display_name + ": keep_exports names '" + name + "', which the module does not export");
    }

    Store store(resolved.store_dir);
    std::string key = compute_entry_key(module_hash, resolved.recipe);
    std::vector<std::string> install_warnings;
    auto cached = store.verify_entry(key);
    if (!cached.is_error()) {
        auto info = cached.release_value();
        info.was_cached = true;
        return info;
    }
    if (cached.error().kind() == ErrorKind::Corrupt)
        install_warnings.push_back("rebuilt a damaged store entry: " + cached.error().message());

    // 2. Tree-shake, falling back to the verified module if binaryen cannot help.
    std::vector<std::string> image_warnings;
    std::optional<ShakenModule> shaken;
    if (resolved.recipe.tree_shake) {
        auto result = shake(verified, display_name, options.policy, resolved.recipe.keep_exports);
        if (result.is_error())
            image_warnings.push_back("tree shaking skipped: " + result.error().message());
        else
            shaken.emplace(result.release_value());
    }
    VerifiedModule& final_module = shaken ? shaken->module : verified;
    uint64_t shaken_bytes = shaken ? shaken->bytes : module.size();

    // 3. Translate.
    auto translation = translate_to_c(final_module.module());
    if (translation.is_error())
        return with_context(display_name, translation.error());
    auto const& ir = final_module.module();
    bool stack_pointer_global = !ir.globals.empty() && ir.num_global_imports == 0 && ir.globals[0]->mutable_
        && ir.globals[0]->type == wabt::Type::I32;
    auto glue = generate_glue(translation.value().header, module_hash, final_module.has_start(), stack_pointer_global, options.extra_c_source);
    if (glue.is_error())
        return with_context(display_name, glue.error());

    // 4. Compile, inside a staging directory of the store (same file system, so the
    //    final rename is atomic).
    auto compiler_version = c_compiler_version(resolved.compiler);
    if (compiler_version.is_error())
        return with_context(display_name, compiler_version.error());
    auto staging = TRY(store.stage());
    std::string build = staging.build_dir();
    TRY(write_intermediate(build + "/" + translated_source_name, translation.value().source));
    TRY(write_intermediate(build + "/" + translated_header_name, translation.value().header));
    TRY(write_intermediate(build + "/" + glue_source_name, glue.value()));
    TRY(write_intermediate(build + "/ImageAbi.h", embedded_image_abi_header()));
    TRY(write_intermediate(build + "/wasm-rt.h", embedded_wasm_rt_header()));

    CompileJob job;
    job.compiler = resolved.compiler;
    job.optimization = resolved.optimization;
    job.include_dir = build;
    job.sources = { build + "/" + translated_source_name, build + "/" + glue_source_name };
    job.output = staging.entry_dir() + "/image.so";
    if (auto compiled = compile_image(job); compiled.is_error())
        return with_context(display_name, compiled.error());

    // 5. Store.
    auto image = TRY(read_file(job.output));
    EntryMeta meta;
    meta.entry_key = key;
    meta.module_hash = module_hash;
    meta.image_sha256 = sha256_hex(image);
    meta.recipe = resolved.recipe;
    meta.personality = final_module.personality();
    meta.has_start = final_module.has_start();
    meta.imported_functions = final_module.imported_functions();
    meta.module_bytes = module.size();
    meta.shaken_bytes = shaken_bytes;
    meta.toolchain = installer_toolchain() + "; " + compiler_version.value();
    meta.warnings = image_warnings;
    auto info = TRY(store.commit(staging, meta));
    info.was_cached = false;
    info.warnings.insert(info.warnings.end(), install_warnings.begin(), install_warnings.end());
    return info;
}

} // namespace

ErrorOr<ImageInfo> lookup_verified(std::string const& store_dir, std::string const& key_or_module_hash)
{
    if (!is_sha256_hex(key_or_module_hash))
        return Error::invalid("'" + key_or_module_hash + "' is not a module hash or store key (64 lower-case hex digits)");
    Store store(store_dir);
    auto direct = store.verify_entry(key_or_module_hash);
    if (!direct.is_error() || direct.error().kind() != ErrorKind::NotFound)
        return direct;

    // A module hash: the entry built with default options, else the only one.
    InstallOptions defaults;
    defaults.store_dir = store_dir;
    if (auto resolved = resolve_options(defaults); !resolved.is_error()) {
        auto by_default = store.verify_entry(compute_entry_key(key_or_module_hash, resolved.value().recipe));
        if (!by_default.is_error() || by_default.error().kind() != ErrorKind::NotFound)
            return by_default;
    }
    auto keys = store.keys_for_module(key_or_module_hash);
    if (keys.empty())
        return Error::not_found("no image of " + key_or_module_hash + " in " + store_dir);
    if (keys.size() > 1)
        return Error::invalid("module " + key_or_module_hash + " has " + std::to_string(keys.size())
            + " images in " + store_dir + ", built with different options; name one by its entry key");
    return store.verify_entry(keys.front());
}

ErrorOr<ImageInfo> lookup_verified(std::string const& module_hash, InstallOptions const& options)
{
    if (!is_sha256_hex(module_hash))
        return Error::invalid("'" + module_hash + "' is not a module hash (64 lower-case hex digits)");
    auto resolved = TRY(resolve_options(options));
    return Store(resolved.store_dir).verify_entry(compute_entry_key(module_hash, resolved.recipe));
}

} // namespace signet::installer
