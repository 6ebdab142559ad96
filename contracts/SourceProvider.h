// Where the checker reads contract files from: the file system, or memory
// (for tests and fuzzing).
#pragma once

#include "base/ErrorOr.h"

#include <map>
#include <string>

namespace signet::contracts {

class SourceProvider {
public:
    virtual ~SourceProvider() = default;

    virtual ErrorOr<std::string> read(std::string const& path) = 0;

    // The path `import "name";` in `importer` refers to: `name` relative to the
    // importer's directory, normalised so that each file is loaded once.
    static std::string resolve_import(std::string const& importer, std::string const& name);
};

class FileSystemSources final : public SourceProvider {
public:
    ErrorOr<std::string> read(std::string const& path) override;
};

class MemorySources final : public SourceProvider {
public:
    void add(std::string path, std::string text) { m_files[std::move(path)] = std::move(text); }
    ErrorOr<std::string> read(std::string const& path) override;

private:
    std::map<std::string, std::string> m_files;
};

} // namespace signet::contracts
