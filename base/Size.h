// Parsing human-written sizes such as "64MiB", "512KiB", "1GiB", "4096".
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <string>

namespace signet {

ErrorOr<uint64_t> parse_size(std::string const& text);
std::string format_size(uint64_t bytes);

} // namespace signet
