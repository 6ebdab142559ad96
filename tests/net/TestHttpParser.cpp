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

Parsed parse_with(std::string const& fields, std::string const& target = "/f")
{
    return parse("GET " + target + " HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n");
}

TEST(HttpParser, KnowsWhetherThePathEndedInASlash)
{
    EXPECT_TRUE(parse_with("", "/docs/").request.trailing_slash);
    EXPECT_TRUE(parse_with("", "/docs/?q=1").request.trailing_slash);
    EXPECT_TRUE(parse_with("", "/docs%2F").request.trailing_slash);
    EXPECT_FALSE(parse_with("", "/docs").request.trailing_slash);
    EXPECT_FALSE(parse_with("", "/docs/.").request.trailing_slash);
    EXPECT_FALSE(parse_with("", "/docs?a/").request.trailing_slash);
    EXPECT_STREQ(parse_with("", "/docs/").request.path, "/docs");
}

TEST(HttpParser, TakesOneByteRangeAndIgnoresEveryOtherRangeField)
{
    auto range = [](std::string const& value) { return parse_with("Range: " + value + "\r\n").request; };
    auto span = range("bytes=0-499");
    EXPECT_EQ(span.range, HTTP_RANGE_SPAN);
    EXPECT_EQ(span.range_first, 0u);
    EXPECT_EQ(span.range_last, 499u);
    auto from = range("Bytes=9500-");
    EXPECT_EQ(from.range, HTTP_RANGE_FROM);
    EXPECT_EQ(from.range_first, 9500u);
    auto suffix = range("bytes=-500");
    EXPECT_EQ(suffix.range, HTTP_RANGE_SUFFIX);
    EXPECT_EQ(suffix.range_first, 500u);
    EXPECT_EQ(parse_with("").request.range, HTTP_RANGE_NONE);
    // Several ranges, another unit, a last before the first, no numbers, spaces,
    // numbers past 18 digits: the whole file is sent.
    for (char const* ignored : { "bytes=0-1,5-6", "items=0-1", "bytes=5-4", "bytes=-", "bytes=", "bytes= 0-1", "bytes=0-1 x",
             "bytes=1234567890123456789-", "bytes=--1", "bytes=a-b", "0-1" })
        EXPECT_EQ(range(ignored).range, HTTP_RANGE_NONE) << ignored;
}

TEST(HttpParser, ResolvesARangeAgainstTheFileSize)
{
    auto resolve = [](std::string const& value, uint64_t size) {
        auto request = parse_with("Range: " + value + "\r\n").request;
        uint64_t first = 99, last = 99;
        int result = http_resolve_range(&request, size, &first, &last);
        return result == 1 ? std::to_string(first) + "-" + std::to_string(last) : std::to_string(result);
    };
    EXPECT_EQ(resolve("bytes=0-499", 10000), "0-499");
    EXPECT_EQ(resolve("bytes=9000-20000", 10000), "9000-9999");
    EXPECT_EQ(resolve("bytes=9500-", 10000), "9500-9999");
    EXPECT_EQ(resolve("bytes=-500", 10000), "9500-9999");
    EXPECT_EQ(resolve("bytes=-20000", 10000), "0-9999");
    EXPECT_EQ(resolve("bytes=10000-", 10000), "0"); // starts past the end: 416
    EXPECT_EQ(resolve("bytes=10000-10005", 10000), "0");
    EXPECT_EQ(resolve("bytes=-0", 10000), "0");
    EXPECT_EQ(resolve("bytes=0-", 0), "0");
    EXPECT_EQ(resolve("bytes=-5", 0), "0");
    EXPECT_EQ(resolve("bytes=0-0", 1), "0-0");
    EXPECT_EQ(resolve("bytes=a", 10), "-1"); // no range
}

