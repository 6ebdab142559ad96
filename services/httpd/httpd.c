// httpd: an HTTP/1.1 static file server SIP. It opens /service/net/http (a
// TcpListener of the network driver, services/net) and /service/fs through the
// directory it was started with, and serves the files under its root directory
// (parameter `root`, default "/www") of the system file system: GET and HEAD,
// keep-alive, "/" and directories as their index.html (docs/network.md).
//
// The main thread accepts clients; each is served by a thread of its own (one
// per client slot, started on the slot's first client and kept), which parses
// requests (http.c) and sends each file as it reads it, 16 KiB at a time. The
// threads share one FileSystem connection under a lock: a SIP's threads never
// run at the same instant, and the file system serves one request at a time.
#include <signet/abi.h>
#include <signet/thread.h>

#include "Directory.h"
#include "FileSystem.h"
#include "FileSystemCodes.h"
#include "Tcp.h"
#include "http.h"
#include "text.h"

#define HTTPD_NET_PATH "/service/net/http"
#define HTTPD_FS_PATH "/service/fs"

/* Clients served at once; when every slot is busy the next Accept waits, and new
 * clients wait in the driver's backlog. Each holds at most one open file on the
 * shared file-system connection, which keeps FS_HANDLES_MAX of them. */
#define HTTPD_CLIENTS_MAX FS_HANDLES_MAX
#define HTTPD_ROOT_MAX 100u            /* the root's length: with a path and /index.html, a file-system path */
#define HTTPD_IO_MAX 16384u            /* one Send, one file read (the contracts' bound) */
#define HTTPD_BODY_SKIP_MAX (1u << 20) /* a request body skipped to reach the next request; longer: the connection closes */
#define HTTPD_DRAIN_MAX (64u * 1024u)  /* what a closing connection reads and drops before it closes (below) */
#define HTTPD_STACK_SIZE (32u * 1024u)

/* ---- Clients ---- */

typedef enum client_state {
    CLIENT_FREE,     /* its thread (if started) sleeps on `state` */
    CLIENT_ASSIGNED, /* its thread serves `connection` */
} client_state;

typedef struct client {
    uint32_t state; /* a client_state: a futex word its thread sleeps on */
    signet_handle connection;
    bool thread_started;
    signet_handle thread;
    char head[HTTP_HEAD_MAX]; /* received bytes not yet parsed or skipped */
    uint32_t buffered;
    http_request request;
    TcpConnection_Imp_message reply; /* the driver's answers */
    TcpConnection_Send out;          /* the response bytes not yet sent */
    FileSystem_Imp_message files;    /* the file system's answers */
} client;

static client clients[HTTPD_CLIENTS_MAX];
static _Alignas(16) uint8_t client_stacks[HTTPD_CLIENTS_MAX][HTTPD_STACK_SIZE];
static uint32_t client_wakeups; /* the main thread sleeps on it while every slot is busy */

static signet_handle files;           /* the FileSystem connection, shared under files_lock */
static signet_mutex files_lock = SIGNET_MUTEX_INIT;
static char root[HTTPD_ROOT_MAX + 1]; /* "/www"; "" for the file system's root */
static uint32_t root_length;

/* ---- Receiving ---- */

/* Receives more of the request into c->head. False when the connection is over:
 * the client finished sending or left, the driver's receive timeout passed, or
 * the buffer is full. */
static bool receive_more(client* c)
{
    uint32_t room = sizeof c->head - c->buffered;
    if (room == 0)
        return false;
    TcpConnection_Receive receive = { .max = room < HTTPD_IO_MAX ? room : HTTPD_IO_MAX };
    if (TcpConnection_Imp_call_Receive(c->connection, &receive, &c->reply) != TcpConnection_Imp_Received)
        return false;
    uint32_t length = c->reply.as.Received.data.length;
    if (length > room)
        length = room;
    __builtin_memcpy(c->head + c->buffered, c->reply.as.Received.data.data, length);
    c->buffered += length;
    return true;
}

