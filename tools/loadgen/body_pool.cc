#include "body_pool.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/deflate_compress.h"

namespace obsrv::loadgen {

void format_id(uint64_t counter, char* out) {
    static constexpr char digits[] = "0123456789abcdef";
    for (size_t i = id_width; i-- > 0;) {
        out[i] = digits[counter & 0xf];
        counter >>= 4;
    }
}

std::string materialize(const request_template& t, uint64_t id) {
    std::string out = t.bytes;
    char text[id_width];
    format_id(id, text);
    for (const uint32_t h : t.holes) {
        out.replace(h, id_width, text, id_width);
    }
    return out;
}

uint32_t count_events(std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
        return 0;
    }
    auto array_size = [](simdjson::dom::element e, uint32_t& n) {
        simdjson::dom::array a;
        if (e.get_array().get(a) != simdjson::SUCCESS) {
            return false;
        }
        n = static_cast<uint32_t>(a.size());
        return true;
    };
    uint32_t n = 0;
    if (array_size(doc, n)) {
        return n;
    }
    simdjson::dom::element data;
    if (doc.at_key("data").get(data) == simdjson::SUCCESS) {
        if (array_size(data, n)) {
            return n;
        }
        simdjson::dom::element events;
        if (data.at_key("events").get(events) == simdjson::SUCCESS && array_size(events, n)) {
            return n;
        }
        return 1;
    }
    simdjson::dom::element events;
    if (doc.at_key("events").get(events) == simdjson::SUCCESS && array_size(events, n)) {
        return n;
    }
    return doc.is_object() ? 1 : 0;
}

namespace {

// Text with the offsets of its id holes.
struct fragment {
    std::string text;
    std::vector<uint32_t> holes;

    void append(std::string_view s) { text.append(s); }
    void append_hole() {
        holes.push_back(static_cast<uint32_t>(text.size()));
        text.append(id_width, '0');
    }
    void append(const fragment& f) {
        for (const uint32_t h : f.holes) {
            holes.push_back(static_cast<uint32_t>(text.size() + h));
        }
        text.append(f.text);
    }
};

bool named(std::string_view header, std::string_view name) {
    if (header.size() <= name.size() || header[name.size()] != ':') {
        return false;
    }
    for (size_t i = 0; i < name.size(); ++i) {
        if ((header[i] | 0x20) != name[i]) {
            return false;
        }
    }
    return true;
}

std::string head_for(const request_head& head, size_t body_bytes) {
    std::string out = fmt::format("{} {} HTTP/1.1\r\n", head.method, head.target);
    // A Host given with -H replaces the one from the URL (virtual hosts behind a proxy).
    if (std::none_of(head.headers.begin(), head.headers.end(),
                     [](const std::string& h) { return named(h, "host"); })) {
        out += fmt::format("Host: {}\r\n", head.host);
    }
    for (const auto& h : head.headers) {
        out += h;
        out += "\r\n";
    }
    out += fmt::format("Content-Length: {}\r\n\r\n", body_bytes);
    return out;
}

request_template make_template(const request_head& head, const fragment& body) {
    request_template t;
    t.bytes = head_for(head, body.text.size());
    t.body_offset = t.bytes.size();
    for (const uint32_t h : body.holes) {
        t.holes.push_back(static_cast<uint32_t>(t.body_offset + h));
    }
    t.bytes += body.text;
    return t;
}

class event_maker {
  public:
    event_maker(const generate_options& opts) : _opts(opts), _rng(opts.seed) {
        const auto now = std::chrono::system_clock::now();
        _now_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        const std::time_t secs = std::chrono::system_clock::to_time_t(now);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char buf[40];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        _iso_now = fmt::format("{}.{:03}Z", buf, _now_ms % 1000);
    }

    const std::string& iso_now() const { return _iso_now; }

