// The console: the only SIP that reads and writes the terminal.
//
// Every other SIP reaches the terminal through Stream channels the console
// serves (services/contracts/Stream.contract, Console.contract):
//  - an output session is the reading end of a stream: the console keeps one
//    Read outstanding on it and prints what arrives, a whole line at a time, so
//    the output of different programs never interleaves inside a line;
//  - an input session is the writing end of a stream: when its reader asks, the
//    console reads one line from the terminal and answers with it. On an
//    interactive terminal (parameter `interactive`, set by `signet boot`, which
//    puts the terminal in raw mode) the console is the line discipline: it
//    echoes, edits (arrows, Home/End, Backspace, Delete, Ctrl-A/E/U/K/W) and
//    keeps a history (Up/Down); Ctrl-D on an empty line is the end of input for
//    that read, Ctrl-C drops the line.
//  - control endpoints (Console.Exp) open input sessions and attach output ones,
//    and open watches for Ctrl-C (Interrupt.contract). On a terminal a second
//    thread reads it all the time, so that a Ctrl-C typed while a program runs
//    in front of the user is seen at once: the console tells every armed
//    watcher (the shell, which stops the program). Typed-ahead bytes wait in
//    the console for the next reader, in order. A Ctrl-C typed while a line is
//    edited for the first session (the shell's own) drops that line instead.
//
// Startup handles, in the manifest's order: the control endpoint of the first
// session (the shell), then that session's stdin writer, stdout reader and
// stderr reader. See docs/console.md.
#include <signet/abi.h>

#include "Console.h"
#include "Interrupt.h"
#include "Stream.h"

#include <signet/thread.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { MaxSessions = 64, LineCapacity = 4096, HistoryCapacity = 100, EditCapacity = 1024 };

// Keys: the main thread's end of the stream from the thread that reads the
// terminal (interactive only). Watch: the console's end of an Interrupt channel.
typedef enum { Control, Input, Output, Keys, Watch } Kind;

typedef struct {
    Kind kind;
    signet_handle handle;
    bool primary; // Input: the first session's (the shell's own lines)
    bool armed;   // Watch: the watcher asked to be told of the next Ctrl-C
    // Input sessions: the name Continue knows them by; the Read waiting for an
    // answer (its max, 0 if none) and when it came; put aside by a Ctrl-Z.
    uint32_t id;
    uint32_t asked;
    uint64_t asked_at;
    bool parked;
    // Output sessions: the part of a line not printed yet.
    char pending[LineCapacity];
    uint32_t pending_length;
} Session;

static Session* sessions[MaxSessions];
static uint32_t session_count;
static bool interactive;

// ---- The terminal ---------------------------------------------------------

// What is on the terminal's last line (the prompt of a program about to read),
// so that line editing can redraw it.
static char last_line[256];
static uint32_t last_line_length;

static void terminal_write(char const* bytes, uint32_t length)
{
    uint32_t done = 0;
    while (done < length) {
        uint32_t written = 0;
        if (signet_stdio_write(SIGNET_STDOUT, bytes + done, length - done, &written) != SIGNET_OK || written == 0)
            return; // The terminal is gone; nothing better to do than to drop output.
        done += written;
    }
    // Remember the text after the last newline.
    uint32_t start = length;
    while (start > 0 && bytes[start - 1] != '\n')
        --start;
    if (start > 0)
        last_line_length = 0;
    for (uint32_t i = start; i < length && last_line_length < sizeof last_line; ++i)
        last_line[last_line_length++] = bytes[i];
}

static void terminal_puts(char const* text)
{
    terminal_write(text, (uint32_t)strlen(text));
}

// Bytes read from the host but not yet handed out.
static char input[LineCapacity];
static uint32_t input_length;
static bool input_ended;

// ---- The keyboard, on a terminal --------------------------------------------
//
// A second thread reads the terminal and answers the main thread's Reads on a
// Stream of the console's own: the main thread keeps one Read outstanding, and
// selects on it beside the sessions, so Ctrl-C is seen while nobody reads.

static signet_handle keys_writer; // the reading thread's end
static Session* keys;             // the main thread's end, a session of kind Keys
static bool keys_asked;           // a Read is outstanding on it

