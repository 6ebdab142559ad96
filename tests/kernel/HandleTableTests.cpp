// The handle table: handles name exactly the object they were given for, stale
// and forged handles name nothing, and the lock-free lookup (borrow) never sees
// a torn or moved slot while other threads insert and remove.
#include "kernel/object/HandleTable.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace signet;

namespace {

class Thing final : public KernelObject {
public:
    explicit Thing(ObjectType type = ObjectType::Endpoint)
        : m_type(type)
    {
    }
    ObjectType type() const override { return m_type; }

private:
    ObjectType m_type;
};

constexpr uint32_t index_mask = (1u << HandleTable::index_bits) - 1;

} // namespace

TEST(HandleTableTest, AHandleNamesItsObjectUntilRemoved)
{
    HandleTable table;
    auto thing = std::make_shared<Thing>();
    uint32_t handle = table.insert(thing);
    ASSERT_NE(handle, 0u);
    EXPECT_EQ(table.get(handle, ObjectType::Endpoint), thing);
    EXPECT_EQ(table.borrow(handle, ObjectType::Endpoint), thing.get());
    EXPECT_EQ(table.borrow(handle, ObjectType::Block), nullptr); // another type
    EXPECT_EQ(table.get(handle, ObjectType::Block), nullptr);
    EXPECT_EQ(table.remove(handle), thing);
    EXPECT_EQ(table.borrow(handle, ObjectType::Endpoint), nullptr);
    EXPECT_EQ(table.get(handle, ObjectType::Endpoint), nullptr);
    EXPECT_EQ(table.remove(handle), nullptr);
}

// borrow() reads the type from the slot's published word, not from the object.
TEST(HandleTableTest, ABorrowFindsEachTypeOnlyAsItself)
{
    HandleTable table;
    constexpr ObjectType types[] = { ObjectType::Endpoint, ObjectType::Child, ObjectType::Block, ObjectType::Thread, ObjectType::Disk };
    std::vector<std::shared_ptr<Thing>> things;
    std::vector<uint32_t> handles;
    for (auto type : types) {
        things.push_back(std::make_shared<Thing>(type));
        handles.push_back(table.insert(things.back()));
        ASSERT_NE(handles.back(), 0u);
    }
    for (size_t i = 0; i < things.size(); ++i) {
        for (auto type : types) {
            EXPECT_EQ(table.borrow(handles[i], type), type == types[i] ? things[i].get() : nullptr) << i << " as " << int(type);
            EXPECT_EQ(table.get(handles[i], type) != nullptr, type == types[i]);
        }
    }
}

TEST(HandleTableTest, AStaleHandleNeverNamesTheSlotsNextObject)
{
    HandleTable table;
    uint32_t first = table.insert(std::make_shared<Thing>());
    table.remove(first);
    auto second = std::make_shared<Thing>();
    uint32_t reused = table.insert(second);
    EXPECT_EQ(reused & index_mask, first & index_mask); // the same slot ...
    EXPECT_NE(reused, first);                           // ... under another generation
    EXPECT_EQ(table.borrow(first, ObjectType::Endpoint), nullptr);
    EXPECT_EQ(table.get(first, ObjectType::Endpoint), nullptr);
    EXPECT_EQ(table.borrow(reused, ObjectType::Endpoint), second.get());
}

TEST(HandleTableTest, ForgedHandlesNameNothing)
{
    HandleTable table(200);
    std::vector<uint32_t> handles;
    for (int i = 0; i < 100; ++i) // past the first chunk of slots
        handles.push_back(table.insert(std::make_shared<Thing>()));
    uint32_t generation = handles[0] >> HandleTable::index_bits;
    for (uint32_t forged : { 0u, generation << HandleTable::index_bits, (generation << HandleTable::index_bits) | 101u,
             (generation << HandleTable::index_bits) | 200u, (generation << HandleTable::index_bits) | 201u,
             (generation << HandleTable::index_bits) | index_mask, 0xFFFF'FFFFu, (generation + 1) << HandleTable::index_bits | 1u }) {
        EXPECT_EQ(table.borrow(forged, ObjectType::Endpoint), nullptr) << std::hex << forged;
        EXPECT_EQ(table.get(forged, ObjectType::Endpoint), nullptr) << std::hex << forged;
        EXPECT_EQ(table.remove(forged), nullptr) << std::hex << forged;
    }
    for (uint32_t handle : handles)
        EXPECT_NE(table.borrow(handle, ObjectType::Endpoint), nullptr);
}

TEST(HandleTableTest, TheLimitHoldsAndTakeAllEmptiesTheTable)
{
    HandleTable table(130);
    std::vector<uint32_t> handles;
    for (int i = 0; i < 130; ++i)
        handles.push_back(table.insert(std::make_shared<Thing>()));
    EXPECT_EQ(table.insert(std::make_shared<Thing>()), 0u);
    EXPECT_EQ(table.free_slots(), 0u);
    auto objects = table.take_all();
    EXPECT_EQ(objects.size(), 130u);
    EXPECT_EQ(table.free_slots(), 130u);
    for (uint32_t handle : handles)
        EXPECT_EQ(table.borrow(handle, ObjectType::Endpoint), nullptr);
    EXPECT_NE(table.insert(std::make_shared<Thing>()), 0u);
}

// borrow() takes no lock: a lookup of a live handle must find its object every
// time while another thread inserts and removes around it (filling new chunks
// of slots and reusing freed ones).
TEST(HandleTableTest, ALockFreeLookupSeesItsObjectWhileOthersChangeTheTable)
{
    HandleTable table(4000);
    auto kept = std::make_shared<Thing>();
    uint32_t handle = table.insert(kept);
    std::atomic<bool> stop { false };
    std::atomic<uint64_t> misses { 0 }, lookups { 0 };
    std::thread reader([&] {
        while (!stop.load(std::memory_order_relaxed)) {
            if (table.borrow(handle, ObjectType::Endpoint) != kept.get())
                misses.fetch_add(1, std::memory_order_relaxed);
            lookups.fetch_add(1, std::memory_order_relaxed);
        }
    });
    for (int round = 0; round < 200; ++round) {
        std::vector<uint32_t> others;
        for (int i = 0; i < 1000; ++i)
            others.push_back(table.insert(std::make_shared<Thing>(ObjectType::Block)));
        for (uint32_t other : others)
            ASSERT_NE(table.remove(other), nullptr);
    }
    stop = true;
    reader.join();
    EXPECT_GT(lookups.load(), 0u);
    EXPECT_EQ(misses.load(), 0u);
}
