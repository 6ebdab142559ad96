// The file-serving macrobenchmark: Signet's answer to the paper's SPECweb99 run
// (Singularity served it with 6 SIPs: NIC driver, TCP/IP, HTTP server,
// SPECwebApp, file system, disk driver), next to Linux in the same run.
//
// Signet side: `signet boot` on a system image whose disk is made anew, with the
// network driver and the HTTP server as services: a request crosses net (the
// host socket, bridged into a TcpConnection channel) -> httpd -> fs -> blockdev
// and back. The files get into Signet's file system through the booted shell:
// it runs `fill`, a WASI program installed with the image, once per file.
// Linux side: native/httpd.c, one thread and epoll, the same HTTP subset, the
// same 16 KiB pieces, serving the same files from a temporary host directory.
//
// Both servers run on one CPU (children inherit the affinity); the load
// generator (LoadGenerator.h) on another one when there is one, so that it does
// not take the servers' CPU. For each file size and number of clients, each
// side gets the same load: a warm-up, then a measured window; the sides take
// turns, and change order every repetition.
#include "bench/net/NetBench.h"
#include "bench/net/FilePattern.h"
#include "bench/net/LoadGenerator.h"
#include "bench/net/ServerProcess.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/utsname.h>
#include <thread>

namespace fs = std::filesystem;