static void read_terminal(void* unused)
{
    (void)unused;
    static char bytes[LineCapacity];
    for (;;) {
        Stream_Exp_message request;
        if (Stream_Exp_recv(keys_writer, &request) != Stream_Exp_Read)
            return;
        uint32_t max = request.as.Read.max;
        if (max == 0 || max > sizeof bytes)
            max = sizeof bytes;
        uint32_t got = 0;
        if (signet_stdio_read(bytes, max, &got) != SIGNET_OK || got == 0) {
            (void)Stream_Exp_send_Eof(keys_writer);
            return;
        }
        if (Stream_Exp_send_Data(keys_writer, (uint8_t const*)bytes, got) != SIGNET_OK)
            return;
    }
}

// Asks the reading thread for what the input buffer has room for.
static void ask_keys(void)
{
    if (keys && !keys_asked && !input_ended && input_length < sizeof input)
        keys_asked = Stream_Imp_send_Read(keys->handle, (uint32_t)(sizeof input - input_length)) == SIGNET_OK;
}

// Takes the next answer of the reading thread into `message`; false at the end of input.
static bool receive_keys(Stream_Imp_message* message)
{
    ask_keys();
    keys_asked = false;
    if (Stream_Imp_recv(keys->handle, message) != Stream_Imp_Data) {
        input_ended = true;
        return false;
    }
    // The next Read goes out at once, with the room left after this Data, so
    // that the main loop sees what is typed next, Ctrl-C included.
    uint32_t length = message->as.Data.data.length;
    if (!input_ended && input_length + length < sizeof input)
        keys_asked = Stream_Imp_send_Read(keys->handle, (uint32_t)(sizeof input - input_length - length)) == SIGNET_OK;
    return true;
}

static bool fill_input(void)
{
    if (input_ended || input_length == sizeof input)
        return input_length > 0;
    if (keys) {
        static Stream_Imp_message message;
        if (!receive_keys(&message))
            return input_length > 0;
        memcpy(input + input_length, message.as.Data.data.data, message.as.Data.data.length);
        input_length += message.as.Data.data.length;
        return true;
    }
    uint32_t got = 0;
    if (signet_stdio_read(input + input_length, sizeof input - input_length, &got) != SIGNET_OK || got == 0) {
        input_ended = true;
        return input_length > 0;
    }
    input_length += got;
    return true;
}

// Tells every armed watcher of a Ctrl-C, or with `suspend` of a Ctrl-Z (each
// is told once per Arm), and echoes it. False if none was armed: then the key
// interrupts nothing (and is not echoed).
static bool interrupt(bool suspend)
{
    bool told = false;
    for (uint32_t i = 0; i < session_count; ++i) {
        Session* session = sessions[i];
        if (session->kind == Watch && session->armed) {
            session->armed = false;
            told |= (suspend ? Interrupt_Exp_send_Suspended(session->handle) : Interrupt_Exp_send_Interrupted(session->handle)) == SIGNET_OK;
        }
    }
    if (told)
        terminal_puts(suspend ? "^Z\r\n" : "^C\r\n");
    return told;
}

static void consume_input(uint32_t count)
{
    memmove(input, input + count, input_length - count);
    input_length -= count;
}

// Not interactive: the next line of input, at most `max` bytes (a longer line
// comes in pieces). Returns 0 at the end of input.
static uint32_t read_plain_line(char* out, uint32_t max)
{
    for (;;) {
        char* newline = memchr(input, '\n', input_length);
        if (newline || input_length >= max || (input_ended && input_length > 0)) {
            uint32_t length = newline ? (uint32_t)(newline - input + 1) : input_length;
            if (length > max)
                length = max;
            memcpy(out, input, length);
            consume_input(length);
            return length;
        }
        if (!fill_input())
            return 0;
    }
}

// ---- Line editing ---------------------------------------------------------

static char* history[HistoryCapacity];
static uint32_t history_count;

static void remember(char const* line, uint32_t length)
{
    if (length == 0 || (history_count && strlen(history[history_count - 1]) == length && memcmp(history[history_count - 1], line, length) == 0))
        return;
    if (history_count == HistoryCapacity) {
        free(history[0]);
        memmove(history, history + 1, sizeof history[0] * (HistoryCapacity - 1));
        --history_count;
    }
    char* copy = malloc(length + 1);
    if (!copy)
        return;
    memcpy(copy, line, length);
    copy[length] = '\0';
    history[history_count++] = copy;
}

