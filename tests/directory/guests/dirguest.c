// The directory tests' guest: one program, a role per first argument. Every
// role but `child` starts with a Directory connection as startup handle 0 and
// prints what happened, one line per event, for the tests to read:
//
//   service PATH KIND N  registers PATH (KIND echo: Bind; counter: Open; decline: neither) and
//                        serves until N clients have come and gone (0: for ever)
//   late-service ...     the same, 300 ms after it started
//   (either, with a 5th argument or parameter `needs` = PATH2: first binds an Echo at
//    PATH2 once, as `bind` does, and ends with status 3 if that fails)
//   idle                 holds its Directory connection and never registers (for ever)
//   bind PATH            binds an Echo at PATH, says hello, asks who it is
//   open PATH            opens a Counter at PATH and reads two values
//   register PATH        registers a provider at PATH, then leaves
//   handoff PATH         binds an Echo at PATH and hands it to a child, which asks
//   self                 opens /service/directory and uses the new connection
//   spawn                tries to start a child
//   parent               starts a child that requires a Directory connection
//   flood                opens connections until refused, then waits
//   conformance          every status of channel_peer_principal and endpoint_check
//   child                (started by handoff) takes the Echo end, asks, answers
#include <signet/abi.h>

#include "Directory.h"
#include "DirectoryCodes.h"
#include "directory_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static signet_handle directory;

// Prints a refusal and returns its code, or 0 for `expected`.
static uint32_t refused_or(Directory_Imp_message const* answer, Directory_Imp_tag tag, Directory_Imp_tag expected)
{
    if (tag == expected)
        return 0;
    if (tag == Directory_Imp_Refused) {
        printf("refused %u %.*s\n", (unsigned)answer->as.Refused.code, (int)answer->as.Refused.reason.length, answer->as.Refused.reason.data);
        return answer->as.Refused.code;
    }
    printf("directory answered %d (status %d)\n", (int)tag, (int)answer->status);
    return 100;
}

// A reason of 200 bytes, all two-byte characters: longer than the directory can pass on whole.
static void decline_at_length(signet_handle provider)
{
    char reason[200];
    for (unsigned i = 0; i < sizeof reason; i += 2) {
        reason[i] = (char)0xC3;
        reason[i + 1] = (char)0xA9; // é
    }
    ServiceProvider_Exp_send_Declined(provider, reason, sizeof reason);
}

static int serve(char const* path, bool echo, bool decline, unsigned limit)
{
    signet_handle provider_imp = 0, provider = 0;
    if (signet_channel_create(ServiceProvider_descriptor, ServiceProvider_DESCRIPTOR_SIZE, &provider_imp, &provider) != SIGNET_OK)
        return 10;
    Directory_Imp_send_Register(directory, path, (uint32_t)strlen(path), provider_imp);
    Directory_Imp_message answer;
    if (refused_or(&answer, Directory_Imp_recv(directory, &answer), Directory_Imp_Registered))
        return 3;
    printf("registered %s\n", path);
    fflush(stdout);
    signet_handle handles[64] = { provider };
    uint32_t count = 1;
    unsigned served = 0, counter = 0;
    for (;;) {
        uint32_t ready = 0;
        if (signet_channel_select(handles, count, SIGNET_WAIT_FOREVER, &ready) != SIGNET_OK)
            return 11;
        if (ready == 0) {
            ServiceProvider_Exp_message request;
            ServiceProvider_Exp_tag tag = ServiceProvider_Exp_recv(provider, &request);
            if (decline && (tag == ServiceProvider_Exp_Connect || tag == ServiceProvider_Exp_Open)) {
                if (tag == ServiceProvider_Exp_Connect)
                    signet_handle_close(request.as.Connect.endpoint);
                decline_at_length(provider);
            } else if (tag == ServiceProvider_Exp_Connect) {
                signet_handle client = request.as.Connect.endpoint;
                // What a Bind brings is checked before it is used: another contract's
                // end would get this service stopped for breaking a protocol.
                if (!echo || signet_endpoint_check(client, Echo_descriptor, Echo_DESCRIPTOR_SIZE, 1) != SIGNET_OK || count == 64) {
                    signet_handle_close(client);
                    ServiceProvider_Exp_send_Declined(provider, "not an Echo end", 15);
                    continue;
                }
                ServiceProvider_Exp_send_Connected(provider);
                Echo_Exp_send_Ready(client);
                handles[count++] = client;
            } else if (tag == ServiceProvider_Exp_Open) {
                signet_handle imp = 0, exp = 0;
                if (echo || count == 64 || signet_channel_create(Counter_descriptor, Counter_DESCRIPTOR_SIZE, &imp, &exp) != SIGNET_OK) {
                    ServiceProvider_Exp_send_Declined(provider, "Bind an Echo instead", 20);
                    continue;
                }
                ServiceProvider_Exp_send_Opened(provider, imp);
                handles[count++] = exp;
            } else {
                printf("provider closed\n");
                return 0;
            }
            continue;
        }
        signet_handle client = handles[ready];
        bool gone = false;
        if (echo) {
            Echo_Exp_message message;
            switch (Echo_Exp_recv(client, &message)) {
            case Echo_Exp_Say:
                Echo_Exp_send_Said(client, message.as.Say.text.data, message.as.Say.text.length);
                break;
            case Echo_Exp_Who: {
                char principal[200];
                uint32_t length = 0;
                int32_t status = signet_channel_peer_principal(client, principal, sizeof principal, &length);
                if (status != SIGNET_OK)
                    length = (uint32_t)snprintf(principal, sizeof principal, "(status %d)", (int)status);
                Echo_Exp_send_Peer(client, principal, length);
                break;
            }
            default:
                gone = true;
            }
        } else {
            Counter_Exp_message message;
            if (Counter_Exp_recv(client, &message) == Counter_Exp_Next)
                Counter_Exp_send_Value(client, ++counter);
            else
                gone = true;
        }
        if (gone) {
            signet_handle_close(client);
            handles[ready] = handles[--count];
            if (++served == limit) {
                printf("served %u\n", served);
                return 0;
            }
        }
    }
}

