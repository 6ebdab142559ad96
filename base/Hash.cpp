#include "base/Hash.h"
#include "base/Verify.h"

#include <openssl/evp.h>

namespace signet {

std::string sha256_hex(std::span<uint8_t const> bytes)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    VERIFY(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) == 1);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 15]);
    }
    return out;
}

std::string sha256_hex(std::string const& text)
{
    return sha256_hex(std::span<uint8_t const>(reinterpret_cast<uint8_t const*>(text.data()), text.size()));
}

} // namespace signet