typedef struct {
    char text[EditCapacity];
    uint32_t length;
    uint32_t cursor;
    char prompt[256];
    uint32_t prompt_length;
    uint32_t browsing; // the history line shown; history_count: the line being typed
    int escape;        // in an escape sequence: 1 after ESC, 2 after ESC [ (or O), 3 after a digit
    int escape_digit;
    bool dirty;        // changed since last drawn
} Edit;

static char draft[EditCapacity]; // the line being typed, while the history is browsed

// Writes bytes that do not change what the terminal's last line is taken to be.
static void terminal_control(char const* bytes, uint32_t length)
{
    uint32_t saved = last_line_length;
    terminal_write(bytes, length);
    last_line_length = saved;
}

// Redraws the line: the prompt, the text, then the cursor put back in place.
static void redraw(Edit* edit)
{
    char buffer[EditCapacity * 2 + 320];
    uint32_t n = 0;
    buffer[n++] = '\r';
    memcpy(buffer + n, edit->prompt, edit->prompt_length);
    n += edit->prompt_length;
    memcpy(buffer + n, edit->text, edit->length);
    n += edit->length;
    memcpy(buffer + n, "\x1b[K", 3);
    n += 3;
    for (uint32_t i = edit->cursor; i < edit->length; ++i)
        buffer[n++] = '\b';
    terminal_control(buffer, n);
    edit->dirty = false;
}

static void set_text(Edit* edit, char const* text)
{
    uint32_t length = (uint32_t)strlen(text);
    if (length > EditCapacity - 1)
        length = EditCapacity - 1;
    memcpy(edit->text, text, length);
    edit->length = edit->cursor = length;
}

// Starts editing a line after what the terminal's last line shows (the prompt).
static void begin_edit(Edit* edit)
{
    memset(edit, 0, sizeof *edit);
    memcpy(edit->prompt, last_line, last_line_length);
    edit->prompt_length = last_line_length;
    edit->browsing = history_count;
    draft[0] = '\0';
}

static void delete_forward(Edit* edit)
{
    if (edit->cursor < edit->length) {
        memmove(edit->text + edit->cursor, edit->text + edit->cursor + 1, edit->length - edit->cursor - 1);
        --edit->length;
    }
}

// The end of an escape sequence: arrows, Home, End, Delete.
static void edit_escape(Edit* edit, int c)
{
    if (edit->escape == 1) { // ESC: only ESC [ and ESC O start a sequence we know.
        edit->escape = c == '[' || c == 'O' ? 2 : 0;
        return;
    }
    if (edit->escape == 2 && c >= '0' && c <= '9') { // ESC [ digit ~
        edit->escape = 3;
        edit->escape_digit = c;
        return;
    }
    int digit = edit->escape == 3 ? edit->escape_digit : 0;
    edit->escape = 0;
    edit->dirty = true;
    if (digit) {
        if (c != '~')
            return;
        if (digit == '3')
            delete_forward(edit);
        else if (digit == '1' || digit == '7')
            edit->cursor = 0;
        else if (digit == '4' || digit == '8')
            edit->cursor = edit->length;
        return;
    }
    if (c == 'A' && edit->browsing > 0) { // Up: an older line.
        if (edit->browsing == history_count) {
            memcpy(draft, edit->text, edit->length);
            draft[edit->length] = '\0';
        }
        set_text(edit, history[--edit->browsing]);
    } else if (c == 'B' && edit->browsing < history_count) { // Down: a newer one.
        ++edit->browsing;
        set_text(edit, edit->browsing == history_count ? draft : history[edit->browsing]);
    } else if (c == 'C' && edit->cursor < edit->length) {
        ++edit->cursor;
    } else if (c == 'D' && edit->cursor > 0) {
        --edit->cursor;
    } else if (c == 'H') {
        edit->cursor = 0;
    } else if (c == 'F') {
        edit->cursor = edit->length;
    }
}

typedef enum { Editing, LineDone, LineEnd, LineSuspended } LineResult;