// Binds an Echo at `path`, once: returns the Imp end in state Talk, or 0. A
// service the host starts first (signet run --service) has registered before
// this program starts, so a refusal counts at once.
static signet_handle bind_echo(char const* path)
{
    signet_handle imp = 0, exp = 0;
    if (signet_channel_create(Echo_descriptor, Echo_DESCRIPTOR_SIZE, &imp, &exp) != SIGNET_OK)
        return 0;
    int32_t sent = Directory_Imp_send_Bind(directory, path, (uint32_t)strlen(path), exp);
    if (sent != SIGNET_OK) {
        printf("bind not sent: status %d\n", (int)sent);
        return 0;
    }
    Directory_Imp_message answer;
    if (refused_or(&answer, Directory_Imp_recv(directory, &answer), Directory_Imp_Bound))
        return 0;
    Echo_Imp_message greeting;
    if (Echo_Imp_recv(imp, &greeting) != Echo_Imp_Ready) {
        printf("no Ready from the service\n");
        return 0;
    }
    return imp;
}

static void ask_who(signet_handle echo, char const* label)
{
    Echo_Imp_send_Who(echo);
    Echo_Imp_message answer;
    if (Echo_Imp_recv(echo, &answer) == Echo_Imp_Peer)
        printf("%s %.*s\n", label, (int)answer.as.Peer.principal.length, answer.as.Peer.principal.data);
}

static int bind_role(char const* path)
{
    signet_handle echo = bind_echo(path);
    if (!echo)
        return 3;
    Echo_Imp_send_Say(echo, "hello", 5);
    Echo_Imp_message answer;
    if (Echo_Imp_recv(echo, &answer) == Echo_Imp_Said)
        printf("said %.*s\n", (int)answer.as.Said.text.length, answer.as.Said.text.data);
    ask_who(echo, "service sees");
    signet_handle_close(echo);
    return 0;
}

static int open_role(char const* path)
{
    Directory_Imp_send_Open(directory, path, (uint32_t)strlen(path));
    Directory_Imp_message answer;
    if (refused_or(&answer, Directory_Imp_recv(directory, &answer), Directory_Imp_Opened))
        return 3;
    signet_handle counter = answer.as.Opened.endpoint;
    if (signet_endpoint_check(counter, Counter_descriptor, Counter_DESCRIPTOR_SIZE, 0) != SIGNET_OK) {
        printf("opened an end that is not Counter.Imp\n");
        return 4;
    }
    for (int i = 0; i < 2; ++i) {
        Counter_Imp_send_Next(counter);
        Counter_Imp_message value;
        if (Counter_Imp_recv(counter, &value) == Counter_Imp_Value)
            printf("value %u\n", (unsigned)value.as.Value.value);
    }
    signet_handle_close(counter);
    return 0;
}

