// Small file helpers that report errors as values.
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace signet {

// Reads a whole file. Refuses files larger than max_bytes with a Limit error.
ErrorOr<std::vector<uint8_t>> read_file(std::string const& path, uint64_t max_bytes = UINT64_MAX);
ErrorOr<std::string> read_text_file(std::string const& path, uint64_t max_bytes = UINT64_MAX);

// Writes a file atomically: a temporary beside it, fsync, rename.
ErrorOr<void> write_file_atomic(std::string const& path, std::span<uint8_t const> bytes);
ErrorOr<void> write_file_atomic(std::string const& path, std::string const& text);

ErrorOr<void> make_directories(std::string const& path);

} // namespace signet
