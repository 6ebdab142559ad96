// The file-system SIP's internals: on-disk format, block cache, journal, inodes.
// docs/filesystem.md describes the format and the recovery protocol.
#pragma once

#include <signet/abi.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FS_BLOCK_SIZE 4096u

/* ---- On-disk format (all integers little-endian, as wasm32 stores them) ---- */

#define FS_MAGIC 0x53464753u         /* "SGFS" */
#define FS_JOURNAL_MAGIC 0x484a4753u /* "SGJH": journal header */
#define FS_DESCRIPTOR_MAGIC 0x444a4753u /* "SGJD": transaction descriptor */
#define FS_COMMIT_MAGIC 0x434a4753u  /* "SGJC": transaction commit record */
#define FS_VERSION 1u

#define FS_ROOT_INODE 1u
#define FS_DIRECT_BLOCKS 12u
#define FS_POINTERS_PER_BLOCK (FS_BLOCK_SIZE / 4u)
#define FS_INODE_SIZE 128u
#define FS_INODES_PER_BLOCK (FS_BLOCK_SIZE / FS_INODE_SIZE)
#define FS_DIRENT_SIZE 64u
#define FS_DIRENTS_PER_BLOCK (FS_BLOCK_SIZE / FS_DIRENT_SIZE)
#define FS_MAX_FILE_BLOCKS (FS_DIRECT_BLOCKS + FS_POINTERS_PER_BLOCK + (uint64_t)FS_POINTERS_PER_BLOCK * FS_POINTERS_PER_BLOCK)
#define FS_MAX_FILE_SIZE (FS_MAX_FILE_BLOCKS * FS_BLOCK_SIZE)
/* The file system supports disks of 4 MiB (1024 blocks) up to 4 GiB (bitmap at most 32 blocks). */
#define FS_MIN_BLOCKS 1024u
#define FS_MAX_BLOCKS (1u << 20)

/* Block 0. Written once, at format. */
typedef struct fs_superblock {
    uint32_t magic;
    uint32_t version;
    uint32_t block_count;
    uint32_t journal_start, journal_blocks; /* header, descriptor, data..., commit */
    uint32_t bitmap_start, bitmap_blocks;   /* one bit per block of the disk; 1 = used */
    uint32_t inode_start, inode_blocks;
    uint32_t inode_count;
    uint32_t data_start;
    uint32_t reserved;
    uint64_t format_id;
    uint32_t crc; /* CRC32 of the bytes before it */
} fs_superblock;

typedef struct fs_journal_header {
    uint32_t magic;
    uint32_t reserved;
    uint64_t sequence; /* the transaction that recovery replays if it is complete */
    uint32_t crc;
} fs_journal_header;

/* The descriptor block: followed by `count` journal blocks holding the images of
 * targets[0..count), then a commit block. */
typedef struct fs_descriptor {
    uint32_t magic;
    uint32_t count;
    uint64_t sequence;
    uint32_t targets[];
} fs_descriptor;

typedef struct fs_commit {
    uint32_t magic;
    uint32_t count;
    uint64_t sequence;
    uint32_t crc; /* CRC32 of the descriptor block and the data blocks, in order */
} fs_commit;

enum { FS_INODE_FREE = 0, FS_INODE_FILE = 1, FS_INODE_DIRECTORY = 2 };

typedef struct fs_inode {
    uint16_t type;
    uint16_t links;
    uint32_t generation; /* changes whenever the inode is freed, so stale handles are caught */
    uint64_t size;
    uint64_t modified_ns;
    uint32_t parent; /* directories: the directory that names this one (root: itself) */
    uint32_t direct[FS_DIRECT_BLOCKS];
    uint32_t indirect;
    uint32_t double_indirect;
    uint8_t reserved[FS_INODE_SIZE - 84];
} fs_inode;
_Static_assert(sizeof(fs_inode) == FS_INODE_SIZE, "inode size");

typedef struct fs_dirent {
    uint32_t inode; /* 0: a free slot */
    uint8_t type;   /* FS_TYPE_FILE or FS_TYPE_DIRECTORY */
    uint8_t name_length;
    uint16_t reserved;
    char name[56];
} fs_dirent;
_Static_assert(sizeof(fs_dirent) == FS_DIRENT_SIZE, "dirent size");

uint32_t fs_crc32(uint32_t crc, void const* data, size_t length);

/* ---- The block device, the cache and the journal (device.c) ---- */

typedef struct fs_volume {
    signet_handle device;
    uint32_t block_count;
    fs_superblock super;
    uint64_t sequence; /* the journal's next transaction */
    uint32_t max_transaction; /* blocks one transaction may hold */
    bool read_only;
} fs_volume;

extern fs_volume volume;

/* Raw device access (no cache). Return 0 or an FS_E* code. */
int device_geometry(uint64_t* blocks);
int device_read(uint32_t block, void* data);
int device_write(uint32_t block, void const* data);
int device_flush(void);

/* The cache. block_get pins a block (reading it if needed) and returns its
 * bytes; block_new pins a block without reading it, zeroed and dirty;
 * block_dirty marks a pinned block changed; block_put unpins. Changed blocks
 * stay in the cache until the journal commits them. */
int block_get(uint32_t block, uint8_t** data);
int block_new(uint32_t block, uint8_t** data);
void block_dirty(uint32_t block);
void block_put(uint32_t block);
uint32_t cache_dirty_count(void);
uint32_t cache_pinned_count(void);
void cache_drop_all(void);

/* Commits every changed block as one transaction: journal, flush, home, flush. */
int journal_commit(void);
/* At mount: replays a complete transaction left in the journal. */
int journal_recover(bool* replayed);
/* At format: an empty journal. */
int journal_format(void);

/* ---- The file system (fs.c) ---- */

int fs_mount(char* message, size_t capacity);
uint64_t fs_now(void);

int inode_read(uint32_t number, fs_inode* out);
int inode_write(uint32_t number, fs_inode const* inode);
/* The physical block holding logical block `index` of an inode; 0 for a hole.
 * With `allocate`, holes are filled (with zeroed blocks) and the inode updated. */
int inode_map(uint32_t number, fs_inode* inode, uint64_t index, bool allocate, uint32_t* out);
int inode_truncate(uint32_t number, fs_inode* inode, uint64_t size);

int fs_resolve(char const* path, uint32_t length, uint32_t* out_inode);
int fs_create(char const* path, uint32_t length, uint8_t type, uint32_t* out_inode);
int fs_unlink(char const* path, uint32_t length, bool directory);
int fs_rename(char const* from, uint32_t from_length, char const* to, uint32_t to_length);
int fs_file_read(uint32_t number, uint64_t offset, uint8_t* data, uint32_t length, uint32_t* out_read);
int fs_file_write(uint32_t number, uint64_t offset, uint8_t const* data, uint32_t length, uint32_t* out_written);
/* Directory entry `index` (a slot): *out_inode 0 if the slot is free; ENOENT past the end. */
int fs_dir_entry(uint32_t directory, uint32_t index, fs_dirent* out);

/* ---- The consistency check (check.c) ---- */

typedef struct fs_check_report {
    uint32_t problems;
    uint32_t files;
    uint32_t directories;
    uint64_t used_blocks;
    uint64_t free_blocks;
    char first_problem[256];
} fs_check_report;

int fs_check(fs_check_report* report);
