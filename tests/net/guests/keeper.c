// A test supervisor of httpd (tests/net/httpd_restart_test.sh): `signet boot
// --service keeper` starts it; it starts httpd as its child, with a Directory
// connection it opened at /service/directory, and whenever the file /kill-httpd
// appears in the system file system (the test's shell writes it), it removes
// the file, kills httpd (child_stop) in the middle of whatever it serves, and
// starts another. The driver must close the killed server's connections, and
// the new server gets the port's next clients.
#include <signet/abi.h>

#include "Directory.h"
#include "FileSystem.h"

#include <stdio.h>
#include <string.h>

#define TRIGGER "/kill-httpd"

static signet_handle open_path(signet_handle directory, char const* path)
{
    static Directory_Imp_message answer;
    if (Directory_Imp_send_Open(directory, path, (uint32_t)strlen(path)) != SIGNET_OK || Directory_Imp_recv(directory, &answer) != Directory_Imp_Opened) {
        fprintf(stderr, "keeper: cannot open %s\n", path);
        return 0;
    }
    return answer.as.Opened.endpoint;
}

static signet_handle start_httpd(signet_handle directory)
{
    signet_handle connection = open_path(directory, "/service/directory"), child = 0;
    if (!connection || signet_child_create("httpd", 5, &connection, 1, NULL, 0, &child) != SIGNET_OK || signet_child_start(child) != SIGNET_OK) {
        fprintf(stderr, "keeper: cannot start httpd\n");
        return 0;
    }
    return child;
}

int main(void)
{
    signet_handle directory = 0;
    if (signet_startup_handle(0, &directory) != SIGNET_OK) {
        fprintf(stderr, "keeper: started without a Directory connection\n");
        return 1;
    }
    signet_handle files = open_path(directory, "/service/fs");
    signet_handle httpd = files ? start_httpd(directory) : 0;
    if (!httpd)
        return 1;
    static FileSystem_Imp_message reply;
    for (int kills = 0;;) {
        signet_sleep(100 * 1000 * 1000);
        int32_t status = 0;
        if (signet_child_wait(httpd, 0, &status) == SIGNET_OK) {
            fprintf(stderr, "keeper: httpd ended by itself with status %d\n", (int)status);
            return 1;
        }
        FileSystem_Imp_send_Stat(files, TRIGGER, sizeof TRIGGER - 1);
        if (FileSystem_Imp_recv(files, &reply) != FileSystem_Imp_Status)
            continue;
        FileSystem_Imp_send_Unlink(files, TRIGGER, sizeof TRIGGER - 1);
        FileSystem_Imp_recv(files, &reply);
        signet_child_stop(httpd);
        signet_child_wait(httpd, SIGNET_WAIT_FOREVER, &status);
        signet_handle_close(httpd);
        if (!(httpd = start_httpd(directory)))
            return 1;
        fprintf(stderr, "keeper: killed httpd (status %d), started another (%d)\n", (int)status, ++kills);
    }
}
