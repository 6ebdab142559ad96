#include "contracts/Utf8.h"

#include <cstdint>

namespace signet::contracts {

// The length of the well-formed sequence starting at `offset`, or 0 if there is none.
// Keep in step with signet_contract_utf8_valid() in the generated C (CGenerator.cpp).
static size_t sequence_length(std::string_view text, size_t offset)
{
    auto byte = [&](size_t index) -> uint8_t {
        return offset + index < text.size() ? static_cast<uint8_t>(text[offset + index]) : 0;
    };
    auto continuation = [](uint8_t b) { return b >= 0x80 && b <= 0xbf; };

    uint8_t lead = byte(0);
    if (lead < 0x80)
        return 1;
    if (lead >= 0xc2 && lead <= 0xdf)
        return continuation(byte(1)) ? 2 : 0;
    if (lead >= 0xe0 && lead <= 0xef) {
        uint8_t second = byte(1);
        uint8_t low = lead == 0xe0 ? 0xa0 : 0x80; // No overlong forms.
        uint8_t high = lead == 0xed ? 0x9f : 0xbf; // No surrogates.
        return second >= low && second <= high && continuation(byte(2)) ? 3 : 0;
    }
    if (lead >= 0xf0 && lead <= 0xf4) {
        uint8_t second = byte(1);
        uint8_t low = lead == 0xf0 ? 0x90 : 0x80; // No overlong forms.
        uint8_t high = lead == 0xf4 ? 0x8f : 0xbf; // Nothing above U+10FFFF.
        return second >= low && second <= high && continuation(byte(2)) && continuation(byte(3)) ? 4 : 0;
    }
    return 0;
}

std::optional<size_t> find_invalid_utf8(std::string_view text)
{
    size_t offset = 0;
    while (offset < text.size()) {
        size_t length = sequence_length(text, offset);
        if (length == 0)
            return offset;
        offset += length;
    }
    return std::nullopt;
}

} // namespace signet::contracts
