// The file system proper: format and mount, inodes and their block maps,
// directories, and the operations the server offers. Every change goes through
// the block cache, so it becomes durable only with the journal's next commit,
// and each request leaves the file system consistent when it returns: the
// journal commits only between requests.
#include "fs.h"

#include "FileSystemCodes.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t fs_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* ---- Format and mount ---- */

static uint8_t scratch[FS_BLOCK_SIZE];

static void layout(uint32_t blocks, fs_superblock* super)
{
    memset(super, 0, sizeof *super);
    super->magic = FS_MAGIC;
    super->version = FS_VERSION;
    super->block_count = blocks;
    super->journal_start = 1;
    // A sixteenth of the disk, from 64 blocks up to what the largest transaction needs.
    super->journal_blocks = blocks / 16 < 64 ? 64 : (blocks / 16 > 515 ? 515 : blocks / 16);
    super->bitmap_start = super->journal_start + super->journal_blocks;
    super->bitmap_blocks = (blocks + FS_BLOCK_SIZE * 8 - 1) / (FS_BLOCK_SIZE * 8);
    super->inode_start = super->bitmap_start + super->bitmap_blocks;
    uint32_t inodes = blocks / 8;
    if (inodes < 64)
        inodes = 64;
    if (inodes > 65536)
        inodes = 65536;
    super->inode_blocks = (inodes + FS_INODES_PER_BLOCK - 1) / FS_INODES_PER_BLOCK;
    super->inode_count = super->inode_blocks * FS_INODES_PER_BLOCK;
    super->data_start = super->inode_start + super->inode_blocks;
    super->crc = fs_crc32(0, super, offsetof(fs_superblock, crc));
}

static int set_bit(uint32_t block, bool used);

/* The most blocks one transaction holds: what fits the journal (header,
 * descriptor and commit record besides the images), at most 512 so that the
 * cache (1024 blocks) always has clean blocks to spare. */
static uint32_t max_transaction(fs_superblock const* super)
{
    uint32_t blocks = super->journal_blocks - 3;
    return blocks > 512 ? 512 : blocks;
}

static int format(uint32_t blocks)
{
    fs_superblock super;
    layout(blocks, &super);
    volume.super = super;
    // Everything but the superblock first; the superblock last, after a flush,
    // so a crash during format leaves a disk that formats again.
    memset(scratch, 0, FS_BLOCK_SIZE);
    int error = journal_format();
    for (uint32_t b = super.bitmap_start; b < super.data_start && !error; ++b)
        error = device_write(b, scratch);
    if (error)
        return error;
    for (uint32_t b = 0; b < super.data_start && !error; ++b)
        error = set_bit(b, true);
    fs_inode root;
    memset(&root, 0, sizeof root);
    root.type = FS_INODE_DIRECTORY;
    root.links = 1;
    root.generation = 1;
    root.parent = FS_ROOT_INODE;
    root.modified_ns = fs_now();
    if (!error)
        error = inode_write(FS_ROOT_INODE, &root);
    // Write the metadata home directly (no journal needed before the superblock exists).
    if (!error)
        error = journal_commit();
    if (error)
        return error;
    memset(scratch, 0, FS_BLOCK_SIZE);
    memcpy(scratch, &super, sizeof super);
    if ((error = device_write(0, scratch)) || (error = device_flush()))
        return error;
    return 0;
}