/* Drops the first `count` buffered bytes. */
static void drop(client* c, uint32_t count)
{
    if (count > c->buffered)
        count = c->buffered;
    __builtin_memmove(c->head, c->head + count, c->buffered - count);
    c->buffered -= count;
}

/* Skips a request body of `length` bytes. False if the connection is over first. */
static bool skip_body(client* c, uint64_t length)
{
    if (length > HTTPD_BODY_SKIP_MAX)
        return false;
    for (;;) {
        uint32_t here = length < c->buffered ? (uint32_t)length : c->buffered;
        drop(c, here);
        length -= here;
        if (length == 0)
            return true;
        if (!receive_more(c))
            return false;
    }
}

/* ---- Sending ---- */

/* Sends what c->out holds. False if the connection failed. */
static bool flush(client* c)
{
    if (c->out.data.length == 0)
        return true;
    TcpConnection_Imp_tag tag = TcpConnection_Imp_call_Send(c->connection, &c->out, &c->reply);
    c->out.data.length = 0;
    return tag == TcpConnection_Imp_Sent;
}

static bool append(client* c, char const* bytes, uint32_t length)
{
    while (length) {
        uint32_t room = HTTPD_IO_MAX - c->out.data.length;
        if (room == 0) {
            if (!flush(c))
                return false;
            continue;
        }
        uint32_t here = length < room ? length : room;
        __builtin_memcpy(c->out.data.data + c->out.data.length, bytes, here);
        c->out.data.length += here;
        bytes += here;
        length -= here;
    }
    return true;
}

static bool append_text(client* c, char const* text)
{
    return append(c, text, text_length(text));
}

static bool append_number(client* c, uint64_t value)
{
    char digits[20];
    return append(c, digits, format_number(digits, value, 10));
}

/* The status line and the header fields every response has: Date, Server and,
 * with a body (`content_type` not null), its type and `length`. */
static bool append_head(client* c, int status, char const* content_type, uint64_t length)
{
    uint64_t now = 0;
    char date[29];
    (void)signet_time_now(SIGNET_CLOCK_REALTIME, &now);
    http_format_date(now / 1000000000u, date);
    bool ok = append_text(c, "HTTP/1.1 ") && append_number(c, (uint64_t)status) && append_text(c, " ") && append_text(c, http_reason(status))
        && append_text(c, "\r\nDate: ") && append(c, date, sizeof date) && append_text(c, "\r\nServer: signet-httpd\r\n");
    if (ok && content_type)
        ok = append_text(c, "Content-Type: ") && append_text(c, content_type) && append_text(c, "\r\nContent-Length: ") && append_number(c, length)
            && append_text(c, "\r\n");
    return ok;
}

static bool append_field(client* c, char const* name, char const* value, uint32_t length)
{
    return append_text(c, name) && append_text(c, ": ") && append(c, value, length) && append_text(c, "\r\n");
}

/* The last header fields, and the empty line that ends the head. */
static bool end_head(client* c, int status, bool keep_alive)
{
    bool ok = status != 405 || append_text(c, "Allow: GET, HEAD\r\n");
    // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
    if (ok && !keep_alive)
        ok = append_text(c, "Connection: close\r\n");
    else if (ok && c->request.minor_version == 0)
        ok = append_text(c, "Connection: keep-alive\r\n");
    return ok && append_text(c, "\r\n");
}

/* A response without a file: its status line again as a small page, with one
 * more header field if `field` is not null (a redirect's Location, a 416's
 * Content-Range). */
