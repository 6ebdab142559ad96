// The shell: runs installed programs as child SIPs, joined by channels.
//
//   prog arg... [--param k=v]...    a program installed in the system, by name
//   a | b | c                       Stream channels from each stdout to the next stdin
//   < FILE   > FILE   >> FILE       standard streams to and from files (FileSystem)
//   prog ... &                      in the background; `ps`, `kill ID`, `wait`
//   $?  $!                          the exit status of the last command; the last job's id
//
// Builtins: echo, cat, ls, cp, mkdir, rm, rmdir, cd, pwd, ps, kill, wait,
// install, help, exit, shutdown. See docs/shell.md.
//
// Startup handles: 0 is a Console.Imp (terminal sessions for children), 1, when
// the system has a file system, a FileSystem.Imp. The shell's own stdin,
// stdout and stderr are console sessions its creator bound. A child that
// traps or is killed ends alone: the shell reports it and goes on.
#include <signet/abi.h>

#include "Console.h"
#include "Interrupt.h"
#include "FileSystem.h"
#include "FileSystemCodes.h"
#include "Stream.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char** environ; // POSIX; the C library fills it from WASI's environ_get

enum {
    MaxLine = 4096,
    MaxWords = 128,
    MaxStages = 16,
    MaxJobs = 32,
    MaxVariables = 64,
    MaxValue = 1024,
    EnvironmentBytes = 64 * 1024, // what child_set_environment takes at most
    MaxPumps = 2 * MaxStages,
    StreamChunk = 4096,
};

static signet_handle console;     // Console.Imp
static signet_handle interrupts;  // Interrupt.Imp, armed; 0 without a terminal
static signet_handle file_system; // FileSystem.Imp, or 0 without a file system
static int last_status;
static bool list_interrupted; // a Ctrl-C stopped a program or a wait: the rest of the line does not run
static unsigned long long last_job_id; // $!: the SIP id of the last job started in the background
static bool interactive;
static char cwd[FS_PATH_MAX] = "/";

// ---- Where builtins write: the shell's stdout, a buffer, or a file --------

typedef enum { ToStdout, ToBuffer, ToFile, ToStderr } SinkKind;

typedef struct {
    SinkKind kind;
    char* data; // ToBuffer
    size_t length;
    size_t capacity;
    uint32_t file; // ToFile: an open FileSystem handle
    int error;     // the first FileSystem error writing to the file
} Sink;

static void report(char const* format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vfprintf(stderr, format, arguments);
    va_end(arguments);
    fflush(stderr);
}

// ---- The file system -------------------------------------------------------

static FileSystem_Imp_message fs_reply;
static FileSystem_Write fs_write_message;

static char const* fs_error_text(int code)
{
    switch (code) {
    case FS_EACCES: return "permission denied";
    case FS_EBADF: return "bad file handle";
    case FS_EBUSY: return "busy";
    case FS_EEXIST: return "file exists";
    case FS_EFBIG: return "file too large";
    case FS_EINVAL: return "invalid argument";
    case FS_EIO: return "input/output error";
    case FS_EISDIR: return "is a directory";
    case FS_EMFILE: return "too many open files";
    case FS_ENAMETOOLONG: return "name too long";
    case FS_ENOENT: return "no such file or directory";
    case FS_ENOSPC: return "no space left on the disk";
    case FS_ENOTDIR: return "not a directory";
    case FS_ENOTEMPTY: return "directory not empty";
    case FS_EROFS: return "read-only file system";
    case FS_ESTALE: return "stale file handle";
    case -1: return "the system has no file system";
    case -2: return "the file system is gone";
    default: return "error";
    }
}

// The reply to a request just sent: 0 when it is `expected`, else an error code.
static int fs_wait(int32_t sent, FileSystem_Imp_tag expected)
{
    if (!file_system)
        return -1;
    if (sent != SIGNET_OK)
        return -2;
    FileSystem_Imp_tag tag = FileSystem_Imp_recv(file_system, &fs_reply);
    if (tag == expected)
        return 0;
    if (tag == FileSystem_Imp_Failed)
        return fs_reply.as.Failed.code ? fs_reply.as.Failed.code : FS_EIO;
    return -2;
}

// Gives `child` a fresh connection to the file system at each WASI path its
// manifest grants ([[directory]] guest = ...): its preopened directories.
static bool bind_directories(signet_handle child, char const* name)
{
    char granted[1024];
    uint32_t length = 0;
    int32_t described = signet_child_directories(child, granted, sizeof granted, &length);
    if (described != SIGNET_OK) {
        report("shell: %s: cannot learn the directories its manifest grants (status %d)\n", name, (int)described);
        return false;
    }
    for (uint32_t start = 0; start < length;) {
        char const* path = granted + start;
        uint32_t path_length = (uint32_t)strnlen(path, length - start);
        start += path_length + 1;
        if (!file_system) {
            report("shell: %s: no file system to give it as %.*s\n", name, (int)path_length, path);
            return false;
        }
        if (fs_wait(FileSystem_Imp_send_Connect(file_system), FileSystem_Imp_Connected) != 0) {
            report("shell: %s: the file system refused a connection for %.*s\n", name, (int)path_length, path);
            return false;
        }
        signet_handle connection = fs_reply.as.Connected.connection;
        int32_t bound = signet_child_bind_directory(child, path, path_length, connection);
        if (bound != SIGNET_OK) {
            signet_handle_close(connection);
            if (bound == SIGNET_NOT_FOUND)
                report("shell: %s: cannot give it %.*s: the directory its manifest grants there does not exist\n", name, (int)path_length, path);
            else
                report("shell: %s: cannot give it %.*s (status %d)\n", name, (int)path_length, path, (int)bound);
            return false;
        }
    }
    return true;
}

// Makes `path` absolute against the working directory.
static void absolute(char const* path, char* out)
{
    if (path[0] == '/')
        snprintf(out, FS_PATH_MAX, "%s", path);
    else if (strcmp(cwd, "/") == 0)
        snprintf(out, FS_PATH_MAX, "/%s", path);
    else
        snprintf(out, FS_PATH_MAX, "%s/%s", cwd, path);
}

static int fs_open(char const* path, uint32_t flags, uint32_t* handle)
{
    if (!file_system)
        return -1;
    char full[FS_PATH_MAX];
    absolute(path, full);
    int error = fs_wait(FileSystem_Imp_send_Open(file_system, full, (uint32_t)strlen(full), flags), FileSystem_Imp_Opened);
    if (!error)
        *handle = fs_reply.as.Opened.handle;
    return error;
}

static void fs_close(uint32_t handle)
{
    fs_wait(FileSystem_Imp_send_Close(file_system, handle), FileSystem_Imp_Done);
}

// Reads at most `max` bytes; *length 0 is the end of the file.
static int fs_read(uint32_t handle, uint8_t* buffer, uint32_t max, uint32_t* length)
{
    if (max > FS_IO_MAX)
        max = FS_IO_MAX;
    int error = fs_wait(FileSystem_Imp_send_Read(file_system, handle, max), FileSystem_Imp_Data);
    if (error)
        return error;
    uint32_t got = fs_reply.as.Data.data.length;
    if (got > max)
        got = max;
    memcpy(buffer, fs_reply.as.Data.data.data, got);
    *length = got;
    return 0;
}

static int fs_write_all(uint32_t handle, char const* data, size_t length)
{
    while (length) {
        uint32_t chunk = length > FS_IO_MAX ? FS_IO_MAX : (uint32_t)length;
        memset(&fs_write_message, 0, sizeof fs_write_message);
        fs_write_message.handle = handle;
        fs_write_message.data.length = chunk;
        memcpy(fs_write_message.data.data, data, chunk);
        int error = fs_wait(FileSystem_Imp_send_Write_message(file_system, &fs_write_message), FileSystem_Imp_Written);
        if (error)
            return error;
        uint32_t written = fs_reply.as.Written.count;
        if (written == 0 || written > chunk)
            return FS_EIO;
        data += written;
        length -= written;
    }
    return 0;
}

typedef enum { PathMkdir, PathUnlink, PathRmdir } PathOperation;

static int fs_path_operation(PathOperation operation, char const* path)
{
    if (!file_system)
        return -1;
    char full[FS_PATH_MAX];
    absolute(path, full);
    uint32_t length = (uint32_t)strlen(full);
    int32_t sent = operation == PathMkdir ? FileSystem_Imp_send_Mkdir(file_system, full, length)
        : operation == PathUnlink         ? FileSystem_Imp_send_Unlink(file_system, full, length)
                                          : FileSystem_Imp_send_Rmdir(file_system, full, length);
    return fs_wait(sent, FileSystem_Imp_Done);
}

static int fs_stat(char const* path, uint8_t* type, uint64_t* size)
{
    if (!file_system)
        return -1;
    char full[FS_PATH_MAX];
    absolute(path, full);
    int error = fs_wait(FileSystem_Imp_send_Stat(file_system, full, (uint32_t)strlen(full)), FileSystem_Imp_Status);
    if (!error) {
        *type = fs_reply.as.Status.type;
        *size = fs_reply.as.Status.size;
    }
    return error;
}

// ---- Sinks ---------------------------------------------------------------

static void sink_write(Sink* sink, char const* data, size_t length)
{
    switch (sink->kind) {
    case ToStdout:
        fwrite(data, 1, length, stdout);
        return;
    case ToStderr:
        fflush(stdout);
        fwrite(data, 1, length, stderr);
        return;
    case ToBuffer:
        if (sink->length + length > sink->capacity) {
            size_t capacity = (sink->length + length) * 2 + 256;
            char* grown = realloc(sink->data, capacity);
            if (!grown)
                return;
            sink->data = grown;
            sink->capacity = capacity;
        }
        memcpy(sink->data + sink->length, data, length);
        sink->length += length;
        return;
    case ToFile:
        if (!sink->error)
            sink->error = fs_write_all(sink->file, data, length);
        return;
    }
}

static void sink_printf(Sink* sink, char const* format, ...)
{
    char text[1024];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    if (length > 0)
        sink_write(sink, text, (size_t)length < sizeof text ? (size_t)length : sizeof text - 1);
}

// ---- Variables -------------------------------------------------------------
//
// NAME=value on a line of its own sets a variable of the shell; $NAME and
// ${NAME} (outside single quotes) expand to its value, one word however many
// spaces it holds (no field splitting); an unset one expands to nothing. The
// exported ones (`export`, and those of the shell's own environment) are the
// environment of every program it starts (child_set_environment), with the
// NAME=value words that come before a command for that command alone.

typedef struct {
    char name[64];
    char value[MaxValue];
    bool exported;
} Variable;

static Variable variables[MaxVariables];
static int variable_count;

static bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool name_part(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
static bool is_name(char const* text, size_t length)
{
    bool valid = length > 0 && name_start(text[0]);
    for (size_t i = 1; i < length && valid; ++i)
        valid = name_part(text[i]);
    return valid;
}

static Variable* find_variable(char const* name, size_t length)
{
    for (int i = 0; i < variable_count; ++i) {
        if (strlen(variables[i].name) == length && memcmp(variables[i].name, name, length) == 0)
            return &variables[i];
    }
    return NULL;
}

// Sets NAME=VALUE from an assignment word; false, with a message, past a limit.
static bool assign(char const* word)
{
    char const* equals = strchr(word, '=');
    size_t length = (size_t)(equals - word);
    if (length >= sizeof variables[0].name || strlen(equals + 1) >= MaxValue) {
        report("shell: %.*s: a name of at most %d bytes, a value of at most %d\n", (int)length, word, (int)sizeof variables[0].name - 1, MaxValue - 1);
        return false;
    }
    Variable* variable = find_variable(word, length);
    if (!variable) {
        if (variable_count == MaxVariables) {
            report("shell: at most %d variables\n", MaxVariables);
            return false;
        }
        variable = &variables[variable_count++];
        memcpy(variable->name, word, length);
        variable->name[length] = '\0';
        variable->exported = false;
    }
    strcpy(variable->value, equals + 1);
    return true;
}

// Positional parameters: $0 the script `source` runs (else "shell"), $1..$9 its
// arguments, $# how many it has.
static char const* positional[10] = { "shell" };
static int positional_count;

static void append_value(char const* value, char** out, char const* end)
{
    size_t value_length = strlen(value);
    if (value_length > (size_t)(end - *out))
        value_length = (size_t)(end - *out);
    memcpy(*out, value, value_length);
    *out += value_length;
}

// At `p`, a '$' followed by a name or {name}, a digit or '#': appends the value
// at `out` (up to `end`) and returns how many bytes of the line it took; 0 if
// `p` is none.
static size_t expand_variable(char const* p, char** out, char const* end)
{
    if (p[1] == '#' || (p[1] >= '0' && p[1] <= '9')) {
        char count[12];
        snprintf(count, sizeof count, "%d", positional_count);
        int n = p[1] - '0';
        append_value(p[1] == '#' ? count : n <= positional_count ? positional[n] : "", out, end);
        return 2;
    }
    bool braced = p[1] == '{';
    char const* name = p + (braced ? 2 : 1);
    if (!name_start(*name))
        return 0;
    size_t length = 1;
    while (name_part(name[length]))
        ++length;
    if (braced && name[length] != '}')
        return 0;
    Variable const* variable = find_variable(name, length);
    if (variable)
        append_value(variable->value, out, end);
    return (size_t)(name - p) + length + (braced ? 1 : 0);
}

// ---- Parsing ----------------------------------------------------------------

typedef struct {
    char* words[MaxWords];
    char* pattern[MaxWords]; // a word with an unquoted *, ? or [: it as an fnmatch pattern, what was quoted escaped; else NULL
    bool assignment[MaxWords]; // the word is NAME=value, as typed
    int count;
    char* environment[MaxWords]; // NAME=value words before the command: its environment, beside the exported variables
    int environment_count;
    char* input;  // < FILE
    char* output; // > FILE or >> FILE
    bool append;
    char* errors; // 2> FILE or 2>> FILE
    bool errors_append;
    bool errors_to_output; // 2>&1
    bool output_to_errors; // >&2
} Stage;

typedef struct {
    Stage stages[MaxStages];
    int count;
    bool background;
} Pipeline;

static char word_storage[MaxLine * 2];
static bool literal_bytes[MaxLine * 2]; // of word_storage: quoted, or a $ expansion's
static char pattern_storage[MaxLine * 4];

// `word` (from word_storage) as an fnmatch pattern: its quoted or expanded *, ?,
// [ and \ escaped, so that only what was typed bare matches names.
static char* glob_pattern(char const* word, char** pattern_out)
{
    char* pattern = *pattern_out;
    for (char const* c = word; *c; ++c) {
        if (literal_bytes[c - word_storage] && strchr("*?[\\", *c))
            *(*pattern_out)++ = '\\';
        *(*pattern_out)++ = *c;
    }
    *(*pattern_out)++ = '\0';
    return pattern;
}

// Splits a line into stages. Quotes ('...' and "...") group; $? expands outside
// single quotes; # starts a comment. Returns false with a message on an error.
static bool parse(char const* line, Pipeline* pipeline)
{
    memset(pipeline, 0, sizeof *pipeline);
    char* out = word_storage;
    char* end = word_storage + sizeof word_storage - 16;
    char* pattern_out = pattern_storage;
    Stage* stage = &pipeline->stages[0];
    pipeline->count = 1;
    enum { Word, Input, Output, Errors } expecting = Word;
    char const* p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            ++p;
        if (*p == '\0' || *p == '#')
            break;
        if (pipeline->background) {
            report("shell: '&' must end the line\n");
            return false;
        }
        bool to_errors = p[0] == '2' && p[1] == '>'; // 2> 2>> 2>&1, at the start of a word
        size_t output_to_errors = p[0] == '>' && p[1] == '&' && p[2] == '2' ? 3 : memcmp(p, "1>&2", 4) == 0 ? 4 : 0; // >&2 1>&2
        if (*p == '|' || *p == '<' || *p == '>' || *p == '&' || to_errors || output_to_errors) {
            if (expecting != Word) {
                report("shell: a file name must follow '<' or '>'\n");
                return false;
            }
            if (output_to_errors) {
                // Output where the errors go; the last of > and >&2 wins, as does the last of 2>&1 and >&2.
                stage->output_to_errors = true;
                stage->output = NULL;
                stage->errors_to_output = false;
                p += output_to_errors;
                continue;
            }
            if (to_errors) {
                // The last of 2> and 2>&1 on a command wins, as in a Unix shell.
                if (p[2] == '&' && p[3] == '1') {
                    stage->errors_to_output = true;
                    stage->output_to_errors = false;
                    stage->errors = NULL;
                    p += 4;
                } else {
                    stage->errors_to_output = false;
                    stage->errors_append = p[2] == '>';
                    expecting = Errors;
                    p += stage->errors_append ? 3 : 2;
                }
                continue;
            }
            if (*p == '|') {
                if (stage->count == 0) {
                    report("shell: a command must come before '|'\n");
                    return false;
                }
                if (pipeline->count == MaxStages) {
                    report("shell: at most %d commands in a pipeline\n", MaxStages);
                    return false;
                }
                stage = &pipeline->stages[pipeline->count++];
                ++p;
            } else if (*p == '&') {
                pipeline->background = true;
                ++p;
            } else if (*p == '<') {
                expecting = Input;
                ++p;
            } else {
                stage->append = p[1] == '>';
                stage->output_to_errors = false;
                expecting = Output;
                p += stage->append ? 2 : 1;
            }
            continue;
        }
        char* word = out;
        bool glob = false;
        bool assignment = false;
        bool only_expansions = true; // nothing but unquoted $NAME, $1, ...
        if (expecting == Word && name_start(*p)) {
            char const* q = p;
            while (name_part(*q))
                ++q;
            assignment = *q == '=';
        }
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '|' && *p != '<' && *p != '>' && *p != '&' && out < end) {
            glob |= *p == '*' || *p == '?' || *p == '[';
            size_t taken = 0;
            char* before = out;
            bool literal = true; // all but a bare character
            if (*p != '$' || p[1] == '?' || p[1] == '!')
                only_expansions = false;
            if (*p == '\'' || *p == '"') {
                char quote = *p++;
                while (*p && *p != quote && out < end) {
                    if (quote == '"' && p[0] == '$' && (p[1] == '?' || p[1] == '!')) {
                        out += p[1] == '?' ? snprintf(out, 8, "%d", last_status) : snprintf(out, 24, "%llu", last_job_id);
                        p += 2;
                    } else if (quote == '"' && p[0] == '$' && (taken = expand_variable(p, &out, end)) != 0) {
                        p += taken;
                    } else {
                        *out++ = *p++;
                    }
                }
                if (*p != quote) {
                    report("shell: unterminated quote\n");
                    return false;
                }
                ++p;
            } else if (p[0] == '$' && (p[1] == '?' || p[1] == '!')) {
                out += p[1] == '?' ? snprintf(out, 8, "%d", last_status) : snprintf(out, 24, "%llu", last_job_id);
                p += 2;
            } else if (p[0] == '$' && (taken = expand_variable(p, &out, end)) != 0) {
                p += taken;
            } else {
                only_expansions = false;
                *out++ = *p++;
                literal = false;
            }
            memset(literal_bytes + (before - word_storage), literal, (size_t)(out - before));
        }
        if (out >= end) {
            report("shell: the line is too long\n");
            return false;
        }
        if (expecting == Word && only_expansions && out == word)
            continue; // unquoted expansions of nothing are no word ("$X" is an empty one)
        *out++ = '\0';
        if (expecting == Input) {
            stage->input = word;
        } else if (expecting == Output) {
            stage->output = word;
        } else if (expecting == Errors) {
            stage->errors = word;
        } else {
            if (stage->count == MaxWords - 1) {
                report("shell: too many words\n");
                return false;
            }
            stage->pattern[stage->count] = glob ? glob_pattern(word, &pattern_out) : NULL;
            stage->assignment[stage->count] = assignment;
            stage->words[stage->count++] = word;
        }
        expecting = Word;
    }
    if (expecting != Word) {
        report("shell: a file name must follow '<' or '>'\n");
        return false;
    }
    if (stage->count == 0 && (pipeline->count > 1 || stage->input || stage->output || stage->errors || stage->errors_to_output || pipeline->background)) {
        report("shell: a command is missing\n");
        return false;
    }
    bool relayed = false; // errors the shell relays into the next stage (2>&1 |)
    for (int i = 0; i < pipeline->count - 1; ++i)
        relayed |= pipeline->stages[i].errors_to_output;
    if (pipeline->background && relayed) {
        // A job's streams are served by the shell only while it waits for them.
        report("shell: a job in the background cannot pipe its errors (2>&1 |)\n");
        return false;
    }
    return true;
}

// ---- Jobs: children running in the background --------------------------------

typedef struct {
    signet_handle child;
    uint64_t id;
    char name[64];
    unsigned group; // the pipeline it came from: fg and bg move a pipeline's jobs together
    bool stopped;   // suspended (Ctrl-Z): child_suspend
    uint32_t input; // the console input session its pipeline reads the terminal from, or 0
} Job;

static Job jobs[MaxJobs];
static int job_count;
static unsigned next_group = 1;

// How a child is, as the kernel says ("running", "exited 0", "trapped: ...").
static void describe(signet_handle child, uint64_t* id, char* text, uint32_t capacity)
{
    uint32_t length = 0;
    *id = 0;
    if (signet_child_describe(child, id, text, capacity - 1, &length) != SIGNET_OK)
        length = 0;
    text[length < capacity ? length : capacity - 1] = '\0';
}

// Reports a child that did not end by itself (trapped, killed).
static void report_abnormal_end(char const* name, signet_handle child, int status)
{
    if (status != 134 && status != 137)
        return;
    uint64_t id;
    char text[512];
    describe(child, &id, text, sizeof text);
    report("%s: %s\n", name, text);
}

static void reap_jobs(bool quiet)
{
    for (int i = 0; i < job_count;) {
        int32_t status = 0;
        if (signet_child_wait(jobs[i].child, 0, &status) != SIGNET_OK) {
            ++i;
            continue;
        }
        if (!quiet) {
            uint64_t id;
            char text[512];
            describe(jobs[i].child, &id, text, sizeof text);
            report("[%llu] %s: %s\n", (unsigned long long)jobs[i].id, jobs[i].name, text);
        }
        signet_handle_close(jobs[i].child);
        jobs[i] = jobs[--job_count];
    }
}

// ---- Streams between the shell, its children, the console and files ----------

// A pump is one end of a Stream the shell itself serves: a source answers its
// reader's Reads from a buffer (a builtin's output); a sink reads and writes
// into a Sink. Pumps of a Relay move a command's output and errors into the
// next command. (Files are streams the file system serves: file_input, file_output.)
typedef struct Relay Relay;

typedef struct {
    bool source;
    signet_handle endpoint;
    bool done;
    // Source: a buffer.
    char const* data;
    size_t length;
    size_t offset;
    // Sink.
    Sink* sink;
    Relay* relay; // a relay's reader (source) or one of its writers (sink)
} Pump;

static Pump pumps[MaxPumps];
static int pump_count;

// `a 2>&1 | b`: a's output and errors are two streams, and b's input has one
// writer, so the shell relays: two sinks write into `buffer`, one source answers
// b's Reads from it. A Read that finds nothing waits (held) until a writer
// brings something or both are gone (then Eof); writers stop being read while
// RelayLimit bytes wait, so a slow reader holds back its writers, as a pipe does.
enum { RelayLimit = 64 * 1024 };

struct Relay {
    Sink buffer; // ToBuffer
    size_t offset; // what the reader took
    int writers;   // writer sinks still open
    Pump* reader;
    uint32_t held_read; // the reader's Read(max) not yet answered; 0: none
    Pump* held_writers[2]; // writers not read while the buffer is full
    int held_count;
};

static Relay relays[MaxStages];
static int relay_count;

static bool new_stream(signet_handle* reader, signet_handle* writer)
{
    if (signet_channel_create(Stream_descriptor, Stream_DESCRIPTOR_SIZE, reader, writer) != SIGNET_OK) {
        report("shell: cannot create a stream (out of handles?)\n");
        return false;
    }
    return true;
}

// A stream whose writer prints on the terminal: the console gets its reader.
static bool terminal_output(signet_handle* writer)
{
    signet_handle reader;
    if (!new_stream(&reader, writer))
        return false;
    Console_Imp_message reply;
    if (Console_Imp_send_Attach(console, reader) != SIGNET_OK || Console_Imp_recv(console, &reply) != Console_Imp_Attached) {
        report("shell: the console is gone\n");
        signet_handle_close(*writer);
        return false;
    }
    return true;
}

// `stream` for child_bind_stream; on an interactive console, one bound to the
// terminal says so, and the child's C library takes it for a terminal (isatty,
// a line-buffered stdout).
static uint32_t child_stream(uint32_t stream, bool terminal)
{
    return terminal && interactive ? stream | SIGNET_STREAM_TERMINAL : stream;
}

// The console input session the pipeline in front reads the terminal from (0: none).
static uint32_t front_input;

// While a $(...) or a compound command with > FILE runs: where what would go
// to the terminal goes instead.
static Sink* capture;

// While a compound command with < FILE runs: the file, which `read` takes a
// line of at a time (from `offset`).
static Sink* compound_input;
static size_t compound_offset;

// A stream that reads from the terminal: its reader, and the console's number for it (Continue).
static bool terminal_input(signet_handle* reader, uint32_t* session)
{
    Console_Imp_message reply;
    if (Console_Imp_send_OpenInput(console) != SIGNET_OK || Console_Imp_recv(console, &reply) != Console_Imp_Input) {
        report("shell: the console is gone\n");
        return false;
    }
    *reader = reply.as.Input.reader;
    *session = reply.as.Input.session;
    return true;
}

// A Ctrl-Z typed while a program read the terminal put its read aside in the
// console; the program now continues in front (fg, or it was not suspended):
// the console serves that read again.
static void continue_input(uint32_t session)
{
    Console_Imp_message reply;
    if (session && console && Console_Imp_send_Continue(console, session) == SIGNET_OK)
        (void)Console_Imp_recv(console, &reply);
}

static Pump* add_pump(bool source, signet_handle endpoint)
{
    Pump* pump = &pumps[pump_count++];
    memset(pump, 0, sizeof *pump);
    pump->source = source;
    pump->endpoint = endpoint;
    return pump;
}

static void finish_pump(Pump* pump)
{
    signet_handle_close(pump->endpoint);
    pump->done = true;
}

static void free_relays(void)
{
    for (int i = 0; i < relay_count; ++i)
        free(relays[i].buffer.data);
    relay_count = 0;
}

// Answers the relay's held Read if it can, and reads its writers again once there is room.
static void feed_relay(Relay* relay)
{
    if (relay->held_read && !relay->reader->done) {
        size_t available = relay->buffer.length - relay->offset;
        if (available) {
            uint32_t length = available < relay->held_read ? (uint32_t)available : relay->held_read;
            relay->held_read = 0;
            if (Stream_Exp_send_Data(relay->reader->endpoint, (uint8_t const*)relay->buffer.data + relay->offset, length) != SIGNET_OK)
                finish_pump(relay->reader);
            relay->offset += length;
            if (relay->offset == relay->buffer.length)
                relay->offset = relay->buffer.length = 0;
        } else if (relay->writers == 0) {
            relay->held_read = 0;
            Stream_Exp_send_Eof(relay->reader->endpoint);
            finish_pump(relay->reader);
        }
    }
    if (relay->reader->done) {
        // Nobody reads any more: the writers see their stream closed, as with a pipe.
        for (int i = 0; i < pump_count; ++i) {
            if (pumps[i].relay == relay && !pumps[i].source && !pumps[i].done)
                finish_pump(&pumps[i]);
        }
        relay->held_count = 0;
        return;
    }
    if (relay->buffer.length - relay->offset < RelayLimit) {
        for (int i = 0; i < relay->held_count; ++i) {
            Pump* writer = relay->held_writers[i];
            if (!writer->done && Stream_Imp_send_Read(writer->endpoint, StreamChunk) != SIGNET_OK)
                finish_pump(writer);
        }
        relay->held_count = 0;
    }
}

static void serve_source(Pump* pump)
{
    Stream_Exp_message request;
    if (Stream_Exp_recv(pump->endpoint, &request) != Stream_Exp_Read) {
        finish_pump(pump); // The reader is gone.
        if (pump->relay)
            feed_relay(pump->relay);
        return;
    }
    uint32_t max = request.as.Read.max;
    if (max == 0 || max > StreamChunk)
        max = StreamChunk;
    if (pump->relay) {
        pump->relay->held_read = max;
        feed_relay(pump->relay);
        return;
    }
    static uint8_t chunk[StreamChunk];
    uint32_t length = pump->length - pump->offset < max ? (uint32_t)(pump->length - pump->offset) : max;
    memcpy(chunk, pump->data + pump->offset, length);
    pump->offset += length;
    if (length == 0) {
        Stream_Exp_send_Eof(pump->endpoint);
        finish_pump(pump); // Its reader sees the end either way.
        return;
    }
    if (Stream_Exp_send_Data(pump->endpoint, chunk, length) != SIGNET_OK)
        finish_pump(pump);
}

static void serve_sink(Pump* pump)
{
    static Stream_Imp_message message;
    Relay* relay = pump->relay;
    if (Stream_Imp_recv(pump->endpoint, &message) != Stream_Imp_Data) {
        finish_pump(pump); // Eof, or the writer is gone.
        if (relay) {
            --relay->writers;
            feed_relay(relay);
        }
        return;
    }
    sink_write(pump->sink, (char const*)message.as.Data.data.data, message.as.Data.data.length);
    if (pump->sink->kind == ToStdout)
        fflush(stdout);
    if (relay) {
        feed_relay(relay);
        if (pump->done)
            return; // the relay's reader is gone
        if (relay->buffer.length - relay->offset >= RelayLimit) {
            relay->held_writers[relay->held_count++] = pump;
            return;
        }
    }
    if (Stream_Imp_send_Read(pump->endpoint, StreamChunk) != SIGNET_OK)
        finish_pump(pump);
}

