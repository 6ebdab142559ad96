#include "kernel/object/HandleTable.h"
#include "base/Verify.h"

namespace signet {

namespace {

// Generations skip 0, so no live handle is ever below 1 << 16.
uint16_t next_generation(uint16_t generation)
{
    return generation == UINT16_MAX ? 1 : static_cast<uint16_t>(generation + 1);
}

} // namespace

HandleTable::HandleTable(uint32_t limit)
    : m_limit(limit)
    , m_chunks(new std::atomic<Slot*>[(limit + chunk_slots - 1) / chunk_slots] {})
{
    VERIFY(limit < (1u << index_bits));
}

HandleTable::~HandleTable()
{
    for (uint32_t chunk = 0; chunk * chunk_slots < m_slot_count; ++chunk)
        delete[] m_chunks[chunk].load(std::memory_order_relaxed);
}

void HandleTable::set(Slot& slot, std::shared_ptr<KernelObject> object)
{
    slot.object = std::move(object);
    slot.published.store(publication(slot.object.get(), slot.generation), std::memory_order_release);
}

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
        index = m_slot_count++;
        if (index % chunk_slots == 0)
            m_chunks[index / chunk_slots].store(new Slot[chunk_slots], std::memory_order_release);
    }
    Slot& slot = *slot_at(index);
    set(slot, std::move(object));
    ++m_used;
    return (uint32_t(slot.generation) << index_bits) | (index + 1);
}

HandleTable::Slot* HandleTable::slot_for(uint32_t handle) const
{
    uint32_t index = (handle & ((1u << index_bits) - 1));
    if (index == 0 || index > m_slot_count)
        return nullptr;
    Slot* slot = slot_at(index - 1);
    if (!slot || !slot->object || slot->generation != (handle >> index_bits))
        return nullptr;
    return slot;
}

std::shared_ptr<KernelObject> HandleTable::get(uint32_t handle, ObjectType type) const
{
    std::lock_guard guard(m_lock);
    Slot const* slot = slot_for(handle);
    if (!slot || slot->object->type() != type)
        return nullptr;
    return slot->object;
}

std::shared_ptr<KernelObject> HandleTable::remove(uint32_t handle)
{
    std::lock_guard guard(m_lock);
    Slot* slot = slot_for(handle);
    if (!slot)
        return nullptr;
    auto object = std::move(slot->object);
    slot->generation = next_generation(slot->generation);
    set(*slot, nullptr);
    m_free.push_back((handle & ((1u << index_bits) - 1)) - 1);
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
    for (uint32_t i = 0; i < m_slot_count; ++i) {
        Slot& slot = *slot_at(i);
        if (!slot.object)
            continue;
        objects.push_back(std::move(slot.object));
        slot.generation = next_generation(slot.generation);
        set(slot, nullptr);
        m_free.push_back(i);
    }
    m_used = 0;
    return objects;
}

} // namespace signet
