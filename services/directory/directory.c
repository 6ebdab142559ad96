// The directory service: one namespace of services (/service/..., /dev/...).
//
// Services register a ServiceProvider channel at a path; clients Bind (send the
// Exp end of a channel of the service's contract) or Open (receive an Imp end
// the service made) by path, or ask whether a path is registered (Lookup). The
// directory forwards each Bind and Open to the service and its answer to the
// client, or refuses with a reason. Every request
// is checked against the system policy, which the kernel gives this SIP as its
// `policy` parameter (docs/directory.md); the principal checked is the one the
// kernel reports for the SIP holding the client's end of the connection
// (signet_channel_peer_principal). Every refusal is logged with signet_debug_log.
//
// A registration lasts while the service's provider end is open: when the
// service ends, the directory sees its provider channel close and frees the path.
//
// The directory serves itself at /service/directory: Open there makes a new
// Directory channel, serves its Exp end and answers with the Imp end. Its
// startup handles are Directory Exp ends too (the kernel's own connection).
#include <signet/abi.h>

#include "Directory.h"
#include "DirectoryCodes.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The policy, as the kernel encodes it from the system policy file: one rule a line.
enum Action { ActionRegister, ActionBind };
enum { MaxRules = 256, MaxDeclared = 1024, PrincipalMax = 512 };

// A [[service]] entry of an installed program's manifest.
typedef struct Declared {
    char const* principal; // publisher/program
    char const* path;
} Declared;

typedef struct Rule {
    enum Action action;
    bool allow;
    char const* path; // glob over path segments
    char const* principal; // glob over principal chain elements
    char const* reason;
} Rule;

static struct {
    Rule rules[MaxRules];
    unsigned count;
    bool default_allow[2];
    bool replace_duplicates;
    bool declared_only; // a SIP registers only the paths its program's manifest declares
    Declared declared[MaxDeclared];
    unsigned declared_count;
} policy = { .default_allow = { true, true } };

// A request waiting for (or being answered by) a service.
typedef struct Request {
    int client; // index into clients, or -1 once that client left
    bool open; // Open, or Bind (Connect)
    signet_handle endpoint; // the Bind's Exp end until it is forwarded
} Request;

typedef struct Client {
    signet_handle endpoint; // 0: a free slot
    char principal[PrincipalMax];
    char opener[PrincipalMax]; // who opened this connection at /service/directory ("" for startup ones)
} Client;

typedef struct Service {
    signet_handle provider; // 0: a free slot
    char path[DIRECTORY_PATH_MAX + 1];
    char principal[PrincipalMax];
    Request queue[DIRECTORY_CONNECTIONS_MAX];
    unsigned head, count;
    bool awaiting; // the request at the head was sent; its answer is awaited
} Service;

static Client clients[DIRECTORY_CONNECTIONS_MAX];
static Service services[DIRECTORY_SERVICES_MAX];

static void logf_line(char const* format, ...)
{
    char line[1024];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(line, sizeof line, format, arguments);
    va_end(arguments);
    if (length < 0)
        return;
    if ((size_t)length >= sizeof line)
        length = sizeof line - 1;
    signet_debug_log(line, (uint32_t)length);
}

// --- Glob patterns -------------------------------------------------------