// ---- Ctrl-C ------------------------------------------------------------------

// A child of the pipeline in front, started.
typedef struct {
    signet_handle child;
    char const* name;
} Running;

// On a terminal: the console tells of each Ctrl-C typed while a program runs in
// front (Interrupt.contract); the watch is armed again after each.
static void watch_interrupts(void)
{
    Console_Imp_message reply;
    if (Console_Imp_send_WatchInterrupts(console) != SIGNET_OK || Console_Imp_recv(console, &reply) != Console_Imp_Interrupts)
        return;
    interrupts = reply.as.Interrupts.watcher;
    if (Interrupt_Imp_send_Arm(interrupts) != SIGNET_OK) {
        signet_handle_close(interrupts);
        interrupts = 0;
    }
}

typedef enum { NoKey, CtrlC, CtrlZ } Key;

// Takes the Ctrl-C or Ctrl-Z the console told of, and arms the watch again.
// NoKey if the console is gone (the watch ends).
static Key take_interrupt(void)
{
    Interrupt_Imp_message message;
    Interrupt_Imp_tag tag = Interrupt_Imp_recv(interrupts, &message);
    if ((tag == Interrupt_Imp_Interrupted || tag == Interrupt_Imp_Suspended) && Interrupt_Imp_send_Arm(interrupts) == SIGNET_OK)
        return tag == Interrupt_Imp_Interrupted ? CtrlC : CtrlZ;
    signet_handle_close(interrupts);
    interrupts = 0;
    return NoKey;
}

// A Ctrl-C typed while no program ran in front (during a builtin) is for
// nobody: dropped before the next line is read. One typed after a line was
// entered, before its programs started, stops them as soon as they do.
// The key the console told of and nobody took yet (the watch armed again), or NoKey.
static Key pending_key(void)
{
    uint32_t ready = 0;
    return interrupts && signet_channel_select(&interrupts, 1, 0, &ready) == SIGNET_OK ? take_interrupt() : NoKey;
}

static void drop_stale_interrupt(void)
{
    (void)pending_key();
}

// Suspends every child of a foreground pipeline still running (Ctrl-Z); false,
// with every one running again and a message, if one of them cannot be.
static bool suspend_all(Running* running, int running_count, bool const* ended)
{
    if (pump_count > 0) {
        report("shell: the shell serves this pipeline's files and streams while it waits: it cannot be suspended\n");
        return false;
    }
    for (int i = 0; i < running_count; ++i) {
        if (ended[i] || signet_child_suspend(running[i].child) == SIGNET_OK)
            continue;
        report("shell: %s runs in a protection domain: it cannot be suspended\n", running[i].name);
        for (int j = 0; j < i; ++j)
            signet_child_resume(running[j].child);
        return false;
    }
    return true;
}

typedef enum { Ended, Interrupted, Suspended } Foreground;

// Serves every pump and waits for every child of a foreground pipeline, in one
// select, until each stream and each child has ended. A Ctrl-C stops the
// children still running (child_stop: Interrupted); a Ctrl-Z suspends them
// (child_suspend) and returns at once (Suspended).
static Foreground run_foreground(Running* running, int running_count)
{
    bool ended[MaxStages] = { false };
    bool interrupted = false;
    for (int i = 0; i < pump_count; ++i) {
        if (!pumps[i].source && Stream_Imp_send_Read(pumps[i].endpoint, StreamChunk) != SIGNET_OK)
            finish_pump(&pumps[i]);
    }
    for (;;) {
        // Pumps, then children, then the watch: at most 32 + 16 + 1 handles.
        signet_handle handles[MaxPumps + MaxStages + 1];
        int which[MaxPumps + MaxStages + 1];
        uint32_t count = 0;
        for (int i = 0; i < pump_count; ++i) {
            if (!pumps[i].done) {
                which[count] = i;
                handles[count++] = pumps[i].endpoint;
            }
        }
        uint32_t first_child = count;
        for (int i = 0; i < running_count; ++i) {
            if (!ended[i]) {
                which[count] = i;
                handles[count++] = running[i].child;
            }
        }
        if (count == 0)
            break;
        uint32_t watch = count;
        if (interrupts && !interrupted)
            handles[count++] = interrupts;
        uint32_t ready = 0;
        if (signet_channel_select(handles, count, SIGNET_WAIT_FOREVER, &ready) != SIGNET_OK)
            break;
        if (ready == watch) {
            Key key = take_interrupt();
            if (key == CtrlZ) {
                if (suspend_all(running, running_count, ended))
                    return Suspended;
                continue_input(front_input);
            }
            if (key == CtrlC) {
                interrupted = true;
                for (int i = 0; i < running_count; ++i) {
                    if (!ended[i])
                        signet_child_stop(running[i].child);
                }
            }
        } else if (ready >= first_child) {
            ended[which[ready]] = true;
        } else if (pumps[which[ready]].source) {
            serve_source(&pumps[which[ready]]);
        } else {
            serve_sink(&pumps[which[ready]]);
        }
    }
    for (int i = 0; i < pump_count; ++i) {
        if (!pumps[i].done)
            finish_pump(&pumps[i]);
    }
    pump_count = 0;
    return interrupted ? Interrupted : Ended;
}

// Makes a job of a child of the shell's; false (and the child is left to run
// unwatched) if there are too many.
static bool add_job(signet_handle child, char const* name, unsigned group, bool stopped)
{
    if (job_count == MaxJobs) {
        report("shell: too many jobs; %s runs on unwatched\n", name);
        signet_child_resume(child);
        signet_handle_close(child);
        return false;
    }
    Job* job = &jobs[job_count++];
    job->child = child;
    char text[64];
    describe(child, &job->id, text, sizeof text);
    snprintf(job->name, sizeof job->name, "%s", name);
    job->group = group;
    job->stopped = stopped;
    job->input = 0;
    return true;
}

// Waits for a foreground pipeline's children after run_foreground: their
// statuses (the last one's is the pipeline's), or, suspended, they become
// stopped jobs (status 148, as a Unix shell says of a program stopped by SIGTSTP).
static int finish_foreground(Running* running, int running_count, Foreground how, unsigned group)
{
    int status = 0;
    for (int i = 0; i < running_count; ++i) {
        int32_t child_status = 0;
        if (how == Suspended && signet_child_wait(running[i].child, 0, &child_status) == SIGNET_TIMED_OUT) {
            if (add_job(running[i].child, running[i].name, group, true)) {
                jobs[job_count - 1].input = front_input;
                report("[%llu] Stopped %s\n", (unsigned long long)jobs[job_count - 1].id, running[i].name);
            }
            status = 148;
            continue;
        }
        if (signet_child_wait(running[i].child, SIGNET_WAIT_FOREVER, &child_status) != SIGNET_OK)
            child_status = 1;
        // What Ctrl-C stopped is not reported: the user asked for it.
        if (how != Interrupted)
            report_abnormal_end(running[i].name, running[i].child, child_status);
        status = how == Suspended ? 148 : child_status;
        signet_handle_close(running[i].child);
    }
    if (how == Interrupted) {
        status = 130; // as a Unix shell says of a program ended by SIGINT
        list_interrupted = true;
    }
    return status;
}

// ---- Builtins --------------------------------------------------------------

typedef int (*BuiltinFunction)(int argc, char** argv, Sink* out, Sink* in_file);

// Copies the shell's own stdin (the terminal) to `out`.
// What the shell's own stdin holds, to its end (a script's lines, until Ctrl-D on a terminal).
static void copy_stdin(Sink* out)
{
    char buffer[StreamChunk];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, stdin)) > 0)
        sink_write(out, buffer, got);
    clearerr(stdin);
}

// On an interactive terminal: what is typed, to Ctrl-D, through a console input
// session of its own (not the shell's command line), so that Ctrl-C ends it as
// it ends a program: status 130, and the rest of the line does not run. A
// builtin cannot be suspended: Ctrl-Z is refused, and the reading goes on.
// With `one_line`, only the next line (what the console answers a Read with).
static int copy_terminal(Sink* out, bool one_line)
{
    signet_handle reader;
    uint32_t session;
    if (!terminal_input(&reader, &session))
        return 1;
    static Stream_Imp_message message;
    bool reading = true;
    while (reading && Stream_Imp_send_Read(reader, StreamChunk) == SIGNET_OK) {
        // The answer, or a key: Ctrl-C also ends the read (Eof), Ctrl-Z puts it aside.
        for (;;) {
            signet_handle handles[2] = { reader, interrupts };
            uint32_t ready = 0;
            if (signet_channel_select(handles, interrupts ? 2 : 1, SIGNET_WAIT_FOREVER, &ready) != SIGNET_OK || ready == 0)
                break;
            Key key = take_interrupt();
            if (key == CtrlC)
                reading = false;
            if (key == CtrlZ) {
                report("shell: cat is a builtin: it cannot be suspended\n");
                continue_input(session);
            }
        }
        if (Stream_Imp_recv(reader, &message) != Stream_Imp_Data)
            break;
        sink_write(out, (char const*)message.as.Data.data.data, message.as.Data.data.length);
        if (out->kind == ToStdout)
            fflush(stdout);
        if (one_line && memchr(message.as.Data.data.data, '\n', message.as.Data.data.length))
            break;
    }
    signet_handle_close(reader);
    // A Ctrl-C ends the read with Eof after the console told the watch: take it.
    if (reading && pending_key() == CtrlC)
        reading = false;
    if (reading)
        return 0;
    list_interrupted = true;
    return 130;
}

static int copy_file(char const* name, char const* path, Sink* out)
{
    uint32_t handle;
    int error = fs_open(path, FS_OPEN_READ, &handle);
    if (error) {
        report("%s: %s: %s\n", name, path, fs_error_text(error));
        return 1;
    }
    static uint8_t buffer[FS_IO_MAX];
    for (;;) {
        uint32_t length = 0;
        error = fs_read(handle, buffer, sizeof buffer, &length);
        if (error) {
            report("%s: %s: %s\n", name, path, fs_error_text(error));
            break;
        }
        if (length == 0)
            break;
        sink_write(out, (char const*)buffer, length);
    }
    fs_close(handle);
    return error ? 1 : 0;
}

static int builtin_echo(int argc, char** argv, Sink* out, Sink* in)
{
    for (int i = 1; i < argc; ++i) {
        if (i > 1)
            sink_write(out, " ", 1);
        sink_write(out, argv[i], strlen(argv[i]));
    }
    sink_write(out, "\n", 1);
    return 0;
}

static int builtin_cat(int argc, char** argv, Sink* out, Sink* in)
{
    if (argc == 1) {
        if (in)
            sink_write(out, in->data, in->length);
        else if (interactive && console)
            return copy_terminal(out, false);
        else
            copy_stdin(out);
        return 0;
    }
    int status = 0;
    for (int i = 1; i < argc; ++i)
        status |= copy_file("cat", argv[i], out);
    return status;
}

// read [NAME...]: the next line of the shell's input (a redirected file's
// first, or the terminal's, through a session of its own so that Ctrl-C ends
// it: 130), split at blanks into the variables, the last taking the rest
// (REPLY without a name). Status 1 at the end of the input.
static int builtin_read(int argc, char** argv, Sink* out, Sink* in)
{
    for (int i = 1; i < argc; ++i) {
        if (!is_name(argv[i], strlen(argv[i]))) {
            report("read: '%s' is not a variable's name\n", argv[i]);
            return 2; // before reading: the line is left for whoever reads next
        }
    }
    Sink line = { .kind = ToBuffer };
    int status = 0;
    if (in) {
        char const* newline = in->length ? memchr(in->data, '\n', in->length) : NULL;
        sink_write(&line, in->data, newline ? (size_t)(newline - in->data) + 1 : in->length);
    } else if (compound_input) {
        // `while read ...; done < FILE`: the file's next line.
        char const* rest = compound_input->data + compound_offset;
        size_t left = compound_input->length - compound_offset;
        char const* newline = left ? memchr(rest, '\n', left) : NULL;
        size_t length = newline ? (size_t)(newline - rest) + 1 : left;
        sink_write(&line, rest, length);
        compound_offset += length;
    } else if (interactive && console) {
        status = copy_terminal(&line, true);
    } else {
        static char text[MaxLine];
        if (fgets(text, sizeof text, stdin))
            sink_write(&line, text, strlen(text));
        clearerr(stdin);
    }
    if (status || line.length == 0) {
        free(line.data);
        return status ? status : 1;
    }
    if (line.data[line.length - 1] == '\n')
        --line.length;
    sink_write(&line, "", 1); // its end
    char* p = line.data;
    char const* names[MaxWords] = { "REPLY" };
    int count = argc > 1 ? argc - 1 : 1;
    for (int i = 1; i < argc; ++i)
        names[i - 1] = argv[i];
    for (int i = 0; i < count; ++i) {
        while (*p == ' ' || *p == '\t')
            ++p;
        char* value = p;
        if (i < count - 1) {
            while (*p && *p != ' ' && *p != '\t')
                ++p;
            if (*p)
                *p++ = '\0';
        } else {
            size_t length = strlen(value); // the last takes the rest, without trailing blanks
            while (length && (value[length - 1] == ' ' || value[length - 1] == '\t'))
                value[--length] = '\0';
        }
        char assignment[MaxValue + 80];
        snprintf(assignment, sizeof assignment, "%s=%s", names[i], value);
        if (!assign(assignment))
            status = 1;
    }
    free(line.data);
    return status;
}

// Calls `entry` for each name in the directory at absolute path `full`; an fs error, or 0.
typedef void (*EntryFunction)(void* context, uint8_t type, char const* name, uint32_t length);
static int list_directory(char const* full, EntryFunction entry, void* context)
{
    uint32_t cursor = 0;
    do {
        int error = fs_wait(FileSystem_Imp_send_List(file_system, full, (uint32_t)strlen(full), cursor), FileSystem_Imp_Entries);
        if (error)
            return error;
        uint8_t const* packed = fs_reply.as.Entries.packed.data;
        uint32_t length = fs_reply.as.Entries.packed.length;
        uint32_t at = 0;
        for (uint32_t n = 0; n < fs_reply.as.Entries.count && at + 2 <= length; ++n) {
            uint8_t name_length = packed[at + 1];
            if (at + 2 + name_length > length)
                break;
            entry(context, packed[at], (char const*)packed + at + 2, name_length);
            at += 2 + name_length;
        }
        cursor = fs_reply.as.Entries.next;
    } while (cursor != 0);
    return 0;
}

static void print_entry(void* context, uint8_t type, char const* name, uint32_t length)
{
    sink_printf((Sink*)context, "%.*s%s\n", (int)length, name, type == FS_TYPE_DIRECTORY ? "/" : "");
}