namespace signet::bench {

namespace {

constexpr uint64_t kibibyte = 1024;
std::vector<uint64_t> const s_sizes { kibibyte, 16 * kibibyte, 256 * kibibyte };
std::vector<unsigned> const s_clients { 1, 16 };
char const* const s_ready_marker = "signet-bench-net: files ready";
char const* const s_linux_label = "epoll server, 1 thread";

enum class Side { Signet, Linux };

char const* side_name(Side side)
{
    return side == Side::Signet ? "signet" : "linux";
}

std::string size_name(uint64_t size)
{
    if (size >= kibibyte && size % kibibyte == 0)
        return std::to_string(size / kibibyte) + " KiB";
    return std::to_string(size) + " B";
}

std::string file_name(uint64_t size)
{
    return "file-" + std::to_string(size) + ".bin";
}

std::string clients_name(unsigned clients)
{
    return std::to_string(clients) + (clients == 1 ? " client" : " clients");
}

std::string printf_string(char const* format, double value)
{
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

// A number, or "-" for one that was not measured.
std::string finite_or_dash(char const* format, double value)
{
    return std::isfinite(value) ? printf_string(format, value) : "-";
}

// `text` in a column of `width`: right-aligned, or left-aligned if `width` is negative.
std::string column(std::string const& text, int width)
{
    size_t size = size_t(std::abs(width));
    if (text.size() >= size)
        return text;
    std::string padding(size - text.size(), ' ');
    return width < 0 ? text + padding : padding + text;
}

// The last `lines` lines of `text`, indented, for an error message.
std::string tail(std::string const& text, size_t lines)
{
    size_t at = text.size();
    while (at > 0 && text[at - 1] == '\n')
        --at;
    size_t begin = at;
    for (size_t count = 0; begin > 0 && count < lines; ++count) {
        begin = text.rfind('\n', begin - 1);
        begin = begin == std::string::npos ? 0 : begin;
        if (begin == 0)
            break;
    }
    std::string excerpt = text.substr(begin, at - begin);
    std::string indented;
    for (char c : excerpt)
        indented += c == '\n' ? std::string("\n    ") : std::string(1, c);
    while (!indented.empty() && (indented.front() == '\n' || indented.front() == ' '))
        indented.erase(indented.begin());
    return indented.empty() ? "(nothing)" : "\n    " + indented;
}

std::string read_file(std::string const& path)
{
    std::ifstream file(path);
    return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// A function for ServerProcess::wait_for: the port of a line "PREFIX<port>\n".
auto port_after(std::string prefix)
{
    return [prefix = std::move(prefix)](std::string const& text) -> std::optional<std::string> {
        size_t at = text.find(prefix);
        if (at == std::string::npos)
            return std::nullopt;
        size_t digits = at + prefix.size();
        size_t end = digits;
        while (end < text.size() && text[end] >= '0' && text[end] <= '9')
            ++end;
        if (end == digits || end >= text.size() || text[end] != '\n')
            return std::nullopt;
        return text.substr(digits, end - digits);
    };
}

bool has_line(std::string const& text, std::string const& line)
{
    size_t at = 0;
    while ((at = text.find(line, at)) != std::string::npos) {
        bool starts = at == 0 || text[at - 1] == '\n';
        bool ends = at + line.size() == text.size() || text[at + line.size()] == '\n' || text[at + line.size()] == '\r';
        if (starts && ends)
            return true;
        at += line.size();
    }
    return false;
}

ErrorOr<uint16_t> parse_port(std::string const& text, std::string const& who)
{
    unsigned long port = text.size() <= 5 ? std::stoul(text) : 0;
    if (port == 0 || port > 65535)
        return Error::io(who + " said it listens on port '" + text + "'");
    return uint16_t(port);
}

// The files, in a host directory, removed at the end.
class FileDirectory {
public:
    static ErrorOr<FileDirectory> create()
    {
        std::string pattern = (fs::temp_directory_path() / "signet-bench-net-XXXXXX").string();
        if (!::mkdtemp(pattern.data()))
            return Error::from_errno("cannot create a directory for the Linux server's files (" + pattern + ")", errno);
        FileDirectory directory(pattern);
        for (uint64_t size : s_sizes) {
            std::string path = pattern + "/" + file_name(size);
            std::string content(size, '\0');
            for (uint64_t i = 0; i < size; ++i)
                content[i] = file_pattern_byte(i);
            std::ofstream file(path, std::ios::binary | std::ios::trunc);
            file.write(content.data(), std::streamsize(content.size()));
            file.close();
            if (!file)
                return Error::io("cannot write " + path);
        }
        return directory;
    }
    FileDirectory(FileDirectory&& other) noexcept
        : m_path(std::move(other.m_path))
    {
        other.m_path.clear();
    }
    FileDirectory& operator=(FileDirectory&&) = delete;
    ~FileDirectory()
    {
        std::error_code ignored;
        if (!m_path.empty())
            fs::remove_all(m_path, ignored);
    }
    std::string const& path() const { return m_path; }

private:
    explicit FileDirectory(std::string path)
        : m_path(std::move(path))
    {
    }
    std::string m_path;
};

struct Server {
    std::unique_ptr<ServerProcess> process;
    uint16_t port { 0 };
};

ErrorOr<Server> start_linux_server(std::string const& root)
{
    Server server;
    server.process = TRY(ServerProcess::spawn(SIGNET_NET_BENCH_LINUX_HTTPD, { "httpd", root }));
    auto port = server.process->wait_for(ServerProcess::Stream::Out, port_after("listening on 127.0.0.1:"), 10'000);
    if (!port) {
        int status = server.process->stop(1000);
        return Error::io("the Linux server (" SIGNET_NET_BENCH_LINUX_HTTPD ") did not say its port; it ended with status " + std::to_string(status)
            + ", saying:" + tail(server.process->output(ServerProcess::Stream::Err), 10));
    }
    server.port = TRY(parse_port(*port, "the Linux server"));
    return server;
}

// Boots Signet with the network driver and the HTTP server, and puts the files
// into its file system under /www through the shell.
ErrorOr<Server> start_signet_server(NetBenchOptions const& options, std::string const& image_dir)
{
    std::error_code error;
    fs::create_directories(image_dir, error);
    if (error)
        return Error::io("cannot create the system image " + image_dir + ": " + error.message());
    // A new disk: the file system starts empty. The store keeps the compiled programs.
    for (char const* name : { "disk0.img", "system.log" }) {
        fs::remove(image_dir + "/" + name, error);
        if (error)
            return Error::io("cannot remove " + image_dir + "/" + name + ": " + error.message());
    }
    std::vector<std::string> args { "signet", "boot", "--image", image_dir, "--workers", std::to_string(options.workers), "--install",
        SIGNET_NET_BENCH_FILL_MANIFEST };
    for (char const* service : { "net", "httpd" }) {
        std::string manifest = std::string(SIGNET_NET_BENCH_SERVICES_DIR) + "/" + service + "/" + service + ".toml";
        if (!fs::exists(manifest))
            return Error::not_found(std::string("the '") + service + "' service is not built (no " + manifest + "): build it (ninja " + service
                + "), or measure the Linux side alone (--server linux)");
        args.insert(args.end(), { "--install", manifest });
    }
    args.insert(args.end(), { "--listen", "http=127.0.0.1:0", "--service", "net", "--service", "httpd" });

    Server server;
    server.process = TRY(ServerProcess::spawn(SIGNET_NET_BENCH_SIGNET, args));
    auto failed = [&](std::string const& what) {
        int status = server.process->stop(5000);
        return Error::io("signet boot " + what + "; it ended with status " + std::to_string(status) + ", saying:"
            + tail(server.process->output(ServerProcess::Stream::Err), 12) + "\n  its system log (" + image_dir + "/system.log) ends:"
            + tail(read_file(image_dir + "/system.log"), 12));
    };
    // The first boot of an image compiles every program it installs: minutes on a busy machine.
    auto port = server.process->wait_for(ServerProcess::Stream::Err, port_after("boot: listening for 'http' on 127.0.0.1:"), 600'000);
    if (!port)
        return failed("did not say where it listens for 'http'");
    server.port = TRY(parse_port(*port, "signet boot"));

    std::string script = "mkdir /www\n";
    for (uint64_t size : s_sizes)
        script += "fill /data/www/" + file_name(size) + " " + std::to_string(size) + "\n";
    script += std::string("echo ") + s_ready_marker + "\n";
    TRY(server.process->write_input(script));
    auto ready = server.process->wait_for(
        ServerProcess::Stream::Out, [](std::string const& text) -> std::optional<std::string> {
            return has_line(text, s_ready_marker) ? std::optional<std::string>("") : std::nullopt;
        },
        300'000);
    if (!ready)
        return failed("did not run the shell script that writes the files");
    std::string out = server.process->output(ServerProcess::Stream::Out);
    for (uint64_t size : s_sizes) {
        std::string line = "fill: wrote /data/www/" + file_name(size) + " (" + std::to_string(size) + " bytes)";
        if (!has_line(out, line))
            return failed("did not write /www/" + file_name(size) + " (the shell said:" + tail(out, 12) + ")");
    }
    return server;
}

// Ends the boot as a user would: `exit` to the shell; the file system commits.
ErrorOr<void> stop_signet_server(Server& server)
{
    (void)server.process->write_input("exit\n");
    server.process->close_input();
    auto status = server.process->wait_exit(60'000);
    if (!status) {
        int killed = server.process->stop(5000);
        return Error::io("signet boot did not end within 60 s of `exit` (stopped, status " + std::to_string(killed) + ")");
    }
    if (*status != 0)
        return Error::io("signet boot ended with status " + std::to_string(*status) + " after `exit`, saying:"
            + tail(server.process->output(ServerProcess::Stream::Err), 12));
    return {};
}

// One side's measurements of one file size and number of clients.
struct Series {
    std::vector<double> ns_per_request; // one per repetition: the window over the requests answered in it
    std::vector<double> latency_ns;     // every request answered in a window
    uint64_t responses { 0 };           // all of them, warm-ups included
    uint64_t server_cpu_ns { 0 };       // the server's CPU time over all of them

    bool empty() const { return ns_per_request.empty(); }
    double requests_per_second() const { return empty() ? NAN : 1e9 / Stats::of(ns_per_request).median; }
    double cpu_per_response_ns() const { return responses ? double(server_cpu_ns) / double(responses) : NAN; }
};

double percentile(std::vector<double> values, double fraction)
{
    if (values.empty())
        return NAN;
    std::sort(values.begin(), values.end());
    size_t index = std::min(values.size() - 1, size_t(fraction * double(values.size() - 1) + 0.5));
    return values[index];
}

// How evenly the server shared itself among the connections: the fewest and the
// most responses one connection got in the window.
std::string fairness(std::vector<uint64_t> const& per_connection)
{
    if (per_connection.empty())
        return {};
    auto [fewest, most] = std::minmax_element(per_connection.begin(), per_connection.end());
    return "; per connection " + std::to_string(*fewest) + " to " + std::to_string(*most) + " responses";
}

// Stats for a side that was not measured: every value "-".
Stats nothing_measured()
{
    Stats stats;
    stats.min = stats.p25 = stats.median = stats.p75 = stats.max = NAN;
    return stats;
}

std::string cpu_model()
{
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
            return line.substr(std::min(line.size(), line.find(':') + 2));
    }
    return "unknown";
}

} // namespace

std::string default_net_image_dir()
{
    return SIGNET_NET_BENCH_IMAGE_DIR;
}

ErrorOr<void> run_net_benchmark(NetBenchOptions const& options, Report& report, std::string& machine_json)
{
    bool want_signet = options.servers.empty();
    bool want_linux = options.servers.empty();
    for (auto const& server : options.servers) {
        if (server == "signet")
            want_signet = true;
        else if (server == "linux")
            want_linux = true;
        else
            return Error::invalid("unknown server '" + server + "' (expected signet or linux)");
    }
    if (options.workers == 0)
        return Error::invalid("--workers must be at least 1");
    std::string image_dir = options.image_dir.empty() ? default_net_image_dir() : options.image_dir;
    unsigned const repetitions = options.quick ? 1 : 3;
    uint64_t const warmup_ns = options.quick ? 100'000'000 : 500'000'000;
    uint64_t const window_ns = options.quick ? 250'000'000 : 2'000'000'000;
    double const load_before = system_load_average();

    // 1. The servers on one CPU (this thread's affinity passes to them), the load
    //    generator, this thread, on another.
    auto allowed = TRY(Affinity::of_calling_thread());
    // However the run ends, this thread gets back the CPUs it came with.
    struct RestoreAffinity {
        Affinity const& allowed;
        ~RestoreAffinity() { (void)allowed.apply_to_calling_thread(); }
    } restore_affinity { allowed };
    int server_cpu = TRY(pin_to_cpu(options.cpu));
    int client_cpu = server_cpu;
    for (int cpu = CPU_SETSIZE - 1; cpu >= 0; --cpu) {
        if (cpu != server_cpu && CPU_ISSET(cpu, &allowed.cpus)) {
            client_cpu = cpu;
            break;
        }
    }
    calibrate_tsc(options.quick ? 20'000'000 : 200'000'000);

    auto files = TRY(FileDirectory::create());
    std::optional<Server> linux_server, signet_server;
    if (want_linux) {
        report.section("starting the Linux server (" SIGNET_NET_BENCH_LINUX_HTTPD ") on " + files.path());
        linux_server = TRY(start_linux_server(files.path()));
        report.detail("listening on 127.0.0.1:" + std::to_string(linux_server->port));
    }
    if (want_signet) {
        report.section("booting Signet on " + image_dir + " with the services net and httpd, and writing the files into /www through its shell");
        uint64_t begin = monotonic_ns();
        signet_server = TRY(start_signet_server(options, image_dir));
        report.detail("listening on 127.0.0.1:" + std::to_string(signet_server->port) + "; booted and filled in "
            + format_duration(double(monotonic_ns() - begin)));
    }
    TRY(allowed.apply_to_calling_thread());
    TRY(pin_to_cpu(client_cpu));

    char summary[400];
    std::snprintf(summary, sizeof summary,
        "servers on CPU %d, the load generator on CPU %d%s; signet boot --workers %u; %u repetition(s) of a %s warm-up and a %s window per file "
        "size, clients and side",
        server_cpu, client_cpu, client_cpu == server_cpu ? " (the only CPU allowed: they share it)" : "", options.workers, repetitions,
        format_duration(double(warmup_ns)).c_str(), format_duration(double(window_ns)).c_str());
    report.section(summary);

    // 2. The loads, the sides in turns.
    std::map<std::tuple<Side, uint64_t, unsigned>, Series> series;
    for (unsigned repetition = 0; repetition < repetitions; ++repetition) {
        for (uint64_t size : s_sizes) {
            for (unsigned clients : s_clients) {
                std::vector<Side> order = repetition % 2 == 0 ? std::vector<Side> { Side::Linux, Side::Signet } : std::vector<Side> { Side::Signet, Side::Linux };
                for (Side side : order) {
                    std::optional<Server>& server = side == Side::Signet ? signet_server : linux_server;
                    if (!server)
                        continue;
                    LoadSpec spec { .port = server->port, .path = "/" + file_name(size), .file_size = size, .connections = clients,
                        .warmup_ns = warmup_ns, .duration_ns = window_ns };
                    uint64_t cpu_before = server->process->cpu_time_ns();
                    auto load = run_load(spec);
                    uint64_t cpu_after = server->process->cpu_time_ns();
                    std::string what = std::string(side_name(side)) + ", GET " + size_name(size) + ", " + clients_name(clients);
                    if (load.is_error()) {
                        std::string where = side == Side::Signet ? " (its system log: " + image_dir + "/system.log)" : "";
                        report.failure(what + ": " + load.error().message() + where);
                        return {};
                    }
                    auto const& result = load.value();
                    if (result.requests == 0) {
                        report.failure(what + ": no response within the " + format_duration(double(window_ns)) + " window");
                        return {};
                    }
                    auto& s = series[{ side, size, clients }];
                    s.ns_per_request.push_back(double(window_ns) / double(result.requests));
                    s.latency_ns.insert(s.latency_ns.end(), result.latency_ns.begin(), result.latency_ns.end());
                    s.responses += result.responses;
                    s.server_cpu_ns += cpu_after - cpu_before;
                    report.detail(column(what, -40) + printf_string("%9.0f req/s", result.requests_per_second())
                        + printf_string("  %8.1f MB/s", result.megabytes_per_second()) + "  median " + format_duration(percentile(result.latency_ns, 0.5))
                        + ", p99 " + format_duration(percentile(result.latency_ns, 0.99)) + ", server CPU "
                        + format_duration(double(cpu_after - cpu_before) / double(result.responses)) + " per response"
                        + (clients > 1 ? fairness(result.per_connection) : ""));
                }
            }
        }
    }
    (void)allowed.apply_to_calling_thread();

    // 3. The servers end; Signet as a user ends a session.
    if (signet_server) {
        if (auto stopped = stop_signet_server(*signet_server); stopped.is_error())
            report.failure(stopped.error().message());
    }
    if (linux_server)
        linux_server->process->stop(2000);

    // 4. The table: both sides of every load, and the rows.
    report.section("file serving: requests/s, body MB/s (10^6 bytes), latency (request sent .. last byte received), the server's CPU per response");
    report.detail(column("file", -8) + column("clients", -11) + " | signet:  req/s      MB/s     median        p99    CPU/resp"
        + " | linux:   req/s      MB/s     median        p99    CPU/resp | signet/linux req/s");
    for (uint64_t size : s_sizes) {
        for (unsigned clients : s_clients) {
            std::string line = column(size_name(size), -8) + column(std::to_string(clients), -11);
            for (Side side : { Side::Signet, Side::Linux }) {
                auto const& s = series[{ side, size, clients }];
                double rate = s.requests_per_second();
                line += " | " + column(finite_or_dash("%.0f", rate), 13) + "  " + column(finite_or_dash("%.1f", rate * double(size) / 1e6), 8)
                    + "  " + column(format_duration(percentile(s.latency_ns, 0.5)), 9)
                    + "  " + column(format_duration(percentile(s.latency_ns, 0.99)), 9)
                    + "  " + column(format_duration(s.cpu_per_response_ns()), 10);
            }
            double ratio = series[{ Side::Signet, size, clients }].requests_per_second() / series[{ Side::Linux, size, clients }].requests_per_second();
            line += " | " + column(finite_or_dash("%.2fx", ratio), 17);
            report.detail(line);
        }
    }

    for (uint64_t size : s_sizes) {
        for (unsigned clients : s_clients) {
            auto const& signet = series[{ Side::Signet, size, clients }];
            auto const& linux_side = series[{ Side::Linux, size, clients }];
            std::string name = "GET " + size_name(size) + ", " + clients_name(clients);
            report.add({ .name = name + ", per request",
                .linux_label = s_linux_label,
                .signet = signet.empty() ? nothing_measured() : Stats::of(signet.ns_per_request),
                .linux_side = linux_side.empty() ? nothing_measured() : Stats::of(linux_side.ns_per_request),
                .goal = Goal::SignetCheaper,
                .target = 0,
                .note = {} });
            report.add({ .name = name + ", latency",
                .linux_label = s_linux_label,
                .signet = signet.empty() ? nothing_measured() : Stats::of(signet.latency_ns),
                .linux_side = linux_side.empty() ? nothing_measured() : Stats::of(linux_side.latency_ns),
                .goal = Goal::SignetCheaper,
                .target = 0,
                .note = "p99 " + format_duration(percentile(signet.latency_ns, 0.99)) + " (signet), " + format_duration(percentile(linux_side.latency_ns, 0.99))
                    + " (linux)" });
        }
    }

    utsname name {};
    ::uname(&name);
    double load_after = system_load_average();
    machine_json = "{\"cpu_model\": " + json_string(cpu_model()) + ", \"logical_cpus\": " + std::to_string(std::thread::hardware_concurrency())
        + ", \"server_cpu\": " + std::to_string(server_cpu) + ", \"client_cpu\": " + std::to_string(client_cpu)
        + ", \"signet_workers\": " + std::to_string(options.workers) + ", \"kernel\": " + json_string(std::string(name.sysname) + " " + name.release)
        + ", \"tsc_ticks_per_ns\": " + json_number(tsc_ticks_per_ns()) + ", \"load_average_before\": " + json_number(load_before)
        + ", \"load_average_after\": " + json_number(load_after) + ", \"repetitions\": " + std::to_string(repetitions)
        + ", \"window_ns\": " + std::to_string(window_ns) + ", \"quick\": " + (options.quick ? "true" : "false") + "}";
    if (load_after > 0.5 * double(allowed.count()))
        report.detail(printf_string("note: the machine was busy (load average %.1f after the run", load_after) + " on "
            + std::to_string(allowed.count()) + " CPUs): both sides read low");
    return {};
}

} // namespace signet::bench
