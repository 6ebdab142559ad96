// Table-driven CRC-32 (IEEE) over a pseudo-random buffer: a dependent chain
// of table loads, the shape of checksums and hash functions.
// SCALE is the number of bytes hashed; the buffer is 256 KiB, hashed repeatedly.
#define DEFAULT_SCALE (16u << 20)
#include "compute_main.h"

enum { BUFFER_BYTES = 256 * 1024 };

static uint32_t s_table[256];
static uint8_t s_buffer[BUFFER_BYTES];
static int s_ready;

static void prepare(void)
{
    for (uint32_t n = 0; n < 256; ++n) {
        uint32_t c = n;
        for (int k = 0; k < 8; ++k)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        s_table[n] = c;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < BUFFER_BYTES; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s_buffer[i] = (uint8_t)x;
    }
    s_ready = 1;
}

static uint64_t work(uint32_t bytes)
{
    if (!s_ready)
        prepare();
    uint32_t crc = 0xffffffffu;
    uint32_t done = 0;
    while (done < bytes) {
        uint32_t chunk = bytes - done < BUFFER_BYTES ? bytes - done : BUFFER_BYTES;
        for (uint32_t i = 0; i < chunk; ++i)
            crc = s_table[(crc ^ s_buffer[i]) & 0xff] ^ (crc >> 8);
        done += chunk;
    }
    return crc ^ 0xffffffffu;
}
