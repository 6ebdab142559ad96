// The file-system SIP: mounts the file system on the BlockDevice it was started
// with (formatting an empty disk, replaying the journal, checking everything),
// registers /service/fs with the directory it was given a connection to, and
// serves FileSystem.contract on every connection: the one it was started with,
// those it opens on Connect, and those clients Open through the directory. Each
// connection has its own handles. A handle can also become a stream the server
// serves on its own (StreamFrom, StreamTo), which is how the shell gives a
// program a file as its stdin or stdout.
#include "fs.h"

#include "Directory.h"
#include "FileSystem.h"
#include "FileSystemCodes.h"
#include "Stream.h"

#include <stdio.h>
#include <string.h>

/* ---- Connections and their handles ---- */

typedef struct open_file {
    bool used;
    uint8_t generation; /* in the handle's bits 8..15, never 0 */
    uint32_t inode;
    uint32_t inode_generation;
    uint32_t flags;
    uint64_t position;
} open_file;

typedef struct connection {
    signet_handle endpoint;
    open_file files[FS_HANDLES_MAX];
} connection;

static connection connections[FS_CONNECTIONS_MAX];
static uint32_t connection_count;

static bool add_connection(signet_handle endpoint)
{
    if (connection_count == FS_CONNECTIONS_MAX)
        return false;
    memset(&connections[connection_count], 0, sizeof connections[0]);
    connections[connection_count].endpoint = endpoint;
    connection_count++;
    return true;
}

static void remove_connection(uint32_t index)
{
    signet_handle_close(connections[index].endpoint);
    connection_count--;
    connections[index] = connections[connection_count];
}

// The open file's inode as it is now; ESTALE if it was unlinked (and perhaps reused) since.
static int file_inode(open_file const* file, fs_inode* inode)
{
    int error = inode_read(file->inode, inode);
    if (!error && (inode->type == FS_INODE_FREE || inode->generation != file->inode_generation))
        error = FS_ESTALE;
    return error;
}

/* ---- Streams: handles served as Stream channels ---- */

// A file read into a stream (StreamFrom: the server is the writer, and answers
// each Read with the next bytes) or written from one (StreamTo: the server is
// the reader, and keeps one Read outstanding). The handle moved here from its
// connection; it closes with the stream.
typedef struct fs_stream {
    signet_handle endpoint;
    bool to_file;
    open_file file;
} fs_stream;

static fs_stream streams[FS_STREAMS_MAX];
static uint32_t stream_count;

static void remove_stream(uint32_t index)
{
    signet_handle_close(streams[index].endpoint);
    streams[index] = streams[--stream_count];
}

// StreamFrom: answers the reader's Read with the next bytes of the file, or
// Eof at its end. False when the stream is over.
static bool serve_stream_from(fs_stream* stream)
{
    Stream_Exp_message message;
    if (Stream_Exp_recv(stream->endpoint, &message) != Stream_Exp_Read)
        return false; // the reader is gone
    static uint8_t bytes[4096];
    uint32_t max = message.as.Read.max;
    if (max == 0 || max > sizeof bytes)
        max = sizeof bytes;
    fs_inode inode;
    uint32_t read = 0;
    int error = file_inode(&stream->file, &inode);
    if (!error)
        error = fs_file_read(stream->file.inode, stream->file.position, bytes, max, &read);
    if (error) {
        fprintf(stderr, "fs: a stream from a file ends: error %d\n", error);
        return false; // the reader sees the stream closed
    }
    if (read == 0) {
        (void)Stream_Exp_send_Eof(stream->endpoint);
        return false;
    }
    stream->file.position += read;
    return Stream_Exp_send_Data(stream->endpoint, bytes, read) == SIGNET_OK;
}

