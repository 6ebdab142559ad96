// The consistency check, run at every mount and on request (Check). It reads
// the file system as it is in the cache (what the next commit would write) and
// counts every problem, keeping the first one's description:
//  - every used inode has a valid type, and its block pointers lie in the data
//    area, each block used once (including pointer blocks);
//  - the tree from the root: entries name used inodes of the entry's type, with
//    valid, unique names; every directory is named exactly once and records
//    its parent; every file's link count equals the names it has; no used inode
//    is unreachable;
//  - the block bitmap marks exactly the metadata and the blocks files use.
#include "fs.h"

#include "FileSystemCodes.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static uint8_t used_map[FS_MAX_BLOCKS / 8];
static uint16_t references[65536];
static uint32_t queue[65536];
static uint32_t pointer_buffer[2][FS_POINTERS_PER_BLOCK];
static fs_check_report* current;

static void problem(char const* format, ...)
{
    if (current->problems++ == 0) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(current->first_problem, sizeof current->first_problem, format, arguments);
        va_end(arguments);
    }
}

/* Slot `slot` of a directory as the disk holds it (fs_dir_entry refuses damaged
 * entries; the check counts them). ENOENT past the end. */
static int raw_entry(uint32_t directory, uint32_t slot, fs_dirent* out)
{
    fs_inode inode;
    int error = inode_read(directory, &inode);
    if (error)
        return error;
    if ((uint64_t)slot * FS_DIRENT_SIZE >= inode.size)
        return FS_ENOENT;
    uint32_t read = 0;
    if ((error = fs_file_read(directory, (uint64_t)slot * FS_DIRENT_SIZE, (uint8_t*)out, FS_DIRENT_SIZE, &read)))
        return error;
    return read == FS_DIRENT_SIZE ? 0 : FS_EIO;
}

static void claim(uint32_t inode, uint32_t block)
{
    if (block < volume.super.data_start || block >= volume.block_count) {
        problem("inode %u points at block %u, outside the data area", inode, block);
        return;
    }
    if (used_map[block / 8] & (1u << (block % 8))) {
        problem("block %u is used twice (again by inode %u)", block, inode);
        return;
    }
    used_map[block / 8] |= (uint8_t)(1u << (block % 8));
}

static int claim_pointers(uint32_t inode, uint32_t block, int depth)
{
    claim(inode, block);
    if (block < volume.super.data_start || block >= volume.block_count)
        return 0;
    uint8_t* data;
    int error = block_get(block, &data);
    if (error)
        return error;
    memcpy(pointer_buffer[depth], data, FS_BLOCK_SIZE);
    block_put(block);
    for (uint32_t i = 0; i < FS_POINTERS_PER_BLOCK && !error; ++i) {
        uint32_t pointer = pointer_buffer[depth][i];
        if (!pointer)
            continue;
        if (depth == 1)
            error = claim_pointers(inode, pointer, 0);
        else
            claim(inode, pointer);
    }
    return error;
}