int fs_mount(char* message, size_t capacity)
{
    uint64_t blocks = 0;
    int error = device_geometry(&blocks);
    if (error) {
        snprintf(message, capacity, "the block device does not answer Info");
        return error;
    }
    if (blocks < FS_MIN_BLOCKS || blocks > FS_MAX_BLOCKS) {
        snprintf(message, capacity, "a disk of %llu blocks is outside %u..%u", (unsigned long long)blocks, FS_MIN_BLOCKS, FS_MAX_BLOCKS);
        return FS_EINVAL;
    }
    volume.block_count = (uint32_t)blocks;
    cache_drop_all();
    if ((error = device_read(0, scratch))) {
        snprintf(message, capacity, "cannot read the superblock");
        return error;
    }
    bool empty = true;
    for (uint32_t i = 0; i < FS_BLOCK_SIZE && empty; ++i)
        empty = scratch[i] == 0;
    if (empty) {
        fs_superblock planned;
        layout(volume.block_count, &planned);
        volume.super = planned;
        volume.max_transaction = max_transaction(&planned);
        if ((error = format(volume.block_count))) {
            snprintf(message, capacity, "format failed (error %d)", error);
            return error;
        }
        snprintf(message, capacity, "formatted %u blocks: %u inodes, journal of %u blocks", planned.block_count, planned.inode_count,
            planned.journal_blocks);
        return 0;
    }
    fs_superblock super;
    memcpy(&super, scratch, sizeof super);
    fs_superblock expected;
    layout(super.block_count, &expected);
    if (super.magic != FS_MAGIC || super.version != FS_VERSION || super.crc != fs_crc32(0, &super, offsetof(fs_superblock, crc))
        || super.block_count != volume.block_count || memcmp(&super, &expected, offsetof(fs_superblock, format_id)) != 0) {
        snprintf(message, capacity, "block 0 is not a valid superblock for a disk of %u blocks", volume.block_count);
        return FS_EIO;
    }
    volume.super = super;
    volume.max_transaction = max_transaction(&super);
    bool replayed = false;
    if ((error = journal_recover(&replayed))) {
        snprintf(message, capacity, "journal recovery failed (error %d)", error);
        return error;
    }
    snprintf(message, capacity, "mounted %u blocks%s", volume.block_count, replayed ? ", replayed one committed transaction" : "");
    return 0;
}

/* ---- The block bitmap ---- */

static int set_bit(uint32_t block, bool used)
{
    uint32_t bitmap_block = volume.super.bitmap_start + block / (FS_BLOCK_SIZE * 8);
    uint32_t bit = block % (FS_BLOCK_SIZE * 8);
    uint8_t* data;
    int error = block_get(bitmap_block, &data);
    if (error)
        return error;
    if (used)
        data[bit / 8] |= (uint8_t)(1u << (bit % 8));
    else
        data[bit / 8] &= (uint8_t)~(1u << (bit % 8));
    block_dirty(bitmap_block);
    block_put(bitmap_block);
    return 0;
}

static uint32_t allocation_hint;

/* A free data block, marked used and zeroed in the cache. */
static int allocate_block(uint32_t* out)
{
    uint32_t const start = volume.super.data_start;
    uint32_t const span = volume.block_count - start;
    if (allocation_hint < start || allocation_hint >= volume.block_count)
        allocation_hint = start;
    for (uint32_t tried = 0; tried < span;) {
        uint32_t block = allocation_hint;
        uint32_t bitmap_block = volume.super.bitmap_start + block / (FS_BLOCK_SIZE * 8);
        uint8_t* data;
        int error = block_get(bitmap_block, &data);
        if (error)
            return error;
        // Scan the rest of this bitmap block.
        uint32_t end = (block / (FS_BLOCK_SIZE * 8) + 1) * (FS_BLOCK_SIZE * 8);
        if (end > volume.block_count)
            end = volume.block_count;
        uint32_t found = 0;
        for (; block < end; ++block, ++tried) {
            uint32_t bit = block % (FS_BLOCK_SIZE * 8);
            if (!(data[bit / 8] & (1u << (bit % 8)))) {
                data[bit / 8] |= (uint8_t)(1u << (bit % 8));
                block_dirty(bitmap_block);
                found = block;
                break;
            }
        }
        block_put(bitmap_block);
        allocation_hint = block + 1 >= volume.block_count ? start : block + 1;
        if (found) {
            uint8_t* fresh;
            if ((error = block_new(found, &fresh)))
                return error;
            block_put(found);
            *out = found;
            return 0;
        }
    }
    return FS_ENOSPC;
}