// StreamTo: writes what the writer sent into the file, and asks for more.
// False when the stream is over: Eof, the writer gone, or an error (then the
// writer's next write fails: what it was told was written, was).
static bool serve_stream_to(fs_stream* stream)
{
    static Stream_Imp_message message;
    if (Stream_Imp_recv(stream->endpoint, &message) != Stream_Imp_Data)
        return false;
    int error = volume.read_only ? FS_EROFS : 0;
    if (!error && cache_dirty_count() + 64 > volume.max_transaction)
        error = journal_commit();
    fs_inode inode;
    if (!error)
        error = file_inode(&stream->file, &inode);
    uint32_t length = message.as.Data.data.length;
    uint32_t written = 0;
    if (!error) {
        uint64_t position = (stream->file.flags & FS_OPEN_APPEND) ? inode.size : stream->file.position;
        error = fs_file_write(stream->file.inode, position, message.as.Data.data.data, length, &written);
        stream->file.position = position + written;
        if (!error && written < length)
            error = FS_ENOSPC;
    }
    if (error) {
        fprintf(stderr, "fs: a stream into a file ends: error %d\n", error);
        return false;
    }
    return Stream_Imp_send_Read(stream->endpoint, 4096) == SIGNET_OK;
}

static void serve_stream(uint32_t index)
{
    fs_stream* stream = &streams[index];
    if (!(stream->to_file ? serve_stream_to(stream) : serve_stream_from(stream)))
        remove_stream(index);
}

// Moves an open handle into a new stream on `endpoint` (which it then owns).
static int add_stream(open_file* file, signet_handle endpoint, bool to_file)
{
    if (stream_count == FS_STREAMS_MAX) {
        signet_handle_close(endpoint);
        return FS_EMFILE;
    }
    fs_stream* stream = &streams[stream_count++];
    stream->endpoint = endpoint;
    stream->to_file = to_file;
    stream->file = *file;
    file->used = false;
    if (to_file && Stream_Imp_send_Read(endpoint, 4096) != SIGNET_OK)
        remove_stream(stream_count - 1); // the writer is gone already: nothing to write
    return 0;
}

static int find_file(connection* c, uint32_t handle, open_file** out, fs_inode* inode)
{
    uint32_t slot = (handle & 0xff) - 1;
    if ((handle & 0xff) == 0 || slot >= FS_HANDLES_MAX || handle >> 16 || !c->files[slot].used
        || c->files[slot].generation != ((handle >> 8) & 0xff))
        return FS_EBADF;
    open_file* file = &c->files[slot];
    int error = file_inode(file, inode);
    if (error)
        return error;
    *out = file;
    return 0;
}

static int new_handle(connection* c, uint32_t inode_number, uint32_t flags, uint32_t* out)
{
    for (uint32_t slot = 0; slot < FS_HANDLES_MAX; ++slot) {
        open_file* file = &c->files[slot];
        if (file->used)
            continue;
        fs_inode inode;
        int error = inode_read(inode_number, &inode);
        if (error)
            return error;
        uint8_t generation = (uint8_t)(file->generation + 1 ? file->generation + 1 : 1);
        *file = (open_file) { .used = true, .generation = generation, .inode = inode_number, .inode_generation = inode.generation, .flags = flags };
        *out = ((uint32_t)generation << 8) | (slot + 1);
        return 0;
    }
    return FS_EMFILE;
}

/* ---- Requests ---- */

static FileSystem_Exp_message request;
static FileSystem_Data data_reply;
static FileSystem_Entries entries_reply;
static FileSystem_CheckReport check_reply;

static bool needs_write(FileSystem_Exp_tag tag)
{
    switch (tag) {
    case FileSystem_Exp_Create:
    case FileSystem_Exp_Write:
    case FileSystem_Exp_WriteAt:
    case FileSystem_Exp_SetModified:
    case FileSystem_Exp_SetModifiedHandle:
    case FileSystem_Exp_Truncate:
    case FileSystem_Exp_Rename:
    case FileSystem_Exp_Unlink:
    case FileSystem_Exp_Mkdir:
    case FileSystem_Exp_Rmdir:
    case FileSystem_Exp_StreamTo:
        return true;
    case FileSystem_Exp_Open:
        return (request.as.Open.flags & (FS_OPEN_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE)) != 0;
    default:
        return false;
    }
}

