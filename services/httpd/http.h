/* The HTTP/1.1 subset httpd speaks (docs/network.md): parsing a request head
 * and the pieces of a response. Pure functions over bytes, without the C
 * library or the ABI, so that the host's tests run them (tests/httpd), fuzzing
 * the parser with random bytes among them: whatever the input, it answers
 * with a request or a status and never reads or writes out of bounds. */
#ifndef SIGNET_HTTP_H
#define SIGNET_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HTTP_LINE_MAX 8192u    /* the request line, its line end included; longer: 414 */
#define HTTP_HEADERS_MAX 8192u /* the header fields after it, with the empty line; longer: 431 */
#define HTTP_HEAD_MAX (HTTP_LINE_MAX + HTTP_HEADERS_MAX)
#define HTTP_PATH_MAX 896u     /* the decoded path; longer: 414 (a root and /index.html still fit a file-system path) */

typedef enum http_method {
    HTTP_GET,
    HTTP_HEAD,
    HTTP_OTHER, /* a well-formed method httpd does not serve: 405 */
} http_method;

typedef struct http_request {
    http_method method;
    uint8_t minor_version; /* HTTP/1.minor_version: 0 or 1 */
    bool keep_alive;       /* HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive" */
    uint64_t body_length;  /* Content-Length: bytes after the head that belong to this request */
    /* The target's path, %XX-decoded, its "." and ".." segments resolved and
     * empty ones dropped: "/" or "/a/b" (never a trailing "/", never above "/"). */
    char path[HTTP_PATH_MAX];
    uint32_t path_length;
} http_request;

/* What http_parse_request found. */
#define HTTP_INCOMPLETE 0 /* no end of the head yet, and no limit broken: read more */
#define HTTP_PARSED 1     /* a request, in *request; its head was *head_length bytes */
/* Otherwise the result is the status to answer with, closing the connection
 * after it: 400 (malformed, a path above the root), 414 (request line over
 * HTTP_LINE_MAX or path over HTTP_PATH_MAX), 431 (header fields over
 * HTTP_HEADERS_MAX), 501 (Transfer-Encoding: no request body is framed that
 * way here) or 505 (an HTTP version other than 1.x). */

/* Parses the head of the request at the start of `data` (`length` bytes). Empty
 * lines before the request line are skipped (and counted in *head_length). */
int http_parse_request(char const* data, uint32_t length, http_request* request, uint32_t* head_length);

/* The Content-Type of a file by its name's extension; application/octet-stream when unknown. */
char const* http_content_type(char const* path, uint32_t length);

/* The reason phrase of a status httpd sends ("Not Found"); "Unknown" for others. */
char const* http_reason(int status);

/* Writes the IMF-fixdate of `seconds` since 1970 ("Sun, 06 Nov 1994 08:49:37 GMT", 29 bytes) to `out`. */
void http_format_date(uint64_t seconds, char out[29]);

#ifdef __cplusplus
}
#endif

#endif
