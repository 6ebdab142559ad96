/* Constants of Directory.contract that the contract language cannot carry: why
 * the directory refused a request (Refused.code), and its limits. See
 * docs/directory.md. */
#pragma once

#define DIRECTORY_REFUSED_NOT_FOUND 1u /* no service is registered at the path */
#define DIRECTORY_REFUSED_DENIED 2u    /* the system policy does not let this principal do this */
#define DIRECTORY_REFUSED_DUPLICATE 3u /* another service is registered at the path */
#define DIRECTORY_REFUSED_INVALID 4u   /* a malformed path, or a request the path cannot serve */
#define DIRECTORY_REFUSED_LIMIT 5u     /* the directory serves as many connections or services as it can */
#define DIRECTORY_REFUSED_DECLINED 6u  /* the service declined the client (its reason follows) */
#define DIRECTORY_REFUSED_GONE 7u      /* the service ended before it answered */

/* Where the directory serves itself: Open here gives a new Directory connection. */
#define DIRECTORY_SELF_PATH "/service/directory"

#define DIRECTORY_PATH_MAX 200u       /* bytes in a path (the contract's string bound) */
#define DIRECTORY_CONNECTIONS_MAX 48u /* Directory connections served at once */
#define DIRECTORY_SERVICES_MAX 16u    /* services registered at once */
/* So that no SIP can take every connection: a principal other than the kernel may
 * have opened at most this many connections that are still open, and may not take
 * the last DIRECTORY_KERNEL_RESERVE ones, which only the kernel's Open gets. */
#define DIRECTORY_OPENED_PER_PRINCIPAL 8u
#define DIRECTORY_KERNEL_RESERVE 8u
