// Why a SIP's code stopped running. One list, shared by the runtime (which
// raises them), the kernel (which reports them) and the CLI (exit statuses).
#pragma once

#include <cstdint>

namespace signet {

// TRAP_KIND(name, wasm_rt_value, description)
// The first entries mirror wasm_rt_trap_t so wasm2c's codes map one to one.
#define SIGNET_ENUMERATE_TRAP_KINDS(TRAP_KIND)                                         \
    TRAP_KIND(None, 0, "no trap")                                                      \
    TRAP_KIND(OutOfBounds, 1, "out-of-bounds memory or table access")                  \
    TRAP_KIND(IntegerOverflow, 2, "integer overflow")                                  \
    TRAP_KIND(DivideByZero, 3, "integer divide by zero")                               \
    TRAP_KIND(InvalidConversion, 4, "invalid conversion to integer")                   \
    TRAP_KIND(Unreachable, 5, "unreachable instruction executed")                      \
    TRAP_KIND(BadIndirectCall, 6, "indirect call to a null or mistyped function")      \
    TRAP_KIND(UncaughtException, 7, "uncaught exception")                              \
    TRAP_KIND(StackExhausted, 8, "call stack exhausted")                               \
    TRAP_KIND(OutOfMemory, 9, "the kernel could not allocate the SIP's memory or tables") \
    TRAP_KIND(AbiMisuse, 10, "a kernel call was made in a way that ends the SIP")     \
    TRAP_KIND(ProtocolViolation, 11, "channel protocol violation")                    \
    TRAP_KIND(UseAfterSend, 12, "use of an exchange-heap block after it was sent")

enum class TrapKind : uint32_t {
#define SIGNET_TRAP_ENUM(name, value, description) name = value,
    SIGNET_ENUMERATE_TRAP_KINDS(SIGNET_TRAP_ENUM)
#undef SIGNET_TRAP_ENUM
};

char const* trap_kind_name(TrapKind);
char const* trap_kind_description(TrapKind);

} // namespace signet