static int builtin_ls(int argc, char** argv, Sink* out, Sink* in)
{
    if (!file_system) {
        report("ls: %s\n", fs_error_text(-1));
        return 1;
    }
    int status = 0;
    for (int i = 1; i < argc || i == 1; ++i) {
        char const* path = i < argc ? argv[i] : ".";
        char full[FS_PATH_MAX];
        absolute(path, full);
        uint8_t type = 0;
        uint64_t size = 0;
        int error = fs_stat(path, &type, &size);
        if (error) {
            report("ls: %s: %s\n", path, fs_error_text(error));
            status = 1;
            continue;
        }
        if (type != FS_TYPE_DIRECTORY) {
            sink_printf(out, "%s\n", path);
            continue;
        }
        if (argc > 2)
            sink_printf(out, "%s:\n", path);
        error = list_directory(full, print_entry, out);
        if (error) {
            report("ls: %s: %s\n", path, fs_error_text(error));
            status = 1;
        }
    }
    return status;
}

static int builtin_cp(int argc, char** argv, Sink* out, Sink* in)
{
    if (argc != 3) {
        report("usage: cp FROM TO\n");
        return 2;
    }
    uint32_t handle;
    int error = fs_open(argv[2], FS_OPEN_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE, &handle);
    if (error) {
        report("cp: %s: %s\n", argv[2], fs_error_text(error));
        return 1;
    }
    Sink file = { .kind = ToFile, .file = handle };
    int status = copy_file("cp", argv[1], &file);
    if (file.error) {
        report("cp: %s: %s\n", argv[2], fs_error_text(file.error));
        status = 1;
    }
    fs_close(handle);
    return status;
}

static int path_builtin(char const* name, PathOperation operation, int argc, char** argv)
{
    if (argc < 2) {
        report("usage: %s PATH...\n", name);
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; ++i) {
        int error = fs_path_operation(operation, argv[i]);
        if (error) {
            report("%s: %s: %s\n", name, argv[i], fs_error_text(error));
            status = 1;
        }
    }
    return status;
}

static int builtin_mkdir(int argc, char** argv, Sink* out, Sink* in) { return path_builtin("mkdir", PathMkdir, argc, argv); }
static int builtin_rm(int argc, char** argv, Sink* out, Sink* in) { return path_builtin("rm", PathUnlink, argc, argv); }
static int builtin_rmdir(int argc, char** argv, Sink* out, Sink* in) { return path_builtin("rmdir", PathRmdir, argc, argv); }

static int builtin_cd(int argc, char** argv, Sink* out, Sink* in)
{
    char const* path = argc > 1 ? argv[1] : "/";
    uint8_t type = 0;
    uint64_t size = 0;
    int error = fs_stat(path, &type, &size);
    if (!error && type != FS_TYPE_DIRECTORY)
        error = FS_ENOTDIR;
    if (error) {
        report("cd: %s: %s\n", path, fs_error_text(error));
        return 1;
    }
    char full[FS_PATH_MAX];
    absolute(path, full);
    // Keep the working directory in normal form: no "." or ".." components.
    char normal[FS_PATH_MAX] = "";
    size_t length = 0;
    for (char* component = strtok(full, "/"); component; component = strtok(NULL, "/")) {
        if (strcmp(component, ".") == 0)
            continue;
        if (strcmp(component, "..") == 0) {
            while (length > 0 && normal[length - 1] != '/')
                --length;
            if (length > 0)
                --length;
            normal[length] = '\0';
            continue;
        }
        length += (size_t)snprintf(normal + length, sizeof normal - length, "/%s", component);
    }
    snprintf(cwd, sizeof cwd, "%s", length ? normal : "/");
    return 0;
}

static int builtin_pwd(int argc, char** argv, Sink* out, Sink* in)
{
    sink_printf(out, "%s\n", cwd);
    return 0;
}

static int builtin_ps(int argc, char** argv, Sink* out, Sink* in)
{
    sink_printf(out, "%6s  %-40s  %s\n", "ID", "STATE", "PROGRAM");
    sink_printf(out, "%6llu  %-40s  %s\n", (unsigned long long)signet_self_id(), "running", "shell (this shell)");
    for (int i = 0; i < job_count; ++i) {
        uint64_t id;
        char text[512];
        describe(jobs[i].child, &id, text, sizeof text);
        sink_printf(out, "%6llu  %-40s  %s\n", (unsigned long long)id, text, jobs[i].name);
    }
    return 0;
}

static int builtin_kill(int argc, char** argv, Sink* out, Sink* in)
{
    if (argc < 2) {
        report("usage: kill ID...  (the IDs 'ps' shows)\n");
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; ++i) {
        unsigned long long id = strtoull(argv[i], NULL, 10);
        int found = -1;
        for (int j = 0; j < job_count && found < 0; ++j) {
            if (jobs[j].id == id)
                found = j;
        }
        // Only the shell's own children: the closed API gives no handle on any other SIP.
        if (found < 0) {
            report("kill: %s: no such job of this shell\n", argv[i]);
            status = 1;
            continue;
        }
        signet_child_stop(jobs[found].child);
        int32_t ignored = 0;
        signet_child_wait(jobs[found].child, SIGNET_WAIT_FOREVER, &ignored);
    }
    return status;
}

// Waits for every job but the stopped ones. Ctrl-C ends the wait (130), not the jobs.
static int builtin_wait(int argc, char** argv, Sink* out, Sink* in)
{
    for (;;) {
        signet_handle handles[MaxJobs + 1];
        uint32_t count = 0;
        for (int i = 0; i < job_count; ++i) {
            int32_t status = 0;
            if (!jobs[i].stopped && signet_child_wait(jobs[i].child, 0, &status) == SIGNET_TIMED_OUT)
                handles[count++] = jobs[i].child;
        }
        if (count == 0)
            break;
        uint32_t watch = count;
        if (interrupts)
            handles[count++] = interrupts;
        uint32_t ready = 0;
        if (signet_channel_select(handles, count, SIGNET_WAIT_FOREVER, &ready) != SIGNET_OK)
            break;
        if (ready == watch && take_interrupt() == CtrlC) {
            reap_jobs(false);
            list_interrupted = true;
            return 130;
        }
    }
    reap_jobs(false);
    return 0;
}

// The group of the job `argv[1]` names (an ID as ps shows it), or with no
// argument the last job's, preferring a stopped one; 0 with a message if none.
static unsigned job_group(char const* builtin, int argc, char** argv)
{
    if (argc > 1) {
        unsigned long long id = strtoull(argv[1], NULL, 10);
        for (int i = 0; i < job_count; ++i) {
            if (jobs[i].id == id)
                return jobs[i].group;
        }
        report("%s: %s: no such job of this shell\n", builtin, argv[1]);
        return 0;
    }
    for (int i = job_count - 1; i >= 0; --i) {
        if (jobs[i].stopped)
            return jobs[i].group;
    }
    if (job_count > 0)
        return jobs[job_count - 1].group;
    report("%s: no jobs\n", builtin);
    return 0;
}

// fg [ID]: continues a job's pipeline (every job started with it) in front, and
// waits for it as for any foreground pipeline (Ctrl-C stops it, Ctrl-Z suspends it again).
static int builtin_fg(int argc, char** argv, Sink* out, Sink* in)
{
    unsigned group = job_group("fg", argc, argv);
    if (!group)
        return 1;
    Running running[MaxStages];
    static char names[MaxStages][64]; // the jobs' names, once they are no jobs
    int running_count = 0;
    front_input = 0;
    for (int i = 0; i < job_count;) {
        if (jobs[i].group != group || running_count == MaxStages) {
            ++i;
            continue;
        }
        if (jobs[i].input && !front_input)
            continue_input(front_input = jobs[i].input);
        signet_child_resume(jobs[i].child);
        sink_printf(out, "%s\n", jobs[i].name);
        running[running_count].child = jobs[i].child;
        memcpy(names[running_count], jobs[i].name, sizeof names[0]);
        running[running_count].name = names[running_count];
        ++running_count;
        jobs[i] = jobs[--job_count];
    }
    fflush(stdout);
    return finish_foreground(running, running_count, run_foreground(running, running_count), group);
}

// bg [ID]: continues a stopped job's pipeline in the background.
static int builtin_bg(int argc, char** argv, Sink* out, Sink* in)
{
    unsigned group = job_group("bg", argc, argv);
    if (!group)
        return 1;
    for (int i = 0; i < job_count; ++i) {
        if (jobs[i].group == group && jobs[i].stopped) {
            signet_child_resume(jobs[i].child);
            jobs[i].stopped = false;
            last_job_id = jobs[i].id;
            sink_printf(out, "[%llu] %s &\n", (unsigned long long)jobs[i].id, jobs[i].name);
        }
    }
    return 0;
}

// jobs: the shell's jobs, running or stopped.
static int builtin_jobs(int argc, char** argv, Sink* out, Sink* in)
{
    reap_jobs(false);
    for (int i = 0; i < job_count; ++i)
        sink_printf(out, "[%llu] %-8s %s\n", (unsigned long long)jobs[i].id, jobs[i].stopped ? "stopped" : "running", jobs[i].name);
    return 0;
}

// Lists the shell's variables (set), or forgets some (unset NAME...).
static int builtin_set(int argc, char** argv, Sink* out, Sink* in)
{
    for (int i = 0; i < variable_count; ++i)
        sink_printf(out, "%s=%s\n", variables[i].name, variables[i].value);
    return 0;
}

static int builtin_unset(int argc, char** argv, Sink* out, Sink* in)
{
    for (int a = 1; a < argc; ++a) {
        Variable* variable = find_variable(argv[a], strlen(argv[a]));
        if (variable)
            *variable = variables[--variable_count];
    }
    return 0;
}

// export NAME[=value]...: the variables become the environment of the programs
// the shell starts; `export` alone lists them.
static int builtin_export(int argc, char** argv, Sink* out, Sink* in)
{
    if (argc == 1) {
        for (int i = 0; i < variable_count; ++i) {
            if (variables[i].exported)
                sink_printf(out, "export %s=%s\n", variables[i].name, variables[i].value);
        }
        return 0;
    }
    int status = 0;
    for (int a = 1; a < argc; ++a) {
        size_t length = strcspn(argv[a], "=");
        if (!is_name(argv[a], length)) {
            report("export: %s: not a variable name\n", argv[a]);
            status = 1;
            continue;
        }
        Variable* variable = find_variable(argv[a], length);
        if (argv[a][length] == '=' || !variable) {
            // NAME=value, or a NAME not set yet: it is set (to nothing).
            char word[sizeof variables[0].name + MaxValue + 1];
            snprintf(word, sizeof word, "%.*s=%s", (int)length, argv[a], argv[a][length] == '=' ? argv[a] + length + 1 : "");
            if (!assign(word)) {
                status = 1;
                continue;
            }
            variable = find_variable(argv[a], length);
        }
        variable->exported = true;
    }
    return status;
}

static int builtin_install(int argc, char** argv, Sink* out, Sink* in)
{
    // Code enters the system only through the installer, which verifies and
    // compiles it in the kernel domain; no SIP can add code (fixed code, closed API).
    report("install: programs are installed from the host, into the system image:\n"
           "  SIGNET_HOME=IMAGE signet install PROGRAM.toml   (or signet boot --install PROGRAM.toml)\n"
           "and can be run by name after the next boot\n");
    return 1;
}

static int builtin_help(int argc, char** argv, Sink* out, Sink* in)
{
    sink_printf(out, "Run installed programs by name: prog arg... [--param k=v]...\n"
                     "  a | b    pipes       < f  > f  >> f  2> f  2>> f  2>&1  >&2   redirection      cmd &   in the background\n"
                     "  $?       the exit status of the last command          Ctrl-C  stops the program in front\n"
                     "  Ctrl-Z   suspends the program in front      jobs   fg [ID]   bg [ID]   kill ID   wait   the shell's jobs\n"
                     "  * ? [..] names that match, in the last part of a path      NAME=value  $NAME  ${NAME}   the shell's variables\n"
                     "  export NAME[=value]   programs see it in their environment    NAME=value prog   for that program alone\n"
                     "  a ; b    one after the other    a && b   b if a succeeded    a || b   b if a failed    a & b   a in the background\n"
                     "  if a; then b; elif c; then d; else e; fi    while a; do b; done    until a; do b; done    for x in w...; do b; done\n"
                     "  $(a)     what a writes, in the line         source FILE ARG...   a script's lines, with $1..$9 and $#\n"
                     "Builtins: echo cat ls cp mkdir rm rmdir cd pwd ps kill wait jobs fg bg set unset export source read true false break continue install help exit shutdown\n");
    return 0;
}

static int builtin_true(int argc, char** argv, Sink* out, Sink* in)
{
    return 0;
}

// break [N], continue [N]: leave the innermost N loops (while, until, for), or
// go on with the next round of the Nth.
typedef enum { LoopGoesOn, LoopBreak, LoopContinue } LoopControl;
static int loop_depth;           // loops running
static LoopControl loop_control; // a break or continue on its way out
static int loop_levels;          // how many loops it leaves

static int loop_builtin(int argc, char** argv, LoopControl control)
{
    int levels = argc > 1 ? atoi(argv[1]) : 1;
    if (argc > 2 || levels < 1) {
        report("usage: %s [N] (N at least 1)\n", argv[0]);
        return 2;
    }
    if (loop_depth == 0) {
        report("%s: only inside a loop\n", argv[0]);
        return 1;
    }
    loop_control = control;
    loop_levels = levels < loop_depth ? levels : loop_depth;
    return 0;
}

static int builtin_break(int argc, char** argv, Sink* out, Sink* in)
{
    return loop_builtin(argc, argv, LoopBreak);
}

static int builtin_continue(int argc, char** argv, Sink* out, Sink* in)
{
    return loop_builtin(argc, argv, LoopContinue);
}

static int builtin_false(int argc, char** argv, Sink* out, Sink* in)
{
    return 1;
}

typedef struct {
    char const* name;
    BuiltinFunction function;
    bool reads_input; // may end a pipeline (reads what the stage before it writes)
} Builtin;

static Builtin const builtins[] = {
    { "echo", builtin_echo, false },
    { "cat", builtin_cat, true },
    { "ls", builtin_ls, false },
    { "cp", builtin_cp, false },
    { "mkdir", builtin_mkdir, false },
    { "rm", builtin_rm, false },
    { "rmdir", builtin_rmdir, false },
    { "cd", builtin_cd, false },
    { "pwd", builtin_pwd, false },
    { "ps", builtin_ps, false },
    { "kill", builtin_kill, false },
    { "wait", builtin_wait, false },
    { "jobs", builtin_jobs, false },
    { "fg", builtin_fg, false },
    { "bg", builtin_bg, false },
    { "set", builtin_set, false },
    { "unset", builtin_unset, false },
    { "export", builtin_export, false },
    { "install", builtin_install, false },
    { "help", builtin_help, false },
    { "read", builtin_read, false },
    { "true", builtin_true, false },
    { "false", builtin_false, false },
    { "break", builtin_break, false },
    { "continue", builtin_continue, false },
};

static Builtin const* find_builtin(char const* name)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; ++i) {
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    }
    return NULL;
}

