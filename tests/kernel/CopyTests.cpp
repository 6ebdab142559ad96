// copy_bytes (base/Copy.h): a memcpy that avoids the `rep movsb` aliasing trap
// must still copy every byte exactly, whatever the lengths and the relative
// placement of the two buffers (its backward loop, and the memcpy around it).
#include "base/Copy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

using namespace signet;

TEST(CopyTest, CopiesEveryByteAtEveryPlacement)
{
    constexpr size_t most = 70 * 1024;
    std::vector<uint8_t> source(most + 8192), destination(most + 8192);
    for (size_t i = 0; i < source.size(); ++i)
        source[i] = static_cast<uint8_t>(i * 131 + 7);
    // Destinations 0..70 bytes ahead of the source modulo 4 KiB (the loop's
    // case is 1..63), behind it, and lengths around the threshold and the 64-byte steps.
    for (size_t length : { size_t(0), size_t(1), size_t(2048), size_t(32767), size_t(32768), size_t(32769), size_t(65536 + 4), size_t(65536 + 63), most }) {
        for (size_t source_at : { size_t(0), size_t(12), size_t(60) }) {
            for (size_t ahead : { size_t(0), size_t(1), size_t(20), size_t(36), size_t(63), size_t(64), size_t(70), size_t(4000) }) {
                uint8_t const* from = source.data() + source_at;
                // Place the destination `ahead` bytes past the source's offset within a 4 KiB page.
                auto base = reinterpret_cast<uintptr_t>(destination.data());
                uintptr_t wanted = (reinterpret_cast<uintptr_t>(from) + ahead) & 4095;
                size_t offset = (wanted - (base & 4095)) & 4095;
                ASSERT_LE(offset + length + 1, destination.size());
                std::fill(destination.begin(), destination.end(), uint8_t(0xEE));
                copy_bytes(destination.data() + offset, from, length);
                ASSERT_TRUE(std::equal(from, from + length, destination.data() + offset)) << length << " bytes, " << ahead << " ahead";
                ASSERT_TRUE(offset == 0 || destination[offset - 1] == 0xEE) << "wrote before the destination";
                ASSERT_EQ(destination[offset + length], 0xEE) << "wrote past the destination";
            }
        }
    }
}