static bool respond_status(client* c, int status, bool keep_alive, char const* field, char const* value, uint32_t value_length)
{
    char const* reason = http_reason(status);
    uint64_t length = 3 + 1 + text_length(reason) + 1; // "404 Not Found\n"
    bool with_body = c->request.method != HTTP_HEAD;
    return append_head(c, status, "text/plain; charset=utf-8", length) && (!field || append_field(c, field, value, value_length))
        && end_head(c, status, keep_alive)
        && (!with_body || (append_number(c, (uint64_t)status) && append_text(c, " ") && append_text(c, reason) && append_text(c, "\n")))
        && flush(c);
}

static bool respond_error(client* c, int status, bool keep_alive)
{
    return respond_status(c, status, keep_alive, 0, 0, 0);
}

/* ---- Files ---- */

/* The file-system requests of httpd's threads, one at a time on the shared
 * connection; the answer lands in c->files. */
static FileSystem_Imp_tag open_file(client* c, char const* path, uint32_t length)
{
    static FileSystem_Open open; // 1 KiB of path: not on a thread's stack; used under the lock only
    signet_mutex_lock(&files_lock);
    open.flags = FS_OPEN_READ;
    open.path.length = length;
    __builtin_memcpy(open.path.data, path, length);
    FileSystem_Imp_tag tag = FileSystem_Imp_call_Open(files, &open, &c->files);
    signet_mutex_unlock(&files_lock);
    return tag;
}

static FileSystem_Imp_tag stat_file(client* c, uint32_t handle)
{
    FileSystem_StatHandle stat = { .handle = handle };
    signet_mutex_lock(&files_lock);
    FileSystem_Imp_tag tag = FileSystem_Imp_call_StatHandle(files, &stat, &c->files);
    signet_mutex_unlock(&files_lock);
    return tag;
}

static FileSystem_Imp_tag read_file(client* c, uint32_t handle, uint64_t offset, uint32_t length)
{
    FileSystem_ReadAt read = { .handle = handle, .offset = offset, .length = length };
    signet_mutex_lock(&files_lock);
    FileSystem_Imp_tag tag = FileSystem_Imp_call_ReadAt(files, &read, &c->files);
    signet_mutex_unlock(&files_lock);
    return tag;
}

static void close_file(client* c, uint32_t handle)
{
    FileSystem_Close close = { .handle = handle };
    signet_mutex_lock(&files_lock);
    (void)FileSystem_Imp_call_Close(files, &close, &c->files);
    signet_mutex_unlock(&files_lock);
}

/* The status a failed file-system request answers a client with. */
static int status_of(client* c, FileSystem_Imp_tag tag)
{
    if (tag != FileSystem_Imp_Failed) {
        log_status("httpd: ", "the file system did not answer: ", tag == FileSystem_Imp_CLOSED ? SIGNET_CLOSED : c->files.status);
        return 503;
    }
    switch (c->files.as.Failed.code) {
    case FS_ENOENT:
    case FS_ENOTDIR:
    case FS_ENAMETOOLONG:
        return 404;
    default:
        return 500;
    }
}

/* A file being served: its handle, size and validators. */
typedef struct served_file {
    uint32_t handle;
    uint64_t size;
    uint64_t modified; /* seconds since 1970: Last-Modified */
    char etag[40];     /* "size-modified_ns" in hex, quoted: changes whenever either does */
    uint32_t etag_length;
} served_file;

/* Opens the file `path` names (a directory's index.html), and says its size
 * and validators. 0, or the status to answer with: 301 for a directory named
 * without its trailing slash (the client is sent to it with one, so that
 * relative links in its index.html resolve inside it). */
