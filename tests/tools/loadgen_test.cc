#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>
#include <zlib.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "body_pool.h"
#include "common/admin_http_server.h"
#include "latency_histogram.h"
#include "response_parser.h"
#include "run.h"
#include "settings.h"
#include "subprocess.h"
#include "test_env.h"

namespace obsrv::loadgen {
namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// latency_histogram

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGapsOrOverlap) {
    const size_t last = latency_histogram::bucket_index(UINT64_MAX);
    ASSERT_LT(last, 20000u);  // the whole 64-bit range in a few hundred KB at most
    for (size_t i = 0; i < last; ++i) {
        const uint64_t lo = latency_histogram::bucket_lowest(i);
        const uint64_t hi = latency_histogram::bucket_highest(i);
        ASSERT_LE(lo, hi);
        ASSERT_EQ(latency_histogram::bucket_index(lo), i);
        ASSERT_EQ(latency_histogram::bucket_index(hi), i);
        ASSERT_EQ(latency_histogram::bucket_lowest(i + 1), hi + 1) << i;
        // The stated bound: a bucket is narrower than relative_error of its values.
        ASSERT_LE(static_cast<double>(hi - lo),
                  latency_histogram::relative_error * static_cast<double>(lo) + 1e-9)
            << i;
    }
    EXPECT_EQ(latency_histogram::bucket_highest(latency_histogram::bucket_index(UINT64_MAX)),
              UINT64_MAX);
}

uint64_t exact_percentile(const std::vector<uint64_t>& sorted, double p) {
    auto rank =
        static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()) - 1e-9));
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

void check_against_exact(std::vector<uint64_t> values) {
    latency_histogram h;
    for (const uint64_t v : values) {
        h.record(v);
    }
    std::sort(values.begin(), values.end());
    ASSERT_EQ(h.count(), values.size());
    EXPECT_EQ(h.max(), values.back());
    EXPECT_EQ(h.min(), values.front());
    for (const double p : {0.0, 0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        const uint64_t exact = exact_percentile(values, p);
        const uint64_t got = h.percentile(p);
        EXPECT_GE(got, exact) << "p" << p;
        EXPECT_LE(static_cast<double>(got),
                  static_cast<double>(exact) * (1 + latency_histogram::relative_error))
            << "p" << p << " exact " << exact;
    }
    EXPECT_EQ(h.percentile(100), values.back());
}

TEST(LatencyHistogram, PercentilesWithinStatedErrorOfExactValues) {
    std::mt19937_64 rng(7);
    {
        std::vector<uint64_t> v;  // log-uniform from 1 us to ~17 min
        std::uniform_real_distribution<double> e(0, 30);
        for (int i = 0; i < 200000; ++i) {
            v.push_back(static_cast<uint64_t>(std::exp2(e(rng))));
        }
        check_against_exact(v);
    }
    {
        std::vector<uint64_t> v;  // loopback-like: tight body, long tail
        std::lognormal_distribution<double> d(std::log(80.0), 0.5);
        for (int i = 0; i < 100000; ++i) {
            v.push_back(static_cast<uint64_t>(d(rng)));
        }
        for (int i = 0; i < 150; ++i) {
            v.push_back(50000 + static_cast<uint64_t>(i) * 997);
        }
        check_against_exact(v);
    }
    check_against_exact({0});
    check_against_exact({123456789});
    check_against_exact({5, 5, 5, 5, 5000000});
    // Small counts: every rank matters.
    check_against_exact({1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000});
}

TEST(LatencyHistogram, SmallValuesAreExact) {
    latency_histogram h;
    for (uint64_t v = 1; v <= 500; ++v) {
        h.record(v);
    }
    EXPECT_EQ(h.percentile(50), 250u);
    EXPECT_EQ(h.percentile(99), 495u);
    EXPECT_EQ(h.percentile(99.9), 500u);
    EXPECT_DOUBLE_EQ(h.mean(), 250.5);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<uint64_t> d(1, 10'000'000);
    latency_histogram a;
    latency_histogram b;
    latency_histogram all;
    for (int i = 0; i < 50000; ++i) {
        const uint64_t v = d(rng);
        (i % 3 == 0 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.max(), all.max());
    EXPECT_EQ(a.min(), all.min());
    for (const double p : {1.0, 50.0, 99.0, 99.9}) {
        EXPECT_EQ(a.percentile(p), all.percentile(p));
    }
    a.reset();
    EXPECT_EQ(a.count(), 0u);
    EXPECT_EQ(a.percentile(99), 0u);
    EXPECT_EQ(a.max(), 0u);
}

// ---------------------------------------------------------------------------
// response_parser

struct parsed {
    int status;
    bool keep_alive;
    uint64_t body;
    bool operator==(const parsed&) const = default;
};

// Feeds `pieces` in order; returns the responses and whether an error occurred.
std::vector<parsed> parse_all(const std::vector<std::string_view>& pieces, bool& error,
                              bool finish = false) {
    response_parser p;
    std::vector<parsed> out;
    error = false;
    for (std::string_view piece : pieces) {
        while (!piece.empty()) {
            const auto step = p.feed(piece);
            piece.remove_prefix(step.consumed);
            if (step.status == parse_status::error) {
                error = true;
                return out;
            }
            if (step.status == parse_status::complete) {
                out.push_back({p.last().status, p.last().keep_alive, p.last().body_bytes});
            } else {
                EXPECT_TRUE(piece.empty());
                break;
            }
        }
    }
    if (finish) {
        const auto st = p.finish();
        if (st == parse_status::complete) {
            out.push_back({p.last().status, p.last().keep_alive, p.last().body_bytes});
        } else if (st == parse_status::error) {
            error = true;
        }
    }
    return out;
}

const std::string pipelined_stream =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
    "{\"ok\":\"yes\"}\n"
    "HTTP/1.1 100 Continue\r\n\r\n"
    "HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n"
    "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n"
    "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: keep-alive, "
    "Close\r\n\r\n"
    "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
    "HTTP/1.0 201 Created\r\nContent-Length: 3\r\n\r\nabc"
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    "HTTP/1.1 202 Accepted\r\ncontent-length:    4   \r\n\r\nwxyz";

const std::vector<parsed> pipelined_expected = {
    {200, true, 13}, {400, true, 31}, {204, true, 0}, {503, false, 0},
    {200, true, 2},  {201, false, 3}, {200, true, 0}, {202, true, 4},
};

TEST(ResponseParser, PipelinedResponsesBackToBack) {
    bool error = false;
    EXPECT_EQ(parse_all({pipelined_stream}, error), pipelined_expected);
    EXPECT_FALSE(error);
}

TEST(ResponseParser, SplitAtEveryByteBoundary) {
    const std::string_view s = pipelined_stream;
    for (size_t cut = 0; cut <= s.size(); ++cut) {
        bool error = false;
        ASSERT_EQ(parse_all({s.substr(0, cut), s.substr(cut)}, error), pipelined_expected)
            << "cut at " << cut;
        ASSERT_FALSE(error);
    }
    // And three pieces, for heads and chunk lines spread over several reads.
    for (size_t a = 0; a <= s.size(); a += 7) {
        for (size_t b = a; b <= s.size(); b += 5) {
            bool error = false;
            ASSERT_EQ(parse_all({s.substr(0, a), s.substr(a, b - a), s.substr(b)}, error),
                      pipelined_expected)
                << a << "," << b;
        }
    }
}

TEST(ResponseParser, OneByteAtATime) {
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < pipelined_stream.size(); ++i) {
        bytes.push_back(std::string_view(pipelined_stream).substr(i, 1));
    }
    bool error = false;
    EXPECT_EQ(parse_all(bytes, error), pipelined_expected);
    EXPECT_FALSE(error);
}

TEST(ResponseParser, CountsWireBytesAndSkipsLargeBodies) {
    const std::string body(1 << 20, 'x');
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n";
    const std::string wire = head + body;
    response_parser p;
    std::string_view rest = wire;
    size_t reads = 0;
    while (!rest.empty()) {
        const auto step = p.feed(rest.substr(0, 65536));
        rest.remove_prefix(step.consumed);
        ++reads;
        if (step.status == parse_status::complete) {
            break;
        }
        ASSERT_EQ(step.status, parse_status::need_more);
    }
    EXPECT_TRUE(rest.empty());
    EXPECT_EQ(p.last().body_bytes, body.size());
    EXPECT_EQ(p.last().total_bytes, wire.size());
    EXPECT_TRUE(p.idle());
}

TEST(ResponseParser, BodyUntilCloseEndsAtFinish) {
    bool error = false;
    const auto out = parse_all({"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nsome", " body"}, error, true);
    ASSERT_FALSE(error);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], (parsed{200, false, 9}));
}

