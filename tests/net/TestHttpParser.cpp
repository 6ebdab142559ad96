// httpd's request parser and response pieces (services/httpd/http.c), run on the
// host: the HTTP subset it accepts, every status it refuses with, and random and
// mutated bytes, which must always end in a request or a status, never a crash
// (the build's sanitizers, where enabled, check every access).
#include "services/httpd/http.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Parsed {
    int result;
    http_request request;
    uint32_t head_length;
};

Parsed parse(std::string const& text)
{
    Parsed parsed {};
    parsed.result = http_parse_request(text.data(), static_cast<uint32_t>(text.size()), &parsed.request, &parsed.head_length);
    return parsed;
}

std::string path_of(std::string const& target)
{
    auto parsed = parse("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    if (parsed.result != HTTP_PARSED)
        return "status " + std::to_string(parsed.result);
    return std::string(parsed.request.path, parsed.request.path_length);
}

TEST(HttpParser, ParsesAGetWithItsHeadLength)
{
    std::string head = "GET /index.html HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n";
    auto parsed = parse(head + "GET /next");
    ASSERT_EQ(parsed.result, HTTP_PARSED);
    EXPECT_EQ(parsed.request.method, HTTP_GET);
    EXPECT_EQ(parsed.request.minor_version, 1);
    EXPECT_TRUE(parsed.request.keep_alive);
    EXPECT_EQ(parsed.head_length, head.size());
    EXPECT_STREQ(parsed.request.path, "/index.html");
}

TEST(HttpParser, WaitsForTheEndOfTheHead)
{
    EXPECT_EQ(parse("").result, HTTP_INCOMPLETE);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n").result, HTTP_INCOMPLETE);
    EXPECT_EQ(parse("GET / HTT").result, HTTP_INCOMPLETE);
}

TEST(HttpParser, TakesBareLineFeedsAndSkipsEmptyLinesBeforeTheRequest)
{
    auto parsed = parse("\r\n\nGET / HTTP/1.1\nHost: x\n\n");
    ASSERT_EQ(parsed.result, HTTP_PARSED);
    EXPECT_EQ(parsed.head_length, 27u);
}

TEST(HttpParser, KnowsHeadAndTellsOtherMethodsApart)
{
    EXPECT_EQ(parse("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n").request.method, HTTP_HEAD);
    auto post = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
    ASSERT_EQ(post.result, HTTP_PARSED);
    EXPECT_EQ(post.request.method, HTTP_OTHER);
    EXPECT_EQ(post.request.body_length, 5u);
    EXPECT_EQ(parse("get / HTTP/1.1\r\nHost: x\r\n\r\n").request.method, HTTP_OTHER); // methods are case-sensitive
}

TEST(HttpParser, KeepsAliveByVersionAndConnectionHeader)
{
    EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").request.keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: x\r\nconnection: Upgrade, CLOSE\r\n\r\n").request.keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
    auto old_alive = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_TRUE(old_alive.request.keep_alive);
    EXPECT_EQ(old_alive.request.minor_version, 0);
}

TEST(HttpParser, DecodesAndResolvesThePath)
{
    EXPECT_EQ(path_of("/"), "/");
    EXPECT_EQ(path_of("/a%20b.txt"), "/a b.txt");
    EXPECT_EQ(path_of("/docs/"), "/docs");
    EXPECT_EQ(path_of("//a/./b//c"), "/a/b/c");
    EXPECT_EQ(path_of("/a/b/../c"), "/a/c");
    EXPECT_EQ(path_of("/a/.."), "/");
    EXPECT_EQ(path_of("/a%2Fb"), "/a/b");
    EXPECT_EQ(path_of("/x.html?q=/../../etc#f"), "/x.html");
    EXPECT_EQ(path_of("http://host:80/y"), "/y");
    EXPECT_EQ(path_of("/%41%62"), "/Ab");
}

TEST(HttpParser, RefusesEveryWayAboveTheRoot)
{
    EXPECT_EQ(path_of("/.."), "status 400");
    EXPECT_EQ(path_of("/../etc/passwd"), "status 400");
    EXPECT_EQ(path_of("/a/../../b"), "status 400");
    EXPECT_EQ(path_of("/%2e%2e/b"), "status 400");
    EXPECT_EQ(path_of("/%2E%2e%2fb"), "status 400");
    EXPECT_EQ(path_of("/a%2f..%2f..%2fb"), "status 400");
}

TEST(HttpParser, RefusesMalformedRequestsWith400)
{
    for (char const* bad : {
             "garbage\r\n\r\n",
             "GET\r\n\r\n",
             "GET /\r\n\r\n",
             "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
             "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
             "GET / HTTP/1.1\r\n\r\n",                       // no Host in HTTP/1.1
             "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", // two
             "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
             "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
             "GET / HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n",
             "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
             "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
             "GET * HTTP/1.1\r\nHost: x\r\n\r\n",
             "GET relative HTTP/1.1\r\nHost: x\r\n\r\n",
             "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
             "GET /% HTTP/1.1\r\nHost: x\r\n\r\n",
             "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
             "GET /a%0ab HTTP/1.1\r\nHost: x\r\n\r\n",
             "GET / HTTP/1.x\r\nHost: x\r\n\r\n",
             "GET / FTP/1.1\r\nHost: x\r\n\r\n",
             "G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n",
         })
        EXPECT_EQ(parse(bad).result, 400) << bad;
}