static int do_open(connection* c, char const* path, uint32_t length, uint32_t flags, uint32_t* out)
{
    if (flags & ~FS_OPEN_ALL)
        return FS_EINVAL;
    if ((flags & FS_OPEN_TRUNCATE) && !(flags & FS_OPEN_WRITE))
        return FS_EINVAL;
    uint32_t number = 0;
    int error = fs_resolve(path, length, &number);
    if (!error && (flags & FS_OPEN_CREATE) && (flags & FS_OPEN_EXCLUSIVE))
        return FS_EEXIST;
    if (error == FS_ENOENT && (flags & FS_OPEN_CREATE)) {
        if (flags & FS_OPEN_DIRECTORY)
            return FS_EINVAL;
        error = fs_create(path, length, FS_TYPE_FILE, &number);
    }
    if (error)
        return error;
    fs_inode inode;
    if ((error = inode_read(number, &inode)))
        return error;
    if (inode.type == FS_INODE_DIRECTORY && (flags & (FS_OPEN_WRITE | FS_OPEN_TRUNCATE | FS_OPEN_APPEND)))
        return FS_EISDIR;
    if (inode.type != FS_INODE_DIRECTORY && (flags & FS_OPEN_DIRECTORY))
        return FS_ENOTDIR;
    // Take a handle before truncating, so a full table changes nothing.
    if ((error = new_handle(c, number, flags, out)))
        return error;
    if ((flags & FS_OPEN_TRUNCATE) && inode.size && (error = inode_truncate(number, &inode, 0))) {
        c->files[(*out & 0xff) - 1].used = false;
        return error;
    }
    return 0;
}

static void send_status(signet_handle endpoint, uint32_t number)
{
    fs_inode inode;
    int error = inode_read(number, &inode);
    if (error) {
        FileSystem_Exp_send_Failed(endpoint, error);
        return;
    }
    FileSystem_Exp_send_Status(endpoint, inode.type == FS_INODE_DIRECTORY ? FS_TYPE_DIRECTORY : FS_TYPE_FILE, number, inode.size, inode.links,
        inode.modified_ns);
}

static void do_list(signet_handle endpoint, char const* path, uint32_t length, uint32_t cursor)
{
    uint32_t number;
    int error = fs_resolve(path, length, &number);
    fs_inode inode;
    if (!error)
        error = inode_read(number, &inode);
    if (!error && inode.type != FS_INODE_DIRECTORY)
        error = FS_ENOTDIR;
    if (error) {
        FileSystem_Exp_send_Failed(endpoint, error);
        return;
    }
    memset(&entries_reply, 0, sizeof entries_reply);
    uint32_t used = 0, count = 0, slot = cursor;
    fs_dirent entry;
    for (;; ++slot) {
        error = fs_dir_entry(number, slot, &entry);
        if (error == FS_ENOENT) {
            error = 0;
            slot = 0; // the end
            break;
        }
        if (error)
            break;
        if (!entry.inode)
            continue;
        if (used + 2 + entry.name_length > sizeof entries_reply.packed.data)
            break; // continue from this slot
        entries_reply.packed.data[used++] = entry.type;
        entries_reply.packed.data[used++] = entry.name_length;
        memcpy(entries_reply.packed.data + used, entry.name, entry.name_length);
        used += entry.name_length;
        count++;
    }
    if (error) {
        FileSystem_Exp_send_Failed(endpoint, error);
        return;
    }
    entries_reply.count = count;
    entries_reply.next = slot;
    entries_reply.packed.length = used;
    FileSystem_Exp_send_Entries_message(endpoint, &entries_reply);
}

/* A new connection: its Imp end goes out with `send_importer` on `to` (Connected
 * to a client, Opened to the directory), its Exp end is served from then on.
 * False, and nothing sent, if fs serves as many connections as it can or cannot
 * create a channel. */
