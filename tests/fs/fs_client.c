// A client of the file-system service for the tests: starts blockdev and fs as
// its children (blockdev on the disk the host bound with --disk disk0=PATH; fs
// with a Directory connection opened on this program's own, which `signet run
// --directory` gives it) and then, by its first argument:
//   ops        every operation and its errors, through the contract; a connection
//              opened at /service/fs through the directory; files as streams
//   hostile    bad handles, offsets, lengths and paths; then the check must pass
//   fill NAME  writes a known tree and syncs (persistence across restarts)
//   verify     checks the tree `fill` wrote, and the file system's check
//   wasi-child gives a WASI program (wasi_files work) a connection as its /data
//   wasi-chaos FIRST COUNT runs hostile WASI programs (wasi_chaos) in it, one after another
//   writer RUN appends records to /crashRUN/log* forever, printing "ack N" after each fsync
//   recover RUN N...  checks that every record up to N of each run is there, and the check passes
// It prints one line per failure and exits with the number of failures.
#include <signet/abi.h>

#include "BlockDevice.h"
#include "Directory.h"
#include "DirectoryCodes.h"
#include "FileSystem.h"
#include "FileSystemCodes.h"
#include "Stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest file: 12 direct, 1024 indirect and 1024 * 1024 double-indirect blocks. */
#define FS_MAX_FILE_SIZE_FOR_TEST ((12ull + 1024 + 1024ull * 1024) * 4096)

static signet_handle directory; // this program's Directory connection
static signet_handle fs;
static signet_handle fs_child; // the fs SIP: it commits and ends when its last client leaves
static FileSystem_Imp_message reply;
static FileSystem_Write write_message;
static int failures;

#define EXPECT(condition, ...)                                   \
    do {                                                         \
        if (!(condition)) {                                      \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);          \
            printf(__VA_ARGS__);                                 \
            printf("\n");                                        \
            failures++;                                          \
        }                                                        \
    } while (0)

// The Imp end the service at `path` gives through the directory, or 0 (and the refusal printed).
static signet_handle open_service(char const* path)
{
    Directory_Imp_message answer;
    if (Directory_Imp_send_Open(directory, path, (uint32_t)strlen(path)) != SIGNET_OK)
        return 0;
    Directory_Imp_tag tag = Directory_Imp_recv(directory, &answer);
    if (tag == Directory_Imp_Opened)
        return answer.as.Opened.endpoint;
    if (tag == Directory_Imp_Refused)
        printf("open %s: refused %u %.*s\n", path, (unsigned)answer.as.Refused.code, (int)answer.as.Refused.reason.length, answer.as.Refused.reason.data);
    return 0;
}