static int open_for_client(client* c, char* path, uint32_t* length, served_file* file)
{
    for (int tries = 0; tries < 2; ++tries) {
        FileSystem_Imp_tag tag = open_file(c, path, *length);
        if (tag != FileSystem_Imp_Opened)
            return status_of(c, tag);
        file->handle = c->files.as.Opened.handle;
        tag = stat_file(c, file->handle);
        if (tag != FileSystem_Imp_Status) {
            close_file(c, file->handle);
            return status_of(c, tag);
        }
        if (c->files.as.Status.type != FS_TYPE_DIRECTORY) {
            uint64_t modified_ns = c->files.as.Status.modified_ns;
            file->size = c->files.as.Status.size;
            file->modified = modified_ns / 1000000000u;
            uint32_t at = 0;
            file->etag[at++] = '"';
            at += format_number(file->etag + at, file->size, 16);
            file->etag[at++] = '-';
            at += format_number(file->etag + at, modified_ns, 16);
            file->etag[at++] = '"';
            file->etag_length = at;
            return 0;
        }
        close_file(c, file->handle);
        if (tries == 0 && c->request.path_length > 1 && !c->request.trailing_slash)
            return 301;
        static char const index[] = "/index.html";
        uint32_t at = *length == 1 ? 0 : *length; // the root "/" has its slash already
        __builtin_memcpy(path + at, index, sizeof index);
        *length = at + sizeof index - 1;
    }
    return 404; // an index.html that is a directory
}

/* Sends a redirect to the request's path with a slash added: its Location is
 * the path %XX-encoded where a byte is not one a path may hold as it is. */
static bool respond_redirect(client* c, bool keep_alive)
{
    static char const safe[] = "-._~!$&'()*+,;=:@/";
    char location[3 * HTTP_PATH_MAX + 1];
    uint32_t used = 0;
    for (uint32_t i = 0; i < c->request.path_length; ++i) {
        unsigned char byte = (unsigned char)c->request.path[i];
        bool plain = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9');
        for (uint32_t k = 0; !plain && safe[k]; ++k)
            plain = byte == (unsigned char)safe[k];
        if (plain) {
            location[used++] = (char)byte;
        } else {
            location[used++] = '%';
            location[used++] = "0123456789ABCDEF"[byte >> 4];
            location[used++] = "0123456789ABCDEF"[byte & 15];
        }
    }
    location[used++] = '/';
    return respond_status(c, 301, keep_alive, "Location", location, used);
}

/* Whether the request's conditions say the client's copy is current (304):
 * If-None-Match when it is there, else If-Modified-Since (RFC 9110 13.2.2). */
static bool not_modified(http_request const* request, served_file const* file)
{
    if (request->if_none_match.present)
        return request->if_none_match.kept && http_etag_list_matches(request->if_none_match.data, request->if_none_match.length, file->etag, file->etag_length);
    return request->if_modified_since >= 0 && file->modified <= (uint64_t)request->if_modified_since;
}

/* Whether a Range may be served: no If-Range, or one naming the file as it is
 * now: its entity tag (compared strongly) or its exact Last-Modified date. */
static bool range_applies(http_request const* request, served_file const* file)
{
    http_value const* condition = &request->if_range;
    if (!condition->present)
        return true;
    if (!condition->kept || condition->length == 0)
        return false;
    if (condition->data[0] == '"') {
        if (condition->length != file->etag_length)
            return false;
        for (uint32_t i = 0; i < file->etag_length; ++i) {
            if (condition->data[i] != file->etag[i])
                return false;
        }
        return true;
    }
    if (condition->data[0] == 'W')
        return false; // a weak tag never matches strongly
    return http_parse_date(condition->data, condition->length) == (int64_t)file->modified;
}

/* Sends bytes [first, end) of the open file after the head in c->out. False if
 * the connection failed, or the file shrank or failed after the head promised
 * its length: then the client sees the connection close short. */
