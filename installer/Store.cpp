#include "installer/Store.h"
#include "installer/CCompiler.h"
#include "installer/Version.h"

#include "base/File.h"
#include "base/Hash.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace signet::installer {

namespace {

constexpr int64_t meta_format = 1;
constexpr uint64_t max_meta_bytes = 1024 * 1024;
constexpr char const* staging_prefix = ".tmp-";
constexpr auto abandoned_staging_age = std::chrono::hours(24);
constexpr std::string_view checksum_key = "meta_sha256 = \"";

Error corrupt(std::string message)
{
    return Error(ErrorKind::Corrupt, std::move(message));
}

void add_key_field(std::string& material, std::string_view name, std::string_view value)
{
    material.append(name).append(" ").append(std::to_string(value.size())).append(":").append(value).append("\n");
}

// Makes a finished write durable: the file's data, then the directory entry naming it.
ErrorOr<void> fsync_path(std::string const& path, int flags)
{
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("cannot open " + path, errno);
    int result = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (result < 0)
        return Error::from_errno("cannot fsync " + path, err);
    return {};
}

bool is_plain_file(std::string const& path)
{
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

void remove_abandoned_staging(std::string const& store_dir)
{
    std::error_code ec;
    auto now = std::filesystem::file_time_type::clock::now();
    for (auto it = std::filesystem::directory_iterator(store_dir, ec); !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        auto name = it->path().filename().string();
        if (name.rfind(staging_prefix, 0) != 0)
            continue;
        std::error_code time_error;
        auto modified = it->last_write_time(time_error);
        if (time_error || now - modified < abandoned_staging_age)
            continue;
        std::error_code remove_error;
        std::filesystem::remove_all(it->path(), remove_error);
    }
}

} // namespace

bool is_sha256_hex(std::string const& text)
{
    if (text.size() != 64)
        return false;
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

std::string compute_entry_key(std::string const& module_hash, ImageRecipe const& recipe)
{
    std::string material = "signet-store-key 1\n";
    add_key_field(material, "installer", installer_version);
    add_key_field(material, "image_abi", std::to_string(image_abi_version));
    add_key_field(material, "wabt", wabt_version);
    add_key_field(material, "binaryen", binaryen_version);
    // The fixed compile flags shape the image too: a change to them must not reuse old images.
    std::string flags;
    for (auto const& flag : image_compile_flags())
        flags += flag + " ";
    add_key_field(material, "image_flags", flags);
    add_key_field(material, "module", module_hash);
    // Which tree shaking: 2 keeps table 0 of a module that imports thread_create,
    // which images made by 1 may have lost (and are not reused).
    add_key_field(material, "tree_shake", recipe.tree_shake ? "2" : "0");
    add_key_field(material, "keep_exports", std::to_string(recipe.keep_exports.size()));
    for (auto const& name : recipe.keep_exports)
        add_key_field(material, "keep_export", name);
    add_key_field(material, "extra_source_sha256", recipe.extra_source_sha256);
    add_key_field(material, "optimization", recipe.optimization);
    add_key_field(material, "c_compiler", recipe.c_compiler);
    return sha256_hex(material);
}

std::string render_meta(EntryMeta const& meta)
{
    auto string_array = [](std::vector<std::string> const& items) {
        toml::array array;
        for (auto const& item : items)
            array.push_back(item);
        return array;
    };

    toml::table table;
    table.insert("format", meta_format);
    table.insert("installer_version", std::string(installer_version));
    table.insert("image_abi_version", static_cast<int64_t>(image_abi_version));
    table.insert("entry_key", meta.entry_key);
    table.insert("module_hash", meta.module_hash);
    table.insert("image_sha256", meta.image_sha256);
    table.insert("personality", std::string(personality_name(meta.personality)));
    table.insert("has_start", meta.has_start);
    table.insert("imported_functions", string_array(meta.imported_functions));
    table.insert("module_bytes", static_cast<int64_t>(meta.module_bytes));
    table.insert("shaken_bytes", static_cast<int64_t>(meta.shaken_bytes));
    table.insert("toolchain", meta.toolchain);
    table.insert("warnings", string_array(meta.warnings));
    table.insert("tree_shake", meta.recipe.tree_shake);
    table.insert("keep_exports", string_array(meta.recipe.keep_exports));
    table.insert("extra_source_sha256", meta.recipe.extra_source_sha256);
    table.insert("optimization", meta.recipe.optimization);
    table.insert("c_compiler", meta.recipe.c_compiler);

    std::ostringstream out;
    out << "# A Signet store entry, written by the installer. Do not edit: the last line\n"
           "# is a checksum of everything above it, and image_sha256 is image.so's hash.\n";
    out << table << "\n";
    std::string text = out.str();
    std::string checksum = sha256_hex(text);
    text.append(checksum_key).append(checksum).append("\"\n");
    return text;
}

ErrorOr<EntryMeta> parse_meta(std::string const& text, std::string const& where)
{
    // 1. The checksum line covers every byte before it.
    auto line_start = text.rfind("\n" + std::string(checksum_key));
    if (line_start == std::string::npos)
        return corrupt(where + ": meta.toml has no checksum line");
    std::string covered = text.substr(0, line_start + 1);
    std::string expected_line = std::string(checksum_key) + sha256_hex(covered) + "\"\n";
    if (text.compare(line_start + 1, std::string::npos, expected_line) != 0)
        return corrupt(where + ": meta.toml does not match its checksum (damaged or edited)");

    // 2. Parse. toml++ reports syntax errors by exception; none leaves this function.
    toml::table table;
    try {
        table = toml::parse(text);
    } catch (toml::parse_error const& error) {
        return corrupt(where + ": meta.toml is not valid TOML: " + std::string(error.description()));
    } catch (...) {
        return corrupt(where + ": meta.toml cannot be parsed");
    }

    // 3. Fields.
    std::string missing;
    auto string_field = [&](char const* key) {
        auto value = table[key].value<std::string>();
        if (!value && missing.empty())
            missing = key;
        return value.value_or(std::string());
    };
    auto integer_field = [&](char const* key) {
        auto value = table[key].value<int64_t>();
        if ((!value || *value < 0) && missing.empty())
            missing = key;
        return static_cast<uint64_t>(value.value_or(0));
    };
    auto bool_field = [&](char const* key) {
        auto value = table[key].value<bool>();
        if (!value && missing.empty())
            missing = key;
        return value.value_or(false);
    };
    auto string_array_field = [&](char const* key) {
        std::vector<std::string> items;
        auto const* array = table[key].as_array();
        if (!array) {
            if (missing.empty())
                missing = key;
            return items;
        }
        for (auto const& element : *array) {
            auto value = element.value<std::string>();
            if (!value && missing.empty())
                missing = key;
            items.push_back(value.value_or(std::string()));
        }
        return items;
    };

    auto format = integer_field("format");
    auto version = string_field("installer_version");
    auto abi_version = integer_field("image_abi_version");
    EntryMeta meta;
    meta.entry_key = string_field("entry_key");
    meta.module_hash = string_field("module_hash");
    meta.image_sha256 = string_field("image_sha256");
    auto personality = string_field("personality");
    meta.has_start = bool_field("has_start");
    meta.imported_functions = string_array_field("imported_functions");
    meta.module_bytes = integer_field("module_bytes");
    meta.shaken_bytes = integer_field("shaken_bytes");
    meta.toolchain = string_field("toolchain");
    meta.warnings = string_array_field("warnings");
    meta.recipe.tree_shake = bool_field("tree_shake");
    meta.recipe.keep_exports = string_array_field("keep_exports");
    meta.recipe.extra_source_sha256 = string_field("extra_source_sha256");
    meta.recipe.optimization = string_field("optimization");
    meta.recipe.c_compiler = string_field("c_compiler");
    if (!missing.empty())
        return corrupt(where + ": meta.toml lacks a valid '" + missing + "'");

    if (format != static_cast<uint64_t>(meta_format))
        return corrupt(where + ": meta.toml has format " + std::to_string(format) + ", not " + std::to_string(meta_format));
    if (version != installer_version || abi_version != image_abi_version)
        return corrupt(where + ": built by signet-installer " + version + " for image ABI " + std::to_string(abi_version)
            + ", not by this installer (" + installer_version + ", image ABI " + std::to_string(image_abi_version) + ")");
    if (personality == personality_name(Personality::Native))
        meta.personality = Personality::Native;
    else if (personality == personality_name(Personality::Wasi))
        meta.personality = Personality::Wasi;
    else
        return corrupt(where + ": meta.toml has an unknown personality '" + personality + "'");
    if (!is_sha256_hex(meta.module_hash) || !is_sha256_hex(meta.image_sha256) || !is_sha256_hex(meta.entry_key))
        return corrupt(where + ": meta.toml has a malformed hash");
    return meta;
}

StagingDirectory::StagingDirectory(StagingDirectory&& other) noexcept
    : m_path(std::move(other.m_path))
{
    other.m_path.clear();
}

StagingDirectory::~StagingDirectory()
{
    if (m_path.empty())
        return;
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

ImageInfo image_info_from_meta(EntryMeta const& meta, std::string const& store_dir)
{
    ImageInfo info;
    info.module_hash = meta.module_hash;
    info.entry_key = meta.entry_key;
    info.store_entry_dir = store_dir + "/" + meta.entry_key;
    info.image_path = info.store_entry_dir + "/image.so";
    info.image_sha256 = meta.image_sha256;
    info.imported_functions = meta.imported_functions;
    info.personality = meta.personality;
    info.has_start = meta.has_start;
    info.module_bytes = meta.module_bytes;
    info.shaken_bytes = meta.shaken_bytes;
    info.toolchain = meta.toolchain;
    info.warnings = meta.warnings;
    return info;
}

ErrorOr<ImageInfo> Store::verify_entry(std::string const& key) const
{
    std::string dir = entry_dir(key);
    std::string where = "store entry " + dir;
    struct stat info {};
    if (::lstat(dir.c_str(), &info) < 0) {
        if (errno == ENOENT)
            return Error::not_found(where + " does not exist");
        return Error::from_errno("cannot stat " + dir, errno);
    }
    if (!S_ISDIR(info.st_mode))
        return corrupt(where + " is not a directory");

    std::string meta_path = dir + "/meta.toml";
    std::string image_path = dir + "/image.so";
    if (!is_plain_file(meta_path))
        return corrupt(where + ": meta.toml is missing or not a regular file");
    if (!is_plain_file(image_path))
        return corrupt(where + ": image.so is missing or not a regular file");

    auto text = read_text_file(meta_path, max_meta_bytes);
    if (text.is_error())
        return corrupt(where + ": cannot read meta.toml: " + text.error().message());
    auto meta = TRY(parse_meta(text.value(), where));
    if (meta.entry_key != key || compute_entry_key(meta.module_hash, meta.recipe) != key)
        return corrupt(where + ": meta.toml describes a different entry than its directory name");

    auto image = read_file(image_path);
    if (image.is_error())
        return corrupt(where + ": cannot read image.so: " + image.error().message());
    if (sha256_hex(image.value()) != meta.image_sha256)
        return corrupt(where + ": image.so does not match the hash in meta.toml (damaged or tampered with)");
    return image_info_from_meta(meta, m_dir);
}

std::vector<std::string> Store::keys_for_module(std::string const& module_hash) const
{
    std::vector<std::string> keys;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(m_dir, ec); !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        auto name = it->path().filename().string();
        if (!is_sha256_hex(name))
            continue;
        auto text = read_text_file(entry_dir(name) + "/meta.toml", max_meta_bytes);
        if (text.is_error())
            continue;
        auto meta = parse_meta(text.value(), name);
        if (!meta.is_error() && meta.value().module_hash == module_hash)
            keys.push_back(name);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
}

ErrorOr<StagingDirectory> Store::stage() const
{
    TRY(make_directories(m_dir));
    remove_abandoned_staging(m_dir);
    std::string pattern = m_dir + "/" + staging_prefix + "XXXXXX";
    if (!::mkdtemp(pattern.data()))
        return Error::from_errno("cannot create a staging directory in " + m_dir, errno);
    StagingDirectory staging(pattern);
    if (::mkdir(staging.build_dir().c_str(), 0755) < 0 || ::mkdir(staging.entry_dir().c_str(), 0755) < 0)
        return Error::from_errno("cannot create directories in " + staging.path(), errno);
    return staging;
}

ErrorOr<ImageInfo> Store::commit(StagingDirectory& staging, EntryMeta const& meta) const
{
    std::string entry = staging.entry_dir();
    std::string image_path = entry + "/image.so";
    std::string meta_path = entry + "/meta.toml";
    TRY(write_file_atomic(meta_path, render_meta(meta)));
    if (::chmod(image_path.c_str(), 0444) < 0 || ::chmod(meta_path.c_str(), 0444) < 0)
        return Error::from_errno("cannot make the entry in " + entry + " read-only", errno);
    TRY(fsync_path(image_path, O_RDONLY));
    TRY(fsync_path(entry, O_RDONLY | O_DIRECTORY));

    std::string target = entry_dir(meta.entry_key);
    // 1. Publish atomically. rename() refuses to replace a non-empty directory.
    if (::rename(entry.c_str(), target.c_str()) == 0) {
        TRY(fsync_path(m_dir, O_RDONLY | O_DIRECTORY));
        return image_info_from_meta(meta, m_dir);
    }
    if (errno != EEXIST && errno != ENOTEMPTY)
        return Error::from_errno("cannot move the new entry to " + target, errno);

    // 2. Someone else published this key first (a concurrent install, or an entry
    //    that failed verification before we started). Use theirs if it is sound.
    auto existing = verify_entry(meta.entry_key);
    if (!existing.is_error())
        return existing;

    // 3. Theirs is damaged: swap ours in atomically; the damaged one leaves with the
    //    staging directory.
    if (::renameat2(AT_FDCWD, entry.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) < 0) {
        if (errno != EINVAL && errno != ENOSYS)
            return Error::from_errno("cannot replace the damaged entry " + target, errno);
        // No RENAME_EXCHANGE on this file system: move the damaged entry aside, then publish.
        std::string aside = staging.path() + "/damaged";
        if (::rename(target.c_str(), aside.c_str()) < 0 && errno != ENOENT)
            return Error::from_errno("cannot move the damaged entry " + target + " aside", errno);
        if (::rename(entry.c_str(), target.c_str()) < 0) {
            if (errno != EEXIST && errno != ENOTEMPTY)
                return Error::from_errno("cannot move the new entry to " + target, errno);
            return verify_entry(meta.entry_key);
        }
    }
    // 4. Durable.
    TRY(fsync_path(m_dir, O_RDONLY | O_DIRECTORY));
    return image_info_from_meta(meta, m_dir);
}

} // namespace signet::installer