static bool give_connection(signet_handle to, int32_t (*send_importer)(signet_handle, signet_handle))
{
    signet_handle importer, exporter;
    if (connection_count == FS_CONNECTIONS_MAX || signet_channel_create(FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK)
        return false;
    if (send_importer(to, importer) != SIGNET_OK) {
        signet_handle_close(importer);
        signet_handle_close(exporter);
        return true;
    }
    add_connection(exporter);
    return true;
}

static void do_connect(signet_handle endpoint)
{
    if (!give_connection(endpoint, FileSystem_Exp_send_Connected))
        FileSystem_Exp_send_Failed(endpoint, FS_EMFILE);
}

/* ---- The directory: /service/fs ---- */

#define FS_SERVICE_PATH "/service/fs"

static signet_handle provider; /* the Exp end of the provider channel; 0 when not registered */

/* Registers /service/fs over `directory`, the connection fs was started with. A
 * refusal is reported and fs goes on serving the connections it has. */
static void register_service(signet_handle directory)
{
    signet_handle provider_imp = 0, provider_exp = 0;
    if (signet_channel_create(ServiceProvider_descriptor, ServiceProvider_DESCRIPTOR_SIZE, &provider_imp, &provider_exp) != SIGNET_OK) {
        fprintf(stderr, "fs: cannot register " FS_SERVICE_PATH ": no channel for the directory\n");
        return;
    }
    Directory_Imp_message answer;
    Directory_Imp_tag tag = Directory_Imp_FAILED;
    if (Directory_Imp_send_Register(directory, FS_SERVICE_PATH, sizeof FS_SERVICE_PATH - 1, provider_imp) == SIGNET_OK)
        tag = Directory_Imp_recv(directory, &answer);
    else
        signet_handle_close(provider_imp);
    if (tag == Directory_Imp_Registered) {
        provider = provider_exp;
        fprintf(stderr, "fs: registered " FS_SERVICE_PATH "\n");
        return;
    }
    signet_handle_close(provider_exp);
    if (tag == Directory_Imp_Refused)
        fprintf(stderr, "fs: the directory refused " FS_SERVICE_PATH " (code %u): %.*s\n", (unsigned)answer.as.Refused.code,
            (int)answer.as.Refused.reason.length, answer.as.Refused.reason.data);
    else
        fprintf(stderr, "fs: cannot register " FS_SERVICE_PATH ": the directory connection is %s\n", tag == Directory_Imp_CLOSED ? "closed" : "broken");
}

static void decline(char const* reason)
{
    ServiceProvider_Exp_send_Declined(provider, reason, (uint32_t)strlen(reason));
}

/* One request of the directory: a client's Open gets a new connection. A Bind
 * cannot reach fs (FileSystem's client speaks first, so its Exp end cannot
 * travel), but a hostile directory could still send one: it is declined. */
static void serve_provider(void)
{
    ServiceProvider_Exp_message message;
    switch (ServiceProvider_Exp_recv(provider, &message)) {
    case ServiceProvider_Exp_Open:
        if (!give_connection(provider, ServiceProvider_Exp_send_Opened))
            decline("fs serves as many connections as it can (or cannot create a channel)");
        return;
    case ServiceProvider_Exp_Connect:
        signet_handle_close(message.as.Connect.endpoint);
        decline("FileSystem clients speak first: Open " FS_SERVICE_PATH ", do not Bind it");
        return;
    default:
        // The directory is gone: fs serves the connections it has.
        signet_handle_close(provider);
        provider = 0;
        return;
    }
}

/* Serves one request on connection `c`. Replies are sent here. */
static void serve(connection* c, FileSystem_Exp_tag tag)
{
    signet_handle const ep = c->endpoint;
    open_file* file;
    fs_inode inode;
    uint32_t number;
    int error = 0;

    if (needs_write(tag) && volume.read_only) {
        FileSystem_Exp_send_Failed(ep, FS_EROFS);
        return;
    }
    // Keep the running transaction within the journal: a request changes at
    // most a few dozen blocks, so commit first when fewer than that are left.
    if (needs_write(tag) && cache_dirty_count() + 64 > volume.max_transaction && (error = journal_commit())) {
        FileSystem_Exp_send_Failed(ep, error);
        return;
    }

    switch (tag) {
    case FileSystem_Exp_Create:
        error = do_open(c, request.as.Create.path.data, request.as.Create.path.length,
            FS_OPEN_READ | FS_OPEN_WRITE | FS_OPEN_CREATE | FS_OPEN_EXCLUSIVE, &number);
        if (!error)
            FileSystem_Exp_send_Opened(ep, number);
        break;
    case FileSystem_Exp_Open:
        error = do_open(c, request.as.Open.path.data, request.as.Open.path.length, request.as.Open.flags, &number);
        if (!error)
            FileSystem_Exp_send_Opened(ep, number);
        break;
    case FileSystem_Exp_Read:
    case FileSystem_Exp_ReadAt: {
        bool at = tag == FileSystem_Exp_ReadAt;
        if ((error = find_file(c, at ? request.as.ReadAt.handle : request.as.Read.handle, &file, &inode)))
            break;
        if (!(file->flags & FS_OPEN_READ)) {
            error = FS_EBADF;
            break;
        }
        if (inode.type == FS_INODE_DIRECTORY) {
            error = FS_EISDIR;
            break;
        }
        uint32_t length = at ? request.as.ReadAt.length : request.as.Read.length;
        if (length > FS_IO_MAX)
            length = FS_IO_MAX;
        uint32_t read = 0;
        if ((error = fs_file_read(file->inode, at ? request.as.ReadAt.offset : file->position, data_reply.data.data, length, &read)))
            break;
        if (!at)
            file->position += read;
        data_reply.data.length = read;
        FileSystem_Exp_send_Data_message(ep, &data_reply);
        break;
    }
    case FileSystem_Exp_Write:
    case FileSystem_Exp_WriteAt: {
        bool at = tag == FileSystem_Exp_WriteAt;
        if ((error = find_file(c, at ? request.as.WriteAt.handle : request.as.Write.handle, &file, &inode)))
            break;
        if (!(file->flags & FS_OPEN_WRITE)) {
            error = FS_EBADF;
            break;
        }
        uint64_t position = at ? request.as.WriteAt.offset : (file->flags & FS_OPEN_APPEND) ? inode.size : file->position;
        uint8_t const* bytes = at ? request.as.WriteAt.data.data : request.as.Write.data.data;
        uint32_t length = at ? request.as.WriteAt.data.length : request.as.Write.data.length;
        uint32_t written = 0;
        if ((error = fs_file_write(file->inode, position, bytes, length, &written)))
            break;
        if (!at)
            file->position = position + written;
        FileSystem_Exp_send_Written(ep, written);
        break;
    }
    case FileSystem_Exp_Seek: {
        if ((error = find_file(c, request.as.Seek.handle, &file, &inode)))
            break;
        int64_t base;
        switch (request.as.Seek.whence) {
        case FS_SEEK_SET:
            base = 0;
            break;
        case FS_SEEK_CURRENT:
            base = (int64_t)file->position;
            break;
        case FS_SEEK_END:
            base = (int64_t)inode.size;
            break;
        default:
            base = -1;
            break;
        }
        int64_t offset = request.as.Seek.offset;
        if (base < 0 || (offset < 0 && -(offset + 1) >= base) || (offset > 0 && (uint64_t)offset > FS_MAX_FILE_SIZE - (uint64_t)base)) {
            error = FS_EINVAL;
            break;
        }
        file->position = (uint64_t)(base + offset);
        FileSystem_Exp_send_Position(ep, file->position);
        break;
    }
    case FileSystem_Exp_Truncate:
        if ((error = find_file(c, request.as.Truncate.handle, &file, &inode)))
            break;
        if (!(file->flags & FS_OPEN_WRITE) || inode.type != FS_INODE_FILE) {
            error = inode.type == FS_INODE_FILE ? FS_EBADF : FS_EISDIR;
            break;
        }
        if (request.as.Truncate.size > FS_MAX_FILE_SIZE) {
            error = FS_EFBIG;
            break;
        }
        if (!(error = inode_truncate(file->inode, &inode, request.as.Truncate.size)))
            FileSystem_Exp_send_Done(ep);
        break;
    case FileSystem_Exp_Fsync:
        if ((error = find_file(c, request.as.Fsync.handle, &file, &inode)))
            break;
        /* fall through */
    case FileSystem_Exp_Sync:
        if (!(error = journal_commit()))
            FileSystem_Exp_send_Synced(ep);
        break;
    case FileSystem_Exp_Close: {
        uint32_t handle = request.as.Close.handle;
        uint32_t slot = (handle & 0xff) - 1;
        if ((handle & 0xff) == 0 || slot >= FS_HANDLES_MAX || handle >> 16 || !c->files[slot].used
            || c->files[slot].generation != ((handle >> 8) & 0xff)) {
            error = FS_EBADF;
            break;
        }
        c->files[slot].used = false;
        FileSystem_Exp_send_Done(ep);
        break;
    }
    case FileSystem_Exp_Rename:
        if (!(error = fs_rename(request.as.Rename.from.data, request.as.Rename.from.length, request.as.Rename.to.data, request.as.Rename.to.length)))
            FileSystem_Exp_send_Done(ep);
        break;
    case FileSystem_Exp_Unlink:
        if (!(error = fs_unlink(request.as.Unlink.path.data, request.as.Unlink.path.length, false)))
            FileSystem_Exp_send_Done(ep);
        break;
    case FileSystem_Exp_Mkdir:
        if (!(error = fs_create(request.as.Mkdir.path.data, request.as.Mkdir.path.length, FS_TYPE_DIRECTORY, &number)))
            FileSystem_Exp_send_Done(ep);
        break;
    case FileSystem_Exp_Rmdir:
        if (!(error = fs_unlink(request.as.Rmdir.path.data, request.as.Rmdir.path.length, true)))
            FileSystem_Exp_send_Done(ep);
        break;
    case FileSystem_Exp_List:
        do_list(ep, request.as.List.path.data, request.as.List.path.length, request.as.List.cursor);
        break;
    case FileSystem_Exp_Stat:
        if (!(error = fs_resolve(request.as.Stat.path.data, request.as.Stat.path.length, &number)))
            send_status(ep, number);
        break;
    case FileSystem_Exp_StatHandle:
        if (!(error = find_file(c, request.as.StatHandle.handle, &file, &inode)))
            send_status(ep, file->inode);
        break;
    case FileSystem_Exp_SetModified:
    case FileSystem_Exp_SetModifiedHandle: {
        bool by_path = tag == FileSystem_Exp_SetModified;
        if (by_path) {
            error = fs_resolve(request.as.SetModified.path.data, request.as.SetModified.path.length, &number);
            if (!error)
                error = inode_read(number, &inode);
        } else if (!(error = find_file(c, request.as.SetModifiedHandle.handle, &file, &inode))) {
            number = file->inode;
        }
        if (error)
            break;
        inode.modified_ns = by_path ? request.as.SetModified.modified_ns : request.as.SetModifiedHandle.modified_ns;
        if (!(error = inode_write(number, &inode)))
            FileSystem_Exp_send_Done(ep);
        break;
    }
    case FileSystem_Exp_Check: {
        fs_check_report report;
        if ((error = fs_check(&report)))
            break;
        memset(&check_reply, 0, sizeof check_reply);
        check_reply.problems = report.problems;
        check_reply.files = report.files;
        check_reply.directories = report.directories;
        check_reply.used_blocks = report.used_blocks;
        check_reply.free_blocks = report.free_blocks;
        size_t length = strlen(report.first_problem);
        memcpy(check_reply.first_problem.data, report.first_problem, length);
        check_reply.first_problem.length = (uint32_t)length;
        FileSystem_Exp_send_CheckReport_message(ep, &check_reply);
        break;
    }
    case FileSystem_Exp_Connect:
        do_connect(ep);
        break;
    case FileSystem_Exp_StreamFrom: {
        if ((error = find_file(c, request.as.StreamFrom.handle, &file, &inode)))
            break;
        if (!(file->flags & FS_OPEN_READ) || inode.type == FS_INODE_DIRECTORY) {
            error = inode.type == FS_INODE_DIRECTORY ? FS_EISDIR : FS_EBADF;
            break;
        }
        signet_handle reader, writer;
        if (signet_channel_create(Stream_descriptor, Stream_DESCRIPTOR_SIZE, &reader, &writer) != SIGNET_OK) {
            error = FS_EMFILE;
            break;
        }
        if ((error = add_stream(file, writer, false))) {
            signet_handle_close(reader);
            break;
        }
        FileSystem_Exp_send_Streaming(ep, reader);
        break;
    }
    case FileSystem_Exp_StreamTo: {
        signet_handle reader = request.as.StreamTo.reader;
        if (!(error = find_file(c, request.as.StreamTo.handle, &file, &inode)) && (!(file->flags & FS_OPEN_WRITE) || inode.type != FS_INODE_FILE))
            error = inode.type == FS_INODE_FILE ? FS_EBADF : FS_EISDIR;
        if (error) {
            signet_handle_close(reader); // its writer sees the stream closed
            break;
        }
        if (!(error = add_stream(file, reader, true)))
            FileSystem_Exp_send_Done(ep);
        break;
    }
    default:
        break;
    }
    if (error)
        FileSystem_Exp_send_Failed(ep, error);
    if (cache_pinned_count() != 0) {
        fprintf(stderr, "fs: a request left blocks pinned; stopping before anything is committed\n");
        signet_exit(70);
    }
}

int main(void)
{
    signet_handle client = 0, directory = 0;
    if (signet_startup_handle(0, &volume.device) != SIGNET_OK || signet_startup_handle(1, &client) != SIGNET_OK
        || signet_startup_handle(2, &directory) != SIGNET_OK) {
        fprintf(stderr, "fs: started without its device, client and directory endpoints\n");
        return 1;
    }
    char message[256];
    int error = fs_mount(message, sizeof message);
    if (error) {
        fprintf(stderr, "fs: cannot mount: %s (error %d)\n", message, error);
        return 1;
    }
    fs_check_report report;
    if ((error = fs_check(&report))) {
        fprintf(stderr, "fs: the check could not read the disk (error %d)\n", error);
        return 1;
    }
    if (report.problems) {
        // Serve what is there, but change nothing: writing would spread the damage.
        volume.read_only = true;
        fprintf(stderr, "fs: %s; the check found %u problems (first: %s); serving read-only\n", message, report.problems, report.first_problem);
    } else {
        fprintf(stderr, "fs: %s; check passed: %u files, %u directories, %llu blocks used, %llu free\n", message, report.files,
            report.directories, (unsigned long long)report.used_blocks, (unsigned long long)report.free_blocks);
    }
    add_connection(client);
    // Registered only once mounted: a client that finds /service/fs is served at once.
    register_service(directory);
    signet_handle_close(directory);

    // fs serves while it has a connection: the directory's provider channel alone
    // does not keep it (its last client leaving is how it is shut down), nor
    // do streams.
    while (connection_count > 0) {
        // Changes reach the disk at the latest a quarter second after the last request.
        int64_t timeout = cache_dirty_count() && !volume.read_only ? 250000000 : -1;
        // What it waits on: the connections, the streams, the directory's provider channel.
        signet_handle endpoints[FS_CONNECTIONS_MAX + FS_STREAMS_MAX + 1];
        uint32_t watched = 0;
        for (uint32_t i = 0; i < connection_count; ++i)
            endpoints[watched++] = connections[i].endpoint;
        for (uint32_t i = 0; i < stream_count; ++i)
            endpoints[watched++] = streams[i].endpoint;
        if (provider)
            endpoints[watched++] = provider;
        uint32_t ready = 0;
        int32_t status = signet_channel_select(endpoints, watched, timeout, &ready);
        if (status == SIGNET_TIMED_OUT) {
            if (journal_commit())
                fprintf(stderr, "fs: a commit failed; the file system is now read-only\n");
            continue;
        }
        if (status != SIGNET_OK || ready >= watched) {
            fprintf(stderr, "fs: select failed with status %d\n", (int)status);
            return 1;
        }
        if (ready >= connection_count + stream_count) {
            serve_provider();
            continue;
        }
        if (ready >= connection_count) {
            serve_stream(ready - connection_count);
            if (cache_pinned_count() != 0) {
                fprintf(stderr, "fs: a stream left blocks pinned; stopping before anything is committed\n");
                signet_exit(70);
            }
            continue;
        }
        connection* c = &connections[ready];
        FileSystem_Exp_tag tag = FileSystem_Exp_recv(c->endpoint, &request);
        if (tag == FileSystem_Exp_CLOSED || tag == FileSystem_Exp_FAILED) {
            remove_connection(ready);
            continue;
        }
        serve(c, tag);
    }
    // Everyone left: make everything durable before going.
    while (stream_count)
        remove_stream(0);
    if (journal_commit()) {
        fprintf(stderr, "fs: the last commit failed\n");
        return 1;
    }
    return 0;
}