// Interactive: one typed byte of a line. LineDone: the line (with its newline)
// is in edit->text; LineEnd: the read ends with Eof (Ctrl-D on an empty line,
// or a Ctrl-C the watchers took); LineSuspended: a Ctrl-Z the watchers took.
// `primary`: the line is the first session's (the shell's own command line).
static LineResult edit_key(Edit* edit, int c, bool primary)
{
    if (edit->escape) {
        edit_escape(edit, c);
        return Editing;
    }
    // The keys that end or drop the line show it first, as typed so far
    // (keys that came in one burst are drawn once, at the end of it).
    if ((c == '\r' || c == '\n' || c == 3 || c == 4 || c == 26) && edit->dirty)
        redraw(edit);
    switch (c) {
    case '\r':
    case '\n':
        terminal_puts("\r\n");
        remember(edit->text, edit->length);
        edit->text[edit->length++] = '\n';
        return LineDone;
    case 4: // Ctrl-D: the end of input on an empty line, else delete forward.
        if (edit->length == 0) {
            terminal_puts("\r\n");
            return LineEnd;
        }
        delete_forward(edit);
        break;
    case 3: // Ctrl-C: interrupt the program that reads (its watcher stops it), or drop the line.
        if (!primary && interrupt(false))
            return LineEnd;
        terminal_puts("^C\r\n");
        terminal_write(edit->prompt, edit->prompt_length);
        edit->length = edit->cursor = 0;
        edit->browsing = history_count;
        return Editing;
    case 26: // Ctrl-Z: suspend the program that reads (its read is put aside), or nothing.
        if (!primary && interrupt(true))
            return LineSuspended;
        return Editing;
    case 27:
        edit->escape = 1;
        return Editing;
    case 1: edit->cursor = 0; break;             // Ctrl-A
    case 5: edit->cursor = edit->length; break;  // Ctrl-E
    case 2: if (edit->cursor) --edit->cursor; break;                  // Ctrl-B
    case 6: if (edit->cursor < edit->length) ++edit->cursor; break;   // Ctrl-F
    case 11: edit->length = edit->cursor; break; // Ctrl-K
    case 21: // Ctrl-U
        memmove(edit->text, edit->text + edit->cursor, edit->length - edit->cursor);
        edit->length -= edit->cursor;
        edit->cursor = 0;
        break;
    case 23: { // Ctrl-W: the word before the cursor.
        uint32_t start = edit->cursor;
        while (start && edit->text[start - 1] == ' ')
            --start;
        while (start && edit->text[start - 1] != ' ')
            --start;
        memmove(edit->text + start, edit->text + edit->cursor, edit->length - edit->cursor);
        edit->length -= edit->cursor - start;
        edit->cursor = start;
        break;
    }
    case 8:
    case 127: // Backspace
        if (edit->cursor) {
            memmove(edit->text + edit->cursor - 1, edit->text + edit->cursor, edit->length - edit->cursor);
            --edit->length;
            --edit->cursor;
        }
        break;
    default:
        if (c < 32 || edit->length >= EditCapacity - 2)
            return Editing; // Other control characters are ignored; the line is full.
        memmove(edit->text + edit->cursor + 1, edit->text + edit->cursor, edit->length - edit->cursor);
        edit->text[edit->cursor++] = (char)c;
        ++edit->length;
        break;
    }
    edit->dirty = true;
    return Editing;
}

// Interactive: the input session whose line is being edited, if any, and the line.
static Session* editing;
static Edit edit;

// What interactive reads have not handed out yet (a line longer than a reader asked for).
static char edited[EditCapacity];
static uint32_t edited_length;

// ---- Sessions -------------------------------------------------------------

static uint32_t next_session_id = 1;
static uint64_t asked_count; // orders the reads waiting to be served

static Session* add_session(Kind kind, signet_handle handle)
{
    if (session_count == MaxSessions) {
        signet_handle_close(handle); // Its peer sees the stream closed: the end of it.
        return NULL;
    }
    Session* session = calloc(1, sizeof *session);
    if (!session) {
        signet_handle_close(handle);
        return NULL;
    }
    session->kind = kind;
    session->handle = handle;
    if (kind == Input)
        session->id = next_session_id++;
    sessions[session_count++] = session;
    // An output session always has a Read outstanding. If the writer is gone
    // already, the send fails and the next select reports the session closed.
    if (kind == Output)
        (void)Stream_Imp_send_Read(handle, LineCapacity);
    return session;
}

