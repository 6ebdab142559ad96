/* The interface between a sealed image and the kernel that loads it.
 *
 * The installer compiles every module into a shared object in the store. Next
 * to the wasm2c output it compiles a small generated "glue" unit that defines
 * one constant, `signet_image`, of this type. The kernel finds nothing else in
 * the image by name: every entry point goes through this table, so wasm2c's
 * name mangling never leaks into the kernel.
 *
 * The image's only undefined symbols are the wasm_rt_* runtime functions and
 * the import functions of the ABI modules it was verified against; the kernel
 * executable exports exactly those (see tools/signet/exports.map).
 */
#ifndef SIGNET_RUNTIME_IMAGE_ABI_H
#define SIGNET_RUNTIME_IMAGE_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIGNET_IMAGE_MAGIC 0x31474d4954454e53ull /* "SNETIMG1", little-endian */
#define SIGNET_IMAGE_ABI_VERSION 2u
#define SIGNET_IMAGE_NO_STACK_POINTER 0xFFFFFFFFu

typedef struct SignetImage {
    uint64_t magic;       /* SIGNET_IMAGE_MAGIC */
    uint32_t abi_version; /* SIGNET_IMAGE_ABI_VERSION */
    uint32_t instance_size; /* sizeof the wasm2c instance struct */
    /* Registers the module's function types. Called once per image load, before any instantiate. */
    void (*init_module)(void);
    /* Instantiates into zeroed storage of instance_size bytes. `host` is passed as the
     * instance of every import module, so each import function receives it first. */
    void (*instantiate)(void* instance, void* host);
    /* The `_start` export for commands, or NULL if the module has none. */
    void (*start)(void* instance);
    /* The module hash (lower-case hex SHA-256 of the installed module) the image was built from. */
    char const* module_hash;
    /* Where in the instance the C shadow-stack pointer (global 0, a mutable i32) lives, or
     * SIGNET_IMAGE_NO_STACK_POINTER. The kernel saves and restores it when it switches
     * between threads of one SIP, so each thread has its own stack in linear memory. */
    uint32_t stack_pointer_offset;
} SignetImage;

#define SIGNET_IMAGE_SYMBOL "signet_image"

#ifdef __cplusplus
}
#endif

#endif
