// UTF-8 well-formedness, as defined by Unicode Table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF. string<N> arguments must satisfy it, and
// so must contract sources.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace signet::contracts {

// The offset of the first byte that does not begin a well-formed sequence, if any.
std::optional<size_t> find_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) { return !find_invalid_utf8(text).has_value(); }

} // namespace signet::contracts
