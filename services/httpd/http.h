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

#define HTTP_VALIDATOR_MAX 256u /* an If-None-Match or If-Range value kept; longer: as if absent */

/* A Range header field of one byte range (RFC 9110 14.1.2). Anything else in a
 * Range field (several ranges, another unit, a malformed one) is ignored, as
 * the RFC lets a server do: the whole file is sent. */
typedef enum http_range_kind {
    HTTP_RANGE_NONE,
    HTTP_RANGE_FROM,   /* "bytes=first-": from `first` to the end */
    HTTP_RANGE_SPAN,   /* "bytes=first-last" (first <= last; `last` may pass the end) */
    HTTP_RANGE_SUFFIX, /* "bytes=-length": the last `length` bytes (in `first`) */
} http_range_kind;

/* A header field's value as received, its surrounding whitespace dropped. A
 * field that may come only once and came twice, or a value over
 * HTTP_VALIDATOR_MAX, is present but not kept: its condition cannot be judged. */
typedef struct http_value {
    bool present;
    bool kept;
    uint32_t length;
    char data[HTTP_VALIDATOR_MAX];
} http_value;

typedef struct http_request {
    http_method method;
    uint8_t minor_version; /* HTTP/1.minor_version: 0 or 1 */
    bool keep_alive;       /* HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive" */
    uint64_t body_length;  /* Content-Length: bytes after the head that belong to this request */
    /* The target's path, %XX-decoded, its "." and ".." segments resolved and
     * empty ones dropped: "/" or "/a/b" (never a trailing "/", never above "/"). */
    char path[HTTP_PATH_MAX];
    uint32_t path_length;
    bool trailing_slash; /* the target's path ended in "/" (or %2F): "/docs/" rather than "/docs" */
    /* Conditions and range. If-Modified-Since in seconds since 1970, -1 when
     * absent or not a valid HTTP-date (then it is ignored, RFC 9110 13.1.3). */
    int64_t if_modified_since;
    http_value if_none_match;
    http_value if_range;
    http_range_kind range;
    uint64_t range_first, range_last;
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

/* The seconds since 1970 of an HTTP-date in any of its three forms (RFC 9110
 * 5.6.7: IMF-fixdate, RFC 850's and asctime's), or -1 if `text` is not one. */
int64_t http_parse_date(char const* text, uint32_t length);

/* Whether the If-None-Match value `list` ("*" or entity tags separated by
 * commas) matches the entity tag `etag` (with its quotes) by the weak
 * comparison (RFC 9110 8.8.3.2: "W/" prefixes do not count). */
bool http_etag_list_matches(char const* list, uint32_t length, char const* etag, uint32_t etag_length);

/* The byte range [*first, *last] of a file of `size` bytes that the request's
 * Range asks for: 1 if there is one, 0 if none of it is in the file (416),
 * -1 if the request has no Range. */
int http_resolve_range(http_request const* request, uint64_t size, uint64_t* first, uint64_t* last);

#ifdef __cplusplus
}
#endif

#endif