static int free_block(uint32_t block)
{
    if (block < volume.super.data_start || block >= volume.block_count)
        return FS_EIO;
    return set_bit(block, false);
}

/* ---- Inodes ---- */

int inode_read(uint32_t number, fs_inode* out)
{
    if (number == 0 || number >= volume.super.inode_count)
        return FS_EINVAL;
    uint32_t block = volume.super.inode_start + number / FS_INODES_PER_BLOCK;
    uint8_t* data;
    int error = block_get(block, &data);
    if (error)
        return error;
    memcpy(out, data + (number % FS_INODES_PER_BLOCK) * FS_INODE_SIZE, FS_INODE_SIZE);
    block_put(block);
    return 0;
}

int inode_write(uint32_t number, fs_inode const* inode)
{
    if (number == 0 || number >= volume.super.inode_count)
        return FS_EINVAL;
    uint32_t block = volume.super.inode_start + number / FS_INODES_PER_BLOCK;
    uint8_t* data;
    int error = block_get(block, &data);
    if (error)
        return error;
    memcpy(data + (number % FS_INODES_PER_BLOCK) * FS_INODE_SIZE, inode, FS_INODE_SIZE);
    block_dirty(block);
    block_put(block);
    return 0;
}

static int allocate_inode(uint8_t type, uint32_t parent, uint32_t* out)
{
    for (uint32_t number = FS_ROOT_INODE + 1; number < volume.super.inode_count; ++number) {
        fs_inode inode;
        int error = inode_read(number, &inode);
        if (error)
            return error;
        if (inode.type != FS_INODE_FREE)
            continue;
        uint32_t generation = inode.generation + 1;
        memset(&inode, 0, sizeof inode);
        inode.type = type;
        inode.links = 1;
        inode.generation = generation;
        inode.parent = type == FS_INODE_DIRECTORY ? parent : 0;
        inode.modified_ns = fs_now();
        if ((error = inode_write(number, &inode)))
            return error;
        *out = number;
        return 0;
    }
    return FS_ENOSPC;
}

/* Slot `slot` of the pointer block `*pointer_block` (allocated on demand). */
static int pointer_at(uint32_t* pointer_block, uint32_t slot, bool allocate, bool* inode_changed, uint32_t* out)
{
    int error;
    if (!*pointer_block) {
        if (!allocate) {
            *out = 0;
            return 0;
        }
        if ((error = allocate_block(pointer_block)))
            return error;
        *inode_changed = true;
    }
    uint8_t* data;
    if ((error = block_get(*pointer_block, &data)))
        return error;
    uint32_t value;
    memcpy(&value, data + slot * 4, 4);
    if (!value && allocate) {
        if ((error = allocate_block(&value))) {
            block_put(*pointer_block);
            return error;
        }
        memcpy(data + slot * 4, &value, 4);
        block_dirty(*pointer_block);
    }
    block_put(*pointer_block);
    *out = value;
    return 0;
}

int inode_map(uint32_t number, fs_inode* inode, uint64_t index, bool allocate, uint32_t* out)
{
    bool changed = false;
    int error = 0;
    if (index >= FS_MAX_FILE_BLOCKS)
        return FS_EFBIG;
    if (index < FS_DIRECT_BLOCKS) {
        if (!inode->direct[index] && allocate) {
            if ((error = allocate_block(&inode->direct[index])))
                return error;
            changed = true;
        }
        *out = inode->direct[index];
    } else if ((index -= FS_DIRECT_BLOCKS) < FS_POINTERS_PER_BLOCK) {
        error = pointer_at(&inode->indirect, (uint32_t)index, allocate, &changed, out);
    } else {
        index -= FS_POINTERS_PER_BLOCK;
        uint32_t middle = 0;
        error = pointer_at(&inode->double_indirect, (uint32_t)(index / FS_POINTERS_PER_BLOCK), allocate, &changed, &middle);
        if (!error && middle)
            error = pointer_at(&middle, (uint32_t)(index % FS_POINTERS_PER_BLOCK), allocate, &changed, out);
        else if (!error)
            *out = 0;
    }
    if (changed) {
        int write_error = inode_write(number, inode);
        if (!error)
            error = write_error;
    }
    return error;
}