TEST(ResponseParser, ClosedMidResponseIsAnError) {
    bool error = false;
    parse_all({"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"}, error, true);
    EXPECT_TRUE(error);
    parse_all({"HTTP/1.1 200 OK\r\nContent-Le"}, error, true);
    EXPECT_TRUE(error);
    const auto none = parse_all({""}, error, true);
    EXPECT_FALSE(error);
    EXPECT_TRUE(none.empty());
}

TEST(ResponseParser, RejectsMalformedResponses) {
    for (const std::string_view bad : {
             std::string_view("HTTP/2 200 OK\r\n\r\n"),
             std::string_view("HTTP/1.1 2x0 OK\r\n\r\n"),
             std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n"),
             std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
             std::string_view("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
             std::string_view("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX"),
             std::string_view("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
             std::string_view("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
         }) {
        bool error = false;
        parse_all({bad}, error);
        EXPECT_TRUE(error) << bad;
    }
    const std::string huge =
        "HTTP/1.1 200 OK\r\nX: " + std::string(response_parser::max_header_bytes, 'a') + "\r\n\r\n";
    bool error = false;
    parse_all({huge}, error);
    EXPECT_TRUE(error);
    parse_all({std::string_view(huge).substr(0, 1000), std::string_view(huge).substr(1000)}, error);
    EXPECT_TRUE(error);
}

// ---------------------------------------------------------------------------
// settings

TEST(Settings, Durations) {
    EXPECT_EQ(*parse_duration("10s"), 10s);
    EXPECT_EQ(*parse_duration("10"), 10s);
    EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
    EXPECT_EQ(*parse_duration("250ms"), 250ms);
    EXPECT_EQ(*parse_duration("40us"), 40us);
    EXPECT_EQ(*parse_duration("2m"), 120s);
    EXPECT_EQ(*parse_duration("1h"), 3600s);
    EXPECT_FALSE(parse_duration("ten"));
    EXPECT_FALSE(parse_duration("5d"));
    EXPECT_FALSE(parse_duration(""));
    EXPECT_FALSE(parse_duration("s"));
}

TEST(Settings, Urls) {
    auto u = parse_url("http://127.0.0.1:3000/v2/data/in/telemetry-batch?x=1#frag");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, 3000);
    EXPECT_EQ(u->target, "/v2/data/in/telemetry-batch?x=1");
    EXPECT_EQ(u->host_header, "127.0.0.1:3000");
    u = parse_url("http://localhost");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->port, 80);
    EXPECT_EQ(u->target, "/");
    u = parse_url("http://[::1]:8080/a");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->port, 8080);
    EXPECT_FALSE(parse_url("https://example.com/"));
    EXPECT_FALSE(parse_url("ftp://x/"));
    EXPECT_FALSE(parse_url("http://:80/"));
    EXPECT_FALSE(parse_url("http://h:0/"));
    EXPECT_FALSE(parse_url("http://h:70000/"));
    EXPECT_FALSE(parse_url("http://h/a b"));
}