// Prints what an output session sent. While a line is edited on the terminal,
// the output goes above it: the edited line is erased, and drawn again below.
static void print_output(char const* bytes, uint32_t length)
{
    if (!editing) {
        terminal_write(bytes, length);
        return;
    }
    terminal_control("\r\x1b[K", 4);
    terminal_write(bytes, length);
    if (bytes[length - 1] != '\n')
        terminal_puts("\n");
    redraw(&edit);
}

static void flush_pending(Session* session)
{
    if (session->pending_length) {
        print_output(session->pending, session->pending_length);
        session->pending_length = 0;
    }
}

// Before a program reads from a terminal, whatever it (or anyone) left without a
// newline -- a prompt -- goes out. Not when the input is a script: nobody reads
// prompts there, and a background program's unfinished line would be cut by
// the next line of another program.
static void flush_all_pending(void)
{
    for (uint32_t i = 0; i < session_count; ++i) {
        if (sessions[i]->kind == Output)
            flush_pending(sessions[i]);
    }
}

static void remove_session(uint32_t index)
{
    Session* session = sessions[index];
    if (session == editing) {
        // Its reader is gone: what was typed for it goes nowhere.
        editing = NULL;
        if (edit.length)
            terminal_puts("\r\n");
    }
    if (session->kind == Output)
        flush_pending(session);
    signet_handle_close(session->handle);
    free(session);
    sessions[index] = sessions[--session_count];
}

static void drop_session(Session* session)
{
    for (uint32_t i = 0; i < session_count; ++i) {
        if (sessions[i] == session) {
            remove_session(i);
            return;
        }
    }
}

// Prints what an output session sent, whole lines only.
static void take_output(Session* session, uint8_t const* data, uint32_t length)
{
    while (length) {
        uint32_t room = LineCapacity - session->pending_length;
        uint32_t take = length < room ? length : room;
        memcpy(session->pending + session->pending_length, data, take);
        session->pending_length += take;
        data += take;
        length -= take;
        uint32_t end = session->pending_length;
        while (end > 0 && session->pending[end - 1] != '\n')
            --end;
        if (end == 0 && session->pending_length == LineCapacity)
            end = LineCapacity; // A line longer than the buffer goes out in pieces.
        if (end) {
            print_output(session->pending, end);
            memmove(session->pending, session->pending + end, session->pending_length - end);
            session->pending_length -= end;
        }
    }
}

// Ctrl-C and Ctrl-Z among what waits for the next reader: typed after the line
// just handed out (in the same burst of bytes), or while nobody read, they are
// for the program in front, not for the next line: the watchers get them.
static void take_typed_interrupts(void)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < input_length; ++i) {
        if (input[i] == 3 || input[i] == 26)
            (void)interrupt(input[i] == 26);
        else
            input[kept++] = input[i];
    }
    input_length = kept;
}

// Answers a session's Read with up to its max bytes of `line`, or with Eof if
// there are none; a session whose reader is gone is removed.
static void answer(Session* session, char const* line, uint32_t length)
{
    int32_t sent = length == 0 ? Stream_Exp_send_Eof(session->handle) : Stream_Exp_send_Data(session->handle, (uint8_t const*)line, length);
    session->asked = 0;
    if (sent != SIGNET_OK)
        drop_session(session);
}

// Interactive: answers a Read with what is left of the last edited line.
static void answer_edited(Session* session)
{
    uint32_t length = edited_length < session->asked ? edited_length : session->asked;
    static char line[EditCapacity];
    memcpy(line, edited, length);
    memmove(edited, edited + length, edited_length - length);
    edited_length -= length;
    answer(session, line, length);
}

// Not interactive: answers a Read with the next line of input, at once.
static void serve_plain_read(Session* session)
{
    static char line[LineCapacity];
    answer(session, line, read_plain_line(line, session->asked));
}

// Interactive: the input session whose read is served next: the first
// session's if it asked (the shell reads its commands in front of the user),
// else the one that asked first. Never one that Ctrl-Z put aside.
static Session* next_reader(void)
{
    Session* next = NULL;
    for (uint32_t i = 0; i < session_count; ++i) {
        Session* session = sessions[i];
        if (session->kind != Input || !session->asked || session->parked)
            continue;
        if (session->primary)
            return session;
        if (!next || session->asked_at < next->asked_at)
            next = session;
    }
    return next;
}