    // A telemetry-like event of about event_size bytes whose mid is
    // "<prefix>-<id>-<k>", the id being a hole filled per request.
    fragment event(unsigned k) {
        static constexpr const char* eids[] = {"INTERACT", "IMPRESSION", "START",
                                               "END",      "LOG",        "SEARCH"};
        static constexpr const char* pages[] = {"home",    "content-detail", "library",
                                                "profile", "search-results", "player"};
        const int64_t ets = _now_ms - static_cast<int64_t>(pick(3600000));
        fragment mid;
        mid.append(fmt::format("\"mid\":\"{}-", _opts.msgid_prefix));
        mid.append_hole();
        mid.append(fmt::format("-{}\"", k));

        // The full telemetry shape when it fits, then without edata.pos and
        // ver, then without object: long msgid prefixes still give events of
        // the asked size with the usual actor/context/edata structure.
        const std::string eid = eids[pick(6)];
        const std::string actor = fmt::format(
            ",\"actor\":{{\"id\":\"user-{:06}\",\"type\":\"User\"}},\"context\":{{\"channel\":"
            "\"in.bench\",\"pdata\":{{\"id\":\"bench.app\",\"ver\":\"5.1.{}\"}},\"sid\":\"{}-{}-{}"
            "\",\"did\":\"{}\"}}",
            pick(_opts.actors), pick(10), hex(8), hex(4), hex(12), hex(16));
        const std::string object =
            fmt::format(",\"object\":{{\"id\":\"do_{}\",\"type\":\"Content\"}}",
                        1000000000000 + pick(9000000000000));
        const std::string edata =
            fmt::format(",\"edata\":{{\"type\":\"TOUCH\",\"pageid\":\"{}\",\"duration\":{}.{:03}",
                        pages[pick(6)], pick(600), pick(1000));
        const std::string pos =
            fmt::format(",\"pos\":{{\"x\":{},\"y\":{}}}", pick(2000), pick(2000));
        constexpr size_t close = 2;  // "}}": edata and the event
        constexpr std::string_view pad_key = ",\"tags\":\"\"";
        for (int level = 0; level < 3; ++level) {
            fragment f;
            f.append(fmt::format("{{\"eid\":\"{}\",\"ets\":{},", eid, ets));
            if (level == 0) {
                f.append("\"ver\":\"3.0\",");
            }
            f.append(mid);
            f.append(actor);
            if (level < 2) {
                f.append(object);
            }
            f.append(edata);
            if (level == 0) {
                f.append(pos);
            }
            if (f.text.size() + close > _opts.event_size) {
                continue;
            }
            const size_t room = _opts.event_size - f.text.size() - close;
            if (room > pad_key.size()) {
                f.append(",\"tags\":\"");
                f.append(letters(room - pad_key.size()));
                f.append("\"");
            }
            f.append("}}");
            return f;
        }
        // Smaller than a telemetry event: keep eid, ets and the mid, pad the rest.
        fragment small;
        small.append(fmt::format("{{\"eid\":\"{}\",\"ets\":{},", eid, ets));
        small.append(mid);
        constexpr std::string_view small_pad = ",\"p\":\"\"";
        if (small.text.size() + 1 + small_pad.size() < _opts.event_size) {
            const size_t room = _opts.event_size - small.text.size() - 1 - small_pad.size();
            small.append(",\"p\":\"");
            small.append(letters(room));
            small.append("\"");
        }
        small.append("}");
        return small;
    }

    uint64_t pick(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(_rng); }

  private:
    std::string hex(size_t n) {
        static constexpr char digits[] = "0123456789abcdef";
        std::string s(n, '0');
        for (auto& c : s) {
            c = digits[pick(16)];
        }
        return s;
    }
    std::string letters(size_t n) {
        std::string s(n, 'a');
        for (auto& c : s) {
            c = static_cast<char>('a' + pick(26));
        }
        return s;
    }

    const generate_options& _opts;
    std::mt19937_64 _rng;
    int64_t _now_ms = 0;
    std::string _iso_now;
};

}  // namespace

result<body_pool> body_pool::generate(const generate_options& opts, const request_head& head) {
    if (opts.pool_size == 0 || opts.events_per_request == 0) {
        return make_error("pool size and events per request must be positive");
    }
    if (opts.duplicate_share > 0 && opts.events_per_request < 2) {
        return make_error("duplicates need at least 2 events per request");
    }
    event_maker maker(opts);
    // The first event of a body is never a duplicate, so the other positions
    // carry the whole share; an error accumulator spreads them evenly.
    const double n = opts.events_per_request;
    const double dup_rate =
        opts.events_per_request > 1 ? std::min(1.0, opts.duplicate_share * n / (n - 1)) : 0.0;
    double dup_acc = 0;

    auto make_body = [&](invalid_kind kind) {
        std::vector<fragment> events;
        std::vector<size_t> originals;  // indices of non-duplicate events so far
        uint32_t duplicates = 0;
        events.reserve(opts.events_per_request);
        for (unsigned k = 0; k < opts.events_per_request; ++k) {
            bool dup = false;
            if (k > 0 && dup_rate > 0 && kind == invalid_kind::none) {
                dup_acc += dup_rate;
                if (dup_acc >= 1.0 - 1e-9) {
                    dup_acc -= 1.0;
                    dup = true;
                }
            }
            if (dup) {
                // A full copy, as a client retry would send it.
                events.push_back(events[originals[maker.pick(originals.size())]]);
                ++duplicates;
            } else {
                originals.push_back(events.size());
                events.push_back(maker.event(k));
            }
        }
        fragment body;
        body.append(fmt::format("{{\"id\":\"api.data.in\",\"ver\":\"v2\",\"ts\":\"{}\",\"params\":",
                                maker.iso_now()));
        if (kind == invalid_kind::missing_msgid) {
            body.append("{}");
        } else {
            body.append(fmt::format("{{\"msgid\":\"{}-", opts.msgid_prefix));
            body.append_hole();
            body.append("\"}");
        }
        body.append(",\"data\":[");
        for (size_t i = 0; i < events.size(); ++i) {
            if (i > 0) {
                body.append(",");
            }
            body.append(events[i]);
        }
        body.append("]}");
        if (kind == invalid_kind::broken_json) {
            // Cut at two thirds, outside any hole: unbalanced brackets, so no
            // JSON parser can accept it.
            size_t cut = body.text.size() * 2 / 3;
            while (!body.holes.empty() && body.holes.back() + id_width > cut) {
                if (body.holes.back() < cut) {
                    cut = body.holes.back();
                }
                body.holes.pop_back();
            }
            body.text.resize(cut);
        }
        request_template t = make_template(head, body);
        t.events = opts.events_per_request;
        t.duplicates = duplicates;
        t.invalid = kind;
        return t;
    };

    body_pool pool;
    pool._generated = true;
    pool._templates.reserve(opts.pool_size);
    for (unsigned i = 0; i < opts.pool_size; ++i) {
        pool._templates.push_back(make_body(invalid_kind::none));
    }
    pool._valid = pool._templates.size();
    if (opts.invalid_share > 0) {
        const unsigned count = std::max(2u, opts.pool_size / 4);
        for (unsigned i = 0; i < count; ++i) {
            pool._templates.push_back(
                make_body(i % 2 == 0 ? invalid_kind::missing_msgid : invalid_kind::broken_json));
        }
        pool._invalid_share = opts.invalid_share;
    }
    return pool;
}

