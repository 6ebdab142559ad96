// A SIP's handle table: the only way its code names kernel objects.
//
// A handle is (generation << 16) | (index + 1). A slot's generation changes
// every time it is freed, so a stale handle never names the slot's next
// object, and no handle of one SIP means anything in another SIP's table.
// Handle 0 is never valid.
#pragma once

#include "kernel/object/KernelObject.h"
#include "kernel/object/SpinLock.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace signet {

class HandleTable {
public:
    // Named limit: the most handles one SIP may hold at once (a quota later).
    static constexpr uint32_t default_limit = 4096;
    static constexpr uint32_t index_bits = 16;
    static_assert(default_limit <= (1u << index_bits) - 1);

    explicit HandleTable(uint32_t limit = default_limit);
    ~HandleTable();
    HandleTable(HandleTable const&) = delete;
    HandleTable& operator=(HandleTable const&) = delete;

    // Returns 0 if the table is full.
    uint32_t insert(std::shared_ptr<KernelObject>);
    // The object, if `handle` is live and of type `type`.
    std::shared_ptr<KernelObject> get(uint32_t handle, ObjectType type) const;
    template<typename T>
    std::shared_ptr<T> get_as(uint32_t handle) const
    {
        return std::static_pointer_cast<T>(get(handle, T::object_type));
    }
    // The object, as get() finds it, without taking a reference (which costs two
    // atomic operations) and without the lock: for a kernel call of the SIP's
    // own running thread, up to the point where it might block. Only a SIP's own
    // threads remove handles from its table, and never two at once, so the
    // object outlives that call. Slots never move (they live in chunks that
    // stay until the table goes), and each publishes its object, generation and type
    // in one atomic word, so a lookup racing with an insert elsewhere in the
    // table reads either the old or the new state of a slot, never a torn one.
    KernelObject* borrow(uint32_t handle, ObjectType type) const
    {
        uint32_t index = (handle & ((1u << index_bits) - 1));
        if (index == 0)
            return nullptr;
        Slot const* slot = slot_at(index - 1);
        if (!slot)
            return nullptr;
        uint64_t published = slot->published.load(std::memory_order_acquire);
        auto* object = reinterpret_cast<KernelObject*>(published & address_mask);
        if (!object || (published >> 48) != (handle >> index_bits) || (published & type_mask) != uint64_t(type))
            return nullptr;
        return object;
    }
    template<typename T>
    T* borrow_as(uint32_t handle) const
    {
        return static_cast<T*>(borrow(handle, T::object_type));
    }
    // Removes and returns the object, or null if `handle` is not live.
    std::shared_ptr<KernelObject> remove(uint32_t handle);
    uint32_t free_slots() const;
    // Empties the table (the SIP ended); the caller closes what it gets.
    std::vector<std::shared_ptr<KernelObject>> take_all();

private:
    struct Slot {
        std::shared_ptr<KernelObject> object; // guarded by m_lock
        uint16_t generation { 1 };            // guarded by m_lock
        // (generation << 48) | the object's address (user-space addresses fit
        // in 47 bits) | its type (in the low bits, zero in an object's address):
        // what borrow() reads without the lock, and without touching the object.
        std::atomic<uint64_t> published { uint64_t(1) << 48 };
    };
    static constexpr uint32_t chunk_slots = 64;
    static constexpr uint64_t type_mask = alignof(KernelObject) - 1;
    static constexpr uint64_t address_mask = ((uint64_t(1) << 48) - 1) & ~type_mask;
    static_assert(uint64_t(ObjectType::Last) <= type_mask);
    static uint64_t publication(KernelObject const* object, uint16_t generation)
    {
        return (uint64_t(generation) << 48) | reinterpret_cast<uintptr_t>(object) | (object ? uint64_t(object->type()) : 0);
    }
    Slot* slot_at(uint32_t index) const
    {
        if (index >= m_limit)
            return nullptr;
        Slot* chunk = m_chunks[index / chunk_slots].load(std::memory_order_acquire);
        return chunk ? &chunk[index % chunk_slots] : nullptr;
    }
    Slot* slot_for(uint32_t handle) const;
    void set(Slot&, std::shared_ptr<KernelObject>);

    mutable SpinLock m_lock;
    uint32_t m_limit;
    // Slots in chunks that never move: m_chunks[i] holds slots i * chunk_slots ...
    std::unique_ptr<std::atomic<Slot*>[]> m_chunks;
    uint32_t m_slot_count { 0 };
    std::vector<uint32_t> m_free;
    uint32_t m_used { 0 };
};

} // namespace signet
