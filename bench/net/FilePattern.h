/* The content of the file-serving benchmark's files (bench/net): byte i of every
 * file is file_pattern_byte(i). The fill program writes it into Signet's file
 * system, the benchmark into the Linux server's directory, and the load
 * generator compares every response's body with it, so a piece sent twice, out
 * of order or from the wrong offset is caught (16 KiB is not a multiple of 62).
 * C and C++. */
#ifndef SIGNET_BENCH_NET_FILE_PATTERN_H
#define SIGNET_BENCH_NET_FILE_PATTERN_H

#include <stdint.h>

static inline char file_pattern_byte(uint64_t offset)
{
    return "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[offset % 62];
}

#endif
