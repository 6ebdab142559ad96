/* Text for the freestanding (native personality) network SIPs, net and httpd,
 * which have no C library: log lines for the kernel's diagnostic stream
 * (system.log under `signet boot`) and the names of ABI statuses. */
#ifndef SIGNET_NET_TEXT_H
#define SIGNET_NET_TEXT_H

#include <signet/abi.h>

#include <stdbool.h>

static char const* const text_status_names[] = {
#define SIGNET_STATUS(name, value, meaning) [value] = #name,
#include <signet/status.def>
#undef SIGNET_STATUS
};

static inline char const* status_name(int32_t status)
{
    if (status >= 0 && (uint32_t)status < sizeof text_status_names / sizeof text_status_names[0] && text_status_names[status])
        return text_status_names[status];
    return "an unknown status";
}

static inline uint32_t text_length(char const* text)
{
    uint32_t length = 0;
    while (text[length])
        ++length;
    return length;
}

/* A line built in place and cut at its capacity: what does not fit is dropped. */
typedef struct log_line {
    char text[256];
    uint32_t length;
} log_line;

static inline void put_bytes(log_line* line, char const* bytes, uint32_t length)
{
    for (uint32_t i = 0; i < length && line->length < sizeof line->text; ++i)
        line->text[line->length++] = bytes[i];
}

static inline void put(log_line* line, char const* text)
{
    put_bytes(line, text, text_length(text));
}

/* Writes `value` in `radix` (10, or 16 in lower case) to `out`: at most 20 bytes; returns how many. */
static inline uint32_t format_number(char* out, uint64_t value, uint32_t radix)
{
    char digits[20];
    uint32_t count = 0;
    do {
        digits[count++] = "0123456789abcdef"[value % radix];
        value /= radix;
    } while (value);
    for (uint32_t i = 0; i < count; ++i)
        out[i] = digits[count - 1 - i];
    return count;
}

static inline void put_number(log_line* line, uint64_t value)
{
    char digits[20];
    put_bytes(line, digits, format_number(digits, value, 10));
}

static inline void log_write(log_line const* line)
{
    (void)signet_debug_log(line->text, line->length);
}

/* Logs "PREFIX TEXT STATUS_NAME", e.g. "net: accepting a client failed: IO". */
static inline void log_status(char const* prefix, char const* text, int32_t status)
{
    log_line line = { .length = 0 };
    put(&line, prefix);
    put(&line, text);
    put(&line, status_name(status));
    log_write(&line);
}

#endif