TEST(HttpParser, ReadsHttpDatesInAllThreeForms)
{
    auto date = [](std::string const& text) { return http_parse_date(text.data(), static_cast<uint32_t>(text.size())); };
    EXPECT_EQ(date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_EQ(date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    EXPECT_EQ(date("Sun Nov  6 08:49:37 1994"), 784111777);
    EXPECT_EQ(date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    EXPECT_EQ(date("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
    EXPECT_EQ(date("Wednesday, 01-Jan-20 00:00:00 GMT"), 1577836800); // a two-digit year below 70 is 20xx
    for (char const* bad : { "", "Sun", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
             "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 30 Feb 2000 00:00:00 GMT", "Sun, 29 Feb 1900 00:00:00 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
             "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1969 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ", "Xyz, 06 Nov 1994 08:49:37 GMT",
             "Sun Nov 6 08:49:37 1994", "Sunday, 06 Nov 1994 08:49:37 GMT", "sun, 06 Nov 1994 08:49:37 GMT" })
        EXPECT_EQ(date(bad), -1) << bad;
    // What http_format_date writes reads back, over a century of days and times.
    std::mt19937_64 random(7);
    for (int i = 0; i < 10000; ++i) {
        uint64_t seconds = random() % 4102444800u;
        char text[29];
        http_format_date(seconds, text);
        ASSERT_EQ(http_parse_date(text, 29), static_cast<int64_t>(seconds)) << std::string(text, 29);
    }
}

TEST(HttpParser, KeepsConditionsAndIgnoresAnIfModifiedSinceThatIsNoDate)
{
    auto request = parse_with("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-None-Match: \"a\"\r\nIf-None-Match: W/\"b\"\r\n"
                              "If-Range: \"c\"\r\n").request;
    EXPECT_EQ(request.if_modified_since, 784111777);
    ASSERT_TRUE(request.if_none_match.present && request.if_none_match.kept);
    EXPECT_EQ(std::string(request.if_none_match.data, request.if_none_match.length), "\"a\",W/\"b\"");
    EXPECT_EQ(std::string(request.if_range.data, request.if_range.length), "\"c\"");
    EXPECT_EQ(parse_with("If-Modified-Since: yesterday\r\n").request.if_modified_since, -1);
    EXPECT_EQ(parse_with("").request.if_modified_since, -1);
    EXPECT_FALSE(parse_with("").request.if_none_match.present);
    // Too long, or an If-Range twice: there, but not to be judged.
    auto too_long = parse_with("If-None-Match: \"" + std::string(300, 'x') + "\"\r\n").request;
    EXPECT_TRUE(too_long.if_none_match.present);
    EXPECT_FALSE(too_long.if_none_match.kept);
    auto twice = parse_with("If-Range: \"c\"\r\nIf-Range: \"d\"\r\n").request;
    EXPECT_TRUE(twice.if_range.present);
    EXPECT_FALSE(twice.if_range.kept);
}

TEST(HttpParser, MatchesEntityTagsWeakly)
{
    auto matches = [](std::string const& list, std::string const& etag) {
        return http_etag_list_matches(list.data(), static_cast<uint32_t>(list.size()), etag.data(), static_cast<uint32_t>(etag.size()));
    };
    EXPECT_TRUE(matches("\"a1-b2\"", "\"a1-b2\""));
    EXPECT_TRUE(matches("W/\"a1-b2\"", "\"a1-b2\""));
    EXPECT_TRUE(matches("\"x\", \"a1-b2\"", "\"a1-b2\""));
    EXPECT_TRUE(matches("\"x\",W/\"a1-b2\"", "\"a1-b2\""));
    EXPECT_TRUE(matches("*", "\"a1-b2\""));
    EXPECT_FALSE(matches("\"a1-b\"", "\"a1-b2\""));
    EXPECT_FALSE(matches("\"a1-b2", "\"a1-b2\""));
    EXPECT_FALSE(matches("a1-b2", "\"a1-b2\""));
    EXPECT_FALSE(matches("", "\"a1-b2\""));
    EXPECT_FALSE(matches("x, \"a1-b2\"", "\"a1-b2\"")); // malformed before the match: no match
}

TEST(HttpParser, NamesTheNewStatuses)
{
    EXPECT_STREQ(http_reason(206), "Partial Content");
    EXPECT_STREQ(http_reason(301), "Moved Permanently");
    EXPECT_STREQ(http_reason(304), "Not Modified");
    EXPECT_STREQ(http_reason(416), "Range Not Satisfiable");
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
        "GET /d/ HTTP/1.1\r\nHost: x\r\nRange: bytes=10-20\r\nIf-Range: \"a-b\"\r\nIf-None-Match: W/\"1\", \"2\"\r\n"
        "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
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
            ASSERT_LE(request.if_none_match.length, HTTP_VALIDATOR_MAX);
            ASSERT_LE(request.if_range.length, HTTP_VALIDATOR_MAX);
            ASSERT_TRUE(request.range != HTTP_RANGE_SPAN || request.range_first <= request.range_last) << input;
            uint64_t first = 0, last = 0;
            if (http_resolve_range(&request, 1000, &first, &last) == 1) {
                ASSERT_TRUE(first <= last && last < 1000) << input;
            }
            (void)http_etag_list_matches(request.if_none_match.data, request.if_none_match.length, "\"2\"", 3);
        } else {
            ASSERT_TRUE(result == HTTP_INCOMPLETE || result == 400 || result == 414 || result == 431 || result == 501 || result == 505)
                << "status " << result << " for " << input;
        }
    }
}

} // namespace