static uint32_t pointer_copy[2][FS_POINTERS_PER_BLOCK];

/* Frees what a pointer block points to from entry `from` on (depth 1: middle
 * blocks of the double-indirect tree, with their own blocks). The caller frees
 * the pointer block itself if nothing of it stays. */
static int free_pointers(uint32_t block, uint32_t from, int depth)
{
    uint8_t* data;
    int error = block_get(block, &data);
    if (error)
        return error;
    uint32_t* copy = pointer_copy[depth];
    memcpy(copy, data, FS_BLOCK_SIZE);
    // A block that keeps some pointers loses the rest; one that goes whole is
    // left as it is (it is zeroed when it is allocated again), so freeing a
    // large file changes only bitmap blocks and stays within one transaction.
    if (from > 0) {
        memset(data + from * 4, 0, (FS_POINTERS_PER_BLOCK - from) * 4);
        block_dirty(block);
    }
    block_put(block);
    for (uint32_t i = from; i < FS_POINTERS_PER_BLOCK && !error; ++i) {
        if (!copy[i])
            continue;
        if (depth == 1) {
            error = free_pointers(copy[i], 0, 0);
            if (!error)
                error = free_block(copy[i]);
        } else {
            error = free_block(copy[i]);
        }
    }
    return error;
}

int inode_truncate(uint32_t number, fs_inode* inode, uint64_t size)
{
    if (size > FS_MAX_FILE_SIZE)
        return FS_EFBIG;
    int error = 0;
    // Blocks past the new end go, even when the size does not change: a write
    // that ran out of space may have left a block map beyond the size.
    if (size <= inode->size) {
        uint64_t keep = (size + FS_BLOCK_SIZE - 1) / FS_BLOCK_SIZE; // blocks still needed
        for (uint64_t i = keep; i < FS_DIRECT_BLOCKS && !error; ++i) {
            if (inode->direct[i])
                error = free_block(inode->direct[i]);
            inode->direct[i] = 0;
        }
        if (!error && inode->indirect) {
            uint64_t from = keep > FS_DIRECT_BLOCKS ? keep - FS_DIRECT_BLOCKS : 0;
            if (from < FS_POINTERS_PER_BLOCK) {
                error = free_pointers(inode->indirect, (uint32_t)from, 0);
                if (!error && from == 0) {
                    error = free_block(inode->indirect);
                    inode->indirect = 0;
                }
            }
        }
        if (!error && inode->double_indirect) {
            uint64_t base = FS_DIRECT_BLOCKS + FS_POINTERS_PER_BLOCK;
            uint64_t from = keep > base ? keep - base : 0;
            uint32_t outer = (uint32_t)(from / FS_POINTERS_PER_BLOCK);
            uint32_t inner = (uint32_t)(from % FS_POINTERS_PER_BLOCK);
            if (inner) {
                // Part of one middle block stays.
                uint32_t middle = 0;
                bool unused = false;
                error = pointer_at(&inode->double_indirect, outer, false, &unused, &middle);
                if (!error && middle)
                    error = free_pointers(middle, inner, 0);
                outer++;
            }
            if (!error && outer < FS_POINTERS_PER_BLOCK)
                error = free_pointers(inode->double_indirect, outer, 1);
            if (!error && from == 0) {
                error = free_block(inode->double_indirect);
                inode->double_indirect = 0;
            }
        }
        // The kept tail of the last block reads as zeros if the file grows again.
        if (!error && size % FS_BLOCK_SIZE) {
            uint32_t block = 0;
            error = inode_map(number, inode, size / FS_BLOCK_SIZE, false, &block);
            uint8_t* data;
            if (!error && block && !(error = block_get(block, &data))) {
                memset(data + size % FS_BLOCK_SIZE, 0, FS_BLOCK_SIZE - size % FS_BLOCK_SIZE);
                block_dirty(block);
                block_put(block);
            }
        }
    }
    if (error)
        return error;
    inode->size = size;
    inode->modified_ns = fs_now();
    return inode_write(number, inode);
}