TEST(HttpParser, RefusesOtherVersionsAndChunkedBodies)
{
    EXPECT_EQ(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n").result, 505);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").result, 501);
}

TEST(HttpParser, RefusesARequestLineOver8KiBWith414)
{
    std::string target = "/" + std::string(HTTP_LINE_MAX, 'a');
    EXPECT_EQ(parse("GET " + target).result, 414); // before its end arrives
    EXPECT_EQ(parse("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n").result, 414);
    std::string just_fits = "GET /" + std::string(HTTP_LINE_MAX - 16, 'a') + " HTTP/1.1\r\n";
    ASSERT_LE(just_fits.size(), HTTP_LINE_MAX);
    EXPECT_EQ(parse(just_fits + "Host: x\r\n\r\n").result, 414); // a path over HTTP_PATH_MAX
    EXPECT_EQ(path_of("/" + std::string(HTTP_PATH_MAX - 2, 'b')).size(), HTTP_PATH_MAX - 1);
}

TEST(HttpParser, RefusesHeaderFieldsOver8KiBWith431)
{
    std::string line = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(HTTP_HEADERS_MAX, 'v');
    EXPECT_EQ(parse(line).result, 431);
    EXPECT_EQ(parse(line + "\r\n\r\n").result, 431);
}

TEST(HttpParser, NamesContentTypesByExtension)
{
    auto type = [](char const* path) { return std::string(http_content_type(path, static_cast<uint32_t>(std::strlen(path)))); };
    EXPECT_EQ(type("/www/index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(type("/www/A.PNG"), "image/png");
    EXPECT_EQ(type("/www/notes.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(type("/www/data.bin"), "application/octet-stream");
    EXPECT_EQ(type("/www.d/README"), "application/octet-stream");
    EXPECT_EQ(type("/www/.html"), "text/html; charset=utf-8");
}

TEST(HttpParser, FormatsImfFixdates)
{
    char date[29];
    http_format_date(784111777, date);
    EXPECT_EQ(std::string(date, 29), "Sun, 06 Nov 1994 08:49:37 GMT");
    http_format_date(0, date);
    EXPECT_EQ(std::string(date, 29), "Thu, 01 Jan 1970 00:00:00 GMT");
    http_format_date(951782400, date); // a leap day
    EXPECT_EQ(std::string(date, 29), "Tue, 29 Feb 2000 00:00:00 GMT");
}

// Random bytes, and valid requests with random bytes changed, cut or added:
// every input ends in a request whose path is absolute and resolved, or in a status.
TEST(HttpParser, NeverFailsOnRandomOrMutatedInput)
{
    std::mt19937 random(20261127);
    std::vector<std::string> seeds = {
        "GET /a/b%20c.html?x HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n",
        "HEAD /../%2e%2e/ HTTP/1.0\r\n\r\n",
        "\r\n\r\nPOST http://h/p HTTP/1.1\nHost: y\nTransfer-Encoding: x\n\n",
    };
    std::string alphabet = "GETHAD /%.:\r\n\t2eEfF0aHTP1-?#";
    for (int round = 0; round < 200000; ++round) {
        std::string input;
        if (round % 4 == 0) {
            input.resize(random() % 600);
            for (auto& c : input)
                c = static_cast<char>(random());
        } else {
            input = seeds[random() % seeds.size()];
            for (int edits = 1 + random() % 6; edits > 0; --edits) {
                size_t at = input.empty() ? 0 : random() % input.size();
                char c = random() % 2 ? alphabet[random() % alphabet.size()] : static_cast<char>(random());
                switch (random() % 3) {
                case 0: if (!input.empty()) input[at] = c; break;
                case 1: input.insert(input.begin() + static_cast<long>(at), c); break;
                default: input.resize(at); break;
                }
            }
        }
        // Exactly the input's bytes: a parser reading one past them trips the sanitizers.
        std::vector<char> bytes(input.begin(), input.end());
        http_request request;
        uint32_t head_length = 0;
        int result = http_parse_request(bytes.data(), static_cast<uint32_t>(bytes.size()), &request, &head_length);
        if (result == HTTP_PARSED) {
            ASSERT_LE(head_length, bytes.size());
            ASSERT_GE(request.path_length, 1u);
            ASSERT_LT(request.path_length, HTTP_PATH_MAX);
            ASSERT_EQ(request.path[0], '/');
            ASSERT_EQ(request.path[request.path_length], '\0');
            std::string path(request.path, request.path_length);
            ASSERT_EQ(path.find("/../"), std::string::npos) << input;
            ASSERT_EQ(path.find("//"), std::string::npos) << input;
            ASSERT_FALSE(path.ends_with("/..")) << input;
        } else {
            ASSERT_TRUE(result == HTTP_INCOMPLETE || result == 400 || result == 414 || result == 431 || result == 501 || result == 505)
                << "status " << result << " for " << input;
        }
    }
}

} // namespace