static int handoff_role(char const* path)
{
    signet_handle service_echo = bind_echo(path);
    if (!service_echo)
        return 3;
    ask_who(service_echo, "before");
    // An Echo channel this SIP serves itself, so it can watch its other end travel.
    signet_handle local_imp = 0, local_exp = 0, imp = 0, exp = 0, child = 0;
    if (signet_channel_create(Echo_descriptor, Echo_DESCRIPTOR_SIZE, &local_imp, &local_exp) != SIGNET_OK
        || signet_channel_create(Handoff_descriptor, Handoff_DESCRIPTOR_SIZE, &imp, &exp) != SIGNET_OK)
        return 10;
    Echo_Exp_send_Ready(local_exp);
    Echo_Imp_message ready;
    Echo_Imp_recv(local_imp, &ready);
    char principal[200];
    uint32_t length = 0;
    if (signet_channel_peer_principal(local_exp, principal, sizeof principal, &length) == SIGNET_OK)
        printf("local peer before %.*s\n", (int)length, principal);
    int32_t status = signet_child_create("dirguest", 8, &exp, 1, "child", 6, &child);
    if (status != SIGNET_OK) {
        printf("child_create: status %d\n", (int)status);
        return 5;
    }
    if (signet_channel_peer_principal(imp, principal, sizeof principal, &length) == SIGNET_OK)
        printf("handoff peer %.*s\n", (int)length, principal);
    // The child has not started: the end waits in its inbox, held by nobody.
    Handoff_Imp_send_Take(imp, local_imp);
    printf("in transit: status %d\n", (int)signet_channel_peer_principal(local_exp, principal, sizeof principal, &length));
    signet_child_start(child);
    Echo_Exp_message question;
    if (Echo_Exp_recv(local_exp, &question) == Echo_Exp_Who) {
        status = signet_channel_peer_principal(local_exp, principal, sizeof principal, &length);
        if (status == SIGNET_OK)
            printf("local peer after %.*s\n", (int)length, principal);
        Echo_Exp_send_Peer(local_exp, principal, status == SIGNET_OK ? length : 0);
    }
    Handoff_Imp_message seen;
    Handoff_Imp_recv(imp, &seen);
    Handoff_Imp_send_Take(imp, service_echo);
    if (Handoff_Imp_recv(imp, &seen) == Handoff_Imp_Seen)
        printf("after %.*s\n", (int)seen.as.Seen.principal.length, seen.as.Seen.principal.data);
    signet_handle_close(local_exp);
    int32_t exit_status = 0;
    signet_child_wait(child, SIGNET_WAIT_FOREVER, &exit_status);
    // The child ended: the other end of the Handoff channel is gone.
    printf("after child: status %d\n", (int)signet_channel_peer_principal(imp, principal, sizeof principal, &length));
    return 0;
}

static int child_role(void)
{
    signet_handle handoff = 0;
    if (signet_startup_handle(0, &handoff) != SIGNET_OK)
        return 10;
    // Two ends come, one after the other; then the child ends.
    for (int taken = 0; taken < 2; ++taken) {
        Handoff_Exp_message take;
        if (Handoff_Exp_recv(handoff, &take) != Handoff_Exp_Take)
            return 0;
        signet_handle echo = take.as.Take.echo;
        Echo_Imp_send_Who(echo);
        Echo_Imp_message answer;
        if (Echo_Imp_recv(echo, &answer) != Echo_Imp_Peer)
            return 12;
        Handoff_Exp_send_Seen(handoff, answer.as.Peer.principal.data, answer.as.Peer.principal.length);
        signet_handle_close(echo);
    }
    return 0;
}

static int self_role(void)
{
    Directory_Imp_send_Open(directory, DIRECTORY_SELF_PATH, sizeof DIRECTORY_SELF_PATH - 1);
    Directory_Imp_message answer;
    if (refused_or(&answer, Directory_Imp_recv(directory, &answer), Directory_Imp_Opened))
        return 3;
    signet_handle second = answer.as.Opened.endpoint;
    printf("check %d\n", (int)signet_endpoint_check(second, Directory_descriptor, Directory_DESCRIPTOR_SIZE, 0));
    Directory_Imp_send_Open(second, "/service/nothing-here", 21);
    refused_or(&answer, Directory_Imp_recv(second, &answer), Directory_Imp_Opened);
    // A Bind of a Directory end at the directory's own path is refused: its clients speak first.
    return 0;
}