static bool send_file_bytes(client* c, served_file const* file, uint64_t first, uint64_t end)
{
    // A small body goes with its head in one Send; a larger one after it, in
    // pieces at offsets the file system reads whole blocks at.
    if (end - first > HTTPD_IO_MAX - c->out.data.length && !flush(c))
        return false;
    for (uint64_t offset = first; offset < end;) {
        uint32_t room = HTTPD_IO_MAX - c->out.data.length;
        uint32_t want = end - offset < room ? (uint32_t)(end - offset) : room;
        if (offset % HTTPD_IO_MAX && want > HTTPD_IO_MAX - offset % HTTPD_IO_MAX)
            want = HTTPD_IO_MAX - (uint32_t)(offset % HTTPD_IO_MAX); // back to whole pieces after a range's start
        FileSystem_Imp_tag tag = read_file(c, file->handle, offset, want);
        uint32_t got = tag == FileSystem_Imp_Data ? c->files.as.Data.data.length : 0;
        if (got == 0 || got > want) {
            if (tag != FileSystem_Imp_Data)
                (void)status_of(c, tag);
            return false;
        }
        __builtin_memcpy(c->out.data.data + c->out.data.length, c->files.as.Data.data.data, got);
        c->out.data.length += got;
        offset += got;
        if (c->out.data.length == HTTPD_IO_MAX && !flush(c))
            return false;
    }
    return true;
}

/* Answers a parsed request. False if the connection must close after it. */
static bool serve_request(client* c)
{
    http_request const* request = &c->request;
    bool keep_alive = request->keep_alive;
    if (request->method == HTTP_OTHER)
        return respond_error(c, 405, keep_alive) && keep_alive;

    // root + path + "/index.html" fits: HTTPD_ROOT_MAX + HTTP_PATH_MAX + 11 < FS_PATH_MAX.
    char path[FS_PATH_MAX];
    uint32_t length = root_length;
    __builtin_memcpy(path, root, root_length);
    if (!(root_length && request->path_length == 1)) {
        __builtin_memcpy(path + length, request->path, request->path_length);
        length += request->path_length;
    }
    served_file file = { 0 };
    int status = open_for_client(c, path, &length, &file);
    if (status == 301)
        return respond_redirect(c, keep_alive) && keep_alive;
    if (status)
        return respond_error(c, status, keep_alive) && keep_alive;

    char modified[29];
    http_format_date(file.modified, modified);
    bool sent;
    if (not_modified(request, &file)) {
        sent = append_head(c, 304, 0, 0) && append_field(c, "ETag", file.etag, file.etag_length) && append_field(c, "Last-Modified", modified, sizeof modified)
            && end_head(c, 304, keep_alive);
        close_file(c, file.handle);
        return sent && flush(c) && keep_alive;
    }
    // A Range is for GET only (RFC 9110 14.2), and only while If-Range holds.
    uint64_t first = 0, last = 0;
    int range = request->method == HTTP_GET && range_applies(request, &file) ? http_resolve_range(request, file.size, &first, &last) : -1;
    if (range == 0) {
        close_file(c, file.handle);
        char content_range[32] = "bytes */";
        uint32_t used = 8 + format_number(content_range + 8, file.size, 10);
        return respond_status(c, 416, keep_alive, "Content-Range", content_range, used) && keep_alive;
    }
    uint64_t end = range == 1 ? last + 1 : file.size; // `first` is 0 unless there is a range
    sent = append_head(c, range == 1 ? 206 : 200, http_content_type(path, length), end - first) && append_text(c, "Accept-Ranges: bytes\r\n")
        && append_field(c, "ETag", file.etag, file.etag_length) && append_field(c, "Last-Modified", modified, sizeof modified);
    if (sent && range == 1)
        sent = append_text(c, "Content-Range: bytes ") && append_number(c, first) && append_text(c, "-") && append_number(c, last)
            && append_text(c, "/") && append_number(c, file.size) && append_text(c, "\r\n");
    sent = sent && end_head(c, range == 1 ? 206 : 200, keep_alive);
    if (sent && request->method == HTTP_GET)
        sent = send_file_bytes(c, &file, first, end);
    close_file(c, file.handle);
    return sent && flush(c) && keep_alive;
}

/* ---- Connections ---- */