static signet_handle start_file_system(void)
{
    signet_handle device_importer, device_exporter, importer, exporter, child;
    if (signet_channel_create(BlockDevice_descriptor, BlockDevice_DESCRIPTOR_SIZE, &device_importer, &device_exporter) != SIGNET_OK
        || signet_channel_create(FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK) {
        printf("FAIL: cannot create channels\n");
        exit(100);
    }
    if (signet_child_create("blockdev", 8, &device_exporter, 1, "", 0, &child) != SIGNET_OK || signet_child_start(child) != SIGNET_OK) {
        printf("FAIL: cannot start blockdev (is it installed?)\n");
        exit(100);
    }
    // fs registers /service/fs over a Directory connection of its own.
    signet_handle fs_directory = open_service(DIRECTORY_SELF_PATH);
    if (!fs_directory) {
        printf("FAIL: cannot open a Directory connection for fs\n");
        exit(100);
    }
    signet_handle handles[3] = { device_importer, exporter, fs_directory };
    if (signet_child_create("fs", 2, handles, 3, "", 0, &fs_child) != SIGNET_OK || signet_child_start(fs_child) != SIGNET_OK) {
        printf("FAIL: cannot start fs (is it installed?)\n");
        exit(100);
    }
    return importer;
}

/* ---- One call per request: the reply's tag, with `reply` filled in ---- */

static int failed_code(FileSystem_Imp_tag tag)
{
    if (tag == FileSystem_Imp_FAILED || tag == FileSystem_Imp_CLOSED) {
        // The service is gone (it could not mount, or it died): nothing more to ask.
        printf("FAIL: the file system closed the channel (%s)\n", tag == FileSystem_Imp_CLOSED ? "closed" : "failed");
        exit(100);
    }
    return tag == FileSystem_Imp_Failed ? reply.as.Failed.code : 0;
}

static int open_file(char const* path, uint32_t flags, uint32_t* handle)
{
    FileSystem_Imp_send_Open(fs, path, (uint32_t)strlen(path), flags);
    FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
    if (tag == FileSystem_Imp_Opened) {
        *handle = reply.as.Opened.handle;
        return 0;
    }
    return failed_code(tag) ? failed_code(tag) : -2;
}

static int create_file(char const* path, uint32_t* handle)
{
    FileSystem_Imp_send_Create(fs, path, (uint32_t)strlen(path));
    FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
    if (tag == FileSystem_Imp_Opened) {
        *handle = reply.as.Opened.handle;
        return 0;
    }
    return failed_code(tag) ? failed_code(tag) : -2;
}

static int write_bytes(uint32_t handle, void const* data, uint32_t length, uint32_t* written)
{
    write_message.handle = handle;
    write_message.data.length = length;
    memcpy(write_message.data.data, data, length);
    FileSystem_Imp_send_Write_message(fs, &write_message);
    FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
    if (tag == FileSystem_Imp_Written) {
        *written = reply.as.Written.count;
        return 0;
    }
    return failed_code(tag) ? failed_code(tag) : -2;
}

/* Reads up to `length` bytes into `out` (at most FS_IO_MAX). */
static int read_bytes(uint32_t handle, uint32_t length, void* out, uint32_t* got)
{
    FileSystem_Imp_send_Read(fs, handle, length);
    FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
    if (tag == FileSystem_Imp_Data) {
        *got = reply.as.Data.data.length;
        if (out)
            memcpy(out, reply.as.Data.data.data, *got);
        return 0;
    }
    return failed_code(tag) ? failed_code(tag) : -2;
}

static int seek(uint32_t handle, int64_t offset, uint8_t whence, uint64_t* position)
{
    FileSystem_Imp_send_Seek(fs, handle, offset, whence);
    FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
    if (tag == FileSystem_Imp_Position) {
        if (position)
            *position = reply.as.Position.offset;
        return 0;
    }
    return failed_code(tag) ? failed_code(tag) : -2;
}

static int simple(FileSystem_Imp_tag expected, FileSystem_Imp_tag tag)
{
    if (tag == expected)
        return 0;
    return failed_code(tag) ? failed_code(tag) : -2;
}

static int truncate_file(uint32_t handle, uint64_t size)
{
    FileSystem_Imp_send_Truncate(fs, handle, size);
    return simple(FileSystem_Imp_Done, FileSystem_Imp_recv(fs, &reply));
}

static int fsync_file(uint32_t handle)
{
    FileSystem_Imp_send_Fsync(fs, handle);
    return simple(FileSystem_Imp_Synced, FileSystem_Imp_recv(fs, &reply));
}

static int close_file(uint32_t handle)
{
    FileSystem_Imp_send_Close(fs, handle);
    return simple(FileSystem_Imp_Done, FileSystem_Imp_recv(fs, &reply));
}

static int make_directory(char const* path)
{
    FileSystem_Imp_send_Mkdir(fs, path, (uint32_t)strlen(path));
    return simple(FileSystem_Imp_Done, FileSystem_Imp_recv(fs, &reply));
}

static int remove_directory(char const* path)
{
    FileSystem_Imp_send_Rmdir(fs, path, (uint32_t)strlen(path));
    return simple(FileSystem_Imp_Done, FileSystem_Imp_recv(fs, &reply));
}

static int unlink_file(char const* path)
{
    FileSystem_Imp_send_Unlink(fs, path, (uint32_t)strlen(path));
    return simple(FileSystem_Imp_Done, FileSystem_Imp_recv(fs, &reply));
}

static int rename_path(char const* from, char const* to)
{
    FileSystem_Imp_send_Rename(fs, from, (uint32_t)strlen(from), to, (uint32_t)strlen(to));
    return simple(FileSystem_Imp_Done, FileSystem_Imp_recv(fs, &reply));
}

static int stat_path(char const* path, uint8_t* type, uint64_t* size)
{
    FileSystem_Imp_send_Stat(fs, path, (uint32_t)strlen(path));
    FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
    if (tag == FileSystem_Imp_Status) {
        if (type)
            *type = reply.as.Status.type;
        if (size)
            *size = reply.as.Status.size;
        return 0;
    }
    return failed_code(tag) ? failed_code(tag) : -2;
}

/* Lists a directory into `names` ("a,b,c," in directory order); the entry count. */
static int list_directory(char const* path, char* names, size_t capacity, uint32_t* count)
{
    uint32_t cursor = 0;
    size_t used = 0;
    *count = 0;
    names[0] = '\0';
    do {
        FileSystem_Imp_send_List(fs, path, (uint32_t)strlen(path), cursor);
        FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
        if (tag != FileSystem_Imp_Entries)
            return failed_code(tag) ? failed_code(tag) : -2;
        uint8_t const* packed = reply.as.Entries.packed.data;
        uint32_t at = 0;
        for (uint32_t i = 0; i < reply.as.Entries.count; ++i) {
            uint8_t length = packed[at + 1];
            if (used + length + 2 < capacity) {
                memcpy(names + used, packed + at + 2, length);
                used += length;
                names[used++] = packed[at] == FS_TYPE_DIRECTORY ? '/' : ',';
                names[used] = '\0';
            }
            at += 2u + length;
            (*count)++;
        }
        cursor = reply.as.Entries.next;
    } while (cursor);
    return 0;
}

static int check(uint32_t* problems)
{
    FileSystem_Imp_send_Check(fs);
    FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
    if (tag != FileSystem_Imp_CheckReport)
        return failed_code(tag) ? failed_code(tag) : -2;
    *problems = reply.as.CheckReport.problems;
    if (*problems)
        printf("check: %u problems, first: %.*s\n", *problems, (int)reply.as.CheckReport.first_problem.length, reply.as.CheckReport.first_problem.data);
    return 0;
}

static void expect_clean(char const* when)
{
    uint32_t problems = 0;
    int error = check(&problems);
    EXPECT(error == 0 && problems == 0, "the check after %s: error %d, %u problems", when, error, problems);
}

/* ---- ops ---- */

static uint8_t pattern[300000];
static uint8_t buffer[FS_IO_MAX];

static void fill_pattern(uint32_t seed)
{
    for (uint32_t i = 0; i < sizeof pattern; ++i)
        pattern[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
}

/* ---- streams: StreamFrom, StreamTo ---- */

// Reads a stream to its end into `out`; the byte count, or -1 if it closed without Eof.
static int64_t read_stream(signet_handle reader, uint8_t* out, size_t capacity)
{
    static Stream_Imp_message message;
    size_t total = 0;
    for (;;) {
        if (Stream_Imp_send_Read(reader, 4096) != SIGNET_OK)
            return -1;
        Stream_Imp_tag tag = Stream_Imp_recv(reader, &message);
        if (tag == Stream_Imp_Eof)
            return (int64_t)total;
        if (tag != Stream_Imp_Data || total + message.as.Data.data.length > capacity)
            return -1;
        memcpy(out + total, message.as.Data.data.data, message.as.Data.data.length);
        total += message.as.Data.data.length;
    }
}

// Writes `length` bytes as the writer of a stream, answering its reader's Reads;
// true if the reader asked again after the last piece (it kept them all).
static bool write_stream(signet_handle writer, uint8_t const* data, size_t length)
{
    Stream_Exp_message request;
    size_t done = 0;
    for (;;) {
        if (Stream_Exp_recv(writer, &request) != Stream_Exp_Read)
            return false;
        if (done == length)
            return true;
        uint32_t piece = length - done < request.as.Read.max ? (uint32_t)(length - done) : request.as.Read.max;
        if (Stream_Exp_send_Data(writer, data + done, piece) != SIGNET_OK)
            return false;
        done += piece;
    }
}

// A StreamTo of `handle`: the writer's end, or 0 with the error in *error.
static signet_handle stream_to(uint32_t handle, int* error)
{
    signet_handle reader, writer;
    signet_channel_create(Stream_descriptor, Stream_DESCRIPTOR_SIZE, &reader, &writer);
    FileSystem_Imp_send_StreamTo(fs, handle, reader);
    FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
    *error = tag == FileSystem_Imp_Done ? 0 : failed_code(tag) ? failed_code(tag) : -2;
    return writer;
}

static uint8_t streamed[20000];

static void test_streams(void)
{
    uint32_t h, w;
    uint32_t written = 0;
    uint64_t size = 0;
    int error = 0;

    // StreamFrom: the file from the handle's position to its end, then Eof; the handle left the connection.
    fill_pattern(7);
    EXPECT(create_file("/streamed", &w) == 0 && write_bytes(w, pattern, 10000, &written) == 0 && written == 10000 && close_file(w) == 0,
        "write /streamed");
    EXPECT(open_file("/streamed", FS_OPEN_READ, &h) == 0 && seek(h, 1000, FS_SEEK_SET, NULL) == 0, "open /streamed at 1000");
    FileSystem_Imp_send_StreamFrom(fs, h);
    EXPECT(FileSystem_Imp_recv(fs, &reply) == FileSystem_Imp_Streaming, "StreamFrom answers with a reader");
    signet_handle reader = reply.as.Streaming.reader;
    EXPECT(close_file(h) == FS_EBADF, "the handle left the connection");
    int64_t got = read_stream(reader, streamed, sizeof streamed);
    EXPECT(got == 9000 && memcmp(streamed, pattern + 1000, 9000) == 0, "the stream is the file from 1000 to its end (got %lld)", (long long)got);
    signet_handle_close(reader);

    EXPECT(open_file("/streamed", FS_OPEN_WRITE, &h) == 0, "open /streamed for writing");
    FileSystem_Imp_send_StreamFrom(fs, h);
    EXPECT(failed_code(FileSystem_Imp_recv(fs, &reply)) == FS_EBADF, "StreamFrom of a handle not opened for reading: EBADF");
    EXPECT(close_file(h) == 0, "a refused handle stays with the connection");
    FileSystem_Imp_send_StreamFrom(fs, 0x7777);
    EXPECT(failed_code(FileSystem_Imp_recv(fs, &reply)) == FS_EBADF, "StreamFrom of a forged handle: EBADF");

    // StreamTo: what the writer sends goes into the file; each Read after a piece says it is there.
    EXPECT(open_file("/sunk", FS_OPEN_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE, &h) == 0, "open /sunk");
    signet_handle writer = stream_to(h, &error);
    EXPECT(error == 0, "StreamTo: Done (error %d)", error);
    EXPECT(write_stream(writer, pattern, 12388), "the file system asks again after every piece");
    signet_handle_close(writer);
    EXPECT(stat_path("/sunk", NULL, &size) == 0 && size == 12388, "/sunk holds what was streamed (size %llu)", (unsigned long long)size);
    EXPECT(open_file("/sunk", FS_OPEN_READ, &h) == 0 && read_bytes(h, 12388, streamed, &written) == 0 && written == 12388
            && memcmp(streamed, pattern, 12388) == 0 && close_file(h) == 0,
        "and reads back the same");
    EXPECT(open_file("/sunk", FS_OPEN_WRITE | FS_OPEN_APPEND, &h) == 0, "open /sunk to append");
    writer = stream_to(h, &error);
    EXPECT(error == 0 && write_stream(writer, pattern, 100), "append through a stream");
    signet_handle_close(writer);
    EXPECT(stat_path("/sunk", NULL, &size) == 0 && size == 12488, "appended at the end (size %llu)", (unsigned long long)size);

    // Refusals close the stream: its writer sees it closed, not asked.
    EXPECT(open_file("/sunk", FS_OPEN_READ, &h) == 0, "open /sunk for reading");
    writer = stream_to(h, &error);
    Stream_Exp_message request;
    EXPECT(error == FS_EBADF && Stream_Exp_recv(writer, &request) == Stream_Exp_CLOSED, "StreamTo of a handle not opened for writing: EBADF, the stream closed");
    signet_handle_close(writer);
    close_file(h);

    // A file unlinked while it is streamed into: the stream ends, and the piece
    // the file system could not write is never acknowledged by a Read.
    EXPECT(open_file("/doomed", FS_OPEN_WRITE | FS_OPEN_CREATE, &h) == 0, "open /doomed");
    writer = stream_to(h, &error);
    EXPECT(error == 0 && write_stream(writer, pattern, 5000), "stream into /doomed");
    EXPECT(unlink_file("/doomed") == 0, "unlink /doomed while it is streamed into");
    EXPECT(Stream_Exp_send_Data(writer, pattern, 100) == SIGNET_OK, "send one more piece");
    EXPECT(Stream_Exp_recv(writer, &request) == Stream_Exp_CLOSED, "the stream closes instead of asking for more");
    signet_handle_close(writer);

    // The writer going away ends the stream, and the file is closed with it.
    EXPECT(open_file("/left", FS_OPEN_WRITE | FS_OPEN_CREATE, &h) == 0, "open /left");
    writer = stream_to(h, &error);
    signet_handle_close(writer);
    EXPECT(stat_path("/left", NULL, &size) == 0 && size == 0, "a stream whose writer left wrote nothing");
}

static void test_ops(void)
{
    uint32_t h, h2, n;
    uint8_t type;
    uint64_t size, position;
    char names[1024];

    expect_clean("mount");
    EXPECT(create_file("/hello", &h) == 0, "create /hello");
    EXPECT(create_file("/hello", &h2) == FS_EEXIST, "create an existing name: EEXIST");
    EXPECT(write_bytes(h, "hello, world", 12, &n) == 0 && n == 12, "write 12 bytes");
    EXPECT(seek(h, 0, FS_SEEK_SET, &position) == 0 && position == 0, "seek to the start");
    EXPECT(read_bytes(h, 100, buffer, &n) == 0 && n == 12 && memcmp(buffer, "hello, world", 12) == 0, "read back what was written");
    EXPECT(read_bytes(h, 100, buffer, &n) == 0 && n == 0, "read at the end: empty");
    EXPECT(seek(h, -5, FS_SEEK_END, &position) == 0 && position == 7, "seek from the end");
    EXPECT(read_bytes(h, 5, buffer, &n) == 0 && n == 5 && memcmp(buffer, "world", 5) == 0, "read after seeking");
    EXPECT(seek(h, -100, FS_SEEK_CURRENT, &position) == FS_EINVAL, "seek before the start: EINVAL");
    EXPECT(seek(h, 0, 7, &position) == FS_EINVAL, "seek with a bad whence: EINVAL");
    EXPECT(stat_path("/hello", &type, &size) == 0 && type == FS_TYPE_FILE && size == 12, "stat a file");
    EXPECT(truncate_file(h, 5) == 0 && stat_path("/hello", NULL, &size) == 0 && size == 5, "truncate shrinks");
    EXPECT(truncate_file(h, 10000) == 0 && stat_path("/hello", NULL, &size) == 0 && size == 10000, "truncate grows");
    EXPECT(seek(h, 0, FS_SEEK_SET, NULL) == 0 && read_bytes(h, 10000, buffer, &n) == 0 && n == 10000 && memcmp(buffer, "hello", 5) == 0,
        "read the grown file");
    bool zeros = true;
    for (uint32_t i = 5; i < 10000; ++i)
        zeros = zeros && buffer[i] == 0;
    EXPECT(zeros, "the grown tail reads as zeros (also where the old bytes were)");
    EXPECT(fsync_file(h) == 0, "fsync");
    EXPECT(close_file(h) == 0, "close");
    EXPECT(close_file(h) == FS_EBADF, "close twice: EBADF");
    EXPECT(read_bytes(h, 1, buffer, &n) == FS_EBADF, "read a closed handle: EBADF");

    // A large file, across direct, indirect and double-indirect blocks.
    fill_pattern(7);
    EXPECT(open_file("/big", FS_OPEN_WRITE | FS_OPEN_READ | FS_OPEN_CREATE, &h) == 0, "open with CREATE");
    EXPECT(seek(h, 4190000, FS_SEEK_SET, NULL) == 0, "seek far");
    uint32_t total = 0;
    while (total < sizeof pattern) {
        uint32_t chunk = sizeof pattern - total > FS_IO_MAX ? FS_IO_MAX : (uint32_t)(sizeof pattern - total);
        if (write_bytes(h, pattern + total, chunk, &n) != 0 || n != chunk)
            break;
        total += chunk;
    }
    EXPECT(total == sizeof pattern, "write %u bytes past 4 MB (wrote %u)", (unsigned)sizeof pattern, total);
    EXPECT(stat_path("/big", NULL, &size) == 0 && size == 4190000 + sizeof pattern, "the size after a sparse write");
    EXPECT(seek(h, 4190000, FS_SEEK_SET, NULL) == 0, "seek back");
    bool same = true;
    for (total = 0; total < sizeof pattern && same;) {
        if (read_bytes(h, FS_IO_MAX, buffer, &n) != 0 || n == 0) {
            same = false;
            break;
        }
        same = memcmp(buffer, pattern + total, n) == 0;
        total += n;
    }
    EXPECT(same && total == sizeof pattern, "read back the large write");
    EXPECT(seek(h, 1000, FS_SEEK_SET, NULL) == 0 && read_bytes(h, 100, buffer, &n) == 0 && n == 100 && buffer[0] == 0 && buffer[99] == 0,
        "a hole reads as zeros");
    EXPECT(truncate_file(h, 30000) == 0, "truncate a large file");
    expect_clean("truncating a large file");
    EXPECT(close_file(h) == 0, "close the large file");

    // Flags.
    EXPECT(open_file("/hello", FS_OPEN_READ, &h) == 0 && write_bytes(h, "x", 1, &n) == FS_EBADF, "write on a read-only handle: EBADF");
    close_file(h);
    EXPECT(open_file("/hello", FS_OPEN_WRITE, &h) == 0 && read_bytes(h, 1, buffer, &n) == FS_EBADF, "read on a write-only handle: EBADF");
    close_file(h);
    EXPECT(open_file("/hello", FS_OPEN_WRITE | FS_OPEN_APPEND, &h) == 0 && write_bytes(h, "!", 1, &n) == 0, "append");
    EXPECT(stat_path("/hello", NULL, &size) == 0 && size == 10001, "append writes at the end");
    close_file(h);
    EXPECT(open_file("/hello", FS_OPEN_WRITE | FS_OPEN_TRUNCATE, &h) == 0 && stat_path("/hello", NULL, &size) == 0 && size == 0, "TRUNCATE empties");
    close_file(h);
    EXPECT(open_file("/hello", FS_OPEN_CREATE | FS_OPEN_EXCLUSIVE | FS_OPEN_WRITE, &h) == FS_EEXIST, "CREATE|EXCLUSIVE on an existing file");
    EXPECT(open_file("/missing", FS_OPEN_READ, &h) == FS_ENOENT, "open a missing file: ENOENT");
    EXPECT(open_file("/hello", FS_OPEN_READ | FS_OPEN_DIRECTORY, &h) == FS_ENOTDIR, "DIRECTORY on a file: ENOTDIR");
    EXPECT(open_file("/hello", 0x1000, &h) == FS_EINVAL, "unknown flags: EINVAL");
    EXPECT(open_file("/hello", FS_OPEN_TRUNCATE | FS_OPEN_READ, &h) == FS_EINVAL, "TRUNCATE without WRITE: EINVAL");

    // Directories.
    EXPECT(make_directory("/d") == 0, "mkdir");
    EXPECT(make_directory("/d") == FS_EEXIST, "mkdir an existing name: EEXIST");
    EXPECT(make_directory("/d/e") == 0, "mkdir a subdirectory");
    EXPECT(make_directory("/nope/e") == FS_ENOENT, "mkdir under a missing directory: ENOENT");
    EXPECT(make_directory("/hello/e") == FS_ENOTDIR, "mkdir under a file: ENOTDIR");
    EXPECT(create_file("/d/e/f", &h) == 0 && close_file(h) == 0, "create in a subdirectory");
    EXPECT(stat_path("/d/e/../e/./f", &type, NULL) == 0 && type == FS_TYPE_FILE, ". and .. resolve");
    EXPECT(stat_path("/d", &type, NULL) == 0 && type == FS_TYPE_DIRECTORY, "stat a directory");
    EXPECT(open_file("/d", FS_OPEN_WRITE, &h) == FS_EISDIR, "open a directory for writing: EISDIR");
    EXPECT(open_file("/d", FS_OPEN_READ | FS_OPEN_DIRECTORY, &h) == 0 && read_bytes(h, 1, buffer, &n) == FS_EISDIR, "read a directory: EISDIR");
    close_file(h);
    EXPECT(remove_directory("/d") == FS_ENOTEMPTY, "rmdir a non-empty directory: ENOTEMPTY");
    EXPECT(remove_directory("/hello") == FS_ENOTDIR, "rmdir a file: ENOTDIR");
    EXPECT(unlink_file("/d") == FS_EISDIR, "unlink a directory: EISDIR");
    EXPECT(unlink_file("/missing") == FS_ENOENT, "unlink a missing file: ENOENT");
    EXPECT(list_directory("/", names, sizeof names, &n) == 0 && n == 3 && strcmp(names, "hello,big,d/") == 0, "list the root: %s", names);
    EXPECT(list_directory("/hello", names, sizeof names, &n) == FS_ENOTDIR, "list a file: ENOTDIR");

    // Rename.
    EXPECT(rename_path("/d/e/f", "/g") == 0 && stat_path("/g", NULL, NULL) == 0 && stat_path("/d/e/f", NULL, NULL) == FS_ENOENT, "rename a file");
    EXPECT(rename_path("/g", "/hello") == 0 && stat_path("/g", NULL, NULL) == FS_ENOENT, "rename over a file replaces it");
    EXPECT(rename_path("/d", "/d/e/x") == FS_EINVAL, "rename a directory below itself: EINVAL");
    EXPECT(rename_path("/d/e", "/e2") == 0 && stat_path("/e2", &type, NULL) == 0 && type == FS_TYPE_DIRECTORY, "rename a directory");
    EXPECT(rename_path("/missing", "/x") == FS_ENOENT, "rename a missing name: ENOENT");
    EXPECT(rename_path("/hello", "/d") == FS_EISDIR, "rename a file over a directory: EISDIR");
    EXPECT(make_directory("/e2/sub") == 0 && rename_path("/d", "/e2") == FS_ENOTEMPTY, "rename over a non-empty directory: ENOTEMPTY");
    EXPECT(remove_directory("/e2/sub") == 0 && rename_path("/d", "/e2") == 0, "rename over an empty directory");
    EXPECT(remove_directory("/e2") == 0 && stat_path("/e2", NULL, NULL) == FS_ENOENT, "rmdir");
    EXPECT(remove_directory("/") == FS_EBUSY, "rmdir the root: EBUSY");

    // Unlink with a handle open: the handle goes stale.
    EXPECT(open_file("/hello", FS_OPEN_READ, &h) == 0 && unlink_file("/hello") == 0, "unlink an open file");
    EXPECT(read_bytes(h, 1, buffer, &n) == FS_ESTALE, "a handle to an unlinked file: ESTALE");
    close_file(h);

    // Many entries: lists in several replies.
    char path[64];
    EXPECT(make_directory("/many") == 0, "mkdir /many");
    for (int i = 0; i < 300; ++i) {
        snprintf(path, sizeof path, "/many/a-fairly-long-file-name-to-fill-the-list-%03d", i);
        if (create_file(path, &h) != 0 || close_file(h) != 0) {
            EXPECT(0, "create %s", path);
            break;
        }
    }
    EXPECT(list_directory("/many", names, sizeof names, &n) == 0 && n == 300, "list 300 entries (got %u)", n);
    for (int i = 0; i < 300; i += 2) {
        snprintf(path, sizeof path, "/many/a-fairly-long-file-name-to-fill-the-list-%03d", i);
        unlink_file(path);
    }
    EXPECT(list_directory("/many", names, sizeof names, &n) == 0 && n == 150, "150 entries left (got %u)", n);

    // Another connection to the same file system.
    FileSystem_Imp_send_Connect(fs);
    EXPECT(FileSystem_Imp_recv(fs, &reply) == FileSystem_Imp_Connected, "connect");
    signet_handle first = fs;
    fs = reply.as.Connected.connection;
    EXPECT(stat_path("/big", NULL, &size) == 0 && size == 30000, "the second connection sees the same files");
    EXPECT(close_file(1 | (1 << 8)) == FS_EBADF, "handles are per connection");
    signet_handle_close(fs);
    fs = first;

    // Through the directory: fs registered /service/fs once it had mounted (it
    // answered this program's first request after that), and each Open there is
    // another connection.
    Directory_Imp_message answer;
    Directory_Imp_send_Lookup(directory, "/service/fs", 11);
    Directory_Imp_tag found = Directory_Imp_recv(directory, &answer);
    EXPECT(found == Directory_Imp_Found && answer.as.Found.principal.length >= 16 && memcmp(answer.as.Found.principal.data, "signet-system/fs", 16) == 0,
        "fs registered /service/fs (lookup: tag %d)", (int)found);
    signet_handle opened = open_service("/service/fs");
    EXPECT(opened != 0, "open /service/fs through the directory");
    if (opened) {
        EXPECT(signet_endpoint_check(opened, FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE, 0) == SIGNET_OK, "/service/fs gives a FileSystem Imp end");
        fs = opened;
        EXPECT(stat_path("/big", NULL, &size) == 0 && size == 30000, "a connection opened at /service/fs sees the same files");
        EXPECT(close_file(1 | (1 << 8)) == FS_EBADF, "and has handles of its own");
        signet_handle_close(fs);
        fs = first;
    }

    test_streams();
    FileSystem_Imp_send_Sync(fs);
    EXPECT(FileSystem_Imp_recv(fs, &reply) == FileSystem_Imp_Synced, "sync");
    expect_clean("every operation");
}

/* ---- hostile ---- */

static void test_hostile(void)
{
    uint32_t h, n;
    EXPECT(create_file("/victim", &h) == 0 && write_bytes(h, "safe", 4, &n) == 0, "create /victim");
    uint32_t bad_handles[] = { 0, 0xffffffffu, h + 1, h ^ 0x100, h | 0x10000, 65 };
    for (unsigned i = 0; i < sizeof bad_handles / sizeof bad_handles[0]; ++i) {
        uint32_t bad = bad_handles[i];
        EXPECT(read_bytes(bad, 10, buffer, &n) == FS_EBADF, "read handle %#x: EBADF", bad);
        EXPECT(write_bytes(bad, "x", 1, &n) == FS_EBADF, "write handle %#x: EBADF", bad);
        EXPECT(seek(bad, 0, 0, NULL) == FS_EBADF, "seek handle %#x: EBADF", bad);
        EXPECT(truncate_file(bad, 0) == FS_EBADF, "truncate handle %#x: EBADF", bad);
        EXPECT(fsync_file(bad) == FS_EBADF, "fsync handle %#x: EBADF", bad);
        EXPECT(close_file(bad) == FS_EBADF, "close handle %#x: EBADF", bad);
    }
    EXPECT(seek(h, INT64_MAX, FS_SEEK_SET, NULL) == FS_EINVAL, "seek to INT64_MAX: EINVAL");
    EXPECT(seek(h, INT64_MIN, FS_SEEK_CURRENT, NULL) == FS_EINVAL, "seek by INT64_MIN: EINVAL");
    EXPECT(seek(h, (int64_t)FS_MAX_FILE_SIZE_FOR_TEST, FS_SEEK_SET, NULL) == 0 && write_bytes(h, "x", 1, &n) == FS_EFBIG, "write past the largest file: EFBIG");
    EXPECT(truncate_file(h, UINT64_MAX) == FS_EFBIG, "truncate to 2^64-1: EFBIG");
    EXPECT(seek(h, 0, FS_SEEK_SET, NULL) == 0 && read_bytes(h, 0xffffffffu, buffer, &n) == 0 && n == 4, "a huge read length is clamped");
    char const* bad_paths[] = { "", "relative", "/a\0b", "/victim/x", "/no/such/dir/file", "/..", "/.", "//" };
    int expected[] = { FS_EINVAL, FS_EINVAL, FS_EINVAL, FS_ENOTDIR, FS_ENOENT, FS_EEXIST, FS_EEXIST, FS_EEXIST };
    for (unsigned i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; ++i) {
        uint32_t length = i == 2 ? 4 : (uint32_t)strlen(bad_paths[i]);
        FileSystem_Imp_send_Create(fs, bad_paths[i], length);
        FileSystem_Imp_tag tag = FileSystem_Imp_recv(fs, &reply);
        EXPECT(failed_code(tag) == expected[i], "create '%s': %d, expected %d", bad_paths[i], failed_code(tag), expected[i]);
    }
    char long_name[200];
    memset(long_name, 'n', sizeof long_name);
    long_name[0] = '/';
    long_name[sizeof long_name - 1] = '\0';
    EXPECT(make_directory(long_name) == FS_ENAMETOOLONG, "a 198-byte name: ENAMETOOLONG");
    EXPECT(unlink_file("/victim/..") == FS_ENOTDIR || unlink_file("/victim/..") == FS_EINVAL, "unlink through a file");
    EXPECT(rename_path("/", "/x") == FS_EBUSY, "rename the root: EBUSY");
    EXPECT(rename_path("/victim", "/") == FS_EBUSY, "rename onto the root: EBUSY");
    EXPECT(rename_path("/victim", "relative") == FS_EINVAL, "rename to a relative path: EINVAL");
    // Open handles until the table is full.
    uint32_t opened = 0;
    int error = 0;
    while ((error = open_file("/victim", FS_OPEN_READ, &n)) == 0 && opened < 1000)
        opened++;
    EXPECT(error == FS_EMFILE && opened == FS_HANDLES_MAX - 1, "handles run out with EMFILE after %u (got %d after %u)", FS_HANDLES_MAX - 1, error, opened);
    EXPECT(seek(h, 0, FS_SEEK_SET, NULL) == 0 && read_bytes(h, 100, buffer, &n) == 0 && n == 4 && memcmp(buffer, "safe", 4) == 0,
        "the victim is intact");
    expect_clean("hostile requests");
}

/* ---- persistence ---- */

static void test_fill(void)
{
    uint32_t h, n;
    fill_pattern(42);
    EXPECT(make_directory("/keep") == 0, "mkdir /keep");
    EXPECT(create_file("/keep/data", &h) == 0, "create /keep/data");
    for (uint32_t total = 0; total < 100000; total += n) {
        if (write_bytes(h, pattern + total, 100000 - total > FS_IO_MAX ? FS_IO_MAX : 100000 - total, &n) != 0)
            break;
    }
    EXPECT(fsync_file(h) == 0, "fsync");
    EXPECT(create_file("/keep/unsynced-but-closed", &h) == 0 && write_bytes(h, "bye", 3, &n) == 0, "create another file");
    // Not synced: the service commits when its last client leaves.
}

static void test_verify(void)
{
    uint32_t h, n;
    uint64_t size;
    fill_pattern(42);
    EXPECT(stat_path("/keep/data", NULL, &size) == 0 && size == 100000, "/keep/data survived with its size");
    EXPECT(open_file("/keep/data", FS_OPEN_READ, &h) == 0, "open /keep/data");
    bool same = true;
    for (uint32_t total = 0; total < 100000 && same; total += n)
        same = read_bytes(h, FS_IO_MAX, buffer, &n) == 0 && n > 0 && memcmp(buffer, pattern + total, n) == 0;
    EXPECT(same, "/keep/data has its contents");
    EXPECT(open_file("/keep/unsynced-but-closed", FS_OPEN_READ, &h) == 0 && read_bytes(h, 10, buffer, &n) == 0 && n == 3, "what a clean shutdown kept");
    expect_clean("a restart");
}

/* ---- the crash loop ---- */

static void record(uint32_t number, char* out, uint32_t* length)
{
    *length = (uint32_t)snprintf(out, 64, "record %08u %08x\n", number, number * 2654435761u);
}

static void test_writer(uint32_t run)
{
    // Files /crashRUN/log0..3 get records round-robin; every few records a
    // scratch file is created, renamed over another and sometimes removed, to
    // crash in the middle of metadata work too.
    uint32_t handles[4];
    char directory[32], path[64], line[64];
    uint32_t n, length;
    snprintf(directory, sizeof directory, "/crash%u", run);
    if (make_directory(directory) != 0) {
        printf("FAIL: cannot make %s\n", directory);
        exit(1);
    }
    for (int i = 0; i < 4; ++i) {
        snprintf(path, sizeof path, "%s/log%d", directory, i);
        if (open_file(path, FS_OPEN_WRITE | FS_OPEN_APPEND | FS_OPEN_CREATE, &handles[i]) != 0) {
            printf("FAIL: cannot open %s\n", path);
            exit(1);
        }
    }
    fill_pattern(run);
    for (uint32_t number = 0;; ++number) {
        record(number, line, &length);
        if (write_bytes(handles[number % 4], line, length, &n) != 0 || n != length) {
            printf("FAIL: write of record %u\n", number);
            exit(1);
        }
        if (number % 7 == 0) {
            uint32_t scratch;
            snprintf(path, sizeof path, "%s/tmp%u", directory, number % 50);
            if (create_file(path, &scratch) == 0) {
                write_bytes(scratch, pattern, 5000 + number % 9000, &n);
                close_file(scratch);
            }
            char other[64];
            snprintf(other, sizeof other, "%s/tmp%u", directory, (number + 25) % 50);
            rename_path(path, other);
            if (number % 3 == 0)
                unlink_file(other);
        }
        if (number % 3 == 0) {
            if (fsync_file(handles[number % 4]) != 0) {
                printf("FAIL: fsync after record %u\n", number);
                exit(1);
            }
            printf("ack %u\n", number);
            fflush(stdout);
        }
    }
}

/* Checks run RUN's logs: each a prefix of its records, holding at least those
 * up to the acknowledged one. */
static void recover_run(uint32_t run, int64_t acknowledged)
{
    static char content[200000];
    char path[64], line[64];
    uint32_t n, length;
    uint32_t last = 0;
    for (int i = 0; i < 4; ++i) {
        snprintf(path, sizeof path, "/crash%u/log%d", run, i);
        uint32_t h, size = 0;
        int error = open_file(path, FS_OPEN_READ, &h);
        if (error) {
            EXPECT(acknowledged < 0, "%s is missing (error %d) after record %lld was acknowledged", path, error, (long long)acknowledged);
            continue;
        }
        while (read_bytes(h, FS_IO_MAX, buffer, &n) == 0 && n > 0 && size + n <= sizeof content) {
            memcpy(content + size, buffer, n);
            size += n;
        }
        close_file(h);
        uint32_t at = 0, found = 0;
        for (uint32_t number = (uint32_t)i; at < size; number += 4) {
            record(number, line, &length);
            if (size - at < length || memcmp(content + at, line, length) != 0) {
                EXPECT(0, "%s: record %u is damaged at byte %u", path, number, at);
                break;
            }
            at += length;
            found++;
            if (number > last)
                last = number;
        }
        int64_t needed = acknowledged >= i ? (acknowledged - i) / 4 + 1 : 0;
        EXPECT(found >= needed, "%s lost acknowledged records: %u there, %lld needed", path, found, (long long)needed);
    }
    printf("run %u: records through %u, acknowledged through %lld\n", run, last, (long long)acknowledged);
}

/* ---- a WASI child in this file system ---- */

static void test_wasi_child(void)
{
    // The child gets its own connection as its preopened /data.
    FileSystem_Imp_send_Connect(fs);
    if (FileSystem_Imp_recv(fs, &reply) != FileSystem_Imp_Connected) {
        EXPECT(0, "connect");
        return;
    }
    signet_handle connection = reply.as.Connected.connection;
    signet_handle child = 0, other_child = 0, device_importer, device_exporter;
    EXPECT(signet_child_create("wasi_files", 10, NULL, 0, "work", 4, &child) == SIGNET_OK, "create the WASI program (--program wasi_files=...)");
    EXPECT(signet_child_bind_directory(child, "/data", 5, 0x7777) == SIGNET_BAD_HANDLE, "bind a forged endpoint: BAD_HANDLE");
    EXPECT(signet_child_bind_directory(0x7777, "/data", 5, connection) == SIGNET_BAD_HANDLE, "bind to a forged child: BAD_HANDLE");
    EXPECT(signet_child_bind_directory(child, (char const*)0xfffffff0u, 100, connection) == SIGNET_OUT_OF_BOUNDS, "a name outside memory: OUT_OF_BOUNDS");
    EXPECT(signet_child_bind_directory(child, "", 0, connection) == SIGNET_INVALID_ARGUMENT, "an empty name: INVALID_ARGUMENT");
    signet_channel_create(BlockDevice_descriptor, BlockDevice_DESCRIPTOR_SIZE, &device_importer, &device_exporter);
    EXPECT(signet_child_bind_directory(child, "/data", 5, device_importer) == SIGNET_INVALID_ARGUMENT, "a BlockDevice end: INVALID_ARGUMENT");
    signet_handle files_importer, files_exporter;
    signet_channel_create(FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE, &files_importer, &files_exporter);
    EXPECT(signet_child_bind_directory(child, "/data", 5, files_exporter) == SIGNET_INVALID_ARGUMENT, "the Exp end: INVALID_ARGUMENT");
    EXPECT(signet_child_bind_directory(child, "/data", 5, connection) == SIGNET_OK, "bind the connection as /data");
    EXPECT(signet_child_bind_directory(child, "/again", 6, connection) == SIGNET_BAD_HANDLE, "the endpoint moved to the child");
    EXPECT(signet_child_start(child) == SIGNET_OK, "start the WASI program");
    EXPECT(signet_child_create("wasi_files", 10, NULL, 0, "work", 4, &other_child) == SIGNET_OK && signet_child_start(other_child) == SIGNET_OK,
        "a second copy without a directory");
    signet_handle late_importer, late_exporter;
    signet_channel_create(FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE, &late_importer, &late_exporter);
    EXPECT(signet_child_bind_directory(child, "/late", 5, late_importer) == SIGNET_INVALID_ARGUMENT, "bind after start: INVALID_ARGUMENT");
    int32_t status = -1, other_status = -1;
    EXPECT(signet_child_wait(child, 60000000000ll, &status) == SIGNET_OK && status == 0, "the WASI program worked in /data (status %d)", (int)status);
    EXPECT(signet_child_wait(other_child, 60000000000ll, &other_status) == SIGNET_OK && other_status != 0,
        "without a directory it finds nothing (status %d)", (int)other_status);
    uint64_t size = 0;
    EXPECT(stat_path("/sub", NULL, &size) == FS_ENOENT, "it cleaned up after itself in this file system");
    expect_clean("a WASI program's work");

    // A write to a bound stdout counts a piece once the reader asks for more: a
    // reader that takes a piece and leaves without asking again did not keep it.
    for (int asks_again = 0; asks_again < 2; ++asks_again) {
        signet_handle writer_child = 0, reader, writer;
        static Stream_Imp_message piece;
        signet_channel_create(Stream_descriptor, Stream_DESCRIPTOR_SIZE, &reader, &writer);
        EXPECT(signet_child_create("wasi_files", 10, NULL, 0, "write-stdout", 12, &writer_child) == SIGNET_OK
                && signet_child_bind_stream(writer_child, 1, writer) == SIGNET_OK && signet_child_start(writer_child) == SIGNET_OK,
            "start a WASI program writing to a stream");
        EXPECT(Stream_Imp_send_Read(reader, 4096) == SIGNET_OK && Stream_Imp_recv(reader, &piece) == Stream_Imp_Data && piece.as.Data.data.length == 4096,
            "take one piece");
        if (asks_again)
            EXPECT(Stream_Imp_send_Read(reader, 4096) == SIGNET_OK && Stream_Imp_recv(reader, &piece) == Stream_Imp_Data, "take a second piece");
        signet_handle_close(reader);
        int32_t written_status = -1;
        EXPECT(signet_child_wait(writer_child, 60000000000ll, &written_status) == SIGNET_OK && written_status == (asks_again ? 4 : 10),
            "%s: the write returned %s (status %d)", asks_again ? "asked for a second piece, took it and left" : "left after one piece",
            asks_again ? "the first piece's 4 KiB" : "an error", (int)written_status);
    }
}

/* ---- hostile WASI programs in this file system ---- */

// wasi_chaos SEED 3000 for COUNT seeds from FIRST, each with a connection of
// its own as /data. Each must end: all its calls answered (0) or trapped by
// its own doing (134). The mount's check afterwards (verify) must pass.
static void test_wasi_chaos(uint32_t first, uint32_t count)
{
    for (uint32_t seed = first; seed < first + count; ++seed) {
        FileSystem_Imp_send_Connect(fs);
        if (FileSystem_Imp_recv(fs, &reply) != FileSystem_Imp_Connected) {
            EXPECT(0, "connect");
            return;
        }
        signet_handle connection = reply.as.Connected.connection, child = 0;
        char args[32];
        int length = snprintf(args, sizeof args, "%u%c3000", seed, 0);
        EXPECT(signet_child_create("wasi_chaos", 10, NULL, 0, args, (uint32_t)length, &child) == SIGNET_OK, "create wasi_chaos (--program wasi_chaos=...)");
        EXPECT(signet_child_bind_directory(child, "/data", 5, connection) == SIGNET_OK, "bind its /data");
        EXPECT(signet_child_start(child) == SIGNET_OK, "start it");
        int32_t status = -1;
        EXPECT(signet_child_wait(child, 60000000000ll, &status) == SIGNET_OK && (status == 0 || status == 134), "wasi_chaos %u ends (status %d)",
            seed, (int)status);
        signet_handle_close(child);
    }
    expect_clean("hostile WASI programs");
}

int main(int argc, char** argv)
{
    if (argc < 2) {
        printf("usage: fs_client ops|hostile|fill|verify|writer RUN|recover RUN N...\n");
        return 2;
    }
    char const* mode = argv[1];
    if (strcmp(mode, "disk-denied") == 0) {
        // This program's (absent) manifest declares no disk: the kernel must refuse.
        signet_handle disk = 0;
        int32_t status = signet_disk_open("disk0", 5, &disk);
        printf("disk_open: %s\n", status == SIGNET_DENIED ? "DENIED" : "not denied");
        EXPECT(signet_disk_read(12345, 0, buffer, 16) == SIGNET_BAD_HANDLE, "disk_read on a forged handle: BAD_HANDLE");
        EXPECT(signet_disk_flush(0) == SIGNET_BAD_HANDLE, "disk_flush on handle 0: BAD_HANDLE");
        return status == SIGNET_DENIED ? failures : 1;
    }
    if (signet_startup_handle(0, &directory) != SIGNET_OK) {
        printf("FAIL: started without a Directory connection (signet run --directory)\n");
        return 100;
    }
    fs = start_file_system();
    if (strcmp(mode, "ops") == 0)
        test_ops();
    else if (strcmp(mode, "hostile") == 0)
        test_hostile();
    else if (strcmp(mode, "fill") == 0)
        test_fill();
    else if (strcmp(mode, "verify") == 0)
        test_verify();
    else if (strcmp(mode, "wasi-child") == 0)
        test_wasi_child();
    else if (strcmp(mode, "wasi-chaos") == 0 && argc == 4)
        test_wasi_chaos((uint32_t)strtoul(argv[2], NULL, 10), (uint32_t)strtoul(argv[3], NULL, 10));
    else if (strcmp(mode, "writer") == 0 && argc == 3)
        test_writer((uint32_t)strtoul(argv[2], NULL, 10));
    else if (strcmp(mode, "recover") == 0) {
        // recover RUN ACKNOWLEDGED [RUN ACKNOWLEDGED]...; -1: nothing was acknowledged.
        for (int i = 2; i + 1 < argc; i += 2)
            recover_run((uint32_t)strtoul(argv[i], NULL, 10), strtoll(argv[i + 1], NULL, 10));
        expect_clean("a crash");
    }
    else {
        printf("unknown mode %s\n", mode);
        return 2;
    }
    // Leaving is a clean shutdown: fs commits what is not yet on the disk, then ends.
    signet_handle_close(fs);
    int32_t status = -1;
    EXPECT(signet_child_wait(fs_child, 30000000000ll, &status) == SIGNET_OK && status == 0, "fs ends cleanly when its last client leaves (status %d)",
        (int)status);
    printf("%s: %d failures\n", mode, failures);
    return failures > 100 ? 100 : failures;
}
