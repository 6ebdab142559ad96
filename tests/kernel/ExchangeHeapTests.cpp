// The exchange heap: blocks have one owner; large blocks move between memories
// by remapping pages (the same physical pages arrive, nothing is copied), and
// the sender loses access; ownership errors are statuses; blocks are reclaimed.
#include "KernelTestSupport.h"
#include "contracts/Checker.h"
#include "contracts/Descriptor.h"
#include "kernel/abi/Abi.h"
#include "kernel/object/ExchangeBlock.h"
#include "kernel/object/ExchangeHeap.h"

#include <fcntl.h>
#include <unistd.h>

using namespace signet;
using namespace signet::testing;

namespace {

std::vector<uint8_t> blockpipe_descriptor()
{
    auto result = contracts::check(std::string(SIGNET_TEST_CONTRACTS) + "/blockpipe.contract");
    EXPECT_TRUE(result.ok()) << result.diagnostics_text();
    return contracts::encode_descriptor(result.file->contracts.at(0).contract);
}

// The physical page frame behind a virtual address (needs CAP_SYS_ADMIN; 0 otherwise).
uint64_t page_frame(void const* address)
{
    int fd = ::open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0)
        return 0;
    uint64_t entry = 0;
    off_t position = static_cast<off_t>(reinterpret_cast<uintptr_t>(address) / 4096 * 8);
    ssize_t n = ::pread(fd, &entry, sizeof entry, position);
    ::close(fd);
    if (n != sizeof entry || !(entry & (1ull << 63)))
        return 0;
    return entry & ((1ull << 55) - 1);
}

} // namespace

class ExchangeHeapTest : public KernelTest {
protected:
    // Runs `body` inside a fresh SIP; `scratch` is a one-page block for arguments.
    void inside_a_sip(std::function<void(Sip&, uint32_t)> body)
    {
        auto spawn = request(example("hello_native"));
        auto shared_body = std::make_shared<std::function<void(Sip&, uint32_t)>>(std::move(body));
        spawn.host_entry = [shared_body](Sip& sip) {
            GuestMemory memory(sip.runtime());
            auto scratch_block = ExchangeBlock::allocate(sip.runtime(), 4096);
            ASSERT_TRUE(scratch_block);
            uint32_t scratch = scratch_block->offset();
            sip.handles().insert(scratch_block);
            (*shared_body)(sip, scratch);
        };
        auto sip = m_kernel->spawn(std::move(spawn));
        ASSERT_FALSE(sip.is_error());
        auto exit = sip.value()->wait_from_host();
        EXPECT_EQ(exit.how, ExitInfo::How::Exited) << trap_kind_name(exit.trap) << exit.detail;
    }
};

TEST_F(ExchangeHeapTest, ALargeBlockArrivesAsTheSamePhysicalPagesWithNothingCopied)
{
    auto descriptor = blockpipe_descriptor();
    inside_a_sip([&](Sip& sip, uint32_t scratch) {
        GuestMemory memory(sip.runtime());
        memory.write_bytes(scratch + 1024, descriptor.data(), descriptor.size());
        ASSERT_EQ(Z_signet_v1Z_channel_create(&sip, scratch + 1024, static_cast<uint32_t>(descriptor.size()), scratch, scratch + 4), SIGNET_OK);
        uint32_t importer = 0, exporter = 0;
        memory.read(scratch, importer);
        memory.read(scratch + 4, exporter);

        constexpr uint32_t size = 1 << 20;
        ASSERT_EQ(Z_signet_v1Z_block_alloc(&sip, size, scratch + 8, scratch + 12), SIGNET_OK);
        uint32_t block = 0, offset = 0;
        memory.read(scratch + 8, block);
        memory.read(scratch + 12, offset);
        EXPECT_EQ(offset % 4096, 0u);
        uint8_t* data = GuestMemory(sip.runtime()).range(offset, size);
        ASSERT_TRUE(data);
        for (uint32_t i = 0; i < size; i += 4096)
            data[i] = static_cast<uint8_t>(i / 4096);
        uint64_t frame_before = page_frame(data + 4096 * 7);

        // Data(block payload): the message is one u32 handle slot.
        memory.write(scratch + 16, block);
        ASSERT_EQ(Z_signet_v1Z_channel_send(&sip, importer, 1, scratch + 16, 4), SIGNET_OK);
        EXPECT_EQ(Z_signet_v1Z_block_free(&sip, block), SIGNET_BAD_HANDLE) << "the sender no longer owns the block";

        ASSERT_EQ(Z_signet_v1Z_channel_recv(&sip, exporter, scratch + 20, scratch + 24, 64, scratch + 28), SIGNET_OK);
        uint32_t received = 0;
        GuestMemory after(sip.runtime());
        after.read(scratch + 24, received);
        ASSERT_EQ(Z_signet_v1Z_block_info(&sip, received, scratch + 32, scratch + 36), SIGNET_OK);
        uint32_t new_offset = 0, new_size = 0;
        after.read(scratch + 32, new_offset);
        after.read(scratch + 36, new_size);
        EXPECT_EQ(new_size, size);
        EXPECT_NE(new_offset, offset) << "the old range stays a hole";
        uint8_t* arrived = after.range(new_offset, size);
        ASSERT_TRUE(arrived);
        for (uint32_t i = 0; i < size; i += 4096)
            ASSERT_EQ(arrived[i], static_cast<uint8_t>(i / 4096));
        // Nothing copied: the very same physical page arrived (pagemap needs root, as CI is).
        ASSERT_NE(frame_before, 0u) << "cannot read /proc/self/pagemap";
        EXPECT_EQ(page_frame(arrived + 4096 * 7), frame_before) << "the same physical page arrived";
        EXPECT_EQ(Z_signet_v1Z_block_free(&sip, received), SIGNET_OK);
        EXPECT_EQ(Z_signet_v1Z_block_free(&sip, received), SIGNET_BAD_HANDLE) << "freeing twice";
    });
}

