// The block device as the file system sees it: raw block I/O over the
// BlockDevice channel, a cache of pinned and changed blocks, and the journal
// that makes every commit atomic.
//
// Write-ahead protocol (docs/filesystem.md, "The journal"). A transaction is
// every block changed since the last commit. Committing it:
//   1. writes a descriptor (the target block numbers), the block images and a
//      commit record whose CRC32 covers the descriptor and the images, into the
//      journal area, and flushes: from here on the transaction survives a crash;
//   2. writes each block to its home, and flushes;
//   3. advances the journal header's sequence number, and flushes: the
//      transaction is retired, and recovery will not replay it again.
// Home locations are written only in step 2, so a crash before the commit
// record is durable leaves the previous state untouched, and a crash after it
// is repaired by replaying the journal, which is idempotent.
#include "fs.h"

#include "BlockDevice.h"
#include "FileSystemCodes.h"

#include <string.h>

fs_volume volume;

/* ---- CRC32 (IEEE 802.3, reflected) ---- */

static uint32_t crc_table[256];

uint32_t fs_crc32(uint32_t crc, void const* data, size_t length)
{
    if (!crc_table[1]) {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
    }
    uint8_t const* bytes = data;
    crc = ~crc;
    for (size_t i = 0; i < length; ++i)
        crc = crc_table[(crc ^ bytes[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- Raw device I/O ---- */

static BlockDevice_Imp_message reply;
static BlockDevice_Write write_request;

int device_geometry(uint64_t* blocks)
{
    if (BlockDevice_Imp_send_Info(volume.device) != SIGNET_OK)
        return FS_EIO;
    if (BlockDevice_Imp_recv(volume.device, &reply) != BlockDevice_Imp_Geometry || reply.as.Geometry.block_size != FS_BLOCK_SIZE)
        return FS_EIO;
    *blocks = reply.as.Geometry.block_count;
    return 0;
}

int device_read(uint32_t block, void* data)
{
    if (BlockDevice_Imp_send_Read(volume.device, block) != SIGNET_OK)
        return FS_EIO;
    switch (BlockDevice_Imp_recv(volume.device, &reply)) {
    case BlockDevice_Imp_Data:
        if (reply.as.Data.data.length != FS_BLOCK_SIZE)
            return FS_EIO;
        memcpy(data, reply.as.Data.data.data, FS_BLOCK_SIZE);
        return 0;
    case BlockDevice_Imp_Failed:
        return reply.as.Failed.code;
    default:
        return FS_EIO;
    }
}

int device_write(uint32_t block, void const* data)
{
    write_request.block = block;
    write_request.data.length = FS_BLOCK_SIZE;
    memcpy(write_request.data.data, data, FS_BLOCK_SIZE);
    if (BlockDevice_Imp_send_Write_message(volume.device, &write_request) != SIGNET_OK)
        return FS_EIO;
    switch (BlockDevice_Imp_recv(volume.device, &reply)) {
    case BlockDevice_Imp_Written:
        return 0;
    case BlockDevice_Imp_Failed:
        return reply.as.Failed.code;
    default:
        return FS_EIO;
    }
}

int device_flush(void)
{
    if (BlockDevice_Imp_send_Flush(volume.device) != SIGNET_OK)
        return FS_EIO;
    return BlockDevice_Imp_recv(volume.device, &reply) == BlockDevice_Imp_Flushed ? 0 : FS_EIO;
}

/* ---- The cache ----
 * A fixed table of entries with a hash index. Dirty entries are never evicted
 * (they are the running transaction); pinned ones neither. The table is larger
 * than the largest transaction plus what one request pins, so a clean,
 * unpinned victim always exists. */

enum { cache_entries = 1024, cache_buckets = 2048, no_entry = 0xffffffffu };

typedef struct cache_entry {
    uint32_t block;
    uint32_t next; /* in its bucket */
    uint32_t pins;
    uint32_t last_use;
    bool valid;
    bool dirty;
} cache_entry;

static cache_entry entries[cache_entries];
static uint8_t cache_data[cache_entries][FS_BLOCK_SIZE];
static uint32_t buckets[cache_buckets];
static uint32_t clock_tick;
static uint32_t dirty_count;
static bool cache_ready;

static void cache_init(void)
{
    for (uint32_t i = 0; i < cache_buckets; ++i)
        buckets[i] = no_entry;
    memset(entries, 0, sizeof entries);
    dirty_count = 0;
    cache_ready = true;
}

static uint32_t cache_find(uint32_t block)
{
    if (!cache_ready)
        cache_init();
    for (uint32_t i = buckets[block % cache_buckets]; i != no_entry; i = entries[i].next) {
        if (entries[i].block == block)
            return i;
    }
    return no_entry;
}

static void cache_unlink(uint32_t index)
{
    uint32_t* link = &buckets[entries[index].block % cache_buckets];
    while (*link != index)
        link = &entries[*link].next;
    *link = entries[index].next;
    entries[index].valid = false;
}

/* A free or evictable entry for `block`, linked into its bucket. */
static uint32_t cache_claim(uint32_t block)
{
    uint32_t victim = no_entry;
    for (uint32_t i = 0; i < cache_entries; ++i) {
        if (!entries[i].valid) {
            victim = i;
            break;
        }
        if (entries[i].dirty || entries[i].pins)
            continue;
        if (victim == no_entry || entries[i].last_use < entries[victim].last_use)
            victim = i;
    }
    if (victim == no_entry)
        return no_entry;
    if (entries[victim].valid)
        cache_unlink(victim);
    entries[victim] = (cache_entry) { .block = block, .next = buckets[block % cache_buckets], .valid = true };
    buckets[block % cache_buckets] = victim;
    return victim;
}

static int cache_pin(uint32_t block, bool read, uint8_t** data)
{
    if (block >= volume.block_count)
        return FS_EIO;
    uint32_t index = cache_find(block);
    if (index == no_entry) {
        index = cache_claim(block);
        if (index == no_entry)
            return FS_EIO; /* a bug: more pinned and dirty blocks than the cache holds */
        if (read) {
            int error = device_read(block, cache_data[index]);
            if (error) {
                cache_unlink(index);
                return error;
            }
        } else {
            memset(cache_data[index], 0, FS_BLOCK_SIZE);
        }
    }
    entries[index].pins++;
    entries[index].last_use = ++clock_tick;
    *data = cache_data[index];
    return 0;
}

int block_get(uint32_t block, uint8_t** data)
{
    return cache_pin(block, true, data);
}

int block_new(uint32_t block, uint8_t** data)
{
    int error = cache_pin(block, false, data);
    if (error)
        return error;
    memset(*data, 0, FS_BLOCK_SIZE);
    block_dirty(block);
    return 0;
}

void block_dirty(uint32_t block)
{
    uint32_t index = cache_find(block);
    if (index != no_entry && !entries[index].dirty) {
        entries[index].dirty = true;
        dirty_count++;
    }
}

void block_put(uint32_t block)
{
    uint32_t index = cache_find(block);
    if (index != no_entry && entries[index].pins)
        entries[index].pins--;
}

uint32_t cache_dirty_count(void)
{
    return dirty_count;
}

uint32_t cache_pinned_count(void)
{
    uint32_t pinned = 0;
    for (uint32_t i = 0; i < cache_entries; ++i)
        pinned += entries[i].valid && entries[i].pins ? 1 : 0;
    return pinned;
}

void cache_drop_all(void)
{
    cache_init();
}

/* ---- The journal ---- */

static uint8_t journal_block[FS_BLOCK_SIZE];
static uint8_t descriptor_block[FS_BLOCK_SIZE];

static int write_journal_header(uint64_t sequence)
{
    memset(journal_block, 0, FS_BLOCK_SIZE);
    fs_journal_header* header = (fs_journal_header*)journal_block;
    header->magic = FS_JOURNAL_MAGIC;
    header->sequence = sequence;
    header->crc = fs_crc32(0, header, offsetof(fs_journal_header, crc));
    return device_write(volume.super.journal_start, journal_block);
}

int journal_format(void)
{
    volume.sequence = 1;
    return write_journal_header(volume.sequence);
}

int journal_commit(void)
{
    if (dirty_count == 0)
        return 0;
    if (volume.read_only)
        return FS_EROFS;
    uint32_t const first = volume.super.journal_start;
    // 1. Descriptor, images and commit record; then flush.
    memset(descriptor_block, 0, FS_BLOCK_SIZE);
    fs_descriptor* descriptor = (fs_descriptor*)descriptor_block;
    descriptor->magic = FS_DESCRIPTOR_MAGIC;
    descriptor->sequence = volume.sequence;
    uint32_t count = 0;
    for (uint32_t i = 0; i < cache_entries; ++i) {
        if (entries[i].valid && entries[i].dirty)
            descriptor->targets[count++] = entries[i].block;
    }
    if (count > volume.max_transaction)
        return FS_EIO; /* a bug: requests keep transactions smaller */
    descriptor->count = count;
    uint32_t crc = fs_crc32(0, descriptor_block, FS_BLOCK_SIZE);
    int error = device_write(first + 1, descriptor_block);
    uint32_t written = 0;
    for (uint32_t i = 0; i < cache_entries && !error; ++i) {
        if (!entries[i].valid || !entries[i].dirty)
            continue;
        crc = fs_crc32(crc, cache_data[i], FS_BLOCK_SIZE);
        error = device_write(first + 2 + written++, cache_data[i]);
    }
    if (!error) {
        memset(journal_block, 0, FS_BLOCK_SIZE);
        fs_commit* commit = (fs_commit*)journal_block;
        commit->magic = FS_COMMIT_MAGIC;
        commit->count = count;
        commit->sequence = volume.sequence;
        commit->crc = crc;
        error = device_write(first + 2 + count, journal_block);
    }
    if (!error)
        error = device_flush();
    // 2. Home locations; then flush.
    for (uint32_t i = 0; i < cache_entries && !error; ++i) {
        if (entries[i].valid && entries[i].dirty)
            error = device_write(entries[i].block, cache_data[i]);
    }
    if (!error)
        error = device_flush();
    // 3. Retire the transaction.
    if (!error)
        error = write_journal_header(volume.sequence + 1);
    if (!error)
        error = device_flush();
    if (error) {
        // The disk no longer matches what was acknowledged; stop changing it.
        // The next mount recovers from the journal.
        volume.read_only = true;
        return FS_EIO;
    }
    volume.sequence++;
    for (uint32_t i = 0; i < cache_entries; ++i)
        entries[i].dirty = false;
    dirty_count = 0;
    return 0;
}

int journal_recover(bool* replayed)
{
    *replayed = false;
    uint32_t const first = volume.super.journal_start;
    int error = device_read(first, journal_block);
    if (error)
        return error;
    fs_journal_header header;
    memcpy(&header, journal_block, sizeof header);
    if (header.magic != FS_JOURNAL_MAGIC || header.crc != fs_crc32(0, &header, offsetof(fs_journal_header, crc)))
        return FS_EIO;
    volume.sequence = header.sequence;
    // A transaction counts only if its descriptor, every image and its commit
    // record are there, with this sequence number and a matching CRC.
    if ((error = device_read(first + 1, descriptor_block)))
        return error;
    fs_descriptor* descriptor = (fs_descriptor*)descriptor_block;
    if (descriptor->magic != FS_DESCRIPTOR_MAGIC || descriptor->sequence != header.sequence || descriptor->count == 0
        || descriptor->count > volume.max_transaction)
        return 0;
    uint32_t const count = descriptor->count;
    uint32_t crc = fs_crc32(0, descriptor_block, FS_BLOCK_SIZE);
    for (uint32_t i = 0; i < count; ++i) {
        if ((error = device_read(first + 2 + i, journal_block)))
            return error;
        crc = fs_crc32(crc, journal_block, FS_BLOCK_SIZE);
    }
    if ((error = device_read(first + 2 + count, journal_block)))
        return error;
    fs_commit commit;
    memcpy(&commit, journal_block, sizeof commit);
    if (commit.magic != FS_COMMIT_MAGIC || commit.sequence != header.sequence || commit.count != count || commit.crc != crc)
        return 0;
    // Complete: replay it. Targets must lie outside the superblock and the journal.
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t target = descriptor->targets[i];
        if (target < volume.super.bitmap_start || target >= volume.block_count)
            return FS_EIO;
    }
    for (uint32_t i = 0; i < count; ++i) {
        if ((error = device_read(first + 2 + i, journal_block)) || (error = device_write(descriptor->targets[i], journal_block)))
            return error;
    }
    if ((error = device_flush()) || (error = write_journal_header(header.sequence + 1)) || (error = device_flush()))
        return error;
    volume.sequence = header.sequence + 1;
    *replayed = true;
    return 0;
}