TEST(Settings, CpuListsAndHeaders) {
    EXPECT_EQ(*parse_cpu_list("0"), std::vector<int>{0});
    EXPECT_EQ(*parse_cpu_list("0-2,5,1"), (std::vector<int>{0, 1, 2, 5}));
    EXPECT_FALSE(parse_cpu_list("2-1"));
    EXPECT_FALSE(parse_cpu_list("a"));
    EXPECT_FALSE(parse_cpu_list("1,"));
    EXPECT_EQ(*parse_header("X-Dataset:  telemetry "), "X-Dataset: telemetry");
    EXPECT_FALSE(parse_header("no colon"));
    EXPECT_FALSE(parse_header("Bad Name: x"));
    EXPECT_FALSE(parse_header("X: a\rb"));
}

cli_outcome parse(std::vector<std::string> args) {
    // Built front to back: inserting at begin() trips a GCC 12 -O3 false
    // -Wnull-dereference inside std::string.
    std::vector<std::string> all{"obsrv-loadgen"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const auto& a : all) {
        argv.push_back(a.c_str());
    }
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(Settings, CommandLine) {
    auto ok = parse({"--url", "http://127.0.0.1:1/v2/data/in/x", "-c", "8", "-t", "2", "--rate",
                     "1000", "--warmup", "1s", "-H", "Authorization: Bearer t", "--cpu", "0"});
    ASSERT_EQ(ok.what, cli_outcome::action::run);
    EXPECT_EQ(ok.config.duration, 10s);  // the default when neither duration nor requests
    EXPECT_EQ(ok.config.warmup, 1s);
    EXPECT_FALSE(ok.config.closed_loop());
    EXPECT_EQ(ok.config.headers, (std::vector<std::string>{"Content-Type: application/json",
                                                           "Authorization: Bearer t"}));
    auto n = parse({"http://h:1/", "-n", "100", "-H", "content-type: text/plain"});
    ASSERT_EQ(n.what, cli_outcome::action::run);
    EXPECT_EQ(n.config.duration.count(), 0);
    EXPECT_EQ(n.config.requests, 100u);
    EXPECT_EQ(n.config.headers, std::vector<std::string>{"content-type: text/plain"});

    const std::string file = testing::make_temp_dir("lgcli") + "/b.json";
    std::ofstream(file) << "{}";
    for (const auto& bad : std::vector<std::vector<std::string>>{
             {},
             {"--url", "https://h/"},
             {"--url", "http://h:1/", "-t", "4", "-c", "2"},
             {"--url", "http://h:1/", "--body-file", file, "--events-per-request", "5"},
             {"--url", "http://h:1/", "--duplicate-share", "0.5", "--events-per-request", "1"},
             {"--url", "http://h:1/", "--duplicate-share", "0.6", "--events-per-request", "2"},
             {"--url", "http://h:1/", "--duration", "ten"},
             {"--url", "http://h:1/", "-H", "Content-Length: 5"},
             {"--url", "http://h:1/", "--gzip", "-H", "content-encoding: br"},
             {"--url", "http://h:1/", "--cpu", "x"},
             {"--url", "http://h:1/", "--cpu", "4095"},  // not a CPU this process may use
             {"--url", "http://h:1/", "--pool-size", "100000", "--event-size", "1000"},
             {"--url", "http://h:1/", "--no-such-option"},
         }) {
        const auto out = parse(bad);
        EXPECT_EQ(out.what, cli_outcome::action::exit) << ::testing::PrintToString(bad);
        EXPECT_EQ(out.exit_code, 2) << ::testing::PrintToString(bad);
    }
    EXPECT_EQ(parse({"--url", "http://h:1/", "--body-file", file}).what, cli_outcome::action::run);
    const auto gzip = parse({"--url", "http://h:1/", "--gzip", "--body-file", file});
    ASSERT_EQ(gzip.what, cli_outcome::action::run);
    EXPECT_TRUE(gzip.config.gzip);
}

// ---------------------------------------------------------------------------
// body generation

request_head test_head() {
    request_head h;
    h.target = "/v2/data/in/telemetry";
    h.host = "gw:3000";
    h.headers = {"Content-Type: application/json"};
    return h;
}

// What the gateway checks before accepting an Obsrv v2 request.
bool valid_v2_request(std::string_view body, simdjson::dom::parser& parser) {
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) {
        return false;
    }
    std::string_view id;
    std::string_view msgid;
    simdjson::dom::array data;
    return doc["id"].get(id) == simdjson::SUCCESS && id == "api.data.in" &&
           doc["params"]["msgid"].get(msgid) == simdjson::SUCCESS && !msgid.empty() &&
           doc["data"].get(data) == simdjson::SUCCESS && data.size() > 0;
}

std::string_view body_of(const std::string& request) {
    const size_t end = request.find("\r\n\r\n");
    return std::string_view(request).substr(end + 4);
}

TEST(BodyPool, ActorIdsComeFromTheAskedRange) {
    generate_options g;
    g.pool_size = 8;
    g.events_per_request = 50;
    g.actors = 3;
    auto pool = body_pool::generate(g, test_head());
    ASSERT_TRUE(pool) << pool.error().message;
    simdjson::dom::parser parser;
    std::set<std::string> actors;
    for (size_t i = 0; i < pool->size(); ++i) {
        const std::string wire = materialize(pool->at(i), 1);
        simdjson::dom::element doc;
        ASSERT_EQ(parser.parse(std::string(body_of(wire))).get(doc), simdjson::SUCCESS);
        for (simdjson::dom::element e : doc["data"].get_array()) {
            std::string_view actor;
            ASSERT_EQ(e["actor"]["id"].get(actor), simdjson::SUCCESS);
            actors.emplace(actor);
        }
    }
    EXPECT_EQ(actors, (std::set<std::string>{"user-000000", "user-000001", "user-000002"}));
}

