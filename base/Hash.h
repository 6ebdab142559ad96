// Content hashes. The store names every image by the SHA-256 of its module.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace signet {

// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(std::span<uint8_t const> bytes);
std::string sha256_hex(std::string const& text);

} // namespace signet