/* ---- File data ---- */

int fs_file_read(uint32_t number, uint64_t offset, uint8_t* out, uint32_t length, uint32_t* out_read)
{
    fs_inode inode;
    int error = inode_read(number, &inode);
    if (error)
        return error;
    *out_read = 0;
    if (offset >= inode.size)
        return 0;
    if (length > inode.size - offset)
        length = (uint32_t)(inode.size - offset);
    uint32_t done = 0;
    while (done < length) {
        uint64_t position = offset + done;
        uint32_t within = (uint32_t)(position % FS_BLOCK_SIZE);
        uint32_t chunk = FS_BLOCK_SIZE - within;
        if (chunk > length - done)
            chunk = length - done;
        uint32_t block = 0;
        if ((error = inode_map(number, &inode, position / FS_BLOCK_SIZE, false, &block)))
            return error;
        if (!block) {
            memset(out + done, 0, chunk);
        } else {
            uint8_t* data;
            if ((error = block_get(block, &data)))
                return error;
            memcpy(out + done, data + within, chunk);
            block_put(block);
        }
        done += chunk;
    }
    *out_read = done;
    return 0;
}

int fs_file_write(uint32_t number, uint64_t offset, uint8_t const* in, uint32_t length, uint32_t* out_written)
{
    fs_inode inode;
    int error = inode_read(number, &inode);
    if (error)
        return error;
    *out_written = 0;
    if (offset > FS_MAX_FILE_SIZE || length > FS_MAX_FILE_SIZE - offset)
        return FS_EFBIG;
    uint32_t done = 0;
    while (done < length && !error) {
        uint64_t position = offset + done;
        uint32_t within = (uint32_t)(position % FS_BLOCK_SIZE);
        uint32_t chunk = FS_BLOCK_SIZE - within;
        if (chunk > length - done)
            chunk = length - done;
        uint32_t block = 0;
        if ((error = inode_map(number, &inode, position / FS_BLOCK_SIZE, true, &block)))
            break;
        uint8_t* data;
        if ((error = block_get(block, &data)))
            break;
        memcpy(data + within, in + done, chunk);
        block_dirty(block);
        block_put(block);
        done += chunk;
    }
    // What was written stays written, even if the disk filled up on the way.
    if (done) {
        if (offset + done > inode.size)
            inode.size = offset + done;
        inode.modified_ns = fs_now();
        int write_error = inode_write(number, &inode);
        if (write_error)
            return write_error;
        *out_written = done;
        return 0;
    }
    return error;
}

/* ---- Directories ---- */

int fs_dir_entry(uint32_t directory, uint32_t index, fs_dirent* out)
{
    fs_inode inode;
    int error = inode_read(directory, &inode);
    if (error)
        return error;
    if (inode.type != FS_INODE_DIRECTORY)
        return FS_ENOTDIR;
    if ((uint64_t)index * FS_DIRENT_SIZE >= inode.size)
        return FS_ENOENT;
    uint32_t read = 0;
    if ((error = fs_file_read(directory, (uint64_t)index * FS_DIRENT_SIZE, (uint8_t*)out, FS_DIRENT_SIZE, &read)))
        return error;
    // What the disk holds is checked before it is used: a name longer than its field is damage.
    if (read != FS_DIRENT_SIZE || out->name_length > FS_NAME_MAX)
        return FS_EIO;
    return 0;
}

/* The slot naming `name` in `directory`, or ENOENT. */
static int dir_find(uint32_t directory, char const* name, uint32_t length, uint32_t* out_slot, fs_dirent* out)
{
    for (uint32_t slot = 0;; ++slot) {
        int error = fs_dir_entry(directory, slot, out);
        if (error)
            return error;
        if (out->inode && out->name_length == length && memcmp(out->name, name, length) == 0) {
            *out_slot = slot;
            return 0;
        }
    }
}