// Interactive: starts a line for the next reader, and edits it with what was
// typed. True if a read was answered or put aside (the sessions changed).
static bool serve_typing(void)
{
    if (!editing) {
        Session* reader = next_reader();
        if (!reader) {
            take_typed_interrupts();
            return false;
        }
        if (edited_length) {
            answer_edited(reader);
            return true;
        }
        flush_all_pending();
        begin_edit(&edit);
        editing = reader;
    }
    if (input_length == 0 && !keys && !input_ended)
        (void)fill_input(); // No reading thread: the terminal is read here.
    LineResult result = Editing;
    while (result == Editing && input_length) {
        int c = (unsigned char)input[0];
        consume_input(1);
        result = edit_key(&edit, c, editing->primary);
    }
    if (result == Editing && input_length == 0 && input_ended) {
        if (edit.length)
            terminal_puts("\r\n");
        result = LineEnd; // The end of the terminal: this read, and every later one, ends.
    }
    Session* reader = editing;
    switch (result) {
    case Editing:
        if (edit.dirty)
            redraw(&edit);
        return false;
    case LineDone:
        memcpy(edited, edit.text, edit.length);
        edited_length = edit.length;
        editing = NULL;
        answer_edited(reader);
        break;
    case LineEnd:
        editing = NULL;
        answer(reader, NULL, 0);
        break;
    case LineSuspended:
        // Its program is being suspended: the read waits, unanswered, until the
        // shell says the program continues in front (Continue). What was typed
        // for it is dropped.
        editing = NULL;
        reader->parked = true;
        break;
    }
    take_typed_interrupts();
    return true;
}

static void serve_control(uint32_t index)
{
    Session* session = sessions[index];
    Console_Exp_message request;
    switch (Console_Exp_recv(session->handle, &request)) {
    case Console_Exp_OpenInput: {
        signet_handle reader, writer;
        if (signet_channel_create(Stream_descriptor, Stream_DESCRIPTOR_SIZE, &reader, &writer) != SIGNET_OK) {
            remove_session(index); // Out of handles: this client loses its console.
            return;
        }
        Session* input_session = add_session(Input, writer);
        Console_Exp_send_Input(session->handle, reader, input_session ? input_session->id : 0);
        return;
    }
    case Console_Exp_Attach:
        add_session(Output, request.as.Attach.reader);
        Console_Exp_send_Attached(session->handle);
        return;
    case Console_Exp_WatchInterrupts: {
        signet_handle watcher, watched;
        if (signet_channel_create(Interrupt_descriptor, Interrupt_DESCRIPTOR_SIZE, &watcher, &watched) != SIGNET_OK) {
            remove_session(index);
            return;
        }
        add_session(Watch, watched);
        Console_Exp_send_Interrupts(session->handle, watcher);
        return;
    }
    case Console_Exp_Continue:
        for (uint32_t i = 0; i < session_count; ++i) {
            if (sessions[i]->kind == Input && sessions[i]->id == request.as.Continue.session)
                sessions[i]->parked = false;
        }
        Console_Exp_send_Continued(session->handle);
        return;
    default: // Closed, or a message that broke the contract.
        remove_session(index);
        return;
    }
}

// An input session is ready: its reader asks (Read), or is gone. A session
// whose Read waits for an answer is ready only when its reader is gone.
static void serve_input(uint32_t index)
{
    Session* session = sessions[index];
    Stream_Exp_message request;
    if (session->asked || Stream_Exp_recv(session->handle, &request) != Stream_Exp_Read) {
        remove_session(index);
        return;
    }
    uint32_t max = request.as.Read.max;
    session->asked = max == 0 || max > LineCapacity ? LineCapacity : max;
    session->asked_at = ++asked_count;
    if (!interactive)
        serve_plain_read(session);
}

// The watcher arms itself, or is gone.
static void serve_watch(uint32_t index)
{
    Session* session = sessions[index];
    Interrupt_Exp_message request;
    if (Interrupt_Exp_recv(session->handle, &request) == Interrupt_Exp_Arm)
        session->armed = true;
    else
        remove_session(index);
}