// `*` matches any run of characters, `?` one character, within one element.
static bool match_glob(char const* p, char const* pe, char const* t, char const* te)
{
    char const* star = NULL;
    char const* resume = NULL;
    while (t < te) {
        if (p < pe && (*p == '?' || *p == *t)) {
            ++p;
            ++t;
        } else if (p < pe && *p == '*') {
            star = p++;
            resume = t;
        } else if (star) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (p < pe && *p == '*')
        ++p;
    return p == pe;
}

static char const* element_end(char const* s, char const* e, char const* separator, size_t length)
{
    for (char const* c = s; c + length <= e; ++c) {
        if (memcmp(c, separator, length) == 0)
            return c;
    }
    return e;
}

static bool is_double_star(char const* s, char const* e) { return e - s == 2 && s[0] == '*' && s[1] == '*'; }

// Matches a sequence of elements joined by `separator` against a pattern of
// element globs, where an element `**` matches any number of elements (none too).
static bool match_elements(char const* p, char const* pe, char const* t, char const* te, char const* separator, size_t length)
{
    char const* p_end = element_end(p, pe, separator, length);
    if (is_double_star(p, p_end)) {
        if (p_end == pe)
            return true;
        char const* rest = p_end + length;
        for (char const* q = t;;) {
            if (match_elements(rest, pe, q, te, separator, length))
                return true;
            char const* q_end = element_end(q, te, separator, length);
            if (q_end == te)
                return false;
            q = q_end + length;
        }
    }
    char const* t_end = element_end(t, te, separator, length);
    if (!match_glob(p, p_end, t, t_end))
        return false;
    if (p_end == pe)
        return t_end == te;
    if (t_end == te) {
        // Text exhausted: what is left of the pattern must match nothing, so be all `**`.
        for (char const* q = p_end + length;;) {
            char const* q_end = element_end(q, pe, separator, length);
            if (!is_double_star(q, q_end))
                return false;
            if (q_end == pe)
                return true;
            q = q_end + length;
        }
    }
    return match_elements(p_end + length, pe, t_end + length, te, separator, length);
}

static bool path_matches(char const* pattern, char const* path)
{
    return match_elements(pattern, pattern + strlen(pattern), path, path + strlen(path), "/", 1);
}

static bool principal_matches(char const* pattern, char const* principal)
{
    return match_elements(pattern, pattern + strlen(pattern), principal, principal + strlen(principal), " <- ", 4);
}

// --- The policy ----------------------------------------------------------

// Splits `line` in place at tabs into at most `capacity` fields; returns how many.
static unsigned split_fields(char* line, char** fields, unsigned capacity)
{
    unsigned count = 0;
    for (char* field = line; field && count < capacity;) {
        fields[count++] = field;
        char* tab = strchr(field, '\t');
        if (tab)
            *tab++ = '\0';
        field = tab;
    }
    return count;
}

static bool load_policy(void)
{
    uint32_t length = 0;
    int32_t status = signet_param_get("policy", 6, NULL, 0, &length);
    if (status == SIGNET_NOT_FOUND)
        return true; // No policy: everything is allowed, duplicates are refused.
    if (status != SIGNET_OK && status != SIGNET_LIMIT)
        return false;
    char* text = malloc(length + 1);
    if (!text || signet_param_get("policy", 6, text, length, &length) != SIGNET_OK)
        return false;
    text[length] = '\0';
    // The text stays allocated: the rules point into it.
    for (char* line = text; line && *line;) {
        char* newline = strchr(line, '\n');
        if (newline)
            *newline++ = '\0';
        char* fields[6];
        unsigned count = split_fields(line, fields, 6);
        if (count == 2 && strcmp(fields[0], "services") == 0) {
            policy.declared_only = strcmp(fields[1], "declared") == 0;
        } else if (count == 3 && strcmp(fields[0], "declared") == 0) {
            if (policy.declared_count < MaxDeclared)
                policy.declared[policy.declared_count++] = (Declared) { fields[1], fields[2] };
        } else if (count == 2 && strcmp(fields[0], "duplicates") == 0) {
            policy.replace_duplicates = strcmp(fields[1], "replace") == 0;
        } else if (count == 3 && strcmp(fields[0], "default") == 0) {
            policy.default_allow[strcmp(fields[1], "register") == 0 ? ActionRegister : ActionBind] = strcmp(fields[2], "allow") == 0;
        } else if (count == 6 && strcmp(fields[0], "rule") == 0 && policy.count < MaxRules) {
            Rule* rule = &policy.rules[policy.count++];
            rule->action = strcmp(fields[1], "register") == 0 ? ActionRegister : ActionBind;
            rule->allow = strcmp(fields[2], "allow") == 0;
            rule->path = fields[3];
            rule->principal = fields[4];
            rule->reason = fields[5];
        } else if (count > 0 && fields[0][0]) {
            logf_line("directory: policy line not understood: %s", fields[0]);
            return false;
        }
        line = newline;
    }
    return true;
}

// The principal the kernel reports for ends the kernel itself holds: the
// connections the host makes for the SIPs it starts. No SIP can bear it (a
// principal is publisher/program), and the policy does not apply to it.
static char const kernel_principal[] = "kernel";

// Whether `principal` may do `action` on `path`; if not, *reason says why.
static bool allowed(enum Action action, char const* path, char const* principal, char const** reason)
{
    if (strcmp(principal, kernel_principal) == 0)
        return true;
    for (unsigned i = 0; i < policy.count; ++i) {
        Rule const* rule = &policy.rules[i];
        if (rule->action != action || !path_matches(rule->path, path) || !principal_matches(rule->principal, principal))
            continue;
        *reason = rule->reason[0] ? rule->reason : "a policy rule denies it";
        return rule->allow;
    }
    *reason = "the policy denies it by default";
    return policy.default_allow[action];
}

// Whether the program of `principal` (the first element of its chain) declares
// `path` in its manifest, when the policy asks for that.
static bool declared(char const* path, char const* principal)
{
    if (!policy.declared_only || strcmp(principal, kernel_principal) == 0)
        return true;
    char const* chain = strstr(principal, " <- ");
    size_t length = chain ? (size_t)(chain - principal) : strlen(principal);
    for (unsigned i = 0; i < policy.declared_count; ++i) {
        Declared const* entry = &policy.declared[i];
        if (strlen(entry->principal) == length && memcmp(entry->principal, principal, length) == 0 && strcmp(entry->path, path) == 0)
            return true;
    }
    return false;
}

// --- Connections and services ---------------------------------------------

static char const* action_name(bool open, bool registering) { return registering ? "register" : open ? "open" : "bind"; }

static void refuse(int client, uint32_t code, char const* what, char const* path, char const* format, ...)
{
    char reason[DIRECTORY_PATH_MAX];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(reason, sizeof reason, format, arguments);
    va_end(arguments);
    if (length < 0)
        length = 0;
    if ((size_t)length >= sizeof reason) {
        // Cut at a character boundary: the contract's string<N> must be well-formed UTF-8
        // (a service's Declined reason may not be ASCII).
        length = sizeof reason - 1;
        int lead = length - 1;
        while (lead > 0 && ((unsigned char)reason[lead] & 0xC0) == 0x80)
            --lead;
        unsigned char first = (unsigned char)reason[lead];
        int needed = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1;
        if (lead + needed > length)
            length = lead; // The last character was cut: drop what is left of it.
    }
    static char const* const names[] = { "", "NotFound", "Denied", "Duplicate", "Invalid", "Limit", "Declined", "Gone" };
    char const* principal = client >= 0 ? clients[client].principal : "(gone)";
    logf_line("directory: refused %s of %s by %s: %s: %.*s", what, path, principal, code < 8 ? names[code] : "?", length, reason);
    if (client >= 0)
        Directory_Exp_send_Refused(clients[client].endpoint, code, reason, (uint32_t)length);
}

static int add_client(signet_handle endpoint)
{
    for (int i = 0; i < (int)DIRECTORY_CONNECTIONS_MAX; ++i) {
        if (!clients[i].endpoint) {
            clients[i].endpoint = endpoint;
            clients[i].principal[0] = '\0';
            clients[i].opener[0] = '\0';
            return i;
        }
    }
    return -1;
}

// Who holds the other end of a client's connection now: the principal checked.
static void refresh_principal(Client* client)
{
    uint32_t length = 0;
    int32_t status = signet_channel_peer_principal(client->endpoint, client->principal, PrincipalMax - 1, &length);
    if (status == SIGNET_OK)
        client->principal[length] = '\0';
    else
        snprintf(client->principal, PrincipalMax, "%s", status == SIGNET_WOULD_BLOCK ? "(in transit)" : "(unknown)");
}

static void remove_client(int index)
{
    signet_handle_close(clients[index].endpoint);
    clients[index].endpoint = 0;
    // Answers still due to it are dropped when they come.
    for (unsigned s = 0; s < DIRECTORY_SERVICES_MAX; ++s) {
        Service* service = &services[s];
        for (unsigned i = 0; i < service->count; ++i) {
            Request* request = &service->queue[(service->head + i) % DIRECTORY_CONNECTIONS_MAX];
            if (request->client == index)
                request->client = -1;
        }
    }
}

static Service* find_service(char const* path)
{
    for (unsigned i = 0; i < DIRECTORY_SERVICES_MAX; ++i) {
        if (services[i].provider && strcmp(services[i].path, path) == 0)
            return &services[i];
    }
    return NULL;
}

static Request pop_request(Service* service)
{
    Request request = service->queue[service->head];
    service->head = (service->head + 1) % DIRECTORY_CONNECTIONS_MAX;
    --service->count;
    return request;
}

// The service is gone: its path is free, and everyone waiting for it is told.
static void unregister(Service* service, char const* why)
{
    logf_line("directory: %s (registered by %s) unregistered: %s", service->path, service->principal, why);
    while (service->count) {
        Request request = pop_request(service);
        if (request.endpoint)
            signet_handle_close(request.endpoint);
        if (request.client >= 0)
            refuse(request.client, DIRECTORY_REFUSED_GONE, action_name(request.open, false), service->path, "the service at %s ended before it answered", service->path);
    }
    signet_handle_close(service->provider);
    service->provider = 0;
    service->awaiting = false;
}

// Sends the service the request at the head of its queue, if it is free to take one.
static void pump(Service* service)
{
    while (!service->awaiting && service->count) {
        Request* request = &service->queue[service->head];
        if (request->client < 0) {
            // Its client left before it was forwarded.
            if (request->endpoint)
                signet_handle_close(request->endpoint);
            pop_request(service);
            continue;
        }
        int32_t status = request->open ? ServiceProvider_Imp_send_Open(service->provider)
                                       : ServiceProvider_Imp_send_Connect(service->provider, request->endpoint);
        if (status == SIGNET_OK) {
            request->endpoint = 0; // It moved to the service.
            service->awaiting = true;
        } else {
            unregister(service, status == SIGNET_CLOSED ? "its provider closed" : "its provider refused a request");
            return;
        }
    }
}

static bool valid_path(char const* path, uint32_t length)
{
    if (length < 2 || path[0] != '/' || path[length - 1] == '/')
        return false;
    for (uint32_t i = 0; i < length; ++i) {
        char c = path[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '/';
        if (!ok || (c == '/' && i + 1 < length && path[i + 1] == '/'))
            return false;
    }
    return true;
}

static void handle_register(int client, char const* path, signet_handle provider)
{
    char const* reason = NULL;
    if (strcmp(path, DIRECTORY_SELF_PATH) == 0) {
        signet_handle_close(provider);
        refuse(client, DIRECTORY_REFUSED_DUPLICATE, "register", path, "%s is served by the directory itself", path);
        return;
    }
    if (!declared(path, clients[client].principal)) {
        signet_handle_close(provider);
        refuse(client, DIRECTORY_REFUSED_DENIED, "register", path, "its program's manifest does not declare the service %s", path);
        return;
    }
    if (!allowed(ActionRegister, path, clients[client].principal, &reason)) {
        signet_handle_close(provider);
        refuse(client, DIRECTORY_REFUSED_DENIED, "register", path, "%s", reason);
        return;
    }
    Service* existing = find_service(path);
    if (existing && !policy.replace_duplicates) {
        signet_handle_close(provider);
        refuse(client, DIRECTORY_REFUSED_DUPLICATE, "register", path, "%s is already registered by %s", path, existing->principal);
        return;
    }
    if (existing)
        unregister(existing, "replaced by a new registration");
    Service* service = NULL;
    for (unsigned i = 0; i < DIRECTORY_SERVICES_MAX && !service; ++i) {
        if (!services[i].provider)
            service = &services[i];
    }
    if (!service) {
        signet_handle_close(provider);
        refuse(client, DIRECTORY_REFUSED_LIMIT, "register", path, "the directory holds %u services already", DIRECTORY_SERVICES_MAX);
        return;
    }
    memset(service, 0, sizeof *service);
    service->provider = provider;
    snprintf(service->path, sizeof service->path, "%s", path);
    snprintf(service->principal, sizeof service->principal, "%s", clients[client].principal);
    logf_line("directory: %s registered by %s", path, service->principal);
    Directory_Exp_send_Registered(clients[client].endpoint);
}

// Open at /service/directory: a new connection to this directory.
static void open_self(int client)
{
    // Named limits, so that one SIP cannot take every connection (the kernel's are exempt).
    char const* principal = clients[client].principal;
    if (strcmp(principal, kernel_principal) != 0) {
        unsigned free = 0, opened = 0;
        for (unsigned i = 0; i < DIRECTORY_CONNECTIONS_MAX; ++i) {
            free += !clients[i].endpoint;
            opened += clients[i].endpoint && strcmp(clients[i].opener, principal) == 0;
        }
        if (opened >= DIRECTORY_OPENED_PER_PRINCIPAL) {
            refuse(client, DIRECTORY_REFUSED_LIMIT, "open", DIRECTORY_SELF_PATH, "%s has %u connections open already", principal, opened);
            return;
        }
        if (free <= DIRECTORY_KERNEL_RESERVE) {
            refuse(client, DIRECTORY_REFUSED_LIMIT, "open", DIRECTORY_SELF_PATH, "the last %u connections are kept for the kernel", DIRECTORY_KERNEL_RESERVE);
            return;
        }
    }
    signet_handle importer = 0, exporter = 0;
    if (signet_channel_create(Directory_descriptor, Directory_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK) {
        refuse(client, DIRECTORY_REFUSED_LIMIT, "open", DIRECTORY_SELF_PATH, "no room for another channel");
        return;
    }
    int added = add_client(exporter);
    if (added < 0) {
        signet_handle_close(importer);
        signet_handle_close(exporter);
        refuse(client, DIRECTORY_REFUSED_LIMIT, "open", DIRECTORY_SELF_PATH, "the directory serves %u connections already", DIRECTORY_CONNECTIONS_MAX);
        return;
    }
    snprintf(clients[added].opener, PrincipalMax, "%s", principal);
    if (Directory_Exp_send_Opened(clients[client].endpoint, importer) != SIGNET_OK)
        signet_handle_close(importer); // The client left; the new connection closes for its server.
}

static void handle_connect(int client, char const* path, bool open, signet_handle endpoint)
{
    char const* what = action_name(open, false);
    char const* reason = NULL;
    if (!allowed(ActionBind, path, clients[client].principal, &reason)) {
        if (endpoint)
            signet_handle_close(endpoint);
        refuse(client, DIRECTORY_REFUSED_DENIED, what, path, "%s", reason);
        return;
    }
    if (strcmp(path, DIRECTORY_SELF_PATH) == 0) {
        if (open) {
            open_self(client);
            return;
        }
        signet_handle_close(endpoint);
        refuse(client, DIRECTORY_REFUSED_INVALID, what, path, "the directory's clients speak first: Open %s instead", path);
        return;
    }
    Service* service = find_service(path);
    if (!service) {
        if (endpoint)
            signet_handle_close(endpoint);
        refuse(client, DIRECTORY_REFUSED_NOT_FOUND, what, path, "no service is registered at %s", path);
        return;
    }
    // A client has at most one request outstanding, so the queue always has room.
    service->queue[(service->head + service->count) % DIRECTORY_CONNECTIONS_MAX] = (Request) { client, open, endpoint };
    ++service->count;
    pump(service);
}

// Lookup: whether a service is registered at `path`, and by whom. Seeing what is
// registered is part of reaching it, so the policy's bind rules apply.
static void handle_lookup(int client, char const* path)
{
    char const* reason = NULL;
    if (!allowed(ActionBind, path, clients[client].principal, &reason)) {
        refuse(client, DIRECTORY_REFUSED_DENIED, "lookup", path, "%s", reason);
        return;
    }
    char self[PrincipalMax] = "";
    char const* holder = NULL;
    if (strcmp(path, DIRECTORY_SELF_PATH) == 0) {
        uint32_t length = 0;
        if (signet_principal_get(self, PrincipalMax - 1, &length) == SIGNET_OK)
            self[length] = '\0';
        holder = self;
    } else {
        Service const* service = find_service(path);
        if (!service) {
            // An answer, not a refusal of access: not logged (the host asks again and
            // again while it waits for a service to register).
            char reason[DIRECTORY_PATH_MAX];
            int length = snprintf(reason, sizeof reason, "no service is registered at %s", path);
            Directory_Exp_send_Refused(clients[client].endpoint, DIRECTORY_REFUSED_NOT_FOUND, reason,
                (uint32_t)(length < (int)sizeof reason ? length : (int)sizeof reason - 1));
            return;
        }
        holder = service->principal;
    }
    // Principals are ASCII (publisher/program, joined by " <- "): a cut is well-formed.
    size_t length = strlen(holder);
    Directory_Exp_send_Found(clients[client].endpoint, holder, (uint32_t)(length < DIRECTORY_PATH_MAX ? length : DIRECTORY_PATH_MAX));
}

static void handle_client(int index)
{
    Client* client = &clients[index];
    Directory_Exp_message request;
    Directory_Exp_tag tag = Directory_Exp_recv(client->endpoint, &request);
    if (tag == Directory_Exp_CLOSED || tag == Directory_Exp_FAILED) {
        remove_client(index);
        return;
    }
    refresh_principal(client);
    char path[DIRECTORY_PATH_MAX + 1];
    uint32_t length = 0;
    signet_handle endpoint = 0;
    if (tag == Directory_Exp_Register) {
        length = request.as.Register.path.length;
        memcpy(path, request.as.Register.path.data, length);
        endpoint = request.as.Register.provider;
    } else if (tag == Directory_Exp_Bind) {
        length = request.as.Bind.path.length;
        memcpy(path, request.as.Bind.path.data, length);
        endpoint = request.as.Bind.endpoint;
    } else if (tag == Directory_Exp_Lookup) {
        length = request.as.Lookup.path.length;
        memcpy(path, request.as.Lookup.path.data, length);
    } else {
        length = request.as.Open.path.length;
        memcpy(path, request.as.Open.path.data, length);
    }
    path[length] = '\0';
    char const* what = tag == Directory_Exp_Register ? "register" : tag == Directory_Exp_Bind ? "bind" : tag == Directory_Exp_Lookup ? "lookup" : "open";
    if (!valid_path(path, length)) {
        if (endpoint)
            signet_handle_close(endpoint);
        refuse(index, DIRECTORY_REFUSED_INVALID, what, path, "a path is absolute, of segments of letters, digits, '-', '_' and '.'");
        return;
    }
    if (tag == Directory_Exp_Register)
        handle_register(index, path, endpoint);
    else if (tag == Directory_Exp_Lookup)
        handle_lookup(index, path);
    else
        handle_connect(index, path, tag == Directory_Exp_Open, endpoint);
}

static void handle_provider(Service* service)
{
    ServiceProvider_Imp_message answer;
    ServiceProvider_Imp_tag tag = ServiceProvider_Imp_recv(service->provider, &answer);
    if (tag == ServiceProvider_Imp_CLOSED || tag == ServiceProvider_Imp_FAILED || !service->awaiting) {
        unregister(service, tag == ServiceProvider_Imp_CLOSED ? "its provider closed" : "its provider broke the protocol");
        return;
    }
    Request request = pop_request(service);
    service->awaiting = false;
    if (tag == ServiceProvider_Imp_Opened) {
        signet_handle endpoint = answer.as.Opened.endpoint;
        if (request.client < 0 || Directory_Exp_send_Opened(clients[request.client].endpoint, endpoint) != SIGNET_OK)
            signet_handle_close(endpoint);
    } else if (tag == ServiceProvider_Imp_Connected) {
        if (request.client >= 0)
            Directory_Exp_send_Bound(clients[request.client].endpoint);
    } else if (tag == ServiceProvider_Imp_Declined) {
        refuse(request.client, DIRECTORY_REFUSED_DECLINED, action_name(request.open, false), service->path, "the service declined: %.*s",
            (int)answer.as.Declined.reason.length, answer.as.Declined.reason.data);
    }
    pump(service);
}

int main(void)
{
    if (!load_policy()) {
        logf_line("directory: cannot read the policy parameter");
        return 2;
    }
    uint32_t startup = signet_startup_handle_count();
    for (uint32_t i = 0; i < startup; ++i) {
        signet_handle endpoint = 0;
        if (signet_startup_handle(i, &endpoint) != SIGNET_OK)
            continue;
        if (signet_endpoint_check(endpoint, Directory_descriptor, Directory_DESCRIPTOR_SIZE, 1) != SIGNET_OK || add_client(endpoint) < 0) {
            logf_line("directory: startup handle %u is not a Directory Exp end; closed", i);
            signet_handle_close(endpoint);
        }
    }
    for (;;) {
        // Every connection and every provider, in one select (at most 48 + 16 = 64).
        signet_handle handles[DIRECTORY_CONNECTIONS_MAX + DIRECTORY_SERVICES_MAX];
        int owners[DIRECTORY_CONNECTIONS_MAX + DIRECTORY_SERVICES_MAX]; // >= 0 a client, < 0 -(service + 1)
        uint32_t count = 0;
        for (int i = 0; i < (int)DIRECTORY_CONNECTIONS_MAX; ++i) {
            if (clients[i].endpoint) {
                handles[count] = clients[i].endpoint;
                owners[count++] = i;
            }
        }
        for (int i = 0; i < (int)DIRECTORY_SERVICES_MAX; ++i) {
            if (services[i].provider) {
                handles[count] = services[i].provider;
                owners[count++] = -(i + 1);
            }
        }
        if (count == 0)
            return 0; // Nobody can reach the directory any more.
        uint32_t ready = 0;
        int32_t status = signet_channel_select(handles, count, SIGNET_WAIT_FOREVER, &ready);
        if (status != SIGNET_OK) {
            logf_line("directory: select failed with status %d", (int)status);
            return 1;
        }
        if (owners[ready] >= 0)
            handle_client(owners[ready]);
        else
            handle_provider(&services[-owners[ready] - 1]);
    }
}