static int dir_add(uint32_t directory, char const* name, uint32_t length, uint32_t inode, uint8_t type)
{
    fs_dirent entry;
    uint32_t slot = 0;
    int error;
    for (;; ++slot) {
        error = fs_dir_entry(directory, slot, &entry);
        if (error == FS_ENOENT)
            break;
        if (error)
            return error;
        if (!entry.inode)
            break;
    }
    memset(&entry, 0, sizeof entry);
    entry.inode = inode;
    entry.type = type;
    entry.name_length = (uint8_t)length;
    memcpy(entry.name, name, length);
    uint32_t written = 0;
    if ((error = fs_file_write(directory, (uint64_t)slot * FS_DIRENT_SIZE, (uint8_t const*)&entry, FS_DIRENT_SIZE, &written)))
        return error;
    return written == FS_DIRENT_SIZE ? 0 : FS_ENOSPC;
}

static int dir_clear(uint32_t directory, uint32_t slot)
{
    fs_dirent entry;
    memset(&entry, 0, sizeof entry);
    uint32_t written = 0;
    return fs_file_write(directory, (uint64_t)slot * FS_DIRENT_SIZE, (uint8_t const*)&entry, FS_DIRENT_SIZE, &written);
}

static int dir_is_empty(uint32_t directory, bool* empty)
{
    fs_dirent entry;
    for (uint32_t slot = 0;; ++slot) {
        int error = fs_dir_entry(directory, slot, &entry);
        if (error == FS_ENOENT)
            break;
        if (error)
            return error;
        if (entry.inode) {
            *empty = false;
            return 0;
        }
    }
    *empty = true;
    return 0;
}

/* ---- Paths ----
 * Absolute, '/'-separated; empty components are skipped; "." stays and ".."
 * goes to the parent (the root's parent is the root). */