// What was typed: edited into the line of the program that reads, or kept for
// the next reader (serve_typing).
static void serve_keys(void)
{
    static Stream_Imp_message message;
    if (!receive_keys(&message)) {
        // The end of the terminal (or of its reader): the next read sees it.
        drop_session(keys);
        keys = NULL;
        return;
    }
    // The Read asked for no more than the room left.
    memcpy(input + input_length, message.as.Data.data.data, message.as.Data.data.length);
    input_length += message.as.Data.data.length;
    ask_keys();
}

static void serve_output(uint32_t index)
{
    Session* session = sessions[index];
    Stream_Imp_message message;
    switch (Stream_Imp_recv(session->handle, &message)) {
    case Stream_Imp_Data:
        take_output(session, message.as.Data.data.data, message.as.Data.data.length);
        if (Stream_Imp_send_Read(session->handle, LineCapacity) == SIGNET_OK)
            return;
        break;
    default: // Eof, the writer gone, or a broken message: the session is over.
        break;
    }
    remove_session(index);
}

static bool parameter_is_true(char const* name)
{
    char value[16];
    uint32_t length = 0;
    return signet_param_get(name, (uint32_t)strlen(name), value, sizeof value, &length) == SIGNET_OK && length == 4 && memcmp(value, "true", 4) == 0;
}

// Sessions that keep the console serving: all but its own keyboard stream.
static bool serving(void)
{
    for (uint32_t i = 0; i < session_count; ++i) {
        if (sessions[i]->kind != Keys)
            return true;
    }
    return false;
}

// On a terminal: the thread that reads it, and the main thread's end of its stream.
static void start_keyboard(void)
{
    static uint8_t stack[64 * 1024] __attribute__((aligned(16)));
    signet_handle reader = 0, thread = 0;
    if (signet_channel_create(Stream_descriptor, Stream_DESCRIPTOR_SIZE, &reader, &keys_writer) != SIGNET_OK)
        return;
    if (signet_thread_start(read_terminal, NULL, stack, sizeof stack, &thread) != SIGNET_OK) {
        signet_handle_close(reader);
        signet_handle_close(keys_writer);
        return; // Lines are still read, on the main thread, as without a terminal; Ctrl-C interrupts nothing.
    }
    keys = add_session(Keys, reader);
    ask_keys();
}

int main(void)
{
    interactive = parameter_is_true("interactive");
    uint32_t count = signet_startup_handle_count();
    for (uint32_t i = 0; i < count; ++i) {
        signet_handle handle = 0;
        if (signet_startup_handle(i, &handle) != SIGNET_OK)
            continue;
        // The manifest's order: control, then the first session's stdin, stdout, stderr.
        Session* session = add_session(i == 0 ? Control : i == 1 ? Input : Output, handle);
        if (session && i == 1)
            session->primary = true;
    }
    if (interactive)
        start_keyboard();
    // The console serves until every session and every control endpoint is gone.
    while (serving()) {
        // Output first: whatever was written before a program asks for input (a
        // prompt, the rest of a line) is printed before the console reads.
        // The sessions take turns being first, so one that never stops writing
        // cannot keep the others (select answers the lowest ready index) waiting.
        signet_handle handles[MaxSessions];
        uint32_t outputs[MaxSessions];
        uint32_t output_count = 0;
        static uint32_t turn;
        ++turn;
        for (uint32_t k = 0; k < session_count; ++k) {
            uint32_t i = (k + turn) % session_count;
            if (sessions[i]->kind == Output) {
                outputs[output_count] = i;
                handles[output_count++] = sessions[i]->handle;
            }
        }
        uint32_t ready = 0;
        if (output_count && signet_channel_select(handles, output_count, 0, &ready) == SIGNET_OK) {
            serve_output(outputs[ready]);
            continue;
        }
        if (interactive && serve_typing())
            continue;
        ask_keys(); // after a line was edited, the room may be back
        for (uint32_t i = 0; i < session_count; ++i)
            handles[i] = sessions[i]->handle;
        if (signet_channel_select(handles, session_count, SIGNET_WAIT_FOREVER, &ready) != SIGNET_OK)
            return 1;
        switch (sessions[ready]->kind) {
        case Control: serve_control(ready); break;
        case Input: serve_input(ready); break;
        case Output: serve_output(ready); break;
        case Keys: serve_keys(); break;
        case Watch: serve_watch(ready); break;
        }
    }
    return 0;
}
