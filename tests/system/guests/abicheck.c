// Checks the statuses of child_bind_stream, child_describe, child_set_param,
// child_set_environment, child_directories and child_bind_directory
// (docs/abi.md) from inside the booted system: every line is "ok NAME" or
// "FAIL NAME: ...", and the last says how many failed.
#include <signet/abi.h>

#include "Console.h"
#include "Stream.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void expect(char const* name, int32_t got, int32_t want)
{
    if (got == want) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: status %d, expected %d\n", name, (int)got, (int)want);
        ++failures;
    }
}

static signet_handle create(char const* program)
{
    signet_handle child = 0;
    int32_t status = signet_child_create(program, (uint32_t)strlen(program), NULL, 0, "", 0, &child);
    expect("child_create", status, SIGNET_OK);
    return child;
}

int main(void)
{
    signet_handle child = create("show");
    signet_handle reader, writer, console_imp, console_exp;
    signet_channel_create(Stream_descriptor, Stream_DESCRIPTOR_SIZE, &reader, &writer);
    signet_channel_create(Console_descriptor, Console_DESCRIPTOR_SIZE, &console_imp, &console_exp);

    // child_bind_stream: every refusal changes nothing.
    expect("bind: no such stream", signet_child_bind_stream(child, 3, writer), SIGNET_INVALID_ARGUMENT);
    expect("bind: no such stream, as a terminal", signet_child_bind_stream(child, 3 | SIGNET_STREAM_TERMINAL, writer), SIGNET_INVALID_ARGUMENT);
    expect("bind: an unknown flag", signet_child_bind_stream(child, 1 | 0x200, writer), SIGNET_INVALID_ARGUMENT);
    expect("bind: a forged child handle", signet_child_bind_stream(0x7777, 1, writer), SIGNET_BAD_HANDLE);
    expect("bind: a forged endpoint", signet_child_bind_stream(child, 1, 0x7777), SIGNET_BAD_HANDLE);
    expect("bind: a child handle as the endpoint", signet_child_bind_stream(child, 1, child), SIGNET_BAD_HANDLE);
    expect("bind: not a Stream", signet_child_bind_stream(child, 1, console_exp), SIGNET_INVALID_ARGUMENT);
    expect("bind: the reader as stdout", signet_child_bind_stream(child, 1, reader), SIGNET_INVALID_ARGUMENT);
    expect("bind: the writer as stdin", signet_child_bind_stream(child, 0, writer), SIGNET_INVALID_ARGUMENT);
    expect("bind: stdout", signet_child_bind_stream(child, 1, writer), SIGNET_OK);
    expect("bind: the endpoint moved to the child", signet_channel_send(writer, Stream_MSG_Eof, "", 0), SIGNET_BAD_HANDLE);
    signet_handle reader2, writer2;
    signet_channel_create(Stream_descriptor, Stream_DESCRIPTOR_SIZE, &reader2, &writer2);
    expect("bind: stdout twice", signet_child_bind_stream(child, 1, writer2), SIGNET_INVALID_ARGUMENT);

    // child_set_param: checked against the child's manifest.
    expect("param: undeclared", signet_child_set_param(child, "colour", 6, "red", 3), SIGNET_NOT_FOUND);
    expect("param: not an integer", signet_child_set_param(child, "count", 5, "12a", 3), SIGNET_INVALID_ARGUMENT);
    expect("param: an integer", signet_child_set_param(child, "count", 5, "-12", 3), SIGNET_OK);
    expect("param: a string", signet_child_set_param(child, "greeting", 8, "salut", 5), SIGNET_OK);
    expect("param: a forged child", signet_child_set_param(0x7777, "greeting", 8, "x", 1), SIGNET_BAD_HANDLE);
    expect("param: out of bounds", signet_child_set_param(child, (char const*)0xfffffff0u, 64, "x", 1), SIGNET_OUT_OF_BOUNDS);

    // child_set_environment: NUL-terminated NAME=value entries; a refusal keeps what was given.
    static char const good[] = "GREETING=salut\0EMPTY=\0";
    expect("environment: two entries", signet_child_set_environment(child, good, sizeof good - 1), SIGNET_OK);
    expect("environment: no '='", signet_child_set_environment(child, "NAME\0", 5), SIGNET_INVALID_ARGUMENT);
    expect("environment: an empty name", signet_child_set_environment(child, "=x\0", 3), SIGNET_INVALID_ARGUMENT);
    expect("environment: an empty entry", signet_child_set_environment(child, "A=1\0\0", 5), SIGNET_INVALID_ARGUMENT);
    expect("environment: not NUL-terminated", signet_child_set_environment(child, "A=1", 3), SIGNET_INVALID_ARGUMENT);
    static char large[64 * 1024 + 4];
    memset(large, 'x', sizeof large);
    large[0] = 'A';
    large[1] = '=';
    large[sizeof large - 1] = '\0';
    expect("environment: over 64 KiB", signet_child_set_environment(child, large, sizeof large), SIGNET_LIMIT);
    expect("environment: a forged child", signet_child_set_environment(0x7777, good, sizeof good - 1), SIGNET_BAD_HANDLE);
    expect("environment: a stream as the child", signet_child_set_environment(reader, good, sizeof good - 1), SIGNET_BAD_HANDLE);
    expect("environment: out of bounds", signet_child_set_environment(child, (char const*)0xfffffff0u, 64), SIGNET_OUT_OF_BOUNDS);

    // child_describe.
    uint64_t id = 0;
    char text[64];
    uint32_t length = 0;
    expect("describe: created", signet_child_describe(child, &id, text, sizeof text, &length), SIGNET_OK);
    expect("describe: says created", length == 7 && memcmp(text, "created", 7) == 0 && id != 0 ? 0 : 1, 0);
    expect("describe: too small", signet_child_describe(child, &id, text, 3, &length), SIGNET_LIMIT);
    expect("describe: the length needed", (int32_t)length, 7);
    expect("describe: a forged child", signet_child_describe(0x7777, &id, text, sizeof text, &length), SIGNET_BAD_HANDLE);
    expect("describe: out of bounds", signet_child_describe(child, (uint64_t*)0xfffffff0u, text, sizeof text, &length), SIGNET_OUT_OF_BOUNDS);

    // child_directories and child_bind_directory: only where the child's manifest grants one.
    // (A Stream end is no file system, so even a granted path refuses it, for another reason.)
    signet_handle notes = create("notes");
    char granted[16];
    expect("directories: notes", signet_child_directories(notes, granted, sizeof granted, &length), SIGNET_OK);
    expect("directories: notes is granted /data", length == 6 && memcmp(granted, "/data", 6) == 0 ? 0 : 1, 0);
    expect("directories: too small", signet_child_directories(notes, granted, 3, &length), SIGNET_LIMIT);
    expect("directories: the length needed", (int32_t)length, 6);
    expect("directories: show has none", signet_child_directories(child, granted, sizeof granted, &length), SIGNET_OK);
    expect("directories: none is length 0", (int32_t)length, 0);
    expect("directories: a forged child", signet_child_directories(0x7777, granted, sizeof granted, &length), SIGNET_BAD_HANDLE);
    expect("directories: out of bounds", signet_child_directories(notes, (char*)0xfffffff0u, 64, &length), SIGNET_OUT_OF_BOUNDS);
    expect("bind directory: not granted", signet_child_bind_directory(child, "/data", 5, reader2), SIGNET_DENIED);
    expect("bind directory: another path", signet_child_bind_directory(notes, "/etc", 4, reader2), SIGNET_DENIED);
    expect("bind directory: granted, but not a file system", signet_child_bind_directory(notes, "/data", 5, reader2), SIGNET_INVALID_ARGUMENT);
    signet_handle_close(notes);

    // The child runs with what it was given: its output comes through our reader.
    expect("start", signet_child_start(child), SIGNET_OK);
    expect("bind: after start", signet_child_bind_stream(child, 2, writer2), SIGNET_INVALID_ARGUMENT);
    expect("param: after start", signet_child_set_param(child, "greeting", 8, "x", 1), SIGNET_INVALID_ARGUMENT);
    expect("environment: after start", signet_child_set_environment(child, good, sizeof good - 1), SIGNET_INVALID_ARGUMENT);
    char output[1024];
    uint32_t got = 0;
    for (;;) {
        Stream_Imp_send_Read(reader, 4096);
        Stream_Imp_message message;
        if (Stream_Imp_recv(reader, &message) != Stream_Imp_Data)
            break;
        uint32_t n = message.as.Data.data.length;
        if (got + n > sizeof output - 1)
            n = sizeof output - 1 - got;
        memcpy(output + got, message.as.Data.data.data, n);
        got += n;
    }
    output[got] = '\0';
    int32_t status = -1;
    signet_child_wait(child, SIGNET_WAIT_FOREVER, &status);
    expect("the child's output came through the bound stdout", strstr(output, "greeting: salut\n") && strstr(output, "count: -12\n") ? 0 : 1, 0);
    expect("the child's environment is what was given, in order",
        strstr(output, "env GREETING=salut\nenv EMPTY=\n") && !strstr(output, "env NAME") && !strstr(output, "env A=") ? 0 : 1, 0);
    expect("describe: exited", signet_child_describe(child, &id, text, sizeof text, &length), SIGNET_OK);
    expect("describe: says exited 0", length == 8 && memcmp(text, "exited 0", 8) == 0 ? 0 : 1, 0);
    printf("abicheck: %d failed\n", failures);
    return failures ? 1 : 0;
}
