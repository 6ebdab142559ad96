#include "runtime/Trap.h"

namespace signet {

char const* trap_kind_name(TrapKind kind)
{
    switch (kind) {
#define SIGNET_TRAP_NAME(name, value, description) \
    case TrapKind::name:                           \
        return #name;
        SIGNET_ENUMERATE_TRAP_KINDS(SIGNET_TRAP_NAME)
#undef SIGNET_TRAP_NAME
    }
    return "Unknown";
}

char const* trap_kind_description(TrapKind kind)
{
    switch (kind) {
#define SIGNET_TRAP_DESCRIPTION(name, value, description) \
    case TrapKind::name:                                  \
        return description;
        SIGNET_ENUMERATE_TRAP_KINDS(SIGNET_TRAP_DESCRIPTION)
#undef SIGNET_TRAP_DESCRIPTION
    }
    return "unknown trap";
}

} // namespace signet
