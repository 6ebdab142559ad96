// The installer: verify -> tree-shake -> translate -> compile -> store.
//
// A module becomes runnable only by passing through here. The installer checks
// it completely (wabt validation plus Signet's own rules: imports only from the
// ABI, no shared memory, no atomics, no SIMD, one memory), shrinks it with
// binaryen, translates it to C with wasm2c (libwabt, in-process), compiles that
// with the system C compiler into a shared object, and stores the result under
// a content-derived key. The kernel loads images only from the store (see
// runtime/ImageAbi.h for what an image exports). docs/installer.md has the details.
#pragma once

#include "base/ErrorOr.h"
#include "installer/ImportPolicy.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace signet::installer {

struct InstallOptions {
    // Where images live: $SIGNET_HOME/store by default (see default_store_dir()).
    std::string store_dir;
    // Larger modules are refused before anything is parsed.
    uint64_t max_module_bytes = 64ull * 1024 * 1024;
    ImportPolicy policy = ImportPolicy::signet_default();
    // Remove unused functions, globals, segments and imports with binaryen.
    bool tree_shake = true;
    // Empty: keep every export. Otherwise keep only these, plus `_start` and `memory`.
    // Needs tree_shake.
    std::vector<std::string> keep_exports;
    // Appended to the generated glue unit, after the wasm2c header is included: test
    // harnesses use it to call exports. Part of the cache key.
    std::string extra_c_source;
    // The C compiler, found on PATH; may hold extra words ("ccache cc"). When left at
    // "cc", the environment variable SIGNET_CC overrides it.
    std::string c_compiler = "cc";
    // Whitespace-separated flags starting with -O, -f, -m or -g.
    std::string optimization = "-O2";
};

struct ImageInfo {
    // Lower-case hex SHA-256 of the module as given (before tree shaking).
    std::string module_hash;
    // The store key: SHA-256 over the module hash and everything that shapes the image.
    std::string entry_key;
    std::string image_path;      // <store>/<entry_key>/image.so
    // Lower-case hex SHA-256 of image.so as verified. A loader that wants no window
    // between check and use opens the file, hashes what it read, and loads that.
    std::string image_sha256;
    std::string store_entry_dir; // <store>/<entry_key>
    std::vector<std::string> imported_functions; // "module.name", in import order, after shaking
    Personality personality { Personality::Native };
    bool has_start { false };
    uint64_t module_bytes { 0 };
    uint64_t shaken_bytes { 0 }; // == module_bytes when not shaken
    bool was_cached { false };
    std::string toolchain;
    // Things that did not stop the install, e.g. tree shaking skipped and why.
    std::vector<std::string> warnings;
};

// Installs a module file. Errors name the file as given in wasm_path.
ErrorOr<ImageInfo> install_file(std::string const& wasm_path, InstallOptions const&);
// Installs module bytes; display_name is used in error messages.
ErrorOr<ImageInfo> install_bytes(std::span<uint8_t const> module, std::string const& display_name, InstallOptions const&);

// Finds a store entry by its entry key, or by module hash (the entry built with default
// options if there is one, else the only entry for that module). Re-hashes image.so and
// meta.toml; anything off is a Corrupt error, never a damaged image.
ErrorOr<ImageInfo> lookup_verified(std::string const& store_dir, std::string const& key_or_module_hash);
// The same for the entry an install with these options would produce.
ErrorOr<ImageInfo> lookup_verified(std::string const& module_hash, InstallOptions const&);

// $SIGNET_HOME/store if SIGNET_HOME is set, else $XDG_DATA_HOME/signet/store, else
// ~/.local/share/signet/store.
std::string default_store_dir();

// "signet-installer <version> (image ABI <n>); wabt <v>; binaryen <v>", without the C compiler.
std::string installer_toolchain();

} // namespace signet::installer