// Opens the file a stage writes to.
static bool open_file_sink(char const* path, bool append, Sink* sink)
{
    uint32_t flags = FS_OPEN_WRITE | FS_OPEN_CREATE | (append ? FS_OPEN_APPEND : FS_OPEN_TRUNCATE);
    int error = fs_open(path, flags, &sink->file);
    if (error) {
        report("shell: %s: %s\n", path, fs_error_text(error));
        return false;
    }
    sink->kind = ToFile;
    return true;
}

static bool open_output(Stage* stage, Sink* sink)
{
    return open_file_sink(stage->output, stage->append, sink);
}

// A program's stream into the file at `path` (appended to, or truncated first):
// the file system serves it (StreamTo), so it needs nothing of the shell; the
// writer, for the program, in *writer.
static bool file_output(char const* path, bool append, bool truncate, signet_handle* writer)
{
    uint32_t file;
    uint32_t flags = FS_OPEN_WRITE | FS_OPEN_CREATE | (append ? FS_OPEN_APPEND : 0) | (truncate ? FS_OPEN_TRUNCATE : 0);
    int error = fs_open(path, flags, &file);
    signet_handle reader;
    if (!error && !new_stream(&reader, writer)) {
        fs_close(file);
        return false;
    }
    if (!error && (error = fs_wait(FileSystem_Imp_send_StreamTo(file_system, file, reader), FileSystem_Imp_Done))) {
        signet_handle_close(*writer);
        fs_close(file); // if the file system kept it
    }
    if (error)
        report("shell: %s: %s\n", path, fs_error_text(error));
    return !error;
}

// A program's stream of the file at `path`, served by the file system
// (StreamFrom): the reader, for the program, in *reader.
static bool file_input(char const* path, signet_handle* reader)
{
    uint32_t file;
    int error = fs_open(path, FS_OPEN_READ, &file);
    if (!error && (error = fs_wait(FileSystem_Imp_send_StreamFrom(file_system, file), FileSystem_Imp_Streaming)))
        fs_close(file);
    if (error) {
        report("shell: %s: %s\n", path, fs_error_text(error));
        return false;
    }
    *reader = fs_reply.as.Streaming.reader;
    return true;
}

// A builtin alone: output to the terminal or to a file, input from a file if redirected.
static int run_builtin_alone(Builtin const* builtin, Stage* stage)
{
    Sink out = { .kind = stage->output_to_errors ? ToStderr : ToStdout };
    Sink* target = capture && !stage->output && !stage->output_to_errors ? capture : &out; // inside $(...): collected
    Sink in = { .kind = ToBuffer };
    bool has_input = false;
    if (stage->input) {
        if (copy_file("shell", stage->input, &in) != 0)
            return 1;
        has_input = true;
    }
    if (stage->output && !open_output(stage, &out)) {
        free(in.data);
        return 1;
    }
    int status = builtin->function(stage->count, stage->words, target, has_input ? &in : NULL);
    if (out.kind == ToFile) {
        if (out.error) {
            report("shell: %s: %s\n", stage->output, fs_error_text(out.error));
            status = 1;
        }
        fs_close(out.file);
    }
    fflush(stdout);
    free(in.data);
    return status;
}

// ---- Running a pipeline ---------------------------------------------------------

// The value of a `--param k=v` or `--param=k=v` word at `i` (advancing past it), or NULL.
static char const* parameter_at(Stage* stage, int* i)
{
    char const* word = stage->words[*i];
    if (strcmp(word, "--param") == 0 && *i + 1 < stage->count)
        return stage->words[++*i];
    if (strncmp(word, "--param=", 8) == 0)
        return word + 8;
    return NULL;
}

// Gives the child the `--param k=v` of its command line, checked against its manifest.
static bool set_parameters(Stage* stage, signet_handle child)
{
    for (int i = 1; i < stage->count; ++i) {
        char const* parameter = parameter_at(stage, &i);
        if (!parameter)
            continue;
        char const* equals = strchr(parameter, '=');
        int32_t status = equals ? signet_child_set_param(child, parameter, (uint32_t)(equals - parameter), equals + 1, (uint32_t)strlen(equals + 1))
                                : SIGNET_INVALID_ARGUMENT;
        if (status != SIGNET_OK) {
            report("%s: --param %s: %s\n", stage->words[0], parameter,
                !equals ? "expected NAME=VALUE" : status == SIGNET_NOT_FOUND ? "the program declares no such parameter" : "not a valid value for its type");
            return false;
        }
    }
    return true;
}

// NUL-separated arguments; `--param k=v` words are parameters, not arguments.
static uint32_t pack_arguments(Stage* stage, char* buffer, uint32_t capacity)
{
    uint32_t length = 0;
    for (int i = 1; i < stage->count; ++i) {
        if (parameter_at(stage, &i))
            continue;
        size_t word = strlen(stage->words[i]) + 1;
        if (length + word > capacity)
            break;
        memcpy(buffer + length, stage->words[i], word);
        length += (uint32_t)word;
    }
    return length;
}

// Moves the NAME=value words before a stage's command to its environment;
// false if no command follows them.
static bool take_environment(Stage* stage)
{
    int taken = 0;
    while (taken < stage->count && stage->assignment[taken])
        stage->environment[stage->environment_count++] = stage->words[taken++];
    if (taken == 0)
        return true;
    stage->count -= taken;
    memmove(stage->words, stage->words + taken, (size_t)stage->count * sizeof stage->words[0]);
    memmove(stage->pattern, stage->pattern + taken, (size_t)stage->count * sizeof stage->pattern[0]);
    memmove(stage->assignment, stage->assignment + taken, (size_t)stage->count * sizeof stage->assignment[0]);
    return stage->count > 0;
}

// Whether two NAME=value (or NAME) strings name the same variable.
static bool same_name(char const* a, char const* b)
{
    size_t length = strcspn(a, "=");
    return strcspn(b, "=") == length && strncmp(a, b, length) == 0;
}

// Appends "NAME=value" and its NUL; false if it does not fit.
static bool append_entry(char* buffer, uint32_t capacity, uint32_t* length, char const* name, size_t name_length, char const* value)
{
    size_t value_length = strlen(value);
    if (*length + name_length + value_length + 2 > capacity)
        return false;
    char* at = buffer + *length;
    memcpy(at, name, name_length);
    at[name_length] = '=';
    memcpy(at + name_length + 1, value, value_length + 1);
    *length += (uint32_t)(name_length + value_length + 2);
    return true;
}

// Gives a child its environment: the exported variables, and the stage's own
// NAME=value words, which win over an exported variable of the same name (and
// the last of two for one name wins).
static bool set_environment(Stage* stage, signet_handle child)
{
    static char buffer[EnvironmentBytes];
    uint32_t length = 0;
    bool fits = true;
    for (int i = 0; i < variable_count && fits; ++i) {
        bool overridden = false;
        for (int j = 0; j < stage->environment_count; ++j)
            overridden |= same_name(variables[i].name, stage->environment[j]);
        if (variables[i].exported && !overridden)
            fits = append_entry(buffer, sizeof buffer, &length, variables[i].name, strlen(variables[i].name), variables[i].value);
    }
    for (int i = 0; i < stage->environment_count && fits; ++i) {
        bool overridden = false;
        for (int j = i + 1; j < stage->environment_count; ++j)
            overridden |= same_name(stage->environment[i], stage->environment[j]);
        char const* word = stage->environment[i];
        size_t name_length = strcspn(word, "=");
        if (!overridden)
            fits = append_entry(buffer, sizeof buffer, &length, word, name_length, word + name_length + 1);
    }
    if (length == 0)
        return true;
    int32_t status = fits ? signet_child_set_environment(child, buffer, length) : SIGNET_LIMIT;
    if (status != SIGNET_OK) {
        report("%s: cannot give it its environment (%s)\n", stage->words[0], status == SIGNET_LIMIT ? "over 64 KiB" : "refused");
        return false;
    }
    return true;
}

static int run_pipeline(Pipeline* pipeline)
{
    Running running[MaxStages];
    int running_count = 0;
    Sink sinks[MaxStages];
    Sink buffers[MaxStages];
    memset(sinks, 0, sizeof sinks);
    memset(buffers, 0, sizeof buffers);
    signet_handle previous_reader = 0; // What the next stage reads from.
    int status = 0;
    bool failed = false;
    int last_stage = pipeline->count - 1;
    relay_count = 0;
    front_input = 0;
    if (capture && pipeline->background) {
        report("shell: nothing runs in the background inside $(...) or a redirected compound command\n");
        return 2;
    }
    // The pumps this pipeline needs at most: its input, its output, and its commands' errors.
    int needed = 2;
    for (int i = 0; i < pipeline->count; ++i) {
        if (pipeline->stages[i].errors)
            needed += 1; // a sink into the file
        else if (pipeline->stages[i].errors_to_output)
            needed += i < last_stage ? 3 : 1; // a relay's three pumps, or a sink into stdout's file
    }
    if (needed > MaxPumps) {
        report("shell: too many redirections of errors in one pipeline\n");
        return 2;
    }

    for (int i = 0; i < pipeline->count && !failed; ++i) {
        Stage* stage = &pipeline->stages[i];
        char const* name = stage->words[0];
        Builtin const* builtin = find_builtin(name);
        if ((stage->input && i > 0) || (stage->output && i < last_stage)) {
            report("shell: %s: only the first command may read a file and only the last may write one\n", name);
            failed = true;
            break;
        }
        if (builtin) {
            if (pipeline->background) {
                report("shell: %s: a builtin cannot run in the background\n", name);
                failed = true;
                break;
            }
            if (i == 0) {
                // Its output, collected, is what the next stage reads (nothing with >&2).
                buffers[i].kind = stage->output_to_errors ? ToStderr : ToBuffer;
                Sink in = { .kind = ToBuffer };
                bool has_input = stage->input && copy_file("shell", stage->input, &in) == 0;
                if (stage->input && !has_input) {
                    failed = true;
                    break;
                }
                builtin->function(stage->count, stage->words, &buffers[i], has_input ? &in : NULL);
                free(in.data);
                signet_handle writer;
                if (!new_stream(&previous_reader, &writer)) {
                    failed = true;
                    break;
                }
                Pump* pump = add_pump(true, writer);
                pump->data = buffers[i].data;
                pump->length = buffers[i].length;
                continue;
            }
            if (i == last_stage && builtin->reads_input && stage->count == 1) {
                // `... | cat`: the shell prints (or writes to a file) what the stage before writes.
                sinks[i].kind = stage->output_to_errors ? ToStderr : ToStdout;
                if (stage->output && !open_output(stage, &sinks[i])) {
                    failed = true;
                    break;
                }
                add_pump(false, previous_reader)->sink = capture && !stage->output && !stage->output_to_errors ? capture : &sinks[i];
                previous_reader = 0;
                continue;
            }
            report("shell: %s: this builtin cannot take part in a pipeline here\n", name);
            failed = true;
            break;
        }

        char arguments[MaxLine];
        uint32_t arguments_length = pack_arguments(stage, arguments, sizeof arguments);
        signet_handle child = 0;
        int32_t created = signet_child_create(name, (uint32_t)strlen(name), NULL, 0, arguments, arguments_length, &child);
        if (created != SIGNET_OK) {
            if (created == SIGNET_NOT_FOUND)
                report("%s: command not found (not a builtin, and no program of that name is installed)\n", name);
            else
                report("%s: cannot start it (status %d; it may need endpoints only a service can give it)\n", name, (int)created);
            status = created == SIGNET_NOT_FOUND ? 127 : 126;
            failed = true;
            break;
        }
        running[running_count].child = child;
        running[running_count].name = name;
        ++running_count;
        if (!set_parameters(stage, child)) {
            status = 2;
            failed = true;
            break;
        }
        if (!set_environment(stage, child)) {
            status = 126;
            failed = true;
            break;
        }
        if (!bind_directories(child, name)) {
            status = 126;
            failed = true;
            break;
        }

        // stdin: the stage before, a file, the terminal, or (in the background) nothing.
        signet_handle reader = 0;
        bool in_terminal = false;
        if (i > 0) {
            reader = previous_reader;
            previous_reader = 0;
        } else if (stage->input) {
            if (!file_input(stage->input, &reader)) {
                failed = true;
                break;
            }
        } else if (!pipeline->background) {
            in_terminal = true;
            if (!terminal_input(&reader, &front_input)) {
                failed = true;
                break;
            }
        }
        if (reader && signet_child_bind_stream(child, child_stream(0, in_terminal), reader) != SIGNET_OK) {
            signet_handle_close(reader);
            report("shell: %s: cannot bind its stdin\n", name);
            failed = true;
            break;
        }
        // stdout: the next stage, a file, or the terminal.
        signet_handle writer = 0;
        bool out_terminal = false;
        signet_handle relayed_errors = 0; // 2>&1 into the next stage: stderr's writer
        if (stage->output_to_errors) {
            // >&2: where its errors go, a file or the terminal (even inside $(...)); the next command reads nothing.
            signet_handle unused;
            if (i < last_stage && !new_stream(&previous_reader, &unused)) {
                failed = true;
                break;
            }
            if (i < last_stage)
                signet_handle_close(unused);
            out_terminal = !stage->errors;
            if (!(stage->errors ? file_output(stage->errors, true, false, &writer) : terminal_output(&writer))) {
                failed = true;
                break;
            }
        } else if (i < last_stage && stage->errors_to_output) {
            // Both streams into a relay, which the next stage reads.
            Relay* relay = &relays[relay_count++];
            memset(relay, 0, sizeof *relay);
            relay->buffer.kind = ToBuffer;
            signet_handle next_writer, out_reader, errors_reader;
            if (!new_stream(&previous_reader, &next_writer)) {
                failed = true;
                break;
            }
            relay->reader = add_pump(true, next_writer);
            relay->reader->relay = relay;
            if (!new_stream(&out_reader, &writer) || !new_stream(&errors_reader, &relayed_errors)) {
                if (writer)
                    signet_handle_close(writer);
                failed = true;
                break;
            }
            Pump* out = add_pump(false, out_reader);
            Pump* errors = add_pump(false, errors_reader);
            out->sink = errors->sink = &relay->buffer;
            out->relay = errors->relay = relay;
            relay->writers = 2;
        } else if (i < last_stage) {
            if (!new_stream(&previous_reader, &writer)) {
                failed = true;
                break;
            }
        } else if (stage->output) {
            // With 2>&1 both streams append to the file, one after the other as they come.
            bool both = stage->errors_to_output && !stage->errors;
            if (!file_output(stage->output, stage->append || both, !stage->append, &writer)) {
                failed = true;
                break;
            }
        } else if (capture) {
            // Inside $(...): the shell collects what it writes.
            signet_handle captured;
            if (!new_stream(&captured, &writer)) {
                failed = true;
                break;
            }
            add_pump(false, captured)->sink = capture;
        } else {
            out_terminal = true;
            if (!terminal_output(&writer)) {
                failed = true;
                break;
            }
        }
        // stderr: the terminal, a file, or where stdout goes (2>&1: the file, the
        // relay into the next stage; to the terminal it goes anyway). The file
        // system serves a file.
        signet_handle error_writer = relayed_errors;
        bool error_file = false;
        if (stage->errors) {
            error_file = true;
            // With >&2 both streams append to the file, one after the other as they come.
            if (!file_output(stage->errors, stage->errors_append || stage->output_to_errors, !stage->errors_append, &error_writer)) {
                signet_handle_close(writer);
                failed = true;
                break;
            }
        } else if (stage->errors_to_output && stage->output && i == last_stage) {
            error_file = true;
            if (!file_output(stage->output, true, false, &error_writer)) {
                signet_handle_close(writer);
                failed = true;
                break;
            }
        }
        bool errors_terminal = !error_file && !error_writer;
        if (signet_child_bind_stream(child, child_stream(1, out_terminal), writer) != SIGNET_OK
            || (errors_terminal && !terminal_output(&error_writer))
            || signet_child_bind_stream(child, child_stream(2, errors_terminal), error_writer) != SIGNET_OK) {
            // What was bound moved to the child; closing a moved handle changes nothing.
            signet_handle_close(writer);
            if (error_writer)
                signet_handle_close(error_writer);
            report("shell: %s: cannot bind its output\n", name);
            failed = true;
            break;
        }
    }
    if (previous_reader)
        signet_handle_close(previous_reader);

    if (failed) {
        // Children never started end when their handles close; so do the streams.
        for (int i = 0; i < running_count; ++i)
            signet_handle_close(running[i].child);
        for (int i = 0; i < pump_count; ++i)
            signet_handle_close(pumps[i].endpoint);
        pump_count = 0;
        for (int i = 0; i < MaxStages; ++i) {
            if (sinks[i].kind == ToFile)
                fs_close(sinks[i].file);
            free(buffers[i].data);
        }
        free_relays();
        return status ? status : 1;
    }

    for (int i = 0; i < running_count; ++i) {
        if (signet_child_start(running[i].child) != SIGNET_OK)
            report("%s: cannot start it\n", running[i].name);
    }
    unsigned group = next_group++;
    if (pipeline->background) {
        for (int i = 0; i < running_count; ++i) {
            if (!add_job(running[i].child, running[i].name, group, false))
                continue;
            last_job_id = jobs[job_count - 1].id;
            report("[%llu] %s\n", (unsigned long long)last_job_id, running[i].name);
        }
        return 0;
    }

    Foreground how = run_foreground(running, running_count);
    status = finish_foreground(running, running_count, how, group);
    if (how == Ended && find_builtin(pipeline->stages[last_stage].words[0]))
        status = 0;
    for (int i = 0; i < MaxStages; ++i) {
        if (sinks[i].kind == ToFile) { // a builtin stage's output file
            if (sinks[i].error)
                report("shell: %s: %s\n", pipeline->stages[i].output, fs_error_text(sinks[i].error));
            fs_close(sinks[i].file);
        }
        free(buffers[i].data);
    }
    free_relays();
    fflush(stdout);
    return status;
}

