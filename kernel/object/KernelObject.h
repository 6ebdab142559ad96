// Base of everything a handle can name.
#pragma once

#include <cstdint>

namespace signet {

enum class ObjectType : uint8_t {
    Endpoint,
    Child,
    Block,
    Thread,
    Disk,
    Listener,
    Connection,
    Last = Connection,
};

class KernelObject {
public:
    virtual ~KernelObject() = default;
    virtual ObjectType type() const = 0;
};

} // namespace signet
