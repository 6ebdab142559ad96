// Blocks move between SIPs without a copy: along a chain of guest SIPs, the
// very same physical pages arrive at every stage, and the sender loses them.
#include "ExchangeTestSupport.h"
#include "kernel/object/ExchangeBlock.h"
#include "kernel/object/ExchangeHeap.h"

using namespace signet;
using namespace signet::testing;

namespace {

class ExchangeTransferTest : public ExchangeTest { };

constexpr uint32_t page = 4096;

uint32_t pages_of(uint32_t size)
{
    return (size + page - 1) / page;
}

} // namespace

TEST_F(ExchangeTransferTest, ABlockHandedAlongSevenSipsArrivesIntactInTheSamePhysicalPagesWithNothingCopied)
{
    // The sender, five relays and a sink: six hops.
    constexpr size_t relays = 5;
    constexpr size_t sips = relays + 2;
    for (uint32_t size : { 100u, page, 1u << 20, (5u << 20) + 123 }) {
        SCOPED_TRACE("a block of " + std::to_string(size) + " bytes");
        uint64_t heap_before = ExchangeHeap::the().bytes_in_use();

        std::vector<Ends> links, probes;
        for (size_t i = 0; i + 1 < sips; ++i)
            links.push_back(channel("Chain"));
        for (size_t i = 0; i < sips; ++i)
            probes.push_back(channel("Probe"));
        std::vector<Guest> guests;
        guests.push_back(create("sender", { "chain", std::to_string(size) }, { links[0].importer, probes[0].importer }));
        for (size_t i = 1; i <= relays; ++i)
            guests.push_back(create("stage", { "relay" }, { links[i - 1].exporter, links[i].importer, probes[i].importer }));
        guests.push_back(create("stage", { "sink" }, { links[sips - 2].exporter, probes[sips - 1].importer }));

        std::vector<std::shared_ptr<Endpoint>> probe_exporters;
        for (auto& probe : probes)
            probe_exporters.push_back(probe.exporter);
        size_t stages_seen = 0;
        Guest observer = observe(probe_exporters, [&](Observer& observer) {
            // The sender stops before it sends: note where its pages come from.
            auto made = observer.wait(0);
            ASSERT_TRUE(made);
            ASSERT_EQ(made->size, size);
            uint8_t const* origin_address = guests[0].memory_at(made->offset);
            auto frames = page_frames(origin_address, pages_of(size));
            auto origin = page_origin(origin_address);
            EXPECT_NE(origin.file.find("signet-exchange-heap"), std::string::npos) << "a block is a range of the heap file: " << origin.file;
            bool frames_known = frames[0] != 0;
            if (!frames_known)
                std::fprintf(stderr, "note: no physical frame numbers without CAP_SYS_ADMIN; comparing heap-file offsets only\n");
            observer.go(0);

            // Every later stage stops holding the block, after reading all of it.
            for (size_t stage = 1; stage < sips; ++stage) {
                auto held = observer.wait(stage);
                ASSERT_TRUE(held) << "stage " << stage << " ended early";
                EXPECT_EQ(held->step, stage) << "the block counts the stages it reached";
                EXPECT_EQ(held->size, size);
                uint8_t const* address = guests[stage].memory_at(held->offset);
                EXPECT_EQ(address[0], stage) << "this stage's own write, seen in its memory";
                auto here = page_origin(address);
                EXPECT_EQ(here.file, origin.file) << "stage " << stage;
                EXPECT_EQ(here.file_offset, origin.file_offset) << "stage " << stage << " maps the same range of the heap file";
                if (frames_known) {
                    // The same physical pages as the heap file's at that offset, read just
                    // before and just after: a page Linux migrated meanwhile (compaction)
                    // matches one of the two reads, a copy neither.
                    auto before = heap_file_frames(origin.file_offset, pages_of(size));
                    auto seen = page_frames(address, pages_of(size));
                    auto after = heap_file_frames(origin.file_offset, pages_of(size));
                    for (size_t i = 0; i < seen.size(); ++i) {
                        EXPECT_TRUE(seen[i] != 0 && (seen[i] == before[i] || seen[i] == after[i]))
                            << "stage " << stage << ", page " << i << ": frame " << seen[i] << ", the heap file's " << before[i] << " / " << after[i];
                    }
                    if (stage == 1) {
                        // And the origin's frames, unless Linux moved a page since: informative only.
                        size_t moved = 0;
                        for (size_t i = 0; i < seen.size(); ++i)
                            moved += seen[i] != frames[i];
                        if (moved)
                            std::fprintf(stderr, "note: %zu page(s) of the block moved to other frames since the sender held it\n", moved);
                    }
                }
                ++stages_seen;
                observer.go(stage);
            }
        });

        std::vector<Guest*> all { &observer };
        for (auto& guest : guests)
            all.push_back(&guest);
        start(all);
        finish(all);

        EXPECT_EQ(stages_seen, sips - 1);
        for (auto& guest : guests)
            EXPECT_TRUE(guest.passed());
        EXPECT_NE(guests.back().output().find("sink: received 1 blocks"), std::string::npos);
        EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before) << "the sink freed the block";
    }
}