/* Ends a connection: nothing more will be sent, and what the client still
 * sends is read and dropped until it closes (up to HTTPD_DRAIN_MAX bytes, or
 * the driver's receive timeout). Closing at once while its bytes are unread
 * would make the host reset the connection, and a reset can overtake the
 * response the client has not read yet. */
static void finish(client* c)
{
    if (TcpConnection_Imp_call_Finish(c->connection, &c->reply) != TcpConnection_Imp_Finished)
        return;
    for (uint32_t drained = 0; drained < HTTPD_DRAIN_MAX;) {
        TcpConnection_Receive receive = { .max = HTTPD_IO_MAX };
        if (TcpConnection_Imp_call_Receive(c->connection, &receive, &c->reply) != TcpConnection_Imp_Received)
            return;
        drained += c->reply.as.Received.data.length;
    }
}

/* Serves one client's requests until the connection closes. */
static void serve_client(client* c)
{
    c->buffered = 0;
    c->out.data.length = 0;
    for (;;) {
        uint32_t head_length = 0;
        int result = http_parse_request(c->head, c->buffered, &c->request, &head_length);
        if (result == HTTP_INCOMPLETE) {
            if (receive_more(c))
                continue;
            if (c->buffered == sizeof c->head) // blank lines and a head over the limits together
                result = 431;
            else
                return; // the client left (or stalled) between requests or inside one
        }
        if (result != HTTP_PARSED) {
            // Framing is lost after a malformed request: answer, then close.
            c->request.method = HTTP_GET;
            c->request.minor_version = 1;
            if (respond_error(c, result, false))
                finish(c);
            return;
        }
        drop(c, head_length);
        if (!serve_request(c) || !skip_body(c, c->request.body_length)) {
            finish(c);
            return;
        }
    }
}

/* A client slot's thread: serves each client the main thread assigns to its slot. */
static void client_thread(void* argument)
{
    client* c = (client*)argument;
    for (;;) {
        while (c->state != CLIENT_ASSIGNED)
            (void)signet_futex_wait(&c->state, CLIENT_FREE, SIGNET_WAIT_FOREVER);
        serve_client(c);
        signet_handle_close(c->connection); // the driver closes the socket
        c->connection = 0;
        c->state = CLIENT_FREE;
        uint32_t woken;
        client_wakeups++;
        (void)signet_futex_wake(&client_wakeups, 1, &woken);
    }
}

/* A free slot whose thread is started; 0 while every slot is busy. */
static client* free_client(void)
{
    for (uint32_t i = 0; i < HTTPD_CLIENTS_MAX; ++i) {
        client* c = &clients[i];
        if (c->state != CLIENT_FREE)
            continue;
        if (!c->thread_started) {
            int32_t status = signet_thread_start(client_thread, c, client_stacks[i], HTTPD_STACK_SIZE, &c->thread);
            if (status != SIGNET_OK) {
                log_status("httpd: ", "cannot start a client thread: ", status);
                signet_exit(1);
            }
            c->thread_started = true;
        }
        return c;
    }
    return 0;
}

/* ---- Starting ---- */

/* Opens `path` through the directory and checks that it is an Imp end of the
 * contract `descriptor`. 0, with the reason logged, if it cannot. */
static signet_handle open_service(signet_handle directory, char const* path, void const* descriptor, uint32_t descriptor_size)
{
    static Directory_Imp_message answer;
    log_line line = { .length = 0 };
    put(&line, "httpd: cannot open ");
    put(&line, path);
    Directory_Imp_tag tag = Directory_Imp_FAILED;
    if (Directory_Imp_send_Open(directory, path, text_length(path)) == SIGNET_OK)
        tag = Directory_Imp_recv(directory, &answer);
    if (tag == Directory_Imp_Opened) {
        signet_handle end = answer.as.Opened.endpoint;
        if (signet_endpoint_check(end, descriptor, descriptor_size, 0) == SIGNET_OK)
            return end;
        signet_handle_close(end);
        put(&line, ": its service gave an end of another contract");
    } else if (tag == Directory_Imp_Refused) {
        put(&line, ": ");
        put_bytes(&line, answer.as.Refused.reason.data, answer.as.Refused.reason.length);
    } else {
        put(&line, ": the directory connection is ");
        put(&line, tag == Directory_Imp_CLOSED ? "closed" : "broken");
    }
    log_write(&line);
    return 0;
}