TEST(BodyPool, GeneratesObsrvV2RequestsWithUniqueIds) {
    generate_options g;
    g.pool_size = 16;
    g.events_per_request = 20;
    g.event_size = 400;
    g.duplicate_share = 0.1;
    g.msgid_prefix = "t1";
    auto pool = body_pool::generate(g, test_head());
    ASSERT_TRUE(pool) << pool.error().message;
    ASSERT_EQ(pool->size(), 16u);

    simdjson::dom::parser parser;
    std::set<std::string> msgids;
    std::set<std::string> mids;
    uint64_t events = 0;
    uint64_t duplicates = 0;
    double event_bytes = 0;
    body_cursor cursor(*pool, 0);
    // Three passes over the pool: ids must stay unique across passes.
    for (uint64_t n = 0; n < 48; ++n) {
        const size_t i = cursor.next();
        const request_template& t = pool->at(i);
        const std::string wire = materialize(t, request_id(3, n));
        ASSERT_EQ(wire.substr(0, wire.find("\r\n")), "POST /v2/data/in/telemetry HTTP/1.1");
        ASSERT_NE(wire.find("\r\nHost: gw:3000\r\n"), std::string::npos);
        const std::string_view body = body_of(wire);
        ASSERT_NE(wire.find(fmt::format("\r\nContent-Length: {}\r\n", body.size())),
                  std::string::npos);
        ASSERT_TRUE(valid_v2_request(body, parser)) << body.substr(0, 300);

        simdjson::dom::element doc = parser.parse(body.data(), body.size()).value();
        EXPECT_EQ(std::string_view(doc["ver"]), "v2");
        std::string_view ts = doc["ts"];
        EXPECT_EQ(ts.size(), 24u) << ts;  // 2025-01-01T00:00:00.000Z
        const std::string msgid{std::string_view(doc["params"]["msgid"])};
        char id[id_width];
        format_id(request_id(3, n), id);
        EXPECT_EQ(msgid, "t1-" + std::string(id, id_width));
        EXPECT_TRUE(msgids.insert(msgid).second) << "msgid repeated: " << msgid;

        simdjson::dom::array data = doc["data"];
        ASSERT_EQ(data.size(), 20u);
        std::set<std::string> in_request;
        for (simdjson::dom::element e : data) {
            const std::string mid{std::string_view(e["mid"])};
            ++events;
            event_bytes += static_cast<double>(simdjson::minify(e).size());
            EXPECT_EQ(mid.rfind(msgid + "-", 0), 0u) << mid;
            if (!in_request.insert(mid).second) {
                ++duplicates;  // repeats an earlier mid of the same request
            } else {
                EXPECT_TRUE(mids.insert(mid).second) << "mid reused across requests: " << mid;
            }
            EXPECT_TRUE(e["eid"].is_string());
            EXPECT_TRUE(e["ets"].is_int64());
            EXPECT_TRUE(e["actor"]["id"].is_string());
            EXPECT_TRUE(e["context"]["did"].is_string());
        }
        EXPECT_EQ(t.events, 20u);
    }
    const double share = static_cast<double>(duplicates) / static_cast<double>(events);
    EXPECT_NEAR(share, 0.1, 0.01);
    EXPECT_NEAR(event_bytes / static_cast<double>(events), 400, 400 * 0.05);
}

std::string gunzip(std::string_view data) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    std::string out(1 << 20, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
    EXPECT_EQ(z.avail_in, 0u);  // one member, nothing after it
    out.resize(z.total_out);
    inflateEnd(&z);
    return out;
}

TEST(BodyPool, GzipBodiesAreTheRequestsWithIdsFixedPerBody) {
    generate_options g;
    g.pool_size = 4;
    g.events_per_request = 30;
    g.invalid_share = 0.2;
    g.msgid_prefix = "gz";
    request_head head = test_head();
    head.headers.emplace_back("Content-Encoding: gzip");
    auto pool = body_pool::generate(g, head);
    ASSERT_TRUE(pool) << pool.error().message;
    const std::optional<body_pool> plain = *pool;  // the same bodies before compression
    pool->gzip_bodies(head);
    ASSERT_EQ(pool->size(), plain->size());
    simdjson::dom::parser parser;
    std::set<std::string> msgids;
    for (size_t i = 0; i < pool->size(); ++i) {
        const request_template& t = pool->at(i);
        EXPECT_TRUE(t.holes.empty());
        EXPECT_EQ(t.events, plain->at(i).events);
        EXPECT_EQ(t.invalid, plain->at(i).invalid);
        const std::string expected = materialize(plain->at(i), request_id(0xFFFFFF, i));
        EXPECT_EQ(gunzip(t.body()), body_of(expected));
        EXPECT_EQ(t.decoded_body_size(), body_of(expected).size());
        EXPECT_LT(t.body().size() * 3, t.decoded_body_size());  // it did compress
        const std::string wire = materialize(t, 99);  // no holes: any id sends the same bytes
        EXPECT_EQ(wire, t.bytes);
        EXPECT_NE(wire.find("\r\nContent-Encoding: gzip\r\n"), std::string::npos);
        EXPECT_NE(wire.find(fmt::format("\r\nContent-Length: {}\r\n", t.body().size())),
                  std::string::npos);
        if (t.invalid == invalid_kind::none) {
            const std::string body = gunzip(t.body());
            ASSERT_TRUE(valid_v2_request(body, parser)) << body.substr(0, 200);
            const std::string msgid{
                std::string_view(parser.parse(body)["params"]["msgid"].get_string())};
            EXPECT_TRUE(msgids.insert(msgid).second) << msgid;
        }
    }
    EXPECT_EQ(msgids.size(), pool->valid_count());
}