// ---- The loop --------------------------------------------------------------------

typedef enum { Continue, Leave } Next;

// ---- Globbing ------------------------------------------------------------------

static char glob_storage[MaxLine * 4];   // the matches of a line's words
static char glob_scratch[MaxLine * 16];  // names matched at each level of a walk, freed as it returns
static size_t glob_scratch_top;

enum { MaxGlobLevels = 16 };

typedef struct {
    char* matches[MaxWords];
    int count;
    char* out;
    bool full; // a match did not fit
} Globbing;

// The names of one directory that one component's pattern matches.
typedef struct {
    char const* pattern;
    bool directories_only; // more components follow
    char* names[MaxWords];
    int count;
    bool full;
} Level;

static void match_entry(void* context, uint8_t type, char const* name, uint32_t length)
{
    Level* level = context;
    char text[256];
    if (length >= sizeof text || (level->directories_only && type != FS_TYPE_DIRECTORY))
        return;
    memcpy(text, name, length);
    text[length] = '\0';
    if (fnmatch(level->pattern, text, FNM_PERIOD) != 0)
        return;
    if (level->count == MaxWords || glob_scratch_top + length + 1 > sizeof glob_scratch) {
        level->full = true;
        return;
    }
    level->names[level->count++] = memcpy(glob_scratch + glob_scratch_top, text, length + 1);
    glob_scratch_top += length + 1;
}

// Whether the first `length` bytes of a pattern hold an unescaped *, ? or [.
static bool has_glob(char const* pattern, size_t length)
{
    for (size_t i = 0; i < length; ++i) {
        if (pattern[i] == '\\')
            ++i;
        else if (strchr("*?[", pattern[i]))
            return true;
    }
    return false;
}

static void add_match(Globbing* globbing, char const* path, size_t length)
{
    if (globbing->count == MaxWords || globbing->out + length + 1 > glob_storage + sizeof glob_storage) {
        globbing->full = true;
        return;
    }
    globbing->matches[globbing->count++] = globbing->out;
    memcpy(globbing->out, path, length);
    globbing->out[length] = '\0';
    globbing->out += length + 1;
}

// Adds every existing path that `word` (and its `pattern`, component for
// component) names below `done`, the path matched so far as it is written
// ("" or ending in '/', in a buffer of FS_PATH_MAX). Components without a
// pattern are taken as written; one with a pattern is matched against the
// names in its directory (directories only, but for the last).
static void glob_walk(char* done, size_t done_length, char const* word, char const* pattern, int levels, Globbing* globbing)
{
    for (;;) {
        size_t word_part = strcspn(word, "/"), pattern_part = strcspn(pattern, "/");
        bool last = pattern[pattern_part] == '\0';
        if (done_length + word_part + 2 >= FS_PATH_MAX)
            return;
        if (has_glob(pattern, pattern_part)) {
            if (levels == MaxGlobLevels || pattern_part >= 512)
                return;
            char component[512];
            memcpy(component, pattern, pattern_part);
            component[pattern_part] = '\0';
            char directory[FS_PATH_MAX];
            done[done_length] = '\0';
            absolute(done_length ? done : ".", directory);
            size_t scratch = glob_scratch_top;
            Level level = { .pattern = component, .directories_only = !last };
            if (list_directory(directory, match_entry, &level) == 0) {
                globbing->full |= level.full;
                for (int i = 0; i < level.count && !globbing->full; ++i) {
                    size_t name_length = strlen(level.names[i]);
                    if (done_length + name_length + 2 >= FS_PATH_MAX)
                        continue;
                    memcpy(done + done_length, level.names[i], name_length);
                    if (last) {
                        add_match(globbing, done, done_length + name_length);
                    } else {
                        done[done_length + name_length] = '/';
                        glob_walk(done, done_length + name_length + 1, word + word_part + 1, pattern + pattern_part + 1, levels + 1, globbing);
                    }
                }
            }
            glob_scratch_top = scratch;
            return;
        }
        memcpy(done + done_length, word, word_part);
        done_length += word_part;
        if (last) {
            // Written out below a pattern: only if it exists.
            uint8_t type;
            uint64_t size;
            done[done_length] = '\0';
            if (levels > 0 && fs_stat(done, &type, &size) == 0)
                add_match(globbing, done, done_length);
            return;
        }
        done[done_length++] = '/';
        word += word_part + 1;
        pattern += pattern_part + 1;
    }
}

static int compare_words(void const* a, void const* b)
{
    return strcmp(*(char* const*)a, *(char* const*)b);
}

// The paths that `word`'s `pattern` (glob_pattern) matches, a component at a
// time, sorted, written from `*out` on and put in `globbing`. 0 if none match
// (the word then stays as typed); -1 if they do not fit.
static int match_names(char const* word, char const* pattern, char** out, Globbing* globbing)
{
    *globbing = (Globbing) { .out = *out };
    static char done[FS_PATH_MAX];
    size_t done_length = 0;
    if (*word == '/') {
        done[done_length++] = '/';
        ++word;
        ++pattern;
    }
    glob_walk(done, done_length, word, pattern, 0, globbing);
    if (globbing->full)
        return -1;
    if (globbing->count == 0)
        return 0;
    qsort(globbing->matches, (size_t)globbing->count, sizeof globbing->matches[0], compare_words);
    *out = globbing->out;
    return globbing->count;
}

// Replaces each word (but a command's name) with an unquoted *, ? or [ by the
// paths that match it, component by component, sorted; a pattern that matches
// nothing stays as typed. Names starting with '.' match only a pattern that
// does. False, with a message, if the paths do not fit on a line.
static bool expand_globs(Pipeline* pipeline)
{
    char* out = glob_storage;
    for (int s = 0; s < pipeline->count && file_system; ++s) {
        Stage* stage = &pipeline->stages[s];
        char* words[MaxWords];
        int count = 0;
        for (int w = 0; w < stage->count; ++w) {
            static Globbing globbing;
            int matched = w > 0 && stage->pattern[w] ? match_names(stage->words[w], stage->pattern[w], &out, &globbing) : 0;
            if (matched < 0 || count + (matched ? matched : 1) > MaxWords - 1) {
                report(matched ? "shell: %s: too many names match\n" : "shell: too many words (%s)\n", stage->words[w]);
                return false;
            }
            for (int m = 0; m < matched; ++m)
                words[count++] = globbing.matches[m];
            if (!matched)
                words[count++] = stage->words[w];
        }
        memcpy(stage->words, words, sizeof words[0] * (size_t)count);
        stage->count = count;
    }
    return true;
}

static Next execute_line(char const* line, int* exit_status);
static Next source_file(Stage const* stage, int* exit_status);

// At `start`, just after a "$(": the ')' that closes it (outside the quotes
// and the inner $(...) of the commands inside), or NULL.
static char const* substitution_end(char const* start)
{
    char quote = 0;
    int depth = 1;
    for (char const* p = start; *p; ++p) {
        if (quote) {
            quote = *p == quote ? 0 : quote;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '(') {
            ++depth;
        } else if (*p == ')' && --depth == 0) {
            return p;
        }
    }
    return NULL;
}

// ---- $(...): the output of commands, in a line -------------------------------

// Runs `commands` (a list, as on a line) with what they write to the terminal
// collected in `into`, without its trailing newlines. False if a Ctrl-C ended them.
static bool capture_output(char const* commands, Sink* into)
{
    enum { MaxDepth = 8 };
    static int depth;
    if (depth == MaxDepth) {
        report("shell: $(...) nested more than %d deep\n", MaxDepth);
        return false;
    }
    Sink* saved = capture;
    int saved_loops = loop_depth; // a break inside leaves no loop outside
    capture = into;
    loop_depth = 0;
    ++depth;
    int exit_status = 0;
    (void)execute_line(commands, &exit_status); // `exit` inside ends only them
    --depth;
    loop_depth = saved_loops;
    capture = saved;
    while (into->length && into->data[into->length - 1] == '\n')
        --into->length;
    return !list_interrupted;
}

// Appends `length` bytes at out[*used], single-quoted (a quote in them as '"'"'),
// so that the parser takes them as they are. False if the line is full.
static bool append_quoted(char* out, size_t* used, char const* bytes, size_t length)
{
    if (*used + 2 > MaxLine - 1)
        return false;
    out[(*used)++] = '\'';
    for (size_t i = 0; i < length; ++i) {
        char const* piece = bytes[i] == '\'' ? "'\"'\"'" : NULL;
        size_t piece_length = piece ? 5 : 1;
        if (*used + piece_length + 1 > MaxLine - 1)
            return false;
        if (piece)
            memcpy(out + *used, piece, piece_length);
        else
            out[*used] = bytes[i];
        *used += piece_length;
    }
    out[(*used)++] = '\'';
    return true;
}

// The line with each $(COMMANDS) outside single quotes replaced by what the
// commands write: inside double quotes as one word; outside, one word per run
// of characters between blanks (none if they write nothing). What they write
// is taken as it is: not expanded, not globbed. 0 if the line has no $( (and
// *result is untouched), 1 with the new line in *result (malloc'd), -1 with a
// message if it cannot be done.
static int substitute(char const* line, char** result)
{
    if (!strstr(line, "$("))
        return 0;
    char* out = malloc(MaxLine);
    if (!out)
        return -1;
    size_t used = 0;
    size_t word = 0; // where the word being written starts in `out`
    char quote = 0;
    for (char const* p = line; *p;) {
        bool at_word_start = p == line || strchr(" \t", p[-1]);
        if (!quote && *p == '#' && at_word_start)
            break; // a comment
        if (!quote && (*p == ' ' || *p == '\t'))
            word = used + 1;
        if (quote != '\'' && p[0] == '$' && p[1] == '(') {
            char const* start = p + 2;
            char const* end = substitution_end(start);
            if (!end) {
                report("shell: '$(' without its ')'\n");
                free(out);
                return -1;
            }
            char* commands = malloc((size_t)(end - start) + 1);
            Sink output = { .kind = ToBuffer };
            bool fits = commands != NULL;
            if (fits) {
                memcpy(commands, start, (size_t)(end - start));
                commands[end - start] = '\0';
                fits = capture_output(commands, &output);
            }
            free(commands);
            // NAME=$(...) is one word, as inside double quotes.
            size_t name_length = 0;
            while (word + name_length < used && name_part(out[word + name_length]))
                ++name_length;
            bool assigning = name_length > 0 && name_start(out[word]) && word + name_length < used && out[word + name_length] == '=';
            if (fits && assigning) {
                fits = append_quoted(out, &used, output.data, output.length);
            } else if (fits && quote == '"') {
                // Close the double quotes around it, and open them again.
                fits = used + 2 < MaxLine - 1;
                if (fits)
                    out[used++] = '"';
                fits = fits && append_quoted(out, &used, output.data, output.length) && used + 1 < MaxLine - 1;
                if (fits)
                    out[used++] = '"';
            } else if (fits) {
                size_t at = 0;
                bool first = true;
                while (fits && at < output.length) {
                    while (at < output.length && strchr(" \t\n", output.data[at]))
                        ++at;
                    size_t field = at;
                    while (at < output.length && !strchr(" \t\n", output.data[at]))
                        ++at;
                    if (at == field)
                        break;
                    if (!first)
                        out[used++] = ' ';
                    first = false;
                    fits = used + 1 < MaxLine - 1 && append_quoted(out, &used, output.data + field, at - field);
                }
            }
            free(output.data);
            if (!fits) {
                if (!list_interrupted)
                    report("shell: what $(...) writes does not fit on the line (at most %d bytes)\n", MaxLine - 2);
                free(out);
                return -1;
            }
            p = end + 1;
            continue;
        }
        if (!quote && (*p == '\'' || *p == '"'))
            quote = *p;
        else if (quote && *p == quote)
            quote = 0;
        if (used + 1 >= MaxLine - 1) {
            report("shell: the line is too long\n");
            free(out);
            return -1;
        }
        out[used++] = *p++;
    }
    out[used] = '\0';
    *result = out;
    return 1;
}

static Next execute_parsed(char const* line, int* exit_status);

// Runs one pipeline (or an assignment, a builtin, exit, source), after its $(...).
static Next execute(char const* line, int* exit_status)
{
    char* substituted = NULL;
    int done = substitute(line, &substituted);
    if (done < 0) {
        if (!list_interrupted)
            last_status = 2;
        return Continue;
    }
    Next next = execute_parsed(done ? substituted : line, exit_status);
    free(substituted);
    return next;
}

