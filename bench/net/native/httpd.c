/* The Linux side of the file-serving benchmark (bench/net, docs/evaluation.md):
 * an HTTP/1.1 file server with the design and the HTTP subset of Signet's httpd
 * SIP (services/httpd), so that the two differ in what they run on, not in what
 * they do.
 *
 * Usage: httpd ROOT
 * One process, one thread: an epoll loop over non-blocking sockets. Listens on
 * 127.0.0.1 at a free port and prints "listening on 127.0.0.1:PORT" on its
 * standard output once it accepts connections; serves until it is killed.
 *
 * The subset: GET and HEAD; keep-alive (the HTTP/1.1 default; "Connection: close"
 * and HTTP/1.0 close after the response); Content-Length and Content-Type (by
 * extension); "/" and directories -> index.html; %XX decoding; 400 for a
 * malformed request or a path that climbs above ROOT, 404, 405 (with Allow),
 * 414 / 431 for a request line / header block over 8 KiB; pipelined requests are
 * answered in order. A file is read with pread in pieces of 16 KiB (the largest
 * Send the TcpConnection contract carries), each piece one send, as the httpd
 * SIP does: a file that fits with the headers in 16 KiB goes out with them in one
 * send, a larger one after them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    REQUEST_LIMIT = 8192, /* a request line, or the whole header block */
    PIECE = 16384,
    HEADER_ROOM = 512,
    MAX_EVENTS = 64,
};

enum State { READING, SENDING };

struct Connection {
    int fd;
    enum State state;
    /* What the client sent and we have not answered yet (pipelined requests stay here). */
    char in[REQUEST_LIMIT];
    size_t in_length;
    bool client_finished;
    /* The piece being sent: headers and/or file data. */
    char out[HEADER_ROOM + PIECE];
    size_t out_length;
    size_t out_sent;
    /* The rest of the file, read a piece at a time. */
    int file;
    uint64_t file_offset;
    uint64_t file_remaining;
    bool headers_alone; /* the file does not fit with them in one piece */
    bool close_after;
};

static char const* s_root;
static int s_epoll;

static void fatal(char const* what)
{
    fprintf(stderr, "httpd: %s: %s\n", what, strerror(errno));
    exit(1);
}

