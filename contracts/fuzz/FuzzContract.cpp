// libFuzzer target: contract source text through the checker, the C generator
// and a descriptor round trip. Nothing may crash, every diagnostic must carry
// its location, and whatever checks must describe itself faithfully.
#include "contracts/CGenerator.h"
#include "contracts/Checker.h"
#include "contracts/Descriptor.h"

#include <cstdlib>

using namespace signet::contracts;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    // The input may import itself or "other.contract", which holds the same text.
    MemorySources sources;
    std::string text(reinterpret_cast<char const*>(data), size);
    sources.add("fuzz.contract", text);
    sources.add("other.contract", text);
    auto result = check("fuzz.contract", sources);

    for (auto const& diagnostic : result.diagnostics) {
        auto const& location = diagnostic.location;
        bool located = !diagnostic.file.empty() && location.line >= 1 && location.column >= 1
            && diagnostic.to_string().starts_with(diagnostic.file + ":" + std::to_string(location.line) + ":" + std::to_string(location.column) + ": error: ");
        bool one_line = !diagnostic.message.empty() && diagnostic.message.find('\n') == std::string::npos;
        if (!located || !one_line || diagnostic.message.starts_with("internal error"))
            std::abort();
    }
    if (!result.ok())
        return 0;
    generate_c(*result.file);
    for (auto const& checked : result.file->contracts) {
        auto bytes = encode_descriptor(checked.contract);
        auto decoded = decode_descriptor(bytes);
        if (decoded.is_error() || decoded.value() != checked.contract)
            std::abort();
    }
    return 0;
}
