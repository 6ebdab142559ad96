// The HTTP/1.1 request parser and response pieces of httpd (see http.h). The
// parser reads only data[0..length), indexes every array within its bound,
// and meets malformed input with a status, never an assumption.
#include "http.h"

/* ---- Characters ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A token character (RFC 9110 5.6.2): what method and field names are made of. */
static bool is_token(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool equal_nocase(char const* a, uint32_t length, char const* b)
{
    uint32_t i = 0;
    for (; i < length; ++i) {
        if (!b[i] || lower(a[i]) != lower(b[i]))
            return false;
    }
    return b[i] == 0;
}

static bool equal(char const* a, uint32_t length, char const* b)
{
    uint32_t i = 0;
    for (; i < length; ++i) {
        if (!b[i] || a[i] != b[i])
            return false;
    }
    return b[i] == 0;
}

/* ---- Lines ---- */

/* The length of the line at data[start..], its end excluded, and in *next where
 * the next line starts; -1 if no line end comes before `limit`. A line ends
 * with LF, a CR before it dropped (RFC 9112 2.2 lets a server take a bare LF). */
static int64_t line_at(char const* data, uint32_t start, uint32_t limit, uint32_t* next)
{
    for (uint32_t i = start; i < limit; ++i) {
        if (data[i] == '\n') {
            *next = i + 1;
            uint32_t end = i > start && data[i - 1] == '\r' ? i - 1 : i;
            return end - start;
        }
    }
    return -1;
}

/* ---- The target ---- */

/* Decodes the target's path (origin form "/p?q", or absolute form
 * "http://host/p") into request->path with its segments resolved. */
static int parse_target(char const* target, uint32_t length, http_request* request)
{
    uint32_t at = 0;
    if (length >= 7 && equal_nocase(target, 7, "http://")) {
        at = 7;
        while (at < length && target[at] != '/' && target[at] != '?')
            ++at;
        if (at == length || target[at] != '/')
            return 400;
    }
    if (at >= length || target[at] != '/')
        return 400; // "*" (OPTIONS), authority form (CONNECT), or no path
    uint32_t end = at;
    while (end < length && target[end] != '?' && target[end] != '#')
        ++end;

    // Decode segment by segment: a decoded "/" (%2F) separates like a plain one,
    // and "%2e%2e" is ".." like "..", so no spelling climbs out unseen.
    char* path = request->path;
    uint32_t used = 0;
    char segment[HTTP_PATH_MAX];
    uint32_t segment_length = 0;
    bool after_separator = false; // the last byte before `end` was a separator
    for (uint32_t i = at; i <= end; ++i) {
        char c;
        bool separator = false;
        if (i == end) {
            separator = true;
        } else if (target[i] == '%') {
            if (i + 2 >= end)
                return 400; // a '%' without two digits
            int high = hex_value(target[i + 1]), low = hex_value(target[i + 2]);
            if (high < 0 || low < 0)
                return 400;
            c = (char)(high * 16 + low);
            i += 2;
            separator = c == '/';
            if (!separator && (unsigned char)c < 0x20)
                return 400; // NUL and control characters name no file
            if (!separator && c == 0x7f)
                return 400;
            if (!separator) {
                if (segment_length == sizeof segment)
                    return 414;
                segment[segment_length++] = c;
            }
        } else {
            c = target[i];
            if ((unsigned char)c <= 0x20 || c == 0x7f)
                return 400;
            separator = c == '/';
            if (!separator) {
                if (segment_length == sizeof segment)
                    return 414;
                segment[segment_length++] = c;
            }
        }
        if (i < end)
            after_separator = separator;
        if (!separator)
            continue;
        if (segment_length == 0 || (segment_length == 1 && segment[0] == '.')) {
            // "//" and "/./": nothing
        } else if (segment_length == 2 && segment[0] == '.' && segment[1] == '.') {
            if (used == 0)
                return 400; // above the root
            while (used > 0 && path[used - 1] != '/')
                --used;
            --used; // the '/' before the dropped segment
        } else {
            if (used + 1 + segment_length > HTTP_PATH_MAX - 1)
                return 414;
            path[used++] = '/';
            for (uint32_t k = 0; k < segment_length; ++k)
                path[used++] = segment[k];
        }
        segment_length = 0;
    }
    if (used == 0)
        path[used++] = '/';
    path[used] = 0;
    request->path_length = used;
    request->trailing_slash = after_separator;
    return 0;
}

/* ---- Header fields ---- */

/* Whether the comma-separated list `value` holds `token` (case-insensitive). */
static bool list_has(char const* value, uint32_t length, char const* token)
{
    uint32_t i = 0;
    while (i < length) {
        while (i < length && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
            ++i;
        uint32_t start = i;
        while (i < length && value[i] != ',')
            ++i;
        uint32_t end = i;
        while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
            --end;
        if (end > start && equal_nocase(value + start, end - start, token))
            return true;
    }
    return false;
}

/* Keeps a field's value (see http_value). */
static void keep_value(http_value* kept, char const* value, uint32_t length)
{
    kept->kept = !kept->present && length <= sizeof kept->data;
    kept->present = true;
    kept->length = kept->kept ? length : 0;
    for (uint32_t i = 0; i < kept->length; ++i)
        kept->data[i] = value[i];
}

/* A list field may come in several fields: they join with commas (RFC 9110 5.3). */
static void keep_list(http_value* kept, char const* value, uint32_t length)
{
    if (!kept->present) {
        keep_value(kept, value, length);
        return;
    }
    if (!kept->kept || kept->length + 1 + length > sizeof kept->data) {
        kept->kept = false;
        kept->length = 0;
        return;
    }
    kept->data[kept->length++] = ',';
    for (uint32_t i = 0; i < length; ++i)
        kept->data[kept->length++] = value[i];
}

/* A decimal of at most 18 digits at value[*at..end): its value, or -1. */
static int64_t decimal_at(char const* value, uint32_t* at, uint32_t end)
{
    uint32_t start = *at;
    int64_t number = 0;
    while (*at < end && is_digit(value[*at])) {
        if (*at - start == 18)
            return -1;
        number = number * 10 + (value[*at] - '0');
        ++*at;
    }
    return *at == start ? -1 : number;
}

/* "bytes=first-last", "bytes=first-" or "bytes=-length": one range; anything
 * else leaves request->range at HTTP_RANGE_NONE. */
static void parse_range(char const* value, uint32_t length, http_request* request)
{
    request->range = HTTP_RANGE_NONE;
    if (length < 6 || !equal_nocase(value, 6, "bytes="))
        return;
    uint32_t at = 6;
    if (at < length && value[at] == '-') {
        ++at;
        int64_t suffix = decimal_at(value, &at, length);
        if (suffix < 0 || at != length)
            return;
        request->range = HTTP_RANGE_SUFFIX;
        request->range_first = (uint64_t)suffix;
        return;
    }
    int64_t first = decimal_at(value, &at, length);
    if (first < 0 || at == length || value[at] != '-')
        return;
    ++at;
    if (at == length) {
        request->range = HTTP_RANGE_FROM;
        request->range_first = (uint64_t)first;
        return;
    }
    int64_t last = decimal_at(value, &at, length);
    if (last < first || at != length)
        return; // several ranges, or an invalid one
    request->range = HTTP_RANGE_SPAN;
    request->range_first = (uint64_t)first;
    request->range_last = (uint64_t)last;
}

typedef struct fields {
    bool host;
    bool connection_close;
    bool connection_keep_alive;
    bool content_length;
} fields;

static int parse_field(char const* line, uint32_t length, http_request* request, fields* seen)
{
    if (line[0] == ' ' || line[0] == '\t')
        return 400; // obsolete line folding
    uint32_t colon = 0;
    while (colon < length && line[colon] != ':') {
        if (!is_token(line[colon]))
            return 400; // no whitespace or other bytes in a field name
        ++colon;
    }
    if (colon == 0 || colon == length)
        return 400;
    uint32_t start = colon + 1, end = length;
    while (start < end && (line[start] == ' ' || line[start] == '\t'))
        ++start;
    while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t'))
        --end;
    for (uint32_t i = start; i < end; ++i) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 400;
    }
    char const* value = line + start;
    uint32_t value_length = end - start;
    if (equal_nocase(line, colon, "host")) {
        if (seen->host)
            return 400;
        seen->host = true;
    } else if (equal_nocase(line, colon, "connection")) {
        seen->connection_close |= list_has(value, value_length, "close");
        seen->connection_keep_alive |= list_has(value, value_length, "keep-alive");
    } else if (equal_nocase(line, colon, "content-length")) {
        if (value_length == 0 || value_length > 18)
            return 400;
        uint64_t number = 0;
        for (uint32_t i = 0; i < value_length; ++i) {
            if (!is_digit(value[i]))
                return 400;
            number = number * 10 + (uint64_t)(value[i] - '0');
        }
        if (seen->content_length && number != request->body_length)
            return 400;
        seen->content_length = true;
        request->body_length = number;
    } else if (equal_nocase(line, colon, "transfer-encoding")) {
        return 501;
    } else if (equal_nocase(line, colon, "if-modified-since")) {
        request->if_modified_since = http_parse_date(value, value_length);
    } else if (equal_nocase(line, colon, "if-none-match")) {
        keep_list(&request->if_none_match, value, value_length);
    } else if (equal_nocase(line, colon, "if-range")) {
        keep_value(&request->if_range, value, value_length);
    } else if (equal_nocase(line, colon, "range")) {
        parse_range(value, value_length, request);
    }
    return 0;
}

/* ---- The request ---- */

int http_parse_request(char const* data, uint32_t length, http_request* request, uint32_t* head_length)
{
    *request = (http_request) { .method = HTTP_OTHER, .if_modified_since = -1 };
    uint32_t at = 0;
    // Empty lines before the request line (RFC 9112 2.2).
    while (at < length && (data[at] == '\r' || data[at] == '\n')) {
        if (data[at] == '\r' && (at + 1 == length || data[at + 1] != '\n'))
            break;
        ++at;
        if (at > HTTP_LINE_MAX)
            return 400;
    }
    uint32_t line_start = at, next = 0;
    uint32_t limit = length - line_start < HTTP_LINE_MAX ? length : line_start + HTTP_LINE_MAX;
    int64_t line_length = line_at(data, line_start, limit, &next);
    if (line_length < 0)
        return length - line_start >= HTTP_LINE_MAX ? 414 : HTTP_INCOMPLETE;
    char const* line = data + line_start;
    uint32_t size = (uint32_t)line_length;

    // METHOD SP TARGET SP HTTP/1.x, single spaces.
    uint32_t method_end = 0;
    while (method_end < size && line[method_end] != ' ') {
        if (!is_token(line[method_end]))
            return 400;
        ++method_end;
    }
    if (method_end == 0 || method_end == size)
        return 400;
    uint32_t target_start = method_end + 1, target_end = target_start;
    while (target_end < size && line[target_end] != ' ')
        ++target_end;
    if (target_end == target_start || target_end == size)
        return 400;
    char const* version = line + target_end + 1;
    uint32_t version_length = size - target_end - 1;
    if (version_length != 8 || !equal(version, 5, "HTTP/") || !is_digit(version[5]) || version[6] != '.' || !is_digit(version[7]))
        return 400;
    if (version[5] != '1')
        return 505;
    request->minor_version = version[7] == '0' ? 0 : 1;
    if (equal(line, method_end, "GET"))
        request->method = HTTP_GET;
    else if (equal(line, method_end, "HEAD"))
        request->method = HTTP_HEAD;

    // The header fields, up to the empty line.
    fields seen = { 0 };
    uint32_t fields_start = next;
    for (;;) {
        uint32_t field_start = next;
        uint32_t field_limit = length - fields_start < HTTP_HEADERS_MAX ? length : fields_start + HTTP_HEADERS_MAX;
        int64_t field_length = line_at(data, field_start, field_limit, &next);
        if (field_length < 0)
            return length - fields_start >= HTTP_HEADERS_MAX ? 431 : HTTP_INCOMPLETE;
        if (field_length == 0)
            break;
        int status = parse_field(data + field_start, (uint32_t)field_length, request, &seen);
        if (status)
            return status;
    }
    if (request->minor_version == 1 && !seen.host)
        return 400; // RFC 9112 3.2: an HTTP/1.1 request names its host
    int status = parse_target(line + target_start, target_end - target_start, request);
    if (status)
        return status;
    request->keep_alive = request->minor_version == 1 ? !seen.connection_close : seen.connection_keep_alive && !seen.connection_close;
    *head_length = next;
    return HTTP_PARSED;
}

/* ---- Responses ---- */

char const* http_content_type(char const* path, uint32_t length)
{
    static struct {
        char const* extension;
        char const* type;
    } const types[] = {
        { "html", "text/html; charset=utf-8" },
        { "htm", "text/html; charset=utf-8" },
        { "txt", "text/plain; charset=utf-8" },
        { "css", "text/css; charset=utf-8" },
        { "js", "text/javascript; charset=utf-8" },
        { "json", "application/json" },
        { "xml", "application/xml" },
        { "svg", "image/svg+xml" },
        { "png", "image/png" },
        { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" },
        { "gif", "image/gif" },
        { "webp", "image/webp" },
        { "ico", "image/x-icon" },
        { "pdf", "application/pdf" },
        { "wasm", "application/wasm" },
    };
    uint32_t dot = length;
    while (dot > 0 && path[dot - 1] != '.' && path[dot - 1] != '/')
        --dot;
    if (dot > 0 && path[dot - 1] == '.') {
        for (uint32_t i = 0; i < sizeof types / sizeof types[0]; ++i) {
            if (equal_nocase(path + dot, length - dot, types[i].extension))
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

char const* http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

static char const month_names[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void http_format_date(uint64_t seconds, char out[29])
{
    static char const days[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" }; // 1970-01-01 was a Thursday
    uint64_t day_number = seconds / 86400, second = seconds % 86400;
    // The civil date of a day number (Howard Hinnant's days_from_civil, inverted).
    int64_t z = (int64_t)day_number + 719468;
    int64_t era = z / 146097;
    int64_t day_of_era = z - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_index = (5 * day_of_year + 2) / 153;
    int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
    int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
    int64_t year = year_of_era + era * 400 + (month <= 2);
    char const* weekday = days[day_number % 7];
    char const* month_name = month_names[month - 1];
    uint64_t hour = second / 3600, minute = second / 60 % 60;
    second %= 60;
    char* o = out;
    for (int i = 0; i < 3; ++i)
        *o++ = weekday[i];
    *o++ = ',';
    *o++ = ' ';
    *o++ = (char)('0' + day / 10);
    *o++ = (char)('0' + day % 10);
    *o++ = ' ';
    for (int i = 0; i < 3; ++i)
        *o++ = month_name[i];
    *o++ = ' ';
    year %= 10000;
    *o++ = (char)('0' + year / 1000);
    *o++ = (char)('0' + year / 100 % 10);
    *o++ = (char)('0' + year / 10 % 10);
    *o++ = (char)('0' + year % 10);
    *o++ = ' ';
    *o++ = (char)('0' + hour / 10);
    *o++ = (char)('0' + hour % 10);
    *o++ = ':';
    *o++ = (char)('0' + minute / 10);
    *o++ = (char)('0' + minute % 10);
    *o++ = ':';
    *o++ = (char)('0' + second / 10);
    *o++ = (char)('0' + second % 10);
    *o++ = ' ';
    *o++ = 'G';
    *o++ = 'M';
    *o++ = 'T';
}

/* ---- Dates, entity tags and ranges ---- */

/* Reads `count` digits at text[*at]; -1 if they are not there. */
static int64_t digits_at(char const* text, uint32_t length, uint32_t* at, uint32_t count)
{
    int64_t number = 0;
    for (uint32_t i = 0; i < count; ++i, ++*at) {
        if (*at >= length || !is_digit(text[*at]))
            return -1;
        number = number * 10 + (text[*at] - '0');
    }
    return number;
}

static bool literal_at(char const* text, uint32_t length, uint32_t* at, char const* expected)
{
    for (; *expected; ++expected, ++*at) {
        if (*at >= length || text[*at] != *expected)
            return false;
    }
    return true;
}

/* A month's name at text[*at]: its index 0-11, or -1. */
static int month_at(char const* text, uint32_t length, uint32_t* at)
{
    if (length - *at < 3)
        return -1;
    for (int m = 0; m < 12; ++m) {
        if (equal(text + *at, 3, month_names[m])) {
            *at += 3;
            return m;
        }
    }
    return -1;
}

/* "HH:MM:SS" at text[*at]: seconds into the day, or -1. */
static int64_t time_of_day_at(char const* text, uint32_t length, uint32_t* at)
{
    int64_t hour = digits_at(text, length, at, 2);
    if (hour < 0 || hour > 23 || !literal_at(text, length, at, ":"))
        return -1;
    int64_t minute = digits_at(text, length, at, 2);
    if (minute < 0 || minute > 59 || !literal_at(text, length, at, ":"))
        return -1;
    int64_t second = digits_at(text, length, at, 2);
    if (second < 0 || second > 60)
        return -1;
    return hour * 3600 + minute * 60 + second;
}

/* Seconds since 1970 of a civil date and time (Howard Hinnant's days_from_civil); -1 before 1970. */
static int64_t epoch_seconds(int64_t year, int64_t month, int64_t day, int64_t time_of_day)
{
    static uint8_t const month_days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (day < 1 || day > month_days[month - 1])
        return -1;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29 && !leap)
        return -1;
    year -= month <= 2;
    int64_t era = year / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    int64_t days = era * 146097 + day_of_era - 719468;
    return days < 0 ? -1 : days * 86400 + time_of_day;
}

int64_t http_parse_date(char const* text, uint32_t length)
{
    static char const* const short_days[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    static char const* const long_days[7] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };
    // The day's name: whole and then a comma (RFC 850), or three letters
    // (IMF-fixdate, asctime). Which day it names is not checked against the date.
    uint32_t at = 0;
    bool full_name = false;
    for (int d = 0; d < 7 && at == 0; ++d) {
        uint32_t long_length = 0;
        while (long_days[d][long_length])
            ++long_length;
        if (length > long_length && equal(text, long_length, long_days[d]) && text[long_length] == ',') {
            full_name = true;
            at = long_length;
        } else if (length > 3 && equal(text, 3, short_days[d])) {
            at = 3;
        }
    }
    if (at == 0)
        return -1;
    int64_t day, month, year, time_of_day;
    if (full_name) {
        // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year from 1970 to 2069.
        if (!literal_at(text, length, &at, ", ") || (day = digits_at(text, length, &at, 2)) < 0 || !literal_at(text, length, &at, "-")
            || (month = month_at(text, length, &at)) < 0 || !literal_at(text, length, &at, "-") || (year = digits_at(text, length, &at, 2)) < 0
            || !literal_at(text, length, &at, " ") || (time_of_day = time_of_day_at(text, length, &at)) < 0 || !literal_at(text, length, &at, " GMT"))
            return -1;
        year += year < 70 ? 2000 : 1900;
    } else if (at < length && text[at] == ',') {
        // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
        if (!literal_at(text, length, &at, ", ") || (day = digits_at(text, length, &at, 2)) < 0 || !literal_at(text, length, &at, " ")
            || (month = month_at(text, length, &at)) < 0 || !literal_at(text, length, &at, " ") || (year = digits_at(text, length, &at, 4)) < 0
            || !literal_at(text, length, &at, " ") || (time_of_day = time_of_day_at(text, length, &at)) < 0 || !literal_at(text, length, &at, " GMT"))
            return -1;
    } else {
        // asctime: "Sun Nov  6 08:49:37 1994" (a day below 10 after two spaces).
        if (!literal_at(text, length, &at, " ") || (month = month_at(text, length, &at)) < 0 || !literal_at(text, length, &at, " "))
            return -1;
        if (at < length && text[at] == ' ') {
            ++at;
            day = digits_at(text, length, &at, 1);
        } else {
            day = digits_at(text, length, &at, 2);
        }
        if (day < 0 || !literal_at(text, length, &at, " ") || (time_of_day = time_of_day_at(text, length, &at)) < 0
            || !literal_at(text, length, &at, " ") || (year = digits_at(text, length, &at, 4)) < 0)
            return -1;
    }
    if (at != length)
        return -1;
    return epoch_seconds(year, month + 1, day, time_of_day);
}

bool http_etag_list_matches(char const* list, uint32_t length, char const* etag, uint32_t etag_length)
{
    if (etag_length >= 2 && etag[0] == 'W' && etag[1] == '/') {
        etag += 2;
        etag_length -= 2;
    }
    uint32_t at = 0;
    for (;;) {
        while (at < length && (list[at] == ' ' || list[at] == '\t' || list[at] == ','))
            ++at;
        if (at == length)
            return false;
        if (list[at] == '*')
            return true; // "*": any current representation, and the file is one
        if (length - at >= 2 && list[at] == 'W' && list[at + 1] == '/')
            at += 2;
        if (at == length || list[at] != '"')
            return false; // not an entity tag: the list is malformed
        uint32_t start = at++;
        while (at < length && list[at] != '"')
            ++at;
        if (at == length)
            return false;
        ++at; // the closing quote
        if (at - start == etag_length) {
            bool same = true;
            for (uint32_t i = 0; i < etag_length && same; ++i)
                same = list[start + i] == etag[i];
            if (same)
                return true;
        }
    }
}

int http_resolve_range(http_request const* request, uint64_t size, uint64_t* first, uint64_t* last)
{
    switch (request->range) {
    case HTTP_RANGE_NONE:
        return -1;
    case HTTP_RANGE_FROM:
    case HTTP_RANGE_SPAN:
        if (request->range_first >= size)
            return 0;
        *first = request->range_first;
        *last = request->range == HTTP_RANGE_SPAN && request->range_last < size ? request->range_last : size - 1;
        return 1;
    case HTTP_RANGE_SUFFIX:
        if (request->range_first == 0 || size == 0)
            return 0;
        *first = request->range_first < size ? size - request->range_first : 0;
        *last = size - 1;
        return 1;
    }
    return -1;
}
