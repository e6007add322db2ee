#pragma once

// A small synchronous Redis client on hiredis, for the pipeline's stages: dedup reservations
// now, denormalisation lookups and master-data upserts later. One client is one connection to
// one (host, port, db).
//
// Commands go in batches: a `pipeline` holds commands already encoded in the Redis protocol,
// client::execute() writes them in one go and reads one reply per command, so a batch pays one
// round trip. Replies are copied into `reply` values (hiredis objects never leave client.cc).
//
// Failures: a Redis error reply (`-ERR ...`) is a reply of type error, and fails nothing else in
// its pipeline; client::command() turns it into an error value. A connection failure (refused,
// reset, timed out, protocol error) fails the call and closes the connection: after a timeout
// the stream may still hold late replies, so the connection cannot be reused. The next call
// reconnects (and re-selects the db). If that fails too, later attempts wait a back-off
// (reconnect_backoff, doubling up to reconnect_backoff_max, reset by a call that succeeds) and
// calls within it fail at once: a down server costs a caller an error value, not a timeout,
// and is not hammered with connects. A connection the server closed while idle is noticed
// before sending and replaced without failing the call.
//
// Writes use send(MSG_NOSIGNAL): a server that went away must not raise SIGPIPE in the process.
//
// Threading: a client is NOT thread-safe. Use one client per thread, or one behind a mutex
// (see pipeline/redis_dedup_store.h). Only healthy() may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct redisContext;

namespace obsrv::redis {

struct client_options {
    std::string host = "127.0.0.1";
    uint16_t port = 6379;
    int db = 0;  // SELECTed after every (re)connect when not 0
    std::chrono::milliseconds connect_timeout{500};
    // Bounds each blocking send and receive of a call, not the whole call.
    std::chrono::milliseconds command_timeout{1000};
    // Wait after a failed connect or a connection error before the next connect attempt.
    std::chrono::milliseconds reconnect_backoff{100};
    std::chrono::milliseconds reconnect_backoff_max{5000};
};

enum class reply_type : uint8_t { nil, status, error, integer, string, array };

/// One reply, owning its data. RESP2 only: that is what Redis speaks unless HELLO 3 is sent.
struct reply {
    reply_type type = reply_type::nil;
    std::string text;  // status ("OK"), error ("ERR ..."), or string (bulk) value
    int64_t integer = 0;
    std::vector<reply> elements;  // array

    bool is_nil() const { return type == reply_type::nil; }
    bool is_error() const { return type == reply_type::error; }
    bool is_string() const { return type == reply_type::string; }
    /// The status reply `+OK` (SET, SELECT, ...).
    bool is_ok() const { return type == reply_type::status && text == "OK"; }
};

/// Commands encoded in the Redis protocol, ready to send in one write. Reusable: clear() keeps
/// the memory. Not thread-safe (one per caller).
///
///   redis::pipeline p;
///   p.add({"GET", "k1"});
///   p.begin(3).arg("SET").arg_parts({dataset, ":", key}).arg("v");
class pipeline {
  public:
    /// A whole command from its arguments.
    pipeline& add(std::initializer_list<std::string_view> args);

    /// Starts a command of `argc` arguments; exactly `argc` arg() / arg_parts() calls follow.
    pipeline& begin(size_t argc);
    pipeline& arg(std::string_view value);
    pipeline& arg(int64_t value);
    /// One argument made of `parts` back to back (a key built from a prefix, no temporary).
    pipeline& arg_parts(std::initializer_list<std::string_view> parts);

    size_t size() const { return _commands; }
    bool empty() const { return _commands == 0; }
    void clear();

    /// The encoded commands; complete only when every begun command has all its arguments.
    std::string_view bytes() const { return _bytes; }
    bool complete() const { return _missing_args == 0; }

  private:
    std::string _bytes;
    size_t _commands = 0;
    size_t _missing_args = 0;
};

class client {
  public:
    explicit client(client_options options);
    ~client();

    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Connects (and SELECTs the db) unless already connected. Calls connect on demand, so
    /// this is only for start-up checks. Within the back-off after a failure it fails at once.
    status connect();

    /// Sends one command and waits for its reply. An error reply is an error value.
    result<reply> command(std::initializer_list<std::string_view> args);

    /// Sends the pipeline's commands in one write and reads their replies, in order, into
    /// `replies` (cleared first; its capacity is reused). Error replies are replies. On a
    /// connection error `replies` holds the replies read before it: the commands behind them
    /// may or may not have been executed by the server.
    status execute(const pipeline& commands, std::vector<reply>& replies);
    result<std::vector<reply>> execute(const pipeline& commands);

    /// Whether the last execute() wrote any of its commands to a connection. When it failed
    /// without writing (back-off, connect failure), none of its commands ran.
    bool last_call_wrote() const { return _wrote; }

    /// PING round trip.
    status ping();

    /// Connected, and the last call got its replies. Cheap and callable from any thread (for
    /// readiness reporting); ping() is the active check.
    bool healthy() const { return _healthy.load(std::memory_order_relaxed); }

    const client_options& options() const { return _options; }
    /// Connections made so far (the first included), for tests and metrics.
    uint64_t connects() const { return _connects; }

  private:
    status ensure_connected();
    status send_all(std::string_view bytes);
    result<reply> read_reply();
    error fail(std::string what);
    void disconnect();
    std::string endpoint() const;

    client_options _options;
    redisContext* _context = nullptr;
    std::chrono::steady_clock::time_point _next_attempt{};
    uint32_t _failures = 0;  // consecutive failed calls or connects
    std::string _last_error;
    uint64_t _connects = 0;
    bool _wrote = false;
    pipeline _scratch;  // command()'s and ping()'s encoding buffer
    std::vector<reply> _scratch_replies;
    std::atomic<bool> _healthy{false};
};

}  // namespace obsrv::redis