TEST(BodyPool, DuplicateShareIsHonouredAcrossSettings) {
    for (const double share : {0.0, 0.05, 0.3, 0.5}) {
        generate_options g;
        g.pool_size = 64;
        g.events_per_request = 10;
        g.event_size = 120;
        g.duplicate_share = share;
        auto pool = body_pool::generate(g, test_head());
        ASSERT_TRUE(pool);
        uint64_t dups = 0;
        uint64_t events = 0;
        simdjson::dom::parser parser;
        for (size_t i = 0; i < pool->size(); ++i) {
            const std::string wire = materialize(pool->at(i), i);
            simdjson::dom::element doc = parser.parse(std::string(body_of(wire))).value();
            std::set<std::string_view> seen;
            for (simdjson::dom::element e : doc["data"].get_array()) {
                ++events;
                dups += seen.insert(std::string_view(e["mid"])).second ? 0 : 1;
            }
            EXPECT_EQ(dups <= events, true);
        }
        EXPECT_NEAR(static_cast<double>(dups) / static_cast<double>(events), share, 0.01)
            << "share " << share;
    }
}

TEST(BodyPool, InvalidShareProducesRequestsThatFailValidation) {
    generate_options g;
    g.pool_size = 32;
    g.events_per_request = 5;
    g.event_size = 200;
    g.invalid_share = 0.25;
    auto pool = body_pool::generate(g, test_head());
    ASSERT_TRUE(pool);
    ASSERT_GT(pool->invalid_count(), 1u);
    simdjson::dom::parser parser;
    body_cursor cursor(*pool, 5);
    uint64_t invalid = 0;
    std::set<invalid_kind> kinds;
    for (uint64_t n = 0; n < 1000; ++n) {
        const request_template& t = pool->at(cursor.next());
        const std::string wire = materialize(t, n);
        const bool valid = valid_v2_request(body_of(wire), parser);
        EXPECT_EQ(valid, t.invalid == invalid_kind::none) << body_of(wire).substr(0, 200);
        invalid += valid ? 0 : 1;
        kinds.insert(t.invalid);
        // Content-Length must match even for the broken bodies.
        ASSERT_NE(wire.find(fmt::format("Content-Length: {}\r\n", body_of(wire).size())),
                  std::string::npos);
    }
    EXPECT_EQ(invalid, 250u);  // exactly floor(n * share), not just on average
    EXPECT_TRUE(kinds.count(invalid_kind::missing_msgid));
    EXPECT_TRUE(kinds.count(invalid_kind::broken_json));

    g.invalid_share = 0;
    auto clean = body_pool::generate(g, test_head());
    ASSERT_TRUE(clean);
    EXPECT_EQ(clean->invalid_count(), 0u);
}

TEST(BodyPool, SmallAndLargeEventsStayValid) {
    for (const unsigned size : {1u, 60u, 100u, 399u, 4000u}) {
        generate_options g;
        g.pool_size = 4;
        g.events_per_request = 3;
        g.event_size = size;
        auto pool = body_pool::generate(g, test_head());
        ASSERT_TRUE(pool);
        simdjson::dom::parser parser;
        const std::string wire = materialize(pool->at(0), 42);
        ASSERT_TRUE(valid_v2_request(body_of(wire), parser)) << size;
        if (size >= 100) {
            simdjson::dom::element doc = parser.parse(std::string(body_of(wire))).value();
            for (simdjson::dom::element e : doc["data"].get_array()) {
                EXPECT_NEAR(static_cast<double>(simdjson::minify(e).size()), size, size * 0.05 + 2);
            }
        }
    }
}

TEST(BodyPool, HostHeaderFromTheCommandLineReplacesTheUrlOne) {
    request_head head = test_head();
    head.headers.push_back("host: ingest.example");
    auto pool = body_pool::from_file(testing::make_temp_dir("lghost") + "/missing", head);
    EXPECT_FALSE(pool);  // a missing file is an error, not an empty body
    generate_options g;
    g.pool_size = 1;
    g.events_per_request = 1;
    pool = body_pool::generate(g, head);
    ASSERT_TRUE(pool);
    const std::string wire = materialize(pool->at(0), 1);
    const std::string head_text = wire.substr(0, wire.find("\r\n\r\n"));
    EXPECT_EQ(head_text.find("Host: gw:3000"), std::string::npos) << head_text;
    EXPECT_NE(head_text.find("\r\nhost: ingest.example"), std::string::npos) << head_text;
}

TEST(BodyPool, FilesAndDirectories) {
    const std::string dir = testing::make_temp_dir("lgbodies");
    std::ofstream(dir + "/b-2.json") << R"({"id":"api.data.in","ver":"v2","params":{"msgid":"m"},)"
                                     << R"("data":{"id":"r","events":[{"a":1},{"a":2},{"a":3}]}})";
    std::ofstream(dir + "/b-1.json") << R"({"data":[{"a":1},{"a":2}]})";
    std::ofstream(dir + "/notes.txt") << "ignored";
    auto pool = body_pool::from_dir(dir, test_head());
    ASSERT_TRUE(pool);
    ASSERT_EQ(pool->size(), 2u);
    EXPECT_EQ(pool->at(0).events, 2u);  // sorted by name: b-1 first
    EXPECT_EQ(pool->at(1).events, 3u);
    EXPECT_TRUE(pool->at(0).holes.empty());
    EXPECT_EQ(pool->at(0).body(), R"({"data":[{"a":1},{"a":2}]})");

    auto one = body_pool::from_file(dir + "/b-2.json", test_head());
    ASSERT_TRUE(one);
    EXPECT_EQ(one->size(), 1u);
    EXPECT_EQ(one->at(0).events, 3u);
    EXPECT_FALSE(body_pool::from_dir(testing::make_temp_dir("lgempty"), test_head()));
    EXPECT_EQ(count_events("not json"), 0u);
    EXPECT_EQ(count_events(R"({"data":{"x":1}})"), 1u);
}