// Every status of channel_peer_principal and endpoint_check (docs/abi.md).
static int conformance_role(void)
{
    unsigned failures = 0;
#define EXPECT_STATUS(call, want)                                                                  \
    do {                                                                                           \
        int32_t got = (call);                                                                      \
        if (got != (want)) {                                                                       \
            printf("FAIL %s: status %d, expected %d (line %d)\n", #call, (int)got, (int)(want), __LINE__); \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)
    char buffer[256];
    uint32_t length = 0;
    signet_handle imp = 0, exp = 0;
    signet_channel_create(Echo_descriptor, Echo_DESCRIPTOR_SIZE, &imp, &exp);
    EXPECT_STATUS(signet_channel_peer_principal(imp, buffer, sizeof buffer, &length), SIGNET_OK);
    if (length != 13 || memcmp(buffer, "test/dirguest", 13) != 0)
        printf("FAIL own channel's peer is '%.*s'\n", (int)length, buffer), ++failures;
    EXPECT_STATUS(signet_channel_peer_principal(0, buffer, sizeof buffer, &length), SIGNET_BAD_HANDLE);
    EXPECT_STATUS(signet_channel_peer_principal(0xdead, buffer, sizeof buffer, &length), SIGNET_BAD_HANDLE);
    EXPECT_STATUS(signet_channel_peer_principal(imp, (char*)0xFFFFFF00u, 256, &length), SIGNET_OUT_OF_BOUNDS);
    EXPECT_STATUS(signet_channel_peer_principal(imp, buffer, sizeof buffer, (uint32_t*)0xFFFFFF00u), SIGNET_OUT_OF_BOUNDS);
    length = 0;
    EXPECT_STATUS(signet_channel_peer_principal(imp, buffer, 4, &length), SIGNET_LIMIT);
    if (length != 13)
        printf("FAIL LIMIT gives the length needed, not %u\n", (unsigned)length), ++failures;
    // The directory connection's other end is held by the directory SIP.
    EXPECT_STATUS(signet_channel_peer_principal(directory, buffer, sizeof buffer, &length), SIGNET_OK);
    if (length != 23 || memcmp(buffer, "signet-system/directory", 23) != 0)
        printf("FAIL the directory's principal is '%.*s'\n", (int)length, buffer), ++failures;

    EXPECT_STATUS(signet_endpoint_check(imp, Echo_descriptor, Echo_DESCRIPTOR_SIZE, 0), SIGNET_OK);
    EXPECT_STATUS(signet_endpoint_check(exp, Echo_descriptor, Echo_DESCRIPTOR_SIZE, 1), SIGNET_OK);
    EXPECT_STATUS(signet_endpoint_check(imp, Echo_descriptor, Echo_DESCRIPTOR_SIZE, 1), SIGNET_PROTOCOL);
    EXPECT_STATUS(signet_endpoint_check(imp, Counter_descriptor, Counter_DESCRIPTOR_SIZE, 0), SIGNET_PROTOCOL);
    EXPECT_STATUS(signet_endpoint_check(imp, Echo_descriptor, Echo_DESCRIPTOR_SIZE, 2), SIGNET_INVALID_ARGUMENT);
    EXPECT_STATUS(signet_endpoint_check(imp, "not a descriptor", 16, 0), SIGNET_INVALID_ARGUMENT);
    EXPECT_STATUS(signet_endpoint_check(imp, (void const*)0xFFFFFF00u, 256, 0), SIGNET_OUT_OF_BOUNDS);
    EXPECT_STATUS(signet_endpoint_check(0xdead, Echo_descriptor, Echo_DESCRIPTOR_SIZE, 0), SIGNET_BAD_HANDLE);

    // Once the other end is closed, its holder is gone.
    signet_handle_close(exp);
    EXPECT_STATUS(signet_channel_peer_principal(imp, buffer, sizeof buffer, &length), SIGNET_CLOSED);
    signet_handle_close(imp);
    EXPECT_STATUS(signet_channel_peer_principal(imp, buffer, sizeof buffer, &length), SIGNET_BAD_HANDLE);
#undef EXPECT_STATUS
    printf("conformance: %u failed\n", failures);
    return failures ? 1 : 0;
}

// Starts a child of a program that requires a Directory connection: first without
// one (refused), then with a new connection opened at /service/directory.
static int parent_role(char const* path)
{
    static char const program[] = "dirguest-connected";
    static char const args[] = "bind\0/service/echo";
    signet_handle child = 0;
    printf("without a connection: status %d\n", (int)signet_child_create(program, sizeof program - 1, NULL, 0, args, sizeof args, &child));
    Directory_Imp_send_Open(directory, DIRECTORY_SELF_PATH, sizeof DIRECTORY_SELF_PATH - 1);
    Directory_Imp_message answer;
    if (refused_or(&answer, Directory_Imp_recv(directory, &answer), Directory_Imp_Opened))
        return 3;
    signet_handle connection = answer.as.Opened.endpoint;
    int32_t status = signet_child_create(program, sizeof program - 1, &connection, 1, args, sizeof args, &child);
    printf("with a connection: status %d\n", (int)status);
    if (status != SIGNET_OK)
        return 5;
    signet_child_start(child);
    int32_t exit_status = -1;
    signet_child_wait(child, SIGNET_WAIT_FOREVER, &exit_status);
    printf("child exited %d\n", (int)exit_status);
    (void)path;
    return 0;
}

// Opens connections to the directory until refused, keeps them, and waits for ever.
static int flood_role(void)
{
    unsigned opened = 0;
    for (;;) {
        Directory_Imp_send_Open(directory, DIRECTORY_SELF_PATH, sizeof DIRECTORY_SELF_PATH - 1);
        Directory_Imp_message answer;
        if (refused_or(&answer, Directory_Imp_recv(directory, &answer), Directory_Imp_Opened))
            break;
        ++opened;
    }
    printf("opened %u\n", opened);
    signet_sleep(UINT64_MAX);
    return 0;
}

static int register_role(char const* path)
{
    signet_handle imp = 0, exp = 0;
    if (signet_channel_create(ServiceProvider_descriptor, ServiceProvider_DESCRIPTOR_SIZE, &imp, &exp) != SIGNET_OK)
        return 10;
    Directory_Imp_send_Register(directory, path, (uint32_t)strlen(path), imp);
    Directory_Imp_message answer;
    if (refused_or(&answer, Directory_Imp_recv(directory, &answer), Directory_Imp_Registered))
        return 3;
    printf("registered %s\n", path);
    return 0;
}

// Argument `index`, or, for a program launched by manifest (which has no arguments), its
// parameter `name`.
static char const* argument(int argc, char** argv, int index, char const* name)
{
    if (index < argc)
        return argv[index];
    static char values[5][DIRECTORY_PATH_MAX + 1];
    uint32_t length = 0;
    if (signet_param_get(name, (uint32_t)strlen(name), values[index - 1], DIRECTORY_PATH_MAX, &length) != SIGNET_OK)
        return "";
    values[index - 1][length] = '\0';
    return values[index - 1];
}

int main(int argc, char** argv)
{
    char const* role = argument(argc, argv, 1, "role");
    char const* path = argument(argc, argv, 2, "path");
    char const* kind = argument(argc, argv, 3, "kind");
    char const* count = argument(argc, argv, 4, "count");
    char const* needs = argument(argc, argv, 5, "needs");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(role, "child") == 0)
        return child_role();
    if (strcmp(role, "spawn") == 0) {
        signet_handle child = 0;
        printf("child_create: status %d\n", (int)signet_child_create("dirguest", 8, NULL, 0, "child", 6, &child));
        // Never started: closing its handle ends it.
        if (child)
            signet_handle_close(child);
        return 0;
    }
    if (signet_startup_handle(0, &directory) != SIGNET_OK
        || signet_endpoint_check(directory, Directory_descriptor, Directory_DESCRIPTOR_SIZE, 0) != SIGNET_OK) {
        printf("no Directory connection\n");
        return 9;
    }
    bool const late = strcmp(role, "late-service") == 0;
    if (late || strcmp(role, "service") == 0) {
        // A service that depends on another: it binds that one's path once, at its
        // start, so it finds it only if its starter waited for the registration.
        if (needs[0] && bind_role(needs) != 0)
            return 3;
        // Registers only after 300 ms: a client started alongside it without
        // waiting for the registration would find nothing at PATH.
        if (late)
            signet_sleep(300000000ull);
        return serve(path, strcmp(kind, "echo") == 0, strcmp(kind, "decline") == 0, (unsigned)atoi(count));
    }
    if (strcmp(role, "idle") == 0) {
        signet_sleep(UINT64_MAX);
        return 0;
    }
    if (strcmp(role, "bind") == 0)
        return bind_role(path);
    if (strcmp(role, "open") == 0)
        return open_role(path);
    if (strcmp(role, "handoff") == 0)
        return handoff_role(path);
    if (strcmp(role, "self") == 0)
        return self_role();
    if (strcmp(role, "register") == 0)
        return register_role(path);
    if (strcmp(role, "parent") == 0)
        return parent_role(path);
    if (strcmp(role, "flood") == 0)
        return flood_role();
    if (strcmp(role, "conformance") == 0)
        return conformance_role();
    printf("unknown role '%s'\n", role);
    return 2;
}
