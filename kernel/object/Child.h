// A parent's handle on a child SIP: start it, stop it, wait for it.
#pragma once

#include "kernel/object/KernelObject.h"

#include <memory>

namespace signet {

class Sip;

class Child final : public KernelObject {
public:
    static constexpr ObjectType object_type = ObjectType::Child;
    ObjectType type() const override { return ObjectType::Child; }

    explicit Child(std::shared_ptr<Sip> sip)
        : m_sip(std::move(sip))
    {
    }
    Sip& sip() const { return *m_sip; }

private:
    std::shared_ptr<Sip> m_sip;
};

} // namespace signet