int fs_check(fs_check_report* report)
{
    memset(report, 0, sizeof *report);
    current = report;
    fs_superblock const* super = &volume.super;
    uint32_t const inode_count = super->inode_count;
    if (inode_count > 65536 || volume.block_count > FS_MAX_BLOCKS) {
        problem("the superblock's geometry is out of range");
        return 0;
    }
    memset(used_map, 0, (volume.block_count + 7) / 8);
    memset(references, 0, inode_count * sizeof references[0]);
    for (uint32_t b = 0; b < super->data_start; ++b)
        used_map[b / 8] |= (uint8_t)(1u << (b % 8));

    // Inodes and their blocks.
    int error = 0;
    for (uint32_t number = 1; number < inode_count && !error; ++number) {
        fs_inode inode;
        if ((error = inode_read(number, &inode)))
            break;
        if (inode.type == FS_INODE_FREE)
            continue;
        if (inode.type != FS_INODE_FILE && inode.type != FS_INODE_DIRECTORY) {
            problem("inode %u has type %u", number, inode.type);
            continue;
        }
        if (inode.type == FS_INODE_DIRECTORY)
            report->directories++;
        else
            report->files++;
        if (inode.size > FS_MAX_FILE_SIZE)
            problem("inode %u is %llu bytes long, more than a file can be", number, (unsigned long long)inode.size);
        if (inode.type == FS_INODE_DIRECTORY && inode.size % FS_DIRENT_SIZE)
            problem("directory %u is %llu bytes long, not whole entries", number, (unsigned long long)inode.size);
        if (inode.links == 0)
            problem("inode %u is used but has no links", number);
        for (uint32_t i = 0; i < FS_DIRECT_BLOCKS; ++i) {
            if (inode.direct[i])
                claim(number, inode.direct[i]);
        }
        if (inode.indirect)
            error = claim_pointers(number, inode.indirect, 0);
        if (!error && inode.double_indirect)
            error = claim_pointers(number, inode.double_indirect, 1);
    }
    if (error)
        return error;

    // The tree, breadth first from the root.
    fs_inode root;
    if ((error = inode_read(FS_ROOT_INODE, &root)))
        return error;
    if (root.type != FS_INODE_DIRECTORY || root.parent != FS_ROOT_INODE) {
        problem("the root is not a directory that is its own parent");
        return 0;
    }
    uint32_t head = 0, tail = 0;
    queue[tail++] = FS_ROOT_INODE;
    references[FS_ROOT_INODE] = 1;
    while (head < tail && !error) {
        uint32_t directory = queue[head++];
        fs_dirent entry, other;
        for (uint32_t slot = 0;; ++slot) {
            error = raw_entry(directory, slot, &entry);
            if (error == FS_ENOENT) {
                error = 0;
                break;
            }
            if (error)
                break;
            if (!entry.inode)
                continue;
            if (entry.name_length == 0 || entry.name_length > FS_NAME_MAX || memchr(entry.name, '/', entry.name_length)
                || memchr(entry.name, '\0', entry.name_length)
                || (entry.name[0] == '.' && (entry.name_length == 1 || (entry.name_length == 2 && entry.name[1] == '.')))) {
                problem("directory %u, entry %u: invalid name", directory, slot);
                continue;
            }
            if (entry.inode >= inode_count) {
                problem("directory %u, entry %u: inode %u out of range", directory, slot, entry.inode);
                continue;
            }
            fs_inode target;
            if ((error = inode_read(entry.inode, &target)))
                break;
            uint8_t expected = target.type == FS_INODE_DIRECTORY ? FS_TYPE_DIRECTORY : FS_TYPE_FILE;
            if (target.type == FS_INODE_FREE || entry.type != expected) {
                problem("directory %u, entry '%.*s': names inode %u of type %u as type %u", directory, entry.name_length, entry.name, entry.inode,
                    target.type, entry.type);
                continue;
            }
            for (uint32_t earlier = 0; earlier < slot && !error; ++earlier) {
                if ((error = raw_entry(directory, earlier, &other)))
                    break;
                if (other.inode && other.name_length == entry.name_length && memcmp(other.name, entry.name, entry.name_length) == 0)
                    problem("directory %u: the name '%.*s' appears twice", directory, entry.name_length, entry.name);
            }
            if (references[entry.inode] < UINT16_MAX)
                references[entry.inode]++;
            if (target.type == FS_INODE_DIRECTORY) {
                if (references[entry.inode] > 1) {
                    problem("directory %u is named more than once", entry.inode);
                    continue;
                }
                if (target.parent != directory)
                    problem("directory %u records parent %u but is named in %u", entry.inode, target.parent, directory);
                if (tail < inode_count)
                    queue[tail++] = entry.inode;
            }
        }
    }
    if (error)
        return error;
    for (uint32_t number = 1; number < inode_count && !error; ++number) {
        fs_inode inode;
        if ((error = inode_read(number, &inode)))
            break;
        if (inode.type == FS_INODE_FREE)
            continue;
        if (references[number] == 0)
            problem("inode %u is used but no directory names it", number);
        else if (inode.type == FS_INODE_FILE && references[number] != inode.links)
            problem("file %u has %u links but %u names", number, inode.links, references[number]);
    }
    if (error)
        return error;

    // The bitmap.
    for (uint32_t b = 0; b < super->bitmap_blocks && !error; ++b) {
        uint8_t* data;
        if ((error = block_get(super->bitmap_start + b, &data)))
            break;
        for (uint32_t bit = 0; bit < FS_BLOCK_SIZE * 8; ++bit) {
            uint32_t block = b * FS_BLOCK_SIZE * 8 + bit;
            if (block >= volume.block_count)
                break;
            bool marked = data[bit / 8] & (1u << (bit % 8));
            bool used = used_map[block / 8] & (1u << (block % 8));
            if (marked != used)
                problem("block %u is %s in the bitmap but %s", block, marked ? "used" : "free", used ? "in use" : "not used by anything");
            if (used)
                report->used_blocks++;
        }
        block_put(super->bitmap_start + b);
    }
    report->free_blocks = volume.block_count - report->used_blocks;
    return error;
}
