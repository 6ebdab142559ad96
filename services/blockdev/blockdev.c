// The block-device driver: serves BlockDevice.contract over the disk its
// manifest declares. The kernel gives this SIP (and only it) a handle on the
// host file behind the disk; the driver speaks to its one client in whole
// blocks and answers every bad request with Failed(EINVAL or EIO).
#include <signet/abi.h>

#include "BlockDevice.h"
#include "FileSystemCodes.h"

#include <stdio.h>
#include <string.h>

enum { block_size = 4096 };

// Messages are built here rather than on the SIP's small shadow stack.
static BlockDevice_Exp_message request;
static BlockDevice_Data reply;

static int32_t failure_code(int32_t status)
{
    return status == SIGNET_INVALID_ARGUMENT ? FS_EINVAL : FS_EIO;
}

int main(void)
{
    signet_handle client = 0;
    if (signet_startup_handle(0, &client) != SIGNET_OK) {
        fprintf(stderr, "blockdev: started without a client endpoint\n");
        return 1;
    }
    char const* name = "disk0"; // the disk the manifest declares
    uint32_t name_length = (uint32_t)strlen(name);
    signet_handle disk = 0;
    int32_t status = signet_disk_open(name, name_length, &disk);
    if (status != SIGNET_OK) {
        fprintf(stderr, "blockdev: cannot open disk %s (status %d)\n", name, (int)status);
        return 1;
    }
    uint64_t bytes = 0;
    if (signet_disk_size(disk, &bytes) != SIGNET_OK) {
        fprintf(stderr, "blockdev: cannot size disk %s\n", name);
        return 1;
    }
    uint64_t const blocks = bytes / block_size;

    for (;;) {
        switch (BlockDevice_Exp_recv(client, &request)) {
        case BlockDevice_Exp_Info:
            BlockDevice_Exp_send_Geometry(client, blocks, block_size);
            break;
        case BlockDevice_Exp_Read: {
            uint64_t block = request.as.Read.block;
            if (block >= blocks) {
                BlockDevice_Exp_send_Failed(client, FS_EINVAL);
                break;
            }
            status = signet_disk_read(disk, block * block_size, reply.data.data, block_size);
            if (status != SIGNET_OK) {
                BlockDevice_Exp_send_Failed(client, failure_code(status));
                break;
            }
            reply.data.length = block_size;
            BlockDevice_Exp_send_Data_message(client, &reply);
            break;
        }
        case BlockDevice_Exp_Write: {
            uint64_t block = request.as.Write.block;
            if (block >= blocks || request.as.Write.data.length != block_size) {
                BlockDevice_Exp_send_Failed(client, FS_EINVAL);
                break;
            }
            status = signet_disk_write(disk, block * block_size, request.as.Write.data.data, block_size);
            if (status != SIGNET_OK)
                BlockDevice_Exp_send_Failed(client, failure_code(status));
            else
                BlockDevice_Exp_send_Written(client);
            break;
        }
        case BlockDevice_Exp_Flush:
            status = signet_disk_flush(disk);
            if (status != SIGNET_OK)
                BlockDevice_Exp_send_Failed(client, FS_EIO);
            else
                BlockDevice_Exp_send_Flushed(client);
            break;
        case BlockDevice_Exp_CLOSED:
            signet_disk_flush(disk);
            return 0;
        default:
            fprintf(stderr, "blockdev: receive failed with status %d\n", (int)request.status);
            return 1;
        }
    }
}
