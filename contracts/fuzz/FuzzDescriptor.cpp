// libFuzzer target: hostile bytes through the descriptor decoder, as the kernel
// meets them. Nothing may crash, and whatever decodes must re-encode to the
// same bytes and validate message buffers without reading out of bounds.
#include "contracts/Descriptor.h"

#include <cstdlib>

using namespace signet::contracts;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::span<uint8_t const> bytes(data, size);
    auto decoded = decode_descriptor(bytes);
    if (decoded.is_error())
        return 0;
    if (encode_descriptor(decoded.value()) != std::vector<uint8_t>(bytes.begin(), bytes.end()))
        std::abort();
    for (auto const& message : decoded.value().messages) {
        std::vector<uint8_t> buffer(message.size, 0);
        (void)validate_message_buffer(message, buffer);
    }
    return 0;
}