static char const* content_type(char const* path)
{
    static struct {
        char const* extension;
        char const* type;
    } const types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" }, { ".txt", "text/plain; charset=utf-8" },
        { ".css", "text/css" }, { ".js", "text/javascript" }, { ".json", "application/json" }, { ".png", "image/png" },
        { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" }, { ".gif", "image/gif" }, { ".svg", "image/svg+xml" },
    };
    char const* dot = strrchr(path, '.');
    char const* slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash)) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; ++i) {
            if (strcasecmp(dot, types[i].extension) == 0)
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

static void watch(struct Connection* connection, uint32_t events)
{
    struct epoll_event event = { .events = events, .data.ptr = connection };
    if (epoll_ctl(s_epoll, EPOLL_CTL_MOD, connection->fd, &event) != 0)
        fatal("epoll_ctl");
}

static void close_connection(struct Connection* connection)
{
    if (connection->file >= 0)
        close(connection->file);
    close(connection->fd); /* also takes it out of the epoll set */
    free(connection);
}

/* A response without a file: a status line and a short text body (none for HEAD). */
static void answer_status(struct Connection* connection, int status, char const* reason, bool head, char const* extra_header)
{
    char body[128];
    int body_length = snprintf(body, sizeof body, "%d %s\n", status, reason);
    connection->out_length = (size_t)snprintf(connection->out, sizeof connection->out,
        "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n%sConnection: %s\r\n\r\n%s", status, reason,
        body_length, extra_header ? extra_header : "", connection->close_after ? "close" : "keep-alive", head ? "" : body);
    connection->out_sent = 0;
    connection->file_remaining = 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the target's path (up to '?') into a path below the root, "." and ".."
 * resolved. Returns 200, or 400 (malformed, or climbs above the root). */
static int resolve_target(char const* target, size_t length, char* path, size_t capacity)
{
    if (length == 0 || target[0] != '/')
        return 400;
    char decoded[REQUEST_LIMIT];
    size_t decoded_length = 0;
    for (size_t i = 0; i < length && target[i] != '?' && target[i] != '#'; ++i) {
        char c = target[i];
        if (c == '%') {
            int high = i + 2 < length ? hex_value(target[i + 1]) : -1;
            int low = i + 2 < length ? hex_value(target[i + 2]) : -1;
            if (high < 0 || low < 0 || (high == 0 && low == 0))
                return 400;
            c = (char)(high * 16 + low);
            i += 2;
        }
        decoded[decoded_length++] = c;
    }
    /* Segments onto a stack: "." is nothing, ".." takes the last one off. */
    size_t out = 0;
    size_t start = 0;
    bool trailing_slash = decoded_length > 0 && decoded[decoded_length - 1] == '/';
    while (start < decoded_length) {
        while (start < decoded_length && decoded[start] == '/')
            ++start;
        size_t end = start;
        while (end < decoded_length && decoded[end] != '/')
            ++end;
        size_t segment = end - start;
        if (segment == 0)
            break;
        if (segment == 1 && decoded[start] == '.') {
        } else if (segment == 2 && decoded[start] == '.' && decoded[start + 1] == '.') {
            if (out == 0)
                return 400;
            while (out > 0 && path[out - 1] != '/')
                --out;
            --out; /* the '/' before it */
        } else {
            if (out + 1 + segment + 1 > capacity)
                return 400;
            path[out++] = '/';
            memcpy(path + out, decoded + start, segment);
            out += segment;
        }
        start = end;
    }
    if (out == 0 || trailing_slash) {
        if (out + sizeof "/" > capacity)
            return 400;
        path[out++] = '/';
    }
    path[out] = '\0';
    return 200;
}

/* The token `name` among a header's comma-separated values, case aside. */
static bool has_token(char const* value, size_t length, char const* name)
{
    size_t name_length = strlen(name);
    size_t i = 0;
    while (i < length) {
        while (i < length && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
            ++i;
        size_t start = i;
        while (i < length && value[i] != ',' && value[i] != ' ' && value[i] != '\t')
            ++i;
        if (i - start == name_length && strncasecmp(value + start, name, name_length) == 0)
            return true;
    }
    return false;
}

/* Prepares the answer to the request in in[0, length): a status, or the headers
 * and the first piece of a file. */
static void answer_request(struct Connection* connection, char const* request, size_t length)
{
    connection->close_after = false;
    char const* line_end = memchr(request, '\n', length);
    size_t line_length = (size_t)(line_end - request);
    if (line_length > 0 && request[line_length - 1] == '\r')
        --line_length;
    /* METHOD SP TARGET SP VERSION */
    char const* first_space = memchr(request, ' ', line_length);
    char const* second_space = first_space ? memchr(first_space + 1, ' ', line_length - (size_t)(first_space + 1 - request)) : NULL;
    if (!first_space || !second_space || first_space == request || second_space == first_space + 1) {
        connection->close_after = true;
        answer_status(connection, 400, "Bad Request", false, NULL);
        return;
    }
    size_t method_length = (size_t)(first_space - request);
    char const* target = first_space + 1;
    size_t target_length = (size_t)(second_space - target);
    char const* version = second_space + 1;
    size_t version_length = line_length - (size_t)(version - request);
    bool http11 = version_length == 8 && memcmp(version, "HTTP/1.1", 8) == 0;
    bool http10 = version_length == 8 && memcmp(version, "HTTP/1.0", 8) == 0;
    if (!http11 && !http10) {
        connection->close_after = true;
        answer_status(connection, 400, "Bad Request", false, NULL);
        return;
    }
    connection->close_after = http10;
    /* The headers: only Connection matters; a line without a colon is malformed. */
    char const* header = line_end + 1;
    char const* end = request + length;
    while (header < end) {
        char const* header_end = memchr(header, '\n', (size_t)(end - header));
        size_t header_length = (size_t)(header_end - header);
        if (header_length > 0 && header[header_length - 1] == '\r')
            --header_length;
        if (header_length == 0)
            break;
        char const* colon = memchr(header, ':', header_length);
        if (!colon || colon == header) {
            connection->close_after = true;
            answer_status(connection, 400, "Bad Request", false, NULL);
            return;
        }
        if ((size_t)(colon - header) == 10 && strncasecmp(header, "Connection", 10) == 0
            && has_token(colon + 1, header_length - (size_t)(colon + 1 - header), "close"))
            connection->close_after = true;
        header = header_end + 1;
    }
    bool head = method_length == 4 && memcmp(request, "HEAD", 4) == 0;
    bool get = method_length == 3 && memcmp(request, "GET", 3) == 0;
    if (!get && !head) {
        answer_status(connection, 405, "Method Not Allowed", false, "Allow: GET, HEAD\r\n");
        return;
    }
    char path[REQUEST_LIMIT + 16];
    int resolved = resolve_target(target, target_length, path, sizeof path - sizeof "index.html");
    if (resolved != 200) {
        connection->close_after = true;
        answer_status(connection, 400, "Bad Request", head, NULL);
        return;
    }
    if (path[strlen(path) - 1] == '/')
        strcat(path, "index.html");
    /* path starts with '/': open it relative to the root. */
    char full[sizeof path + 4096];
    snprintf(full, sizeof full, "%s%s", s_root, path);
    int file = open(full, O_RDONLY | O_CLOEXEC);
    struct stat status;
    if (file >= 0 && fstat(file, &status) == 0 && S_ISDIR(status.st_mode)) {
        close(file);
        snprintf(full, sizeof full, "%s%s/index.html", s_root, path);
        file = open(full, O_RDONLY | O_CLOEXEC);
        strcat(path, "/index.html");
    }
    if (file < 0 || fstat(file, &status) != 0 || !S_ISREG(status.st_mode)) {
        if (file >= 0)
            close(file);
        answer_status(connection, 404, "Not Found", head, NULL);
        return;
    }
    uint64_t size = (uint64_t)status.st_size;
    connection->out_length = (size_t)snprintf(connection->out, HEADER_ROOM,
        "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %llu\r\nConnection: %s\r\n\r\n", content_type(path),
        (unsigned long long)size, connection->close_after ? "close" : "keep-alive");
    connection->out_sent = 0;
    if (head || size == 0) {
        close(file);
        connection->file_remaining = 0;
        return;
    }
    connection->file = file;
    connection->file_offset = 0;
    connection->file_remaining = size;
    connection->headers_alone = size > PIECE - connection->out_length;
}

/* Reads the next piece of the file into out[]. */
static bool next_piece(struct Connection* connection)
{
    size_t want = connection->file_remaining < PIECE ? (size_t)connection->file_remaining : PIECE;
    ssize_t got;
    do
        got = pread(connection->file, connection->out + connection->out_length, want, (off_t)connection->file_offset);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        fprintf(stderr, "httpd: cannot read a file: %s\n", got < 0 ? strerror(errno) : "it ended early");
        return false;
    }
    connection->out_length += (size_t)got;
    connection->file_offset += (uint64_t)got;
    connection->file_remaining -= (uint64_t)got;
    if (connection->file_remaining == 0) {
        close(connection->file);
        connection->file = -1;
    }
    return true;
}

/* Sends what is due. Returns false when the connection is finished with (closed). */
static bool send_response(struct Connection* connection)
{
    for (;;) {
        if (connection->out_sent == connection->out_length) {
            connection->out_length = connection->out_sent = 0;
            if (connection->file_remaining == 0)
                return true;
        }
        /* The next piece when nothing is pending, or the whole file after headers it fits with. */
        bool read = connection->file_remaining > 0 && connection->out_sent == 0
            && (connection->out_length == 0 || !connection->headers_alone);
        if (read && !next_piece(connection))
            return false;
        ssize_t sent = send(connection->fd, connection->out + connection->out_sent, connection->out_length - connection->out_sent, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (connection->state != SENDING) {
                    connection->state = SENDING;
                    watch(connection, EPOLLOUT);
                }
                return true;
            }
            return false; /* the client went away */
        }
        connection->out_sent += (size_t)sent;
    }
}

/* The length of the request at the start of in[] (through its empty line), or 0 if incomplete. */
static size_t request_length(struct Connection const* connection)
{
    char const* in = connection->in;
    for (size_t i = 0; i < connection->in_length; ++i) {
        if (in[i] != '\n')
            continue;
        if (i + 1 < connection->in_length && in[i + 1] == '\n')
            return i + 2;
        if (i + 2 < connection->in_length && in[i + 1] == '\r' && in[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Answers every complete request in in[], in order, as far as the socket takes the answers. */
static bool serve(struct Connection* connection)
{
    while (connection->state == READING) {
        size_t length = request_length(connection);
        if (length == 0) {
            /* Wait for the rest, unless the client has finished sending. */
            if (connection->in_length < sizeof connection->in)
                return !connection->client_finished;
            /* 8 KiB and no end: the request line alone is too long (414), or the headers (431). */
            bool line_ended = memchr(connection->in, '\n', connection->in_length) != NULL;
            connection->close_after = true;
            if (line_ended)
                answer_status(connection, 431, "Request Header Fields Too Large", false, NULL);
            else
                answer_status(connection, 414, "URI Too Long", false, NULL);
            connection->in_length = 0;
        } else {
            answer_request(connection, connection->in, length);
            memmove(connection->in, connection->in + length, connection->in_length - length);
            connection->in_length -= length;
        }
        if (!send_response(connection))
            return false;
        if (connection->state == SENDING)
            return true;
        if (connection->close_after) {
            shutdown(connection->fd, SHUT_WR);
            return false;
        }
    }
    return true;
}

static bool receive(struct Connection* connection)
{
    while (connection->in_length < sizeof connection->in) {
        ssize_t got = recv(connection->fd, connection->in + connection->in_length, sizeof connection->in - connection->in_length, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (got <= 0) {
            connection->client_finished = true;
            break;
        }
        connection->in_length += (size_t)got;
    }
    return serve(connection);
}

static void accept_clients(int listener)
{
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "httpd: accept: %s\n", strerror(errno));
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct Connection* connection = calloc(1, sizeof *connection);
        if (!connection) {
            close(fd);
            continue;
        }
        connection->fd = fd;
        connection->file = -1;
        connection->state = READING;
        struct epoll_event event = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = connection };
        if (epoll_ctl(s_epoll, EPOLL_CTL_ADD, fd, &event) != 0)
            fatal("epoll_ctl");
    }
}

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: httpd ROOT\n");
        return 2;
    }
    s_root = argv[1];
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener < 0)
        fatal("socket");
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(listener, (struct sockaddr*)&address, sizeof address) != 0)
        fatal("bind 127.0.0.1:0");
    if (listen(listener, 128) != 0)
        fatal("listen");
    socklen_t address_length = sizeof address;
    if (getsockname(listener, (struct sockaddr*)&address, &address_length) != 0)
        fatal("getsockname");
    s_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (s_epoll < 0)
        fatal("epoll_create1");
    struct epoll_event listening = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl(s_epoll, EPOLL_CTL_ADD, listener, &listening) != 0)
        fatal("epoll_ctl");
    printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(address.sin_port));
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int ready = epoll_wait(s_epoll, events, MAX_EVENTS, -1);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            fatal("epoll_wait");
        }
        for (int i = 0; i < ready; ++i) {
            struct Connection* connection = events[i].data.ptr;
            if (!connection) {
                accept_clients(listener);
                continue;
            }
            bool keep = true;
            if (connection->state == SENDING) {
                if (events[i].events & (EPOLLERR | EPOLLHUP))
                    keep = false;
                else if (events[i].events & EPOLLOUT) {
                    keep = send_response(connection);
                    if (keep && connection->out_length == 0 && connection->file_remaining == 0) {
                        /* The response is out: back to the requests. */
                        connection->state = READING;
                        watch(connection, EPOLLIN | EPOLLRDHUP);
                        if (connection->close_after) {
                            shutdown(connection->fd, SHUT_WR);
                            keep = false;
                        } else
                            keep = serve(connection);
                    }
                }
            } else
                keep = receive(connection);
            if (!keep)
                close_connection(connection);
        }
    }
}
