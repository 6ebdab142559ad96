#include "base/Size.h"

#include <cctype>

namespace signet {

ErrorOr<uint64_t> parse_size(std::string const& text)
{
    size_t i = 0;
    uint64_t value = 0;
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])))
        return Error::invalid("bad size '" + text + "': expected a number with an optional unit (B, KiB, MiB, GiB)");
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        uint64_t digit = static_cast<uint64_t>(text[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return Error::invalid("bad size '" + text + "': too large");
        value = value * 10 + digit;
        ++i;
    }
    std::string unit = text.substr(i);
    uint64_t scale = 1;
    if (unit.empty() || unit == "B")
        scale = 1;
    else if (unit == "KiB" || unit == "K" || unit == "k")
        scale = 1ull << 10;
    else if (unit == "MiB" || unit == "M")
        scale = 1ull << 20;
    else if (unit == "GiB" || unit == "G")
        scale = 1ull << 30;
    else
        return Error::invalid("bad size '" + text + "': unknown unit '" + unit + "' (use B, KiB, MiB or GiB)");
    if (value > UINT64_MAX / scale)
        return Error::invalid("bad size '" + text + "': too large");
    return value * scale;
}

std::string format_size(uint64_t bytes)
{
    if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
        return std::to_string(bytes >> 30) + " GiB";
    if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
        return std::to_string(bytes >> 20) + " MiB";
    if (bytes >= (1ull << 10) && bytes % (1ull << 10) == 0)
        return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " B";
}

} // namespace signet