static bool valid_name(char const* name, uint32_t length)
{
    if (length == 0)
        return false;
    if (length > FS_NAME_MAX)
        return false;
    if ((length == 1 && name[0] == '.') || (length == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    for (uint32_t i = 0; i < length; ++i) {
        if (name[i] == '/' || name[i] == '\0')
            return false;
    }
    return true;
}

/* Walks `path` up to its last component: the directory that would hold it, and
 * the last component itself (empty for "/"). */
static int walk_parent(char const* path, uint32_t length, uint32_t* out_parent, char const** out_name, uint32_t* out_name_length)
{
    if (length == 0 || path[0] != '/')
        return FS_EINVAL;
    if (length > FS_PATH_MAX)
        return FS_ENAMETOOLONG;
    for (uint32_t i = 0; i < length; ++i) {
        if (path[i] == '\0')
            return FS_EINVAL;
    }
    uint32_t current = FS_ROOT_INODE;
    uint32_t i = 0;
    for (;;) {
        while (i < length && path[i] == '/')
            ++i;
        uint32_t start = i;
        while (i < length && path[i] != '/')
            ++i;
        uint32_t component = i - start;
        uint32_t rest = i;
        while (rest < length && path[rest] == '/')
            ++rest;
        if (rest == length) { // the last component
            *out_parent = current;
            *out_name = path + start;
            *out_name_length = component;
            return 0;
        }
        if (component > FS_NAME_MAX)
            return FS_ENAMETOOLONG;
        fs_inode inode;
        int error = inode_read(current, &inode);
        if (error)
            return error;
        if (inode.type != FS_INODE_DIRECTORY)
            return FS_ENOTDIR;
        if (component == 1 && path[start] == '.')
            continue;
        if (component == 2 && path[start] == '.' && path[start + 1] == '.') {
            current = inode.parent;
            continue;
        }
        fs_dirent entry;
        uint32_t slot;
        if ((error = dir_find(current, path + start, component, &slot, &entry)))
            return error;
        if (entry.type != FS_TYPE_DIRECTORY)
            return FS_ENOTDIR;
        current = entry.inode;
    }
}

int fs_resolve(char const* path, uint32_t length, uint32_t* out_inode)
{
    uint32_t parent;
    char const* name;
    uint32_t name_length;
    int error = walk_parent(path, length, &parent, &name, &name_length);
    if (error)
        return error;
    fs_inode inode;
    if ((error = inode_read(parent, &inode)))
        return error;
    if (inode.type != FS_INODE_DIRECTORY)
        return FS_ENOTDIR;
    if (name_length == 0 || (name_length == 1 && name[0] == '.')) {
        *out_inode = parent;
        return 0;
    }
    if (name_length == 2 && name[0] == '.' && name[1] == '.') {
        *out_inode = inode.parent;
        return 0;
    }
    if (name_length > FS_NAME_MAX)
        return FS_ENAMETOOLONG;
    fs_dirent entry;
    uint32_t slot;
    if ((error = dir_find(parent, name, name_length, &slot, &entry)))
        return error;
    *out_inode = entry.inode;
    return 0;
}

static int check_new_name(char const* name, uint32_t length)
{
    if (length > FS_NAME_MAX)
        return FS_ENAMETOOLONG;
    return valid_name(name, length) ? 0 : FS_EINVAL;
}

int fs_create(char const* path, uint32_t length, uint8_t type, uint32_t* out_inode)
{
    uint32_t parent;
    char const* name;
    uint32_t name_length;
    int error = walk_parent(path, length, &parent, &name, &name_length);
    if (error)
        return error;
    fs_inode directory;
    if ((error = inode_read(parent, &directory)))
        return error;
    if (directory.type != FS_INODE_DIRECTORY)
        return FS_ENOTDIR;
    if (name_length == 0 || (name_length <= 2 && name[0] == '.' && (name_length == 1 || name[1] == '.')))
        return FS_EEXIST;
    if ((error = check_new_name(name, name_length)))
        return error;
    fs_dirent entry;
    uint32_t slot;
    error = dir_find(parent, name, name_length, &slot, &entry);
    if (!error)
        return FS_EEXIST;
    if (error != FS_ENOENT)
        return error;
    uint32_t number;
    if ((error = allocate_inode(type == FS_TYPE_DIRECTORY ? FS_INODE_DIRECTORY : FS_INODE_FILE, parent, &number)))
        return error;
    if ((error = dir_add(parent, name, name_length, number, type))) {
        // Give the inode back: nothing names it.
        fs_inode inode;
        if (!inode_read(number, &inode)) {
            uint32_t generation = inode.generation;
            memset(&inode, 0, sizeof inode);
            inode.generation = generation;
            (void)inode_write(number, &inode);
        }
        return error;
    }
    if ((error = inode_read(parent, &directory)))
        return error;
    directory.modified_ns = fs_now();
    if ((error = inode_write(parent, &directory)))
        return error;
    *out_inode = number;
    return 0;
}

/* Drops one name of inode `number`; frees it with its last name. */
static int drop_link(uint32_t number)
{
    fs_inode inode;
    int error = inode_read(number, &inode);
    if (error)
        return error;
    if (inode.links > 1) {
        inode.links--;
        return inode_write(number, &inode);
    }
    if ((error = inode_truncate(number, &inode, 0)))
        return error;
    uint32_t generation = inode.generation + 1;
    memset(&inode, 0, sizeof inode);
    inode.generation = generation;
    return inode_write(number, &inode);
}

int fs_unlink(char const* path, uint32_t length, bool directory)
{
    uint32_t parent;
    char const* name;
    uint32_t name_length;
    int error = walk_parent(path, length, &parent, &name, &name_length);
    if (error)
        return error;
    if (name_length == 0)
        return directory ? FS_EBUSY : FS_EISDIR; /* the root */
    if ((error = check_new_name(name, name_length)))
        return error;
    fs_dirent entry;
    uint32_t slot;
    if ((error = dir_find(parent, name, name_length, &slot, &entry)))
        return error;
    if (directory && entry.type != FS_TYPE_DIRECTORY)
        return FS_ENOTDIR;
    if (!directory && entry.type == FS_TYPE_DIRECTORY)
        return FS_EISDIR;
    if (directory) {
        bool empty = false;
        if ((error = dir_is_empty(entry.inode, &empty)))
            return error;
        if (!empty)
            return FS_ENOTEMPTY;
    }
    if ((error = dir_clear(parent, slot)))
        return error;
    return drop_link(entry.inode);
}

int fs_rename(char const* from, uint32_t from_length, char const* to, uint32_t to_length)
{
    uint32_t from_parent, to_parent;
    char const *from_name, *to_name;
    uint32_t from_name_length, to_name_length;
    int error = walk_parent(from, from_length, &from_parent, &from_name, &from_name_length);
    if (error)
        return error;
    if ((error = walk_parent(to, to_length, &to_parent, &to_name, &to_name_length)))
        return error;
    if (from_name_length == 0 || to_name_length == 0)
        return FS_EBUSY; /* the root */
    if ((error = check_new_name(from_name, from_name_length)) || (error = check_new_name(to_name, to_name_length)))
        return error;
    fs_inode to_directory;
    if ((error = inode_read(to_parent, &to_directory)))
        return error;
    if (to_directory.type != FS_INODE_DIRECTORY)
        return FS_ENOTDIR;
    fs_dirent source, target;
    uint32_t source_slot, target_slot;
    if ((error = dir_find(from_parent, from_name, from_name_length, &source_slot, &source)))
        return error;
    if (source.type == FS_TYPE_DIRECTORY) {
        // A directory cannot move into itself or below itself.
        for (uint32_t up = to_parent;;) {
            if (up == source.inode)
                return FS_EINVAL;
            if (up == FS_ROOT_INODE)
                break;
            fs_inode ancestor;
            if ((error = inode_read(up, &ancestor)))
                return error;
            up = ancestor.parent;
        }
    }
    error = dir_find(to_parent, to_name, to_name_length, &target_slot, &target);
    if (error && error != FS_ENOENT)
        return error;
    bool replace = !error;
    if (replace) {
        if (target.inode == source.inode)
            return 0; /* the same file: nothing to do */
        if (source.type == FS_TYPE_DIRECTORY && target.type != FS_TYPE_DIRECTORY)
            return FS_ENOTDIR;
        if (source.type != FS_TYPE_DIRECTORY && target.type == FS_TYPE_DIRECTORY)
            return FS_EISDIR;
        if (target.type == FS_TYPE_DIRECTORY) {
            bool empty = false;
            if ((error = dir_is_empty(target.inode, &empty)))
                return error;
            if (!empty)
                return FS_ENOTEMPTY;
        }
        // Point the existing entry at the source, then drop the old target.
        fs_dirent entry = target;
        entry.inode = source.inode;
        entry.type = source.type;
        uint32_t written = 0;
        if ((error = fs_file_write(to_parent, (uint64_t)target_slot * FS_DIRENT_SIZE, (uint8_t const*)&entry, FS_DIRENT_SIZE, &written)))
            return error;
        if ((error = drop_link(target.inode)))
            return error;
    } else if ((error = dir_add(to_parent, to_name, to_name_length, source.inode, source.type))) {
        return error;
    }
    // The source slot is found again: adding to its directory may not move it, but be exact.
    if ((error = dir_find(from_parent, from_name, from_name_length, &source_slot, &source)))
        return error;
    if ((error = dir_clear(from_parent, source_slot)))
        return error;
    if (source.type == FS_TYPE_DIRECTORY) {
        fs_inode moved;
        if ((error = inode_read(source.inode, &moved)))
            return error;
        moved.parent = to_parent;
        if ((error = inode_write(source.inode, &moved)))
            return error;
    }
    return 0;
}
