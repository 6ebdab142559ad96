/* Signet ABI v1 for SIP authors.
 *
 * Include this from C or C++ code built for wasm32 (see sdk/cmake/SignetSip.cmake).
 * Every function is an import from the `signet_v1` module; pointers are offsets in
 * your own linear memory, checked by the kernel. A bad pointer gets
 * SIGNET_OUT_OF_BOUNDS, never a crash of anything but, at worst, your own SIP.
 */
#ifndef SIGNET_ABI_H
#define SIGNET_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIGNET_ABI_VERSION 1u
#define SIGNET_ABI_MODULE "signet_v1"

typedef enum signet_status {
#define SIGNET_STATUS(name, value, meaning) SIGNET_##name = value,
#include "signet/status.def"
#undef SIGNET_STATUS
} signet_status;

/* Clocks for signet_time_now. */
enum {
    SIGNET_CLOCK_REALTIME = 0,
    SIGNET_CLOCK_MONOTONIC = 1,
    SIGNET_CLOCK_SIP_CPUTIME = 2, /* CPU time this SIP has used */
};

/* Streams for signet_stdio_write. */
enum {
    SIGNET_STDOUT = 1,
    SIGNET_STDERR = 2,
};

#if defined(__wasm__)
#define SIGNET_ABI(name, wasm_params, wasm_results, c_result, c_params) \
    __attribute__((import_module(SIGNET_ABI_MODULE), import_name(#name))) c_result signet_##name c_params;
#include "signet/abi_functions.def"
#undef SIGNET_ABI
#endif

#ifdef __cplusplus
}
#endif

#endif