static Next execute_parsed(char const* line, int* exit_status)
{
    static Pipeline pipeline;
    if (!parse(line, &pipeline)) {
        last_status = 2;
        return Continue;
    }
    // NAME=value...: the shell's own variables, on a line of their own.
    Stage* assigning = &pipeline.stages[0];
    int assignments = 0;
    while (assignments < assigning->count && assigning->assignment[assignments])
        ++assignments;
    if (assignments && assignments == assigning->count && pipeline.count == 1 && !assigning->input && !assigning->output
        && !assigning->errors && !assigning->errors_to_output && !pipeline.background) {
        last_status = 0;
        for (int i = 0; i < assignments; ++i) {
            if (!assign(assigning->words[i]))
                last_status = 1;
        }
        return Continue;
    }
    // Before a command: that command's environment.
    for (int i = 0; i < pipeline.count; ++i) {
        if (!take_environment(&pipeline.stages[i])) {
            report("shell: a command is missing after NAME=value\n");
            last_status = 2;
            return Continue;
        }
    }
    if (!expand_globs(&pipeline)) {
        last_status = 2;
        return Continue;
    }
    // A builtin reports its errors on the terminal: there is no stream of them to redirect.
    for (int i = 0; i < pipeline.count; ++i) {
        Stage const* stage = &pipeline.stages[i];
        if ((stage->errors || stage->errors_to_output) && find_builtin(stage->words[0])) {
            report("shell: %s: a builtin's errors cannot be redirected\n", stage->words[0]);
            last_status = 2;
            return Continue;
        }
    }
    if (pipeline.stages[0].count == 0)
        return Continue;
    Stage* first = &pipeline.stages[0];
    char const* name = first->words[0];
    if (pipeline.count == 1 && (strcmp(name, "exit") == 0 || strcmp(name, "shutdown") == 0)) {
        *exit_status = strcmp(name, "exit") == 0 && first->count > 1 ? atoi(first->words[1]) & 0xff : strcmp(name, "exit") == 0 ? last_status : 0;
        return Leave;
    }
    if (pipeline.count == 1 && !pipeline.background && (strcmp(name, "source") == 0 || strcmp(name, ".") == 0))
        return source_file(first, exit_status); // last: its lines reuse this function's pipeline
    Builtin const* builtin = find_builtin(name);
    if (pipeline.count == 1 && builtin && !pipeline.background)
        last_status = run_builtin_alone(builtin, first);
    else
        last_status = run_pipeline(&pipeline);
    return Continue;
}

// ---- Lists: a ; b, a && b, a || b, a & b ----------------------------------------

typedef enum { Always, IfSucceeded, IfFailed } Condition;

// The words that open, divide and close compound commands, at a command's start.
typedef enum { NoKeyword, KeywordIf, KeywordThen, KeywordElif, KeywordElse, KeywordFi, KeywordWhile, KeywordUntil, KeywordFor, KeywordDo, KeywordDone } Keyword;

typedef struct {
    char const* start; // the command after its keyword, if any
    size_t length;
    Condition condition; // whether it runs, by the status of what ran before it
    Keyword keyword;
} Command;

// A list of commands a line (or a block of lines) holds.
enum { MaxCommands = 256, MaxBlock = 16 * 1024 };

static bool blank(char const* text, size_t length)
{
    for (size_t i = 0; i < length; ++i) {
        if (text[i] == '#')
            return true; // a comment (a '#' inside a word is not reached here first)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
            return false;
    }
    return true;
}

static bool quiet_split; // split_list reports nothing (block_depth asks)


// Splits a line at ';', newlines, '&&', '||' and after a '&' that sends a
// pipeline to the background, outside quotes and comments. Returns the number
// of commands, or -1 with a message for a line that cannot be run (nothing of
// it runs). Blank lines are nothing; '&&' and '||' may end a line.
static int split_list(char const* line, Command* commands)
{
    int count = 0;
    Condition next = Always;
    char const* p = line;
    char const* start = line;
    char quote = 0;
    for (;;) {
        char c = *p;
        if (quote != '\'' && c == '$' && p[1] == '(') {
            // A $(...) is one piece, whatever its commands hold.
            char const* end = substitution_end(p + 2);
            if (!end) {
                if (!quiet_split)
                    report("shell: '$(' without its ')'\n");
                return -1;
            }
            p = end + 1;
            continue;
        }
        if (quote) {
            if (c == '\0') {
                if (!quiet_split)
                    report("shell: unterminated quote\n");
                return -1;
            }
            quote = c == quote ? 0 : quote;
            ++p;
            continue;
        }
        bool at_word_start = p == line || strchr(" \t\n;&|<>", p[-1]);
        if (c == '#' && at_word_start) {
            while (*p && *p != '\n')
                ++p;
            c = *p;
        }
        size_t operator_length = c == '\0' || c == ';' || c == '\n' ? 1 : (c == '&' && p[1] == '&') || (c == '|' && p[1] == '|') ? 2 : 0;
        bool background = c == '&' && p[1] != '&' && !(p > line && p[-1] == '>'); // 2>&1 is a redirection
        if (c == '\'' || c == '"') {
            quote = c;
            ++p;
            continue;
        }
        if (!operator_length && !background) {
            ++p;
            continue;
        }
        size_t length = (size_t)(p - start) + (background ? 1 : 0);
        bool empty = blank(start, length);
        if (empty && c == '\n') { // a blank line, or the end of one after an operator
            start = ++p;
            continue;
        }
        if (empty && c != '\0') {
            if (!quiet_split)
                report("shell: a command must come before '%.*s'\n", background ? 1 : (int)operator_length, p);
            return -1;
        }
        if (empty && next != Always) {
            if (!quiet_split)
                report("shell: a command must follow '%s'\n", next == IfSucceeded ? "&&" : "||");
            return -1;
        }
        if (!empty) {
            if (count == MaxCommands) {
                if (!quiet_split)
                    report("shell: at most %d commands on a line\n", MaxCommands);
                return -1;
            }
            commands[count++] = (Command) { start, length, next, NoKeyword };
        }
        if (c == '\0')
            return count;
        next = c == '&' && !background ? IfSucceeded : c == '|' ? IfFailed : Always;
        p += background ? 1 : operator_length;
        start = p;
    }
}

// The keyword a command starts with, taken off its text.
static Keyword take_keyword(Command* command)
{
    static struct {
        char const* word;
        Keyword keyword;
    } const keywords[] = {
        { "if", KeywordIf }, { "then", KeywordThen }, { "elif", KeywordElif }, { "else", KeywordElse }, { "fi", KeywordFi },
        { "while", KeywordWhile }, { "until", KeywordUntil }, { "for", KeywordFor }, { "do", KeywordDo }, { "done", KeywordDone },
    };
    char const* p = command->start;
    char const* end = command->start + command->length;
    while (p < end && (*p == ' ' || *p == '\t'))
        ++p;
    char const* word = p;
    while (p < end && *p != ' ' && *p != '\t')
        ++p;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; ++i) {
        if ((size_t)(p - word) == strlen(keywords[i].word) && memcmp(word, keywords[i].word, (size_t)(p - word)) == 0) {
            while (p < end && (*p == ' ' || *p == '\t'))
                ++p;
            command->length = (size_t)(end - p);
            command->start = p;
            return keywords[i].keyword;
        }
    }
    return NoKeyword;
}

// Splits a line into commands, each keyword a command of its own ("then if a"
// is `then`, then `if a`). The count, or -1 (with a message unless quiet).
static int split_commands(char const* line, Command* commands)
{
    int count = split_list(line, commands);
    for (int i = 0; i < count; ++i) {
        Keyword keyword = take_keyword(&commands[i]);
        if (keyword == NoKeyword)
            continue;
        // What follows a keyword is a command of its own (`if a`: `if`, then
        // `a`) -- but a `for` keeps its header (`x in ...`), and what follows
        // `fi` or `done` stays to be refused (check_blocks).
        bool keeps = keyword == KeywordFor || keyword == KeywordFi || keyword == KeywordDone;
        if (!keeps && !blank(commands[i].start, commands[i].length)) {
            if (count == MaxCommands) {
                if (!quiet_split)
                    report("shell: at most %d commands on a line\n", MaxCommands);
                return -1;
            }
            memmove(&commands[i + 2], &commands[i + 1], sizeof commands[0] * (size_t)(count - i - 1));
            commands[i + 1] = (Command) { commands[i].start, commands[i].length, Always, NoKeyword };
            commands[i].length = 0;
            ++count;
        }
        commands[i].keyword = keyword;
    }
    return count;
}

static bool opens_block(Keyword keyword)
{
    return keyword == KeywordIf || keyword == KeywordWhile || keyword == KeywordUntil || keyword == KeywordFor;
}

// How many compound commands a text opens and does not close (if/while/until/for
// against fi/done); the shell reads more lines while it is above 0.
static int block_depth(char const* text)
{
    Command* commands = malloc(sizeof *commands * MaxCommands);
    if (!commands)
        return 0;
    quiet_split = true;
    int count = split_commands(text, commands);
    quiet_split = false;
    int depth = 0;
    for (int i = 0; i < count; ++i) {
        if (opens_block(commands[i].keyword))
            ++depth;
        else if (commands[i].keyword == KeywordFi || commands[i].keyword == KeywordDone)
            --depth;
    }
    free(commands);
    return depth;
}

// The index of the fi or done that closes the compound command opened at
// `open`, or -1.
static int block_end(Command const* commands, int open, int to)
{
    int depth = 0;
    for (int i = open; i < to; ++i) {
        if (opens_block(commands[i].keyword))
            ++depth;
        else if ((commands[i].keyword == KeywordFi || commands[i].keyword == KeywordDone) && --depth == 0)
            return i;
    }
    return -1;
}

static char const* keyword_name(Keyword keyword)
{
    static char const* const names[] = { "", "if", "then", "elif", "else", "fi", "while", "until", "for", "do", "done" };
    return names[keyword];
}

// What follows a compound command's fi or done: < FILE, > FILE, >> FILE, in
// any order. False if anything else does. The paths are copied into `input`
// and `output` (FS_PATH_MAX bytes each, empty if absent) when given.
static bool compound_redirections(Command const* closing, char* input, char* output, bool* append)
{
    char* line = malloc(MaxLine);
    static Pipeline redirections;
    if (!line)
        return false;
    // Parsed as a command's redirections; "x" stands for the command.
    snprintf(line, MaxLine, "x %.*s", (int)closing->length, closing->start);
    Stage const* stage = &redirections.stages[0];
    bool ok = !strchr(line, '|') && !strchr(line, '&') && parse(line, &redirections) && redirections.count == 1 && stage->count == 1
        && !stage->errors && !stage->errors_to_output && !stage->output_to_errors && !redirections.background;
    if (ok && input)
        snprintf(input, FS_PATH_MAX, "%s", stage->input ? stage->input : "");
    if (ok && output)
        snprintf(output, FS_PATH_MAX, "%s", stage->output ? stage->output : "");
    if (ok && append)
        *append = stage->append;
    free(line);
    return ok;
}

// Checks the compound commands of commands[from, to) before anything runs: an
// `if` has `then`, any `elif ... then`, at most one `else` and ends with `fi`;
// `while`, `until` and `for` have `do` and end with `done`; a `for` names a
// variable; nothing follows `fi` or `done` in its command.
static bool check_blocks(Command const* commands, int from, int to)
{
    for (int i = from; i < to; ++i) {
        Keyword keyword = commands[i].keyword;
        if (keyword == NoKeyword)
            continue;
        if (!opens_block(keyword)) {
            report("shell: '%s' where no %s is open\n", keyword_name(keyword),
                keyword == KeywordDo || keyword == KeywordDone ? "while, until or for" : "if");
            return false;
        }
        int end = block_end(commands, i, to);
        if (end < 0) {
            report("shell: '%s' without its '%s'\n", keyword_name(keyword), keyword == KeywordIf ? "fi" : "done");
            return false;
        }
        if ((keyword == KeywordIf) != (commands[end].keyword == KeywordFi)) {
            report("shell: '%s' closed by '%s'\n", keyword_name(keyword), keyword_name(commands[end].keyword));
            return false;
        }
        if (!blank(commands[end].start, commands[end].length) && !compound_redirections(&commands[end], NULL, NULL, NULL)) {
            report("shell: only < FILE, > FILE or >> FILE may follow '%s' (a compound command cannot be piped, run in the background, or redirect its errors)\n",
                keyword_name(commands[end].keyword));
            return false;
        }
        if (keyword == KeywordFor) {
            size_t length = 0;
            while (length < commands[i].length && commands[i].start[length] != ' ' && commands[i].start[length] != '\t')
                ++length;
            if (!is_name(commands[i].start, length)) {
                report("shell: for: '%.*s' is not a variable's name\n", (int)length, commands[i].start);
                return false;
            }
        }
        // The keywords that divide it, at its own depth (the last is its fi or done).
        int parts[MaxCommands];
        int count = 0;
        for (int j = i + 1; j <= end; ++j) {
            if (opens_block(commands[j].keyword)) {
                int inner = block_end(commands, j, end);
                if (inner < 0) {
                    report("shell: '%s' without its '%s'\n", keyword_name(commands[j].keyword), commands[j].keyword == KeywordIf ? "fi" : "done");
                    return false;
                }
                j = inner;
            } else if (commands[j].keyword != NoKeyword) {
                parts[count++] = j;
            }
        }
        bool ok;
        if (keyword == KeywordIf) { // then (elif then)* [else] fi
            int k = 0;
            ok = count >= 2 && commands[parts[k++]].keyword == KeywordThen;
            while (ok && k < count - 1 && commands[parts[k]].keyword == KeywordElif) {
                ok = k + 1 < count - 1 && commands[parts[k + 1]].keyword == KeywordThen;
                k += 2;
            }
            if (ok && k < count - 1 && commands[parts[k]].keyword == KeywordElse)
                ++k;
            ok = ok && k == count - 1;
        } else { // do done
            ok = count == 2 && commands[parts[0]].keyword == KeywordDo;
        }
        if (!ok) {
            report("shell: '%s' must be followed by %s\n", keyword_name(keyword),
                keyword == KeywordIf ? "'then', any 'elif ... then', at most one 'else', and 'fi'" : "'do' and 'done'");
            return false;
        }
        int part = i + 1;
        for (int k = 0; k < count; ++k) {
            if (!check_blocks(commands, part, parts[k]))
                return false;
            part = parts[k] + 1;
        }
        i = end;
    }
    return true;
}

// After a loop's condition or body: whether the loop goes on. A break or
// continue meant for an outer loop leaves this one on its way out.
static bool loop_goes_on(void)
{
    if (loop_control == LoopGoesOn)
        return !list_interrupted;
    if (loop_levels > 1) {
        --loop_levels;
        return false;
    }
    bool goes_on = loop_control == LoopContinue;
    loop_control = LoopGoesOn;
    return goes_on && !list_interrupted;
}