namespace {

result<std::string> read_whole_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error("cannot read {}", path);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        return make_error("cannot read {}", path);
    }
    return ss.str();
}

request_template file_template(const request_head& head, const std::string& body) {
    fragment f;
    f.text = body;
    request_template t = make_template(head, f);
    t.events = count_events(body);
    return t;
}

}  // namespace

result<body_pool> body_pool::from_file(const std::string& path, const request_head& head) {
    auto body = read_whole_file(path);
    if (!body) {
        return std::move(body).error();
    }
    body_pool pool;
    pool._templates.push_back(file_template(head, *body));
    pool._valid = 1;
    return pool;
}

result<body_pool> body_pool::from_dir(const std::string& dir, const request_head& head) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        return make_error("cannot open directory {}", dir);
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name.size() > 5 && name.substr(name.size() - 5) == ".json") {
            names.emplace_back(name);
        }
    }
    ::closedir(d);
    if (names.empty()) {
        return make_error("no *.json files in {}", dir);
    }
    std::sort(names.begin(), names.end());
    body_pool pool;
    for (const auto& name : names) {
        auto body = read_whole_file(dir + "/" + name);
        if (!body) {
            return std::move(body).error();
        }
        pool._templates.push_back(file_template(head, *body));
    }
    pool._valid = pool._templates.size();
    return pool;
}

void body_pool::gzip_bodies(const request_head& head) {
    for (size_t i = 0; i < _templates.size(); ++i) {
        request_template& t = _templates[i];
        // Ids no worker's request_id() produces (thread 0xFFFFFF), one per template.
        const std::string whole = materialize(t, request_id(0xFFFFFF, i));
        const std::string_view plain = std::string_view(whole).substr(t.body_offset);
        const std::string body = deflate_compress(plain, deflate_wrapper::gzip);
        t.plain_body_bytes = plain.size();
        t.bytes = head_for(head, body.size());
        t.body_offset = t.bytes.size();
        t.bytes += body;
        t.holes.clear();
    }
}

double body_pool::average_request_bytes() const {
    if (_templates.empty()) {
        return 0;
    }
    // Weighted as the cursor sends them: valid and invalid templates by share.
    auto mean = [this](size_t from, size_t to) {
        double sum = 0;
        for (size_t i = from; i < to; ++i) {
            sum += static_cast<double>(_templates[i].bytes.size());
        }
        return to > from ? sum / static_cast<double>(to - from) : 0.0;
    };
    const double valid = mean(0, _valid);
    const double invalid = mean(_valid, _templates.size());
    return invalid_count() > 0 ? valid * (1 - _invalid_share) + invalid * _invalid_share : valid;
}

body_cursor::body_cursor(const body_pool& pool, size_t start)
    : _pool(&pool),
      _valid_next(pool.valid_count() ? start % pool.valid_count() : 0),
      _invalid_next(pool.invalid_count() ? start % pool.invalid_count() : 0) {}

size_t body_cursor::next() {
    const double share = _pool->invalid_share();
    bool invalid = false;
    if (_pool->invalid_count() > 0) {
        invalid = std::floor(static_cast<double>(_n + 1) * share) >
                  std::floor(static_cast<double>(_n) * share);
    }
    ++_n;
    if (invalid || _pool->valid_count() == 0) {
        const size_t i = _pool->valid_count() + _invalid_next;
        _invalid_next = (_invalid_next + 1) % _pool->invalid_count();
        return i;
    }
    const size_t i = _valid_next;
    _valid_next = (_valid_next + 1) % _pool->valid_count();
    return i;
}

}  // namespace obsrv::loadgen