/* Reads the `root` parameter: an absolute path without "." or ".." segments,
 * kept without its trailing slash. False, with the reason logged, if it is not one. */
static bool read_root(void)
{
    uint32_t length = 0;
    int32_t status = signet_param_get("root", 4, root, sizeof root - 1, &length);
    char const* problem = 0;
    if (status != SIGNET_OK)
        problem = "cannot be read";
    else if (length > HTTPD_ROOT_MAX)
        problem = "is longer than 100 bytes";
    else if (length == 0 || root[0] != '/')
        problem = "is not an absolute path";
    for (uint32_t i = 0; !problem && i < length; ++i) {
        bool segment_start = root[i] == '.' && root[i - 1] == '/';
        bool dots = segment_start && (i + 1 == length || root[i + 1] == '/' || (root[i + 1] == '.' && (i + 2 == length || root[i + 2] == '/')));
        if (dots)
            problem = "has a . or .. segment";
        else if ((unsigned char)root[i] < 0x20 || root[i] == 0x7f)
            problem = "has a control character";
    }
    if (problem) {
        log_line line = { .length = 0 };
        put(&line, "httpd: the parameter root (");
        put_bytes(&line, root, length < HTTPD_ROOT_MAX ? length : HTTPD_ROOT_MAX);
        put(&line, ") ");
        put(&line, problem);
        log_write(&line);
        return false;
    }
    while (length > 0 && root[length - 1] == '/')
        --length;
    root[length] = 0;
    root_length = length;
    return true;
}

void _start(void)
{
    signet_handle directory = 0;
    if (signet_startup_handle(0, &directory) != SIGNET_OK) {
        log_status("httpd: ", "started without its directory connection: ", SIGNET_NOT_FOUND);
        signet_exit(1);
    }
    if (!read_root())
        signet_exit(2);
    files = open_service(directory, HTTPD_FS_PATH, FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE);
    signet_handle listener = files ? open_service(directory, HTTPD_NET_PATH, TcpListener_descriptor, TcpListener_DESCRIPTOR_SIZE) : 0;
    if (!listener)
        signet_exit(1);
    signet_handle_close(directory);
    log_line line = { .length = 0 };
    put(&line, "httpd: serving ");
    put(&line, root_length ? root : "/");
    put(&line, " of " HTTPD_FS_PATH " on " HTTPD_NET_PATH);
    log_write(&line);

    static TcpListener_Imp_message accepted;
    for (;;) {
        uint32_t seen = client_wakeups;
        client* c = free_client();
        if (!c) {
            (void)signet_futex_wait(&client_wakeups, seen, SIGNET_WAIT_FOREVER);
            continue;
        }
        TcpListener_Imp_tag tag = TcpListener_Imp_call_Accept(listener, &accepted);
        if (tag == TcpListener_Imp_Failed) {
            // The driver could not take a client now (its limits): a pause, and ask again.
            log_status("httpd: ", "the network driver could not accept a client: ", accepted.as.Failed.code);
            (void)signet_sleep(100u * 1000 * 1000);
            continue;
        }
        if (tag != TcpListener_Imp_Accepted) {
            log_status("httpd: ", "the network driver closed " HTTPD_NET_PATH ": ", tag == TcpListener_Imp_CLOSED ? SIGNET_CLOSED : accepted.status);
            signet_exit(1);
        }
        uint32_t woken;
        c->connection = accepted.as.Accepted.connection;
        c->state = CLIENT_ASSIGNED;
        (void)signet_futex_wake(&c->state, 1, &woken);
    }
}