// A Ctrl-C typed while the shell runs only builtins in a loop: the loop ends (130).
static void poll_interrupt(void)
{
    if (pending_key() == CtrlC) {
        list_interrupted = true;
        last_status = 130;
    }
}

static Next run_list(Command const* commands, int from, int to, int* exit_status);

// The next part of an if, while or for at its own depth from `from`: the index
// of the keyword that ends commands[from, ...).
static int part_end(Command const* commands, int from, int end)
{
    for (int j = from; j < end; ++j) {
        if (opens_block(commands[j].keyword))
            j = block_end(commands, j, end);
        else if (commands[j].keyword != NoKeyword)
            return j;
    }
    return end;
}

// for NAME in WORDS: the words, expanded as a command's arguments are
// (variables, globs), each in turn the value of NAME while the body runs.
static Next run_for(Command const* header, int body, int end, Command const* commands, int* exit_status)
{
    char name[64];
    size_t name_length = 0;
    while (name_length < header->length && header->start[name_length] != ' ' && header->start[name_length] != '\t')
        ++name_length;
    snprintf(name, sizeof name, "%.*s", (int)name_length, header->start);
    char const* rest = header->start + name_length;
    size_t rest_length = header->length - name_length;
    while (rest_length && (*rest == ' ' || *rest == '\t'))
        ++rest, --rest_length;
    if (rest_length < 2 || memcmp(rest, "in", 2) != 0 || (rest_length > 2 && rest[2] != ' ' && rest[2] != '\t')) {
        report("shell: for %s: 'in' and the words must follow the name\n", name);
        last_status = 2;
        return Continue;
    }
    // The words, expanded as a command's arguments: "for" is the command's name.
    char* line = malloc(MaxLine);
    static Pipeline words;
    if (!line)
        return Continue;
    snprintf(line, MaxLine, "for%.*s", (int)(rest_length - 2), rest + 2);
    char* substituted = NULL;
    int done = substitute(line, &substituted);
    bool parsed = done >= 0 && parse(done ? substituted : line, &words) && words.count == 1 && !words.stages[0].input && !words.stages[0].output
        && expand_globs(&words);
    free(substituted);
    free(line);
    if (!parsed) {
        report("shell: for %s: the words cannot be read\n", name);
        last_status = 2;
        return Continue;
    }
    // Copied: the body's commands reuse the parser's storage.
    int count = words.stages[0].count - 1;
    size_t bytes = 0;
    for (int w = 1; w <= count; ++w)
        bytes += strlen(words.stages[0].words[w]) + 1 + strlen(name) + 1;
    char* values = malloc(bytes + 1);
    if (!values)
        return Continue;
    char* p = values;
    for (int w = 1; w <= count; ++w)
        p += sprintf(p, "%s=%s", name, words.stages[0].words[w]) + 1;
    last_status = 0;
    Next next = Continue;
    p = values;
    ++loop_depth;
    for (int w = 0; w < count && next == Continue && !list_interrupted; ++w) {
        if (!assign(p)) {
            last_status = 1;
            break;
        }
        p += strlen(p) + 1;
        next = run_list(commands, body, end, exit_status);
        poll_interrupt();
        if (!loop_goes_on())
            break;
    }
    --loop_depth;
    free(values);
    return next;
}

// Runs commands[from, to): commands and compound commands, each after '&&'
// only if the one before succeeded, after '||' only if it failed. A Ctrl-C,
// or `exit`, ends it.
static Next run_list(Command const* commands, int from, int to, int* exit_status)
{
    for (int i = from; i < to && !list_interrupted && loop_control == LoopGoesOn;) {
        Command const* command = &commands[i];
        int end = opens_block(command->keyword) ? block_end(commands, i, to) : i;
        Condition condition = command->condition;
        if ((condition == IfSucceeded && last_status != 0) || (condition == IfFailed && last_status == 0)) {
            i = end + 1;
            continue;
        }
        Next next = Continue;
        // A compound command's < FILE (what `read` reads inside) and > FILE (where what
        // would go to the terminal goes), after its fi or done.
        Sink* saved_capture = capture;
        Sink* saved_input = compound_input;
        size_t saved_offset = compound_offset;
        Sink output = { .kind = ToBuffer }, input = { .kind = ToBuffer };
        bool redirected = opens_block(command->keyword) && !blank(commands[end].start, commands[end].length);
        if (redirected) {
            char input_path[FS_PATH_MAX], output_path[FS_PATH_MAX];
            bool append = false;
            if (!compound_redirections(&commands[end], input_path, output_path, &append)
                || (*input_path && copy_file("shell", input_path, &input) != 0)
                || (*output_path && !open_file_sink(output_path, append, &output))) {
                free(input.data);
                last_status = 1;
                i = end + 1;
                continue;
            }
            if (*output_path)
                capture = &output;
            if (*input_path) {
                compound_input = &input;
                compound_offset = 0;
            }
        }
        switch (command->keyword) {
        case NoKeyword: {
            // Its own copy: `source` runs other lines meanwhile.
            char* text = command->length < MaxLine ? malloc(MaxLine) : NULL;
            if (!text) {
                report("shell: a command is too long (at most %d bytes)\n", MaxLine - 1);
                last_status = 2;
                break;
            }
            memcpy(text, command->start, command->length);
            text[command->length] = '\0';
            next = execute(text, exit_status);
            free(text);
            break;
        }
        case KeywordIf: {
            // if LIST then LIST [elif LIST then LIST]... [else LIST] fi
            int part = i;
            bool done = false;
            last_status = 0;
            while (!done && next == Continue && !list_interrupted) {
                Keyword keyword = commands[part].keyword;
                int condition_end = part_end(commands, part + 1, end);
                if (keyword == KeywordElse) {
                    next = run_list(commands, part + 1, condition_end, exit_status);
                    break;
                }
                if (keyword == KeywordFi)
                    break;
                // if or elif: the condition, then its body when it succeeded.
                int body_end = part_end(commands, condition_end + 1, end);
                next = run_list(commands, part + 1, condition_end, exit_status);
                if (next != Continue || list_interrupted)
                    break;
                if (last_status == 0) {
                    next = run_list(commands, condition_end + 1, body_end, exit_status);
                    done = true;
                } else {
                    last_status = 0; // no part ran: the if succeeds
                    part = body_end;
                }
            }
            break;
        }
        case KeywordWhile:
        case KeywordUntil: {
            int body = part_end(commands, i + 1, end);
            int status = 0;
            ++loop_depth;
            for (;;) {
                next = run_list(commands, i + 1, body, exit_status);
                poll_interrupt();
                bool stopped = loop_control != LoopGoesOn;
                if (next != Continue || !loop_goes_on())
                    break;
                if (stopped) // continue in the condition: the next round
                    continue;
                if ((last_status == 0) != (command->keyword == KeywordWhile))
                    break;
                next = run_list(commands, body + 1, end, exit_status);
                status = last_status;
                poll_interrupt();
                if (next != Continue || !loop_goes_on())
                    break;
            }
            --loop_depth;
            if (!list_interrupted)
                last_status = status;
            break;
        }
        case KeywordFor: {
            int body = part_end(commands, i + 1, end);
            next = run_for(command, body + 1, end, commands, exit_status);
            break;
        }
        default:
            break; // checked before: not reached
        }
        if (redirected) {
            capture = saved_capture;
            compound_input = saved_input;
            compound_offset = saved_offset;
            free(input.data);
            if (output.kind == ToFile) {
                if (output.error) {
                    report("shell: %s\n", fs_error_text(output.error));
                    last_status = 1;
                }
                fs_close(output.file);
            }
        }
        if (next == Leave)
            return Leave;
        i = end + 1;
    }
    return Continue;
}

// Runs a line's commands (or a block of lines) in order: lists, and the
// compound commands if, while, until and for. Nothing runs if it does not parse.
static Next execute_line(char const* line, int* exit_status)
{
    // Not static: a command may be `source`, which runs lines of its own meanwhile.
    Command* commands = malloc(sizeof *commands * MaxCommands);
    if (!commands) {
        report("shell: out of memory\n");
        last_status = 1;
        return Continue;
    }
    int count = split_commands(line, commands);
    Next next = Continue;
    list_interrupted = false;
    if (count < 0 || !check_blocks(commands, 0, count))
        last_status = 2;
    else
        next = run_list(commands, 0, count, exit_status);
    free(commands);
    return next;
}

// Adds a line (with its newline) to the lines gathered in `block` (MaxBlock
// bytes, `*used` of them taken). True once they can run: no compound command
// is left open. False while one is, or if the block is full (*too_long is
// then set, and the lines gathered are dropped: *used is 0).
static bool gather_line(char* block, size_t* used, char const* line, size_t length, bool* too_long)
{
    *too_long = *used + length + 2 > MaxBlock;
    if (*too_long) {
        *used = 0;
        return false;
    }
    memcpy(block + *used, line, length);
    *used += length;
    if (length == 0 || line[length - 1] != '\n')
        block[(*used)++] = '\n';
    block[*used] = '\0';
    return block_depth(block) <= 0;
}

// source FILE [ARGUMENT...] (or . FILE): runs the file's lines in this shell,
// one after the other, as if they were typed: its variables, working directory
// and jobs are this shell's; its arguments are $1..$9 ($# of them, $0 the
// file) while it runs. The status is the last command's. A Ctrl-C that ends a
// line ends the script; `exit` in it ends the shell. Nested at most 8 deep.
static Next source_file(Stage const* stage, int* exit_status)
{
    enum { MaxDepth = 8, MaxScript = 1 << 20 };
    static int depth;
    char const* name = stage->words[0];
    if (stage->count < 2 || stage->count > 11 || stage->input || stage->output) {
        report("usage: %s FILE [ARGUMENT...] (at most 9 arguments, no redirection)\n", name);
        last_status = 2;
        return Continue;
    }
    if (depth == MaxDepth) {
        report("%s: %s: scripts nested more than %d deep\n", name, stage->words[1], MaxDepth);
        last_status = 1;
        return Continue;
    }
    char path[FS_PATH_MAX];
    snprintf(path, sizeof path, "%s", stage->words[1]);
    Sink script = { .kind = ToBuffer };
    if (copy_file(name, path, &script) != 0 || script.length > MaxScript) {
        if (script.length > MaxScript)
            report("%s: %s: larger than %d bytes\n", name, path, MaxScript);
        free(script.data);
        last_status = 1;
        return Continue;
    }
    char* block = malloc(MaxBlock);
    if (!block) {
        free(script.data);
        report("shell: out of memory\n");
        last_status = 1;
        return Continue;
    }
    // Its arguments, copied: the parser's storage serves its lines.
    char const* saved[10];
    int saved_count = positional_count;
    memcpy(saved, positional, sizeof saved);
    char* arguments = malloc(MaxLine * 2);
    if (!arguments) {
        free(block);
        free(script.data);
        report("shell: out of memory\n");
        last_status = 1;
        return Continue;
    }
    char* argument = arguments;
    for (int i = 1; i < stage->count; ++i) {
        positional[i - 1] = argument;
        argument += sprintf(argument, "%s", stage->words[i]) + 1;
    }
    positional_count = stage->count - 2;
    ++depth;
    last_status = 0;
    Next next = Continue;
    unsigned number = 0, first = 1;
    size_t used = 0;
    for (size_t at = 0; at < script.length && next == Continue && !list_interrupted && loop_control == LoopGoesOn;) {
        size_t end = at;
        while (end < script.length && script.data[end] != '\n')
            ++end;
        ++number;
        // Lines are gathered while a compound command is open.
        if (used == 0)
            first = number;
        bool too_long = end - at > MaxLine - 2;
        bool ready = !too_long && gather_line(block, &used, script.data + at, end - at, &too_long);
        if (too_long) {
            report("%s: %s:%u: the line is too long (a line at most %d bytes, a block %d)\n", name, path, number, MaxLine - 2, MaxBlock - 2);
            last_status = 2;
            used = 0;
            break;
        }
        at = end + 1;
        if (!ready)
            continue;
        next = execute_line(block, exit_status);
        used = 0;
    }
    if (used > 0 && next == Continue && !list_interrupted) {
        report("%s: %s:%u: the compound command that starts here is not closed\n", name, path, first);
        last_status = 2;
    }
    --depth;
    memcpy(positional, saved, sizeof saved);
    positional_count = saved_count;
    free(arguments);
    free(block);
    free(script.data);
    return next;
}

static bool parameter_is_true(char const* name)
{
    char value[16];
    uint32_t length = 0;
    return signet_param_get(name, (uint32_t)strlen(name), value, sizeof value, &length) == SIGNET_OK && length == 4 && memcmp(value, "true", 4) == 0;
}

int main(void)
{
    interactive = parameter_is_true("interactive");
    if (signet_startup_handle(0, &console) != SIGNET_OK) {
        fprintf(stderr, "shell: started without a console endpoint\n");
        return 2;
    }
    if (signet_startup_handle(1, &file_system) != SIGNET_OK)
        file_system = 0;
    // The shell's own environment is exported to what it starts.
    for (char** entry = environ; entry && *entry; ++entry) {
        size_t length = strcspn(*entry, "=");
        if ((*entry)[length] == '=' && is_name(*entry, length) && assign(*entry))
            find_variable(*entry, length)->exported = true;
    }
    if (interactive) {
        watch_interrupts();
        printf("Signet shell. 'help' lists what it does; 'shutdown' stops the system.\n");
    }
    static char line[MaxLine];
    static char block[MaxBlock]; // lines gathered while a compound command is open
    size_t used = 0;
    int exit_status = 0;
    for (;;) {
        if (used == 0) {
            reap_jobs(false);
            drop_stale_interrupt();
        }
        if (interactive) {
            if (used)
                printf("> ");
            else
                printf("signet:%s$ ", cwd);
            fflush(stdout);
        }
        if (!fgets(line, sizeof line, stdin)) {
            if (used && interactive) {
                // Ctrl-D inside a compound command drops it; the shell goes on.
                report("shell: the input ended before the compound command did; dropped\n");
                clearerr(stdin);
                used = 0;
                last_status = 2;
                continue;
            }
            if (used) {
                report("shell: the input ended before the compound command did\n");
                last_status = 2;
            }
            exit_status = last_status;
            break;
        }
        size_t length = strlen(line);
        if (length == sizeof line - 1 && line[length - 1] != '\n') {
            report("shell: the line is too long (at most %d bytes)\n", MaxLine - 2);
            int c;
            while ((c = getchar()) != EOF && c != '\n') { }
            last_status = 2;
            used = 0;
            continue;
        }
        bool too_long = false;
        if (!gather_line(block, &used, line, length, &too_long)) {
            if (too_long) {
                report("shell: the compound command is too long (at most %d bytes)\n", MaxBlock - 2);
                last_status = 2;
            }
            continue;
        }
        used = 0;
        loop_control = LoopGoesOn; // nothing of the last line's loops is left over
        if (execute_line(block, &exit_status) == Leave)
            break;
    }
    // The shell's background jobs end with it: the system is going down.
    for (int i = 0; i < job_count; ++i)
        signet_child_stop(jobs[i].child);
    reap_jobs(true);
    fflush(stdout);
    return exit_status;
}