// ---------------------------------------------------------------------------
// End to end

std::string read_all(const std::string& path) {
    return testing::read_file(path);
}

int run_main(std::vector<std::string> args) {
    // Built front to back: inserting at begin() trips a GCC 12 -O3 false
    // -Wnull-dereference inside std::string.
    std::vector<std::string> all{"obsrv-loadgen"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const auto& a : all) {
        argv.push_back(a.c_str());
    }
    return loadgen_main(static_cast<int>(argv.size()), argv.data());
}

TEST(EndToEnd, AgainstAdminServerThatClosesEveryConnection) {
    http::admin_server::options opts;
    opts.max_connections = 64;
    http::admin_server server(opts);
    std::atomic<uint64_t> served{0};
    std::atomic<uint64_t> rejected{0};
    std::atomic<uint64_t> events{0};
    server.route("POST", "/v2/data/in/x", [&](const http::request& req) {
        // Validate like the gateway: invalid requests get 400.
        thread_local simdjson::dom::parser parser;
        http::response r;
        r.content_type = "application/json";
        if (!valid_v2_request(req.body, parser)) {
            ++rejected;
            r.status = 400;
            r.body = R"({"error":"invalid"})";
        } else {
            simdjson::dom::element doc = parser.parse(req.body).value();
            events += simdjson::dom::array(doc["data"]).size();
            r.body = R"({"id":"api.data.in","params":{"status":"SUCCESS"}})";
        }
        ++served;
        return r;
    });
    ASSERT_TRUE(server.start());
    const std::string json = testing::make_temp_dir("lge2e") + "/out.json";
    const std::string url = fmt::format("http://127.0.0.1:{}/v2/data/in/x", server.port());
    const int rc =
        run_main({"--url", url, "-c", "4", "-d", "1s", "--quiet", "--json", json,
                  "--events-per-request", "7", "--event-size", "300", "--invalid-share", "0.2"});
    ASSERT_EQ(rc, 0);
    server.stop();

    simdjson::dom::parser parser;
    const std::string text = read_all(json);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text;
    const uint64_t requests = doc["requests"];
    EXPECT_GT(requests, 50u);  // well above what a broken reconnect loop would do
    EXPECT_EQ(requests, served.load());
    EXPECT_EQ(uint64_t(doc["requests_sent"]), served.load());
    const uint64_t ok = doc["status_counts"]["200"];
    const uint64_t bad = doc["status_counts"]["400"];
    EXPECT_EQ(ok + bad, requests);
    EXPECT_EQ(bad, rejected.load());
    EXPECT_EQ(bad, requests / 5);  // one thread: exactly floor(n * 0.2) invalid
    EXPECT_EQ(simdjson::dom::object(doc["status_counts"]).size(), 2u);
    EXPECT_EQ(uint64_t(doc["errors"]["total"]), 0u);
    EXPECT_EQ(uint64_t(doc["events"]), ok * 7);
    EXPECT_EQ(uint64_t(doc["events"]), events.load());
    const double duration = doc["duration_seconds"];
    EXPECT_GE(duration, 1.0);
    EXPECT_LT(duration, 3.0);
    EXPECT_NEAR(double(doc["requests_per_second"]), static_cast<double>(requests) / duration, 1.0);
    EXPECT_NEAR(double(doc["events_per_second"]), static_cast<double>(ok * 7) / duration, 1.0);
    EXPECT_GT(double(doc["megabytes_per_second"]), 0.0);
    for (const char* key : {"p50", "p90", "p99", "p999", "max"}) {
        double v = -1;
        ASSERT_EQ(doc["latency_ms"][key].get(v), simdjson::SUCCESS) << key;
        EXPECT_GT(v, 0.0) << key;
    }
    EXPECT_LE(double(doc["latency_ms"]["p50"]), double(doc["latency_ms"]["p99"]));
    EXPECT_LE(double(doc["latency_ms"]["p99"]), double(doc["latency_ms"]["max"]));
    EXPECT_EQ(std::string_view(doc["settings"]["mode"]), "closed");
    EXPECT_EQ(uint64_t(doc["settings"]["connections"]), 4u);
    EXPECT_EQ(uint64_t(doc["host"]["nproc"]), static_cast<uint64_t>(current_host().nproc));
    EXPECT_GT(uint64_t(doc["distinct_bodies"]), 0u);
}

// A keep-alive HTTP/1.1 server for the tests: one thread per connection,
// answers with Content-Length and chunked bodies in turn, handles pipelining.
class keepalive_server {
  public:
    keepalive_server() {
        _fd = ::socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        ::setsockopt(_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(_fd, 128) != 0) {
            throw std::runtime_error("keepalive_server: bind/listen failed");
        }
        socklen_t len = sizeof addr;
        ::getsockname(_fd, reinterpret_cast<sockaddr*>(&addr), &len);
        _port = ntohs(addr.sin_port);
        _acceptor = std::thread([this] { accept_loop(); });
    }
    ~keepalive_server() {
        _stopping = true;
        ::shutdown(_fd, SHUT_RDWR);
        ::close(_fd);
        _acceptor.join();
        std::lock_guard lock(_mutex);
        for (const int c : _clients) {
            ::shutdown(c, SHUT_RDWR);
        }
        for (auto& t : _threads) {
            t.join();
        }
        for (const int c : _clients) {
            ::close(c);
        }
    }
    keepalive_server(const keepalive_server&) = delete;
    keepalive_server& operator=(const keepalive_server&) = delete;

