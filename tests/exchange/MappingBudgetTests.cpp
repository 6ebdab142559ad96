// Every block and every free run between blocks is a mapping of the kernel's
// host process, and Linux refuses mappings past vm.max_map_count. Guests that
// cut their heaps into pieces get a LIMIT status when the kernel-wide budget
// is spent, never a kernel that dies in a step that must not fail.
#include "ExchangeTestSupport.h"
#include "kernel/object/ExchangeHeap.h"
#include "runtime/BlockArena.h"

#include <fstream>

using namespace signet;
using namespace signet::testing;

namespace {

class ExchangeMappingBudgetTest : public ExchangeTest { };

size_t host_mappings()
{
    std::ifstream maps("/proc/self/maps");
    std::string line;
    size_t count = 0;
    while (std::getline(maps, line))
        ++count;
    return count;
}

size_t host_mapping_limit()
{
    std::ifstream limit("/proc/sys/vm/max_map_count");
    size_t value = 65530;
    limit >> value;
    return value;
}

} // namespace

TEST_F(ExchangeMappingBudgetTest, SipsThatCutTheirHeapsIntoPiecesGetLimitInsteadOfExhaustingTheHostsMappings)
{
    // Twenty SIPs of up to 4000 one-page blocks each, every other one freed:
    // about 80,000 mappings if nothing held them back, over Linux's default limit.
    constexpr size_t guests = 20;
    uint64_t heap_before = ExchangeHeap::the().bytes_in_use();
    std::vector<Ends> probes;
    std::vector<Guest> fragments;
    std::vector<std::shared_ptr<Endpoint>> probe_exporters;
    for (size_t i = 0; i < guests; ++i) {
        probes.push_back(channel("Probe"));
        fragments.push_back(create("fragment", {}, { probes.back().importer }));
        probe_exporters.push_back(probes.back().exporter);
    }
    size_t refused = 0, blocks = 0;
    Guest observer = observe(probe_exporters, [&](Observer& observer) {
        // All of them hold their pieces at once.
        for (size_t i = 0; i < guests; ++i) {
            auto holding = observer.wait(i);
            ASSERT_TRUE(holding) << "fragment " << i;
            refused += holding->offset;
            blocks += holding->size;
        }
        EXPECT_LE(BlockArena::ranges_in_use(), BlockArena::range_budget() + 8) << "the budget holds (give or take racing workers)";
        EXPECT_LT(host_mappings(), host_mapping_limit()) << "the host's limit is never reached";
        for (size_t i = 0; i < guests; ++i)
            observer.go(i);
        // Once all of them freed their pieces, each can allocate again.
        for (size_t i = 0; i < guests; ++i)
            ASSERT_TRUE(observer.wait(i)) << "fragment " << i;
        for (size_t i = 0; i < guests; ++i)
            observer.go(i);
    });
    std::vector<Guest*> all { &observer };
    for (auto& fragment : fragments)
        all.push_back(&fragment);
    start(all);
    finish(all, std::chrono::seconds(60));

    for (auto& fragment : fragments)
        EXPECT_TRUE(fragment.passed());
    if (guests * 4000 > BlockArena::range_budget()) {
        EXPECT_GT(refused, 0u) << "someone met the budget";
    }
    EXPECT_GT(blocks, BlockArena::range_budget() / 2) << "the budget went to blocks";
    EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before);
    EXPECT_EQ(BlockArena::ranges_in_use(), 0u) << "the budget is whole again";
}