TEST_F(ExchangeHeapTest, OwnershipErrorsAreStatusesAndTheQuotaIsEnforced)
{
    inside_a_sip([&](Sip& sip, uint32_t scratch) {
        EXPECT_EQ(Z_signet_v1Z_block_alloc(&sip, 0, scratch, scratch + 4), SIGNET_INVALID_ARGUMENT);
        EXPECT_EQ(Z_signet_v1Z_block_alloc(&sip, 100, 0xFFFFFF00u, scratch + 4), SIGNET_OUT_OF_BOUNDS);
        EXPECT_EQ(Z_signet_v1Z_block_alloc(&sip, ExchangeBlock::max_size + 1, scratch, scratch + 4), SIGNET_LIMIT);
        EXPECT_EQ(Z_signet_v1Z_block_free(&sip, 12345), SIGNET_BAD_HANDLE);
        EXPECT_EQ(Z_signet_v1Z_block_info(&sip, 12345, scratch, scratch + 4), SIGNET_BAD_HANDLE);
        // The default quota is 64 MiB: 63 blocks of 1 MiB fit beside the scratch page, the 64th does not.
        sip.runtime().exchange_limit_bytes = 8u << 20;
        int allocated = 0;
        while (Z_signet_v1Z_block_alloc(&sip, 1 << 20, scratch, scratch + 4) == SIGNET_OK)
            ++allocated;
        EXPECT_EQ(allocated, 7) << "8 MiB quota, one page already used";
        uint32_t last = 0;
        GuestMemory(sip.runtime()).read(scratch, last);
        EXPECT_EQ(Z_signet_v1Z_block_free(&sip, last), SIGNET_OK);
        EXPECT_EQ(Z_signet_v1Z_block_alloc(&sip, 1 << 20, scratch, scratch + 4), SIGNET_OK) << "freed space is reused";
    });
}

TEST_F(ExchangeHeapTest, UseAfterSendTrapsTheSenderForLargeAndSmallBlocks)
{
    for (auto args : { std::vector<std::string> {}, std::vector<std::string> { "small" } }) {
        auto result = run(guest("test_use_after_send"), args);
        EXPECT_EQ(result.out, "sent\n");
        EXPECT_EQ(result.exit.how, ExitInfo::How::Trapped);
        EXPECT_EQ(result.exit.trap, TrapKind::UseAfterSend) << trap_kind_name(result.exit.trap);
        EXPECT_NE(result.diagnostics.find("use of an exchange-heap block after it was sent"), std::string::npos);
    }
}

// A thread waits for a message with its buffer inside a block that its sibling
// then sends away: when the message comes, the buffer is a hole. The receive
// says OUT_OF_BOUNDS and leaves the message queued; the kernel goes on.
TEST_F(ExchangeHeapTest, AReceiveWhoseBufferWasSentAwayMeanwhileIsOutOfBounds)
{
    auto result = run(guest("test_receive_into_sent_block"));
    ASSERT_EQ(result.exit.how, ExitInfo::How::Exited) << trap_kind_name(result.exit.trap) << result.exit.detail << result.diagnostics;
    EXPECT_EQ(result.exit.status, 0);
    EXPECT_EQ(result.out, "receive into the sent block: " + std::to_string(SIGNET_OUT_OF_BOUNDS) + "; sibling: 0; then the message: Small\n");
}

TEST_F(ExchangeHeapTest, BlocksInAClosedChannelAndOfADeadSipAreReclaimed)
{
    auto descriptor = blockpipe_descriptor();
    uint64_t heap_before = ExchangeHeap::the().bytes_in_use();
    inside_a_sip([&](Sip& sip, uint32_t scratch) {
        GuestMemory memory(sip.runtime());
        memory.write_bytes(scratch + 1024, descriptor.data(), descriptor.size());
        for (int round = 0; round < 200; ++round) {
            ASSERT_EQ(Z_signet_v1Z_channel_create(&sip, scratch + 1024, static_cast<uint32_t>(descriptor.size()), scratch, scratch + 4), SIGNET_OK);
            uint32_t importer = 0, exporter = 0, block = 0;
            GuestMemory now(sip.runtime());
            now.read(scratch, importer);
            now.read(scratch + 4, exporter);
            ASSERT_EQ(Z_signet_v1Z_block_alloc(&sip, 1 << 20, scratch + 8, scratch + 12), SIGNET_OK) << "round " << round;
            now.read(scratch + 8, block);
            now.write(scratch + 16, block);
            ASSERT_EQ(Z_signet_v1Z_channel_send(&sip, importer, 1, scratch + 16, 4), SIGNET_OK);
            // Close the receiving end with the block still queued: it is dropped, not leaked,
            // and the sender's quota is free again (200 MiB went through a 64 MiB quota).
            ASSERT_EQ(Z_signet_v1Z_handle_close(&sip, exporter), SIGNET_OK);
            ASSERT_EQ(Z_signet_v1Z_handle_close(&sip, importer), SIGNET_OK);
        }
        EXPECT_LE(sip.runtime().blocks.bytes_in_use(), 4096u);
        // Blocks the SIP still owns when it ends go back to the heap with it.
        for (int i = 0; i < 5; ++i)
            ASSERT_EQ(Z_signet_v1Z_block_alloc(&sip, 1 << 20, scratch + 8, scratch + 12), SIGNET_OK);
    });
    m_kernel->wait_until_idle();
    EXPECT_EQ(ExchangeHeap::the().bytes_in_use(), heap_before);
}
