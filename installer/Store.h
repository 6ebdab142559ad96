// The image store: one directory per image, named by a key derived from the
// module hash and everything else that shapes the image.
//
//   <store>/<entry_key>/image.so     the compiled image (read-only)
//   <store>/<entry_key>/meta.toml    what it was built from, its hash, and a
//                                    checksum of meta.toml itself (last line)
//   <store>/.tmp-XXXXXX/             an install in progress; removed when done
//
// Entries appear only by an atomic rename of a complete directory, so a reader
// sees a whole entry or none. Every read re-hashes image.so and meta.toml.
#pragma once

#include "base/ErrorOr.h"
#include "installer/Installer.h"

#include <string>
#include <vector>

namespace signet::installer {

// What shapes an image besides the module bytes and the toolchain versions.
struct ImageRecipe {
    bool tree_shake { true };
    std::vector<std::string> keep_exports; // sorted, without duplicates
    std::string extra_source_sha256;       // of InstallOptions::extra_c_source
    std::string optimization;              // the flags, single-spaced
    std::string c_compiler;                // the compiler words, single-spaced
};

struct EntryMeta {
    std::string entry_key;
    std::string module_hash;
    std::string image_sha256;
    ImageRecipe recipe;
    Personality personality { Personality::Native };
    bool has_start { false };
    std::vector<std::string> imported_functions;
    uint64_t module_bytes { 0 };
    uint64_t shaken_bytes { 0 };
    std::string toolchain;
    std::vector<std::string> warnings;
};

// SHA-256 over the module hash, the recipe, the installer/wabt/binaryen versions
// and the image ABI version, each length-prefixed.
std::string compute_entry_key(std::string const& module_hash, ImageRecipe const&);

// meta.toml's text, ending with a `meta_sha256` line that covers every byte before it.
std::string render_meta(EntryMeta const&);
// Checks the checksum line, parses, and checks every field's presence and type.
ErrorOr<EntryMeta> parse_meta(std::string const& text, std::string const& where);

bool is_sha256_hex(std::string const&);

// A directory inside the store for one install in progress. Removed with all
// its contents when destroyed; commit() moves the finished entry out first.
class StagingDirectory {
public:
    StagingDirectory(StagingDirectory&&) noexcept;
    StagingDirectory& operator=(StagingDirectory&&) = delete;
    StagingDirectory(StagingDirectory const&) = delete;
    ~StagingDirectory();

    std::string const& path() const { return m_path; }
    std::string build_dir() const { return m_path + "/build"; } // intermediates
    std::string entry_dir() const { return m_path + "/entry"; } // becomes <store>/<key>

private:
    friend class Store;
    explicit StagingDirectory(std::string path)
        : m_path(std::move(path))
    {
    }
    std::string m_path;
};

class Store {
public:
    explicit Store(std::string dir)
        : m_dir(std::move(dir))
    {
    }

    std::string const& dir() const { return m_dir; }
    std::string entry_dir(std::string const& key) const { return m_dir + "/" + key; }

    // NotFound when there is no such entry; Corrupt when it exists but anything
    // about it is off (checksum, fields, key, image hash, file types).
    ErrorOr<ImageInfo> verify_entry(std::string const& key) const;

    // Keys of the entries whose meta.toml names this module (damaged entries skipped).
    std::vector<std::string> keys_for_module(std::string const& module_hash) const;

    // Creates the store if needed, removes staging directories abandoned more than
    // a day ago, and makes a fresh one with empty build/ and entry/ directories.
    ErrorOr<StagingDirectory> stage() const;

    // Writes meta.toml into the staging entry (image.so must be there already),
    // makes both read-only, and moves the entry to <store>/<key>:
    //  1. rename(staging/entry, <store>/<key>): atomic, and refused if the target exists;
    //  2. if another installer got there first, its entry is used when it verifies,
    //  3. or else atomically exchanged with ours (RENAME_EXCHANGE) and discarded;
    //  4. the store directory is fsynced.
    ErrorOr<ImageInfo> commit(StagingDirectory&, EntryMeta const&) const;

private:
    std::string m_dir;
};

ImageInfo image_info_from_meta(EntryMeta const&, std::string const& store_dir);

} // namespace signet::installer
