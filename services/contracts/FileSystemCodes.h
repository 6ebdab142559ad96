/* Constants of FileSystem.contract that the contract language cannot carry:
 * open flags, entry types and error codes. Error codes are WASI errno values, so
 * the WASI personality passes them through unchanged. See docs/filesystem.md. */
#pragma once

/* Open flags (Open.flags). A handle may read with OPEN_READ and write with OPEN_WRITE. */
#define FS_OPEN_READ 0x01u
#define FS_OPEN_WRITE 0x02u
#define FS_OPEN_CREATE 0x04u    /* create the file if the name does not exist */
#define FS_OPEN_EXCLUSIVE 0x08u /* with CREATE: fail with EEXIST if it exists */
#define FS_OPEN_TRUNCATE 0x10u  /* with WRITE: set the size to 0 */
#define FS_OPEN_APPEND 0x20u    /* every write goes to the end of the file */
#define FS_OPEN_DIRECTORY 0x40u /* the path must name a directory (opened for Stat only) */
#define FS_OPEN_ALL 0x7fu

/* Entry types (Status.type, List entries). */
#define FS_TYPE_FILE 1u
#define FS_TYPE_DIRECTORY 2u

/* Seek.whence */
#define FS_SEEK_SET 0u
#define FS_SEEK_CURRENT 1u
#define FS_SEEK_END 2u

/* Limits. */
#define FS_NAME_MAX 56u       /* bytes in one path component */
#define FS_PATH_MAX 1024u     /* bytes in a path */
#define FS_IO_MAX 16384u      /* bytes one Read or Write moves */
#define FS_HANDLES_MAX 64u    /* handles open on one channel */
#define FS_CONNECTIONS_MAX 32u /* channels one server serves at once */
#define FS_STREAMS_MAX 30u     /* streams one server serves at once (StreamFrom, StreamTo) */

/* Error codes (Failed.code): WASI errno values. */
#define FS_EACCES 2
#define FS_EBADF 8
#define FS_EBUSY 10
#define FS_EEXIST 20
#define FS_EFBIG 22
#define FS_EINVAL 28
#define FS_EIO 29
#define FS_EISDIR 31
#define FS_EMFILE 33
#define FS_ENAMETOOLONG 37
#define FS_ENOENT 44
#define FS_ENOSPC 51
#define FS_ENOTDIR 54
#define FS_ENOTEMPTY 55
#define FS_EROFS 69
#define FS_ESTALE 72
