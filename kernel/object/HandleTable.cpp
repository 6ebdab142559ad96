#include "kernel/object/HandleTable.h"

namespace signet {

namespace {

// Generations skip 0, so no live handle is ever below 1 << 16.
uint16_t next_generation(uint16_t generation)
{
    return generation == UINT16_MAX ? 1 : static_cast<uint16_t>(generation + 1);
}

} // namespace

uint32_t HandleTable::insert(std::shared_ptr<KernelObject> object)
{
    std::lock_guard guard(m_lock);
    if (m_used >= m_limit)
        return 0;
    uint32_t index;
    if (!m_free.empty()) {
        index = m_free.back();
        m_free.pop_back();
    } else {
        index = static_cast<uint32_t>(m_slots.size());
        m_slots.emplace_back();
    }
    m_slots[index].object = std::move(object);
    ++m_used;
    return (uint32_t(m_slots[index].generation) << index_bits) | (index + 1);
}

HandleTable::Slot const* HandleTable::slot_for(uint32_t handle) const
{
    uint32_t index = (handle & ((1u << index_bits) - 1));
    if (index == 0 || index > m_slots.size())
        return nullptr;
    Slot const& slot = m_slots[index - 1];
    if (!slot.object || slot.generation != (handle >> index_bits))
        return nullptr;
    return &slot;
}

std::shared_ptr<KernelObject> HandleTable::get(uint32_t handle, ObjectType type) const
{
    std::lock_guard guard(m_lock);
    Slot const* slot = slot_for(handle);
    if (!slot || slot->object->type() != type)
        return nullptr;
    return slot->object;
}

KernelObject* HandleTable::borrow(uint32_t handle, ObjectType type) const
{
    std::lock_guard guard(m_lock);
    Slot const* slot = slot_for(handle);
    if (!slot || slot->object->type() != type)
        return nullptr;
    return slot->object.get();
}

std::shared_ptr<KernelObject> HandleTable::remove(uint32_t handle)
{
    std::lock_guard guard(m_lock);
    if (!slot_for(handle))
        return nullptr;
    uint32_t index = (handle & ((1u << index_bits) - 1)) - 1;
    Slot& slot = m_slots[index];
    auto object = std::move(slot.object);
    slot.object = nullptr;
    slot.generation = next_generation(slot.generation);
    m_free.push_back(index);
    --m_used;
    return object;
}

uint32_t HandleTable::free_slots() const
{
    std::lock_guard guard(m_lock);
    return m_limit - m_used;
}

std::vector<std::shared_ptr<KernelObject>> HandleTable::take_all()
{
    std::lock_guard guard(m_lock);
    std::vector<std::shared_ptr<KernelObject>> objects;
    for (uint32_t i = 0; i < m_slots.size(); ++i) {
        if (!m_slots[i].object)
            continue;
        objects.push_back(std::move(m_slots[i].object));
        m_slots[i].object = nullptr;
        m_slots[i].generation = next_generation(m_slots[i].generation);
        m_free.push_back(i);
    }
    m_used = 0;
    return objects;
}

} // namespace signet
