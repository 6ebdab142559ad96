// A service of the system tests that uses the file system at its start: `signet
// boot --service fsuser` starts it once fs has registered /service/fs, so its one
// Open there, without retrying, finds it. It writes /from-a-service through that
// connection, syncs, and only then registers /service/fsuser, so boot starts the
// shell once the file is there. It keeps its connection to fs open and serves
// nothing until it is stopped: boot stops the services before it waits for the
// file system to end with its last client.
#include <signet/abi.h>

#include "Directory.h"
#include "FileSystem.h"
#include "FileSystemCodes.h"

#include <stdio.h>
#include <string.h>

static FileSystem_Imp_message reply;

static int fail(char const* what)
{
    printf("fsuser: %s\n", what);
    return 1;
}

int main(void)
{
    signet_handle directory = 0;
    if (signet_startup_handle(0, &directory) != SIGNET_OK)
        return fail("started without a Directory connection");

    Directory_Imp_message answer;
    Directory_Imp_send_Open(directory, "/service/fs", 11);
    Directory_Imp_tag tag = Directory_Imp_recv(directory, &answer);
    if (tag == Directory_Imp_Refused) {
        printf("fsuser: open /service/fs refused: %.*s\n", (int)answer.as.Refused.reason.length, answer.as.Refused.reason.data);
        return 1;
    }
    if (tag != Directory_Imp_Opened)
        return fail("open /service/fs: no answer");
    signet_handle files = answer.as.Opened.endpoint;
    if (signet_endpoint_check(files, FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE, 0) != SIGNET_OK)
        return fail("/service/fs gave something other than a FileSystem Imp end");

    static char const path[] = "/from-a-service";
    static char const text[] = "written by a service through /service/fs\n";
    FileSystem_Imp_send_Open(files, path, sizeof path - 1, FS_OPEN_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE);
    if (FileSystem_Imp_recv(files, &reply) != FileSystem_Imp_Opened)
        return fail("cannot create /from-a-service");
    static FileSystem_Write write;
    write.handle = reply.as.Opened.handle;
    write.data.length = sizeof text - 1;
    memcpy(write.data.data, text, sizeof text - 1);
    FileSystem_Imp_send_Write_message(files, &write);
    if (FileSystem_Imp_recv(files, &reply) != FileSystem_Imp_Written)
        return fail("cannot write /from-a-service");
    FileSystem_Imp_send_Sync(files);
    if (FileSystem_Imp_recv(files, &reply) != FileSystem_Imp_Synced)
        return fail("cannot sync");
    printf("fsuser: wrote /from-a-service through /service/fs\n");

    signet_handle provider_imp = 0, provider = 0;
    if (signet_channel_create(ServiceProvider_descriptor, ServiceProvider_DESCRIPTOR_SIZE, &provider_imp, &provider) != SIGNET_OK)
        return fail("cannot create a provider channel");
    Directory_Imp_send_Register(directory, "/service/fsuser", 15, provider_imp);
    if (Directory_Imp_recv(directory, &answer) != Directory_Imp_Registered)
        return fail("cannot register /service/fsuser");
    fflush(stdout);
    // Serves nothing: every request is declined, and `files` stays open.
    for (;;) {
        ServiceProvider_Exp_message request;
        ServiceProvider_Exp_tag got = ServiceProvider_Exp_recv(provider, &request);
        if (got == ServiceProvider_Exp_Connect)
            signet_handle_close(request.as.Connect.endpoint);
        else if (got != ServiceProvider_Exp_Open)
            return 0;
        ServiceProvider_Exp_send_Declined(provider, "fsuser serves nothing", 21);
    }
}