TEST_F(ExchangeTransferTest, UseAfterSendTrapsTheSenderWhileTheReceiverKeepsTheBlockAndWorks)
{
    // Under a page, many pages, and over the view limit: all leave a hole behind in the sender.
    for (uint32_t size : { 48u, 256u * 1024, 2 * ExchangeBlock::view_limit }) {
        SCOPED_TRACE("a block of " + std::to_string(size) + " bytes");
        uint64_t heap_before = ExchangeHeap::the().bytes_in_use();
        auto link = channel("Chain");
        Guest sender = create("sender", { "use-after-send", std::to_string(size) }, { link.importer });
        Guest sink = create("stage", { "sink" }, { link.exporter });
        start({ &sender, &sink });
        finish({ &sender, &sink });

        EXPECT_EQ(sender.output(), "sent\n");
        EXPECT_EQ(sender.exit().how, ExitInfo::How::Trapped);
        EXPECT_EQ(sender.exit().trap, TrapKind::UseAfterSend) << trap_kind_name(sender.exit().trap) << sender.exit().detail;
        EXPECT_NE(m_diagnostics->contents().find("use of an exchange-heap block after it was sent"), std::string::npos);
        // The sink checked the block again after the sender died, rewrote and freed it.
        EXPECT_TRUE(sink.passed());
        EXPECT_NE(sink.output().find("sink: received 1 blocks"), std::string::npos);
        EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before);
    }
}

TEST_F(ExchangeTransferTest, ABlockThatComesBackReturnsToItsOldOffsetUpToTheViewLimitAndLeavesEntirelyAboveIt)
{
    for (uint32_t size : { 100u, ExchangeBlock::view_limit, 4 * ExchangeBlock::view_limit }) {
        SCOPED_TRACE("a block of " + std::to_string(size) + " bytes");
        uint64_t heap_before = ExchangeHeap::the().bytes_in_use();
        auto echo_channel = channel("Echo");
        Guest sender = create("sender", { "bounce", std::to_string(size), "10" }, { echo_channel.importer });
        Guest echo = create("stage", { "echo" }, { echo_channel.exporter });
        start({ &sender, &echo });
        finish({ &sender, &echo });
        EXPECT_TRUE(sender.passed());
        EXPECT_TRUE(echo.passed());
        // Up to the limit, each side keeps a view of the block's pages and gets it back
        // there; above it, the pages leave and come back wherever there is room.
        bool views = size <= ExchangeBlock::view_limit;
        EXPECT_NE(sender.output().find(views ? "back at the offset it left from 10 of 10 times" : "back at the offset it left from 0 of 10 times"),
            std::string::npos)
            << sender.output();
        EXPECT_NE(echo.output().find(views ? "at the offset of the time before 9 of 9 times" : "at the offset of the time before 0 of 9 times"),
            std::string::npos)
            << echo.output();
        EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before);
    }
}