    uint16_t port() const { return _port; }
    uint64_t requests() const { return _requests.load(); }
    uint64_t connections() const { return _connections.load(); }
    std::chrono::milliseconds delay{0};
    // Answer the first request with a body delimited by the end of the
    // connection (no Content-Length, no chunking) and close right away.
    std::atomic<bool> body_until_close{false};
    // Check every body as the gateway would (400 if invalid) and keep the msgids.
    std::atomic<bool> validate{false};
    std::set<std::string> msgids() {
        std::lock_guard lock(_mutex);
        return _msgids;
    }
    uint64_t invalid() const { return _invalid.load(); }

  private:
    void accept_loop() {
        while (!_stopping) {
            const int c = ::accept(_fd, nullptr, nullptr);
            if (c < 0) {
                continue;
            }
            ++_connections;
            std::lock_guard lock(_mutex);
            _clients.push_back(c);
            _threads.emplace_back([this, c] { serve(c); });
        }
    }
    void serve(int fd) {
        std::string in;
        char buf[65536];
        uint64_t n = 0;
        while (true) {
            const ssize_t got = ::read(fd, buf, sizeof buf);
            if (got <= 0) {
                return;
            }
            in.append(buf, static_cast<size_t>(got));
            std::string out;
            while (true) {
                const size_t end = in.find("\r\n\r\n");
                if (end == std::string::npos) {
                    break;
                }
                const size_t cl = in.find("Content-Length: ");
                const size_t length = std::stoul(in.substr(cl + 16));
                if (in.size() < end + 4 + length) {
                    break;
                }
                bool valid = true;
                if (validate) {
                    simdjson::dom::parser parser;
                    simdjson::dom::element doc;
                    std::string_view msgid;
                    valid =
                        parser.parse(in.data() + end + 4, length).get(doc) == simdjson::SUCCESS &&
                        doc["params"]["msgid"].get(msgid) == simdjson::SUCCESS;
                    if (valid) {
                        std::lock_guard lock(_mutex);
                        _msgids.emplace(msgid);
                    } else {
                        ++_invalid;
                    }
                }
                in.erase(0, end + 4 + length);
                ++_requests;
                if (!valid) {
                    out += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
                    continue;
                }
                if (body_until_close) {
                    const std::string reply = "HTTP/1.1 200 OK\r\nServer: t\r\n\r\nuntil close";
                    ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
                    ::shutdown(fd, SHUT_RDWR);
                    return;
                }
                if (n++ % 2 == 0) {
                    out += "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                } else {
                    out +=
                        "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3\r\nabc\r\n0\r\n\r\n";
                }
            }
            if (!out.empty()) {
                if (delay.count() > 0) {
                    std::this_thread::sleep_for(delay);
                }
                if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) {
                    return;
                }
            }
        }
    }

    int _fd = -1;
    uint16_t _port = 0;
    std::atomic<bool> _stopping{false};
    std::atomic<uint64_t> _requests{0};
    std::atomic<uint64_t> _connections{0};
    std::atomic<uint64_t> _invalid{0};
    std::set<std::string> _msgids;  // guarded by _mutex
    std::thread _acceptor;
    std::mutex _mutex;
    std::vector<int> _clients;
    std::vector<std::thread> _threads;
};

simdjson::dom::element load_json(simdjson::dom::parser& parser, const std::string& path,
                                 std::string& storage) {
    storage = read_all(path);
    return parser.parse(storage).value();
}

TEST(EndToEnd, KeepAlivePipelinedRequestCount) {
    keepalive_server server;
    const std::string json = testing::make_temp_dir("lgka") + "/out.json";
    const int rc =
        run_main({"--url", fmt::format("http://127.0.0.1:{}/v2/data/in/x", server.port()), "-t",
                  "2", "-c", "6", "--pipeline", "8", "-n", "5000", "--quiet", "--json", json,
                  "--events-per-request", "3", "--event-size", "100"});
    ASSERT_EQ(rc, 0);
    simdjson::dom::parser parser;
    std::string text;
    const auto doc = load_json(parser, json, text);
    EXPECT_EQ(uint64_t(doc["requests"]), 5000u);
    EXPECT_EQ(server.requests(), 5000u);
    EXPECT_EQ(server.connections(), 7u);  // keep-alive: 6, plus the reachability probe
    EXPECT_EQ(uint64_t(doc["status_counts"]["200"]) + uint64_t(doc["status_counts"]["202"]), 5000u);
    EXPECT_EQ(uint64_t(doc["events"]), 15000u);
    EXPECT_EQ(uint64_t(doc["errors"]["total"]), 0u);
}

TEST(EndToEnd, RequestsLargerThanOneSendmsgArriveIntactWithUniqueMsgids) {
    // 1500 events -> 1501 id holes -> 3003 iovecs per request: more than IOV_MAX,
    // so every request takes several sendmsg calls, pipelined two deep.
    keepalive_server server;
    server.validate = true;
    const std::string json = testing::make_temp_dir("lgiov") + "/out.json";
    const int rc = run_main({"--url",      fmt::format("http://127.0.0.1:{}/x", server.port()),
                             "-t",         "2",
                             "-c",         "4",
                             "--pipeline", "2",
                             "-n",         "400",
                             "--quiet",    "--json",
                             json,         "--events-per-request",
                             "1500",       "--event-size",
                             "60",         "--pool-size",
                             "8",          "--invalid-share",
                             "0.1"});
    ASSERT_EQ(rc, 0);
    simdjson::dom::parser parser;
    std::string text;
    const auto doc = load_json(parser, json, text);
    EXPECT_EQ(uint64_t(doc["requests"]), 400u);
    EXPECT_EQ(uint64_t(doc["errors"]["total"]), 0u);
    EXPECT_EQ(server.invalid(), 40u);  // floor(200 * 0.1) per thread
    EXPECT_EQ(uint64_t(doc["status_counts"]["400"]), 40u);
    // Every valid request had its own msgid, although only 8 bodies exist.
    EXPECT_EQ(server.msgids().size(), 360u);
    EXPECT_EQ(uint64_t(doc["events"]), 360u * 1500);
}

