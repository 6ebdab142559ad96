#include "contracts/SourceProvider.h"

#include "base/File.h"
#include "contracts/Limits.h"

#include <filesystem>

namespace signet::contracts {

std::string SourceProvider::resolve_import(std::string const& importer, std::string const& name)
{
    std::filesystem::path path(name);
    if (path.is_relative())
        path = std::filesystem::path(importer).parent_path() / path;
    return path.lexically_normal().string();
}

ErrorOr<std::string> FileSystemSources::read(std::string const& path)
{
    return read_text_file(path, limits::max_source_size);
}

ErrorOr<std::string> MemorySources::read(std::string const& path)
{
    auto it = m_files.find(path);
    if (it == m_files.end())
        return Error::not_found("no such file");
    return it->second;
}

} // namespace signet::contracts