TEST(EndToEnd, BodyDelimitedByCloseIsCountedWithoutWaitingForTheTimeout) {
    keepalive_server server;
    server.body_until_close = true;
    const std::string json = testing::make_temp_dir("lgclose") + "/out.json";
    const auto start = std::chrono::steady_clock::now();
    const int rc = run_main({"--url", fmt::format("http://127.0.0.1:{}/x", server.port()), "-c",
                             "4", "-n", "300", "--timeout", "5s", "--quiet", "--json", json,
                             "--events-per-request", "1"});
    ASSERT_EQ(rc, 0);
    simdjson::dom::parser parser;
    std::string text;
    const auto doc = load_json(parser, json, text);
    EXPECT_EQ(uint64_t(doc["requests"]), 300u) << text;
    EXPECT_EQ(uint64_t(doc["status_counts"]["200"]), 300u);
    EXPECT_EQ(uint64_t(doc["errors"]["total"]), 0u) << text;
    EXPECT_EQ(server.requests(), 300u);
    // A missed end of stream would stall a request until --timeout (5 s).
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
    EXPECT_LT(double(doc["latency_ms"]["max"]), 1000.0);
}

TEST(EndToEnd, OpenLoopKeepsTheRateAndMeasuresFromIntendedTime) {
    keepalive_server server;
    server.delay = 20ms;  // every response takes >= 20 ms
    const std::string json = testing::make_temp_dir("lgopen") + "/out.json";
    const int rc =
        run_main({"--url", fmt::format("http://127.0.0.1:{}/v2/data/in/x", server.port()), "-c",
                  "4", "--rate", "400", "-d", "1s", "--quiet", "--json", json,
                  "--events-per-request", "1", "--event-size", "50"});
    ASSERT_EQ(rc, 0);
    simdjson::dom::parser parser;
    std::string text;
    const auto doc = load_json(parser, json, text);
    // 4 connections x 1 in flight / 20 ms caps the server at ~200 req/s, half the asked
    // rate: a closed loop would hide that; the open loop's latency must grow with the
    // backlog, well past the 20 ms service time.
    EXPECT_EQ(std::string_view(doc["settings"]["mode"]), "open");
    EXPECT_EQ(std::string_view(doc["latency_ms"]["measured_from"]), "intended_send");
    EXPECT_GT(double(doc["latency_ms"]["p99"]), 200.0) << text;
    EXPECT_GT(uint64_t(doc["backlog_at_end"]), 50u) << text;

    keepalive_server fast;
    const int rc2 = run_main({"--url", fmt::format("http://127.0.0.1:{}/v2/data/in/x", fast.port()),
                              "-c", "4", "--rate", "500", "-d", "1s", "--quiet", "--json", json,
                              "--events-per-request", "1", "--event-size", "50"});
    ASSERT_EQ(rc2, 0);
    const auto doc2 = load_json(parser, json, text);
    EXPECT_NEAR(double(uint64_t(doc2["requests"])), 500.0, 5.0) << text;
    EXPECT_EQ(uint64_t(doc2["backlog_at_end"]), 0u);
    EXPECT_LT(double(doc2["latency_ms"]["p50"]), 20.0) << text;
}

TEST(EndToEnd, WarmupIsExcluded) {
    keepalive_server server;
    const std::string json = testing::make_temp_dir("lgwarm") + "/out.json";
    const int rc = run_main({"--url", fmt::format("http://127.0.0.1:{}/x", server.port()), "-c",
                             "2", "--rate", "200", "--warmup", "500ms", "-d", "500ms", "--quiet",
                             "--json", json, "--events-per-request", "1"});
    ASSERT_EQ(rc, 0);
    simdjson::dom::parser parser;
    std::string text;
    const auto doc = load_json(parser, json, text);
    EXPECT_NEAR(double(uint64_t(doc["requests"])), 100.0, 2.0);
    EXPECT_NEAR(static_cast<double>(server.requests()), 200.0, 3.0);
}

TEST(EndToEnd, UnreachableTargetAndUsageErrorsFromTheBinary) {
    const uint16_t port = testing::free_port();  // nothing listens there
    auto r = testing::run({OBSRV_LOADGEN_BINARY, "--url",
                           fmt::format("http://127.0.0.1:{}/v2/data/in/x", port), "-d", "1s"},
                          30s);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("cannot connect to 127.0.0.1:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << r.err;

    r = testing::run({OBSRV_LOADGEN_BINARY, "--url", "http://127.0.0.1:1/", "-t", "3", "-c", "2"},
                     30s);
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--threads"), std::string::npos) << r.err;

    r = testing::run({OBSRV_LOADGEN_BINARY, "--help"}, 30s);
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("--duplicate-share"), std::string::npos);
}

TEST(EndToEnd, NothingSucceededExitsNonZero) {
    http::admin_server server(http::admin_server::options{});
    server.route("POST", "/x", [](const http::request&) {
        http::response r;
        r.status = 503;
        return r;
    });
    ASSERT_TRUE(server.start());
    const std::string json = testing::make_temp_dir("lg503") + "/out.json";
    const int rc = run_main({"--url", fmt::format("http://127.0.0.1:{}/x", server.port()), "-c",
                             "2", "-n", "20", "--quiet", "--json", json});
    EXPECT_EQ(rc, 1);
    simdjson::dom::parser parser;
    std::string text;
    const auto doc = load_json(parser, json, text);
    EXPECT_EQ(uint64_t(doc["status_counts"]["503"]), 20u);
    EXPECT_EQ(uint64_t(doc["events"]), 0u);
}

}  // namespace
}  // namespace obsrv::loadgen
