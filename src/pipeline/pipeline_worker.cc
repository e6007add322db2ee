#include "pipeline/pipeline_worker.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/eventfd.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/log.h"
#include "common/thread_name.h"
#include "kafka/worker_producer.h"
#include "pipeline/partition_progress.h"

namespace obsrv::pipeline::detail {
namespace {

using steady = std::chrono::steady_clock;

int64_t steady_ms(steady::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Records are recycled rather than freed: the hot path allocates only while the number of
// records in flight grows past its previous peak. The pool owns every record it ever made, so
// whatever is still referenced by librdkafka at shutdown is freed only after the producer is
// gone.
template <typename T>
class record_pool {
  public:
    T* acquire() {
        if (_free.empty()) {
            _storage.push_back(std::make_unique<T>());
            return _storage.back().get();
        }
        T* record = _free.back();
        _free.pop_back();
        return record;
    }

    void release(T* record) {
        *record = T{};
        _free.push_back(record);
    }

  private:
    std::vector<std::unique_ptr<T>> _storage;
    std::vector<T*> _free;
};

struct topic_entry {
    rd_kafka_topic_t* handle = nullptr;
    metrics::counter* produced = nullptr;
};

struct input_record {
    input_record* prev = nullptr;  // live list: inputs not finished and not abandoned
    input_record* next = nullptr;
    partition_tracker* tracker = nullptr;  // nullptr once abandoned
    partition_progress::ticket ticket = 0;
    processing_token token = 0;
    uint32_t outstanding = 0;  // outputs not delivered yet
};

struct output_record {
    input_record* input = nullptr;  // nullptr: a tick() output
    topic_entry* topic = nullptr;
    // Produced without RD_KAFKA_MSG_F_COPY/FREE: librdkafka points at these bytes until the
    // delivery report, and a retry sends the very same bytes again.
    std::string payload;
    bool replacement = false;  // made by undeliverable() for an output refused for good
};

struct retry_entry {
    int64_t due_ms = 0;
    uint64_t seq = 0;  // FIFO among equal due times
    output_record* output = nullptr;
    bool operator>(const retry_entry& other) const {
        return due_ms != other.due_ms ? due_ms > other.due_ms : seq > other.seq;
    }
};

struct string_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

constexpr size_t k_pop_batch = 64;
// librdkafka's local queue is full: not a delivery failure, just come back soon.
constexpr int64_t k_queue_full_backoff_ms = 20;
constexpr auto k_error_log_interval = std::chrono::seconds(10);

/// Errors that retrying the same bytes cannot cure: the message is too large for the producer
/// or the broker, or its topic does not exist (librdkafka reports that only after
/// topic.metadata.propagation.max.ms) or may not be written. Everything else (brokers down,
/// timeouts, leader changes) is transient and retried.
bool is_permanent(rd_kafka_resp_err_t err) {
    switch (err) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_INVALID_RECORD:
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
            return true;
        default:
            return false;
    }
}

bool is_too_large(rd_kafka_resp_err_t err) {
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

/// The producer's message.max.bytes (librdkafka refuses larger messages at produce time).
size_t max_message_bytes(rd_kafka_t* producer) {
    char value[32];
    size_t size = sizeof value;
    if (rd_kafka_conf_get(rd_kafka_conf(producer), "message.max.bytes", value, &size) !=
        RD_KAFKA_CONF_OK) {
        return 0;
    }
    return static_cast<size_t>(std::strtoull(value, nullptr, 10));
}

}  // namespace

struct partition_tracker {
    explicit partition_tracker(partition_slot* s) : slot(s) {}
    partition_slot* slot;
    partition_progress progress;
};

class pipeline_worker::state {
  public:
    state(pipeline_worker& owner, std::unique_ptr<message_processor> processor,
          runtime_probe& probe)
        : _owner(owner), _processor(std::move(processor)), _probe(probe) {}

    ~state() {
        // The producer goes first: until its threads ended it may still read payloads that
        // the record pools own.
        for (auto& [name, entry] : _topics) {
            rd_kafka_topic_destroy(entry.handle);
        }
        _topics.clear();
        _producer.reset();
        for (auto& tracker : _trackers) {
            delete tracker;
        }
    }

    state(const state&) = delete;
    state& operator=(const state&) = delete;

    status open_producer(kafka::client_options options) {
        auto producer =
            kafka::worker_producer::create(std::move(options), &state::on_delivery, this);
        if (!producer) {
            return producer.error();
        }
        _producer = std::move(*producer);
        _max_message_bytes = max_message_bytes(_producer->handle());
        return {};
    }

    int producer_fd() const { return _producer->wakeup_fd(); }

    // ---- input --------------------------------------------------------------------------

    /// Stops taking input past a limit and resumes below half of it, so that the gate does
    /// not flap on every message.
    bool input_open() {
        const auto queued = static_cast<size_t>(std::max(0, _producer->queue_length()));
        const auto high_water = static_cast<size_t>(_owner._config.producer_high_water);
        const size_t max_inflight = _owner._config.max_inflight_inputs;
        if (_input_open) {
            _input_open = queued < high_water && _live_count < max_inflight;
        } else {
            _input_open = queued <= high_water / 2 && _live_count <= max_inflight / 2;
        }
        return _input_open;
    }

    size_t pop_and_process() {
        std::array<work_item, k_pop_batch> batch;
        const size_t n = _owner._ring.pop_batch(batch);
        for (size_t i = 0; i < n; ++i) {
            handle(batch[i]);
        }
        return n;
    }

    void handle(const work_item& item) {
        if (item.what == work_item::kind::release) {
            release(*item.slot);
            return;
        }
        partition_slot& slot = *item.slot;
        if (slot.given_up.load(std::memory_order_relaxed)) {
            rd_kafka_message_destroy(item.message);
            slot.finished.fetch_add(1, std::memory_order_release);
            return;
        }
        if (!slot.tracker) {
            // The first message of an assignment sets the base: it is where the consumer
            // resumed (the committed position), so nothing before it is ours to track.
            slot.tracker = new partition_tracker(&slot);
            _trackers.push_back(slot.tracker);
        }
        partition_tracker* tracker = slot.tracker;
        rd_kafka_message_t* message = item.message;
        input_message in;
        in.value = std::string_view(static_cast<const char*>(message->payload), message->len);
        in.topic = slot.topic;
        in.partition = message->partition;
        in.offset = message->offset;
        in.timestamp_ms = rd_kafka_message_timestamp(message, nullptr);
        _out.clear();
        const processing_token token = _processor->process(in, _out);
        const int64_t offset = message->offset;
        // The value is only valid during process(): the consumer's buffer goes back now.
        rd_kafka_message_destroy(message);

        input_record* input = _inputs.acquire();
        input->tracker = tracker;
        input->ticket = tracker->progress.start(offset);
        input->token = token;
        input->outstanding = static_cast<uint32_t>(_out.size());
        if (token == k_not_processed) {
            // Never finishes: the partition's committable offset stays below it until the
            // input is abandoned (stop or revoke), so it is processed again later.
            input->outstanding = 1;
            link(input);
            ++_not_processed;
            return;
        }
        link(input);
        if (_out.empty()) {
            finish(input);  // nothing to deliver: complete at once, never skipped
            return;
        }
        for (auto& out : _out) {
            submit(input, out);
        }
    }

    void tick() {
        _out.clear();
        _processor->tick(wall_ms(), _out);
        for (auto& out : _out) {
            submit(nullptr, out);
        }
    }

    // ---- output -------------------------------------------------------------------------

    void submit(input_record* input, output_message& message) {
        output_record* out = _outputs.acquire();
        out->input = input;
        out->topic = &topic(message.topic);
        out->payload = std::move(message.payload);
        send(out);
    }

    void send(output_record* out) {
        if (rd_kafka_produce(out->topic->handle, RD_KAFKA_PARTITION_UA, 0, out->payload.data(),
                             out->payload.size(), nullptr, 0, out) == 0) {
            return;
        }
        const rd_kafka_resp_err_t err = rd_kafka_last_error();
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            schedule(out, k_queue_full_backoff_ms);
            return;
        }
        _probe.delivery_errors.inc();
        if (is_permanent(err)) {
            give_up(out, err);
            return;
        }
        log_delivery_error(err, rd_kafka_topic_name(out->topic->handle));
        schedule(out, _owner._config.retry_backoff.count());
    }

    static void on_delivery(void* context, const rd_kafka_message_t& message) {
        static_cast<state*>(context)->delivered(message);
    }

    void delivered(const rd_kafka_message_t& message) {
        auto* out = static_cast<output_record*>(message._private);
        if (!message.err) {
            out->topic->produced->inc();
            output_done(out);
            return;
        }
        _probe.delivery_errors.inc();
        if (out->input && !out->input->tracker) {
            output_done(out);  // its input was abandoned: its next owner produces it again
            return;
        }
        if (is_permanent(message.err)) {
            give_up(out, message.err);
            return;
        }
        log_delivery_error(message.err, rd_kafka_topic_name(message.rkt));
        // Never commit past it: the same bytes go out again after the back-off, for as long
        // as it takes; meanwhile the input holds back its partition's low-water mark.
        schedule(out, _owner._config.retry_backoff.count());
    }

    bool run_retries() {
        const int64_t now = steady_ms(steady::now());
        bool any = false;
        while (!_retries.empty() && _retries.front().due_ms <= now) {
            std::pop_heap(_retries.begin(), _retries.end(), std::greater<>{});
            output_record* out = _retries.back().output;
            _retries.pop_back();
            _probe.delivery_retries.inc();
            send(out);
            any = true;
        }
        return any;
    }

    /// Milliseconds until the next retry is due, or -1.
    int64_t next_retry_in() const {
        if (_retries.empty()) {
            return -1;
        }
        return std::max<int64_t>(0, _retries.front().due_ms - steady_ms(steady::now()));
    }

    void poll_producer() { _producer->poll(); }

    // ---- partitions ---------------------------------------------------------------------

    /// The partition was revoked: its inputs still waiting for delivery are abandoned (their
    /// next owner processes them again) and the slot is handed back to the consumer.
    void release(partition_slot& slot) {
        if (partition_tracker* tracker = slot.tracker) {
            abandon_where([tracker](const input_record& in) { return in.tracker == tracker; });
            _trackers.erase(std::find(_trackers.begin(), _trackers.end(), tracker));
            delete tracker;
            slot.tracker = nullptr;
        }
        slot.released.store(true, std::memory_order_release);
    }

    /// Shutdown past the drain: abandon every undelivered input, drop what was not processed.
    void abandon_all_and_discard() {
        abandon_where([](const input_record&) { return true; });
        // Outputs of tick() have no input to hold back; past the deadline they are dropped.
        std::erase_if(_retries, [](const retry_entry& r) { return r.output->input == nullptr; });
        work_item item;
        while (_owner._ring.try_pop(item)) {
            if (item.what == work_item::kind::release) {
                release(*item.slot);
            } else {
                rd_kafka_message_destroy(item.message);
                item.slot->finished.fetch_add(1, std::memory_order_release);
            }
        }
        for (auto* tracker : _trackers) {
            tracker->slot->tracker = nullptr;
            delete tracker;
        }
        _trackers.clear();
    }

    bool idle() const {
        // Inputs the processor could not handle never finish: they do not hold up a drain.
        return _live_count == _not_processed && _retries.empty() && _producer->queue_length() == 0;
    }

    size_t live_count() const { return _live_count; }

  private:
    topic_entry& topic(std::string_view name) {
        auto it = _topics.find(name);
        if (it != _topics.end()) {
            return it->second;
        }
        // First output to this topic on this worker: a topic handle and a metric series,
        // registered once.
        std::string key(name);
        topic_entry entry;
        entry.handle = rd_kafka_topic_new(_producer->handle(), key.c_str(), nullptr);
        entry.produced = &_probe.produced(name);
        return _topics.emplace(std::move(key), entry).first->second;
    }

    /// A permanent error: the output is not sent again. The processor may replace it (a
    /// `failed` message) as another output of the same input; either way the input no longer
    /// waits for it, so its partition's commits move on.
    void give_up(output_record* out, rd_kafka_resp_err_t err) {
        _probe.undeliverable_outputs.inc();
        const char* topic_name = rd_kafka_topic_name(out->topic->handle);
        log_undeliverable(err, topic_name, out->payload.size(), out->replacement);
        std::vector<output_message> replacements;
        if (!out->replacement) {
            undeliverable_output failed;
            failed.topic = topic_name;
            failed.payload = out->payload;
            failed.too_large = is_too_large(err);
            failed.reason = rd_kafka_err2str(err);
            failed.max_message_bytes = _max_message_bytes;
            _processor->undeliverable(failed, replacements);
        }
        input_record* input = out->input;
        if (input) {
            input->outstanding += static_cast<uint32_t>(replacements.size());
        }
        for (auto& message : replacements) {
            output_record* replacement = _outputs.acquire();
            replacement->input = input;
            replacement->topic = &topic(message.topic);
            replacement->payload = std::move(message.payload);
            replacement->replacement = true;
            send(replacement);
        }
        output_done(out);
    }

    void schedule(output_record* out, int64_t delay_ms) {
        _retries.push_back(retry_entry{steady_ms(steady::now()) + delay_ms, _retry_seq++, out});
        std::push_heap(_retries.begin(), _retries.end(), std::greater<>{});
    }

    void output_done(output_record* out) {
        input_record* input = out->input;
        _outputs.release(out);
        if (!input || --input->outstanding > 0) {
            return;
        }
        if (input->tracker) {
            finish(input);
        } else {
            _inputs.release(input);  // abandoned earlier; its last output came back
        }
    }

    void finish(input_record* input) {
        partition_tracker* tracker = input->tracker;
        _processor->complete(input->token);
        if (tracker->progress.finish(input->ticket)) {
            // Published before `finished` moves: a consumer that sees the count also sees
            // the offset it allows.
            tracker->slot->committable.store(tracker->progress.committable(),
                                             std::memory_order_release);
        }
        tracker->slot->finished.fetch_add(1, std::memory_order_release);
        unlink(input);
        _inputs.release(input);
    }

    template <typename Pred>
    void abandon_where(Pred pred) {
        for (input_record* in = _live_head; in;) {
            input_record* next = in->next;
            if (pred(*in)) {
                _processor->abandon(in->token);
                _probe.abandoned_inputs.inc();
                in->tracker->slot->finished.fetch_add(1, std::memory_order_release);
                in->tracker = nullptr;
                unlink(in);
                if (in->token == k_not_processed) {
                    --_not_processed;
                    _inputs.release(in);  // it has no outputs to come back
                }
            }
            in = next;
        }
        // Outputs waiting for a retry of abandoned inputs are not sent again; those still in
        // librdkafka's queue come back through delivered().
        std::erase_if(_retries, [this](const retry_entry& r) {
            output_record* out = r.output;
            if (!out->input || out->input->tracker) {
                return false;
            }
            output_done(out);
            return true;
        });
        std::make_heap(_retries.begin(), _retries.end(), std::greater<>{});
    }

    void link(input_record* in) {
        in->prev = nullptr;
        in->next = _live_head;
        if (_live_head) {
            _live_head->prev = in;
        }
        _live_head = in;
        ++_live_count;
        _owner._inflight.store(static_cast<int64_t>(_live_count), std::memory_order_relaxed);
    }

    void unlink(input_record* in) {
        if (in->prev) {
            in->prev->next = in->next;
        } else {
            _live_head = in->next;
        }
        if (in->next) {
            in->next->prev = in->prev;
        }
        in->prev = in->next = nullptr;
        --_live_count;
        _owner._inflight.store(static_cast<int64_t>(_live_count), std::memory_order_relaxed);
    }

    void log_delivery_error(rd_kafka_resp_err_t err, const char* topic_name) {
        // One line per interval: a broker outage fails every message, and each one is
        // counted in the metrics anyway.
        ++_errors_since_log;
        const auto now = steady::now();
        if (now - _last_error_log < k_error_log_interval) {
            return;
        }
        static const auto logger = log::get("pipeline");
        logger->warn("delivery to '{}' failed: {} ({} failures since the last report); retrying",
                     topic_name ? topic_name : "?", rd_kafka_err2str(err), _errors_since_log);
        _errors_since_log = 0;
        _last_error_log = now;
    }

    /// Logged once per topic and error (an oversized event or a missing topic tends to repeat
    /// for every message); the metric counts each one.
    void log_undeliverable(rd_kafka_resp_err_t err, const char* topic_name, size_t bytes,
                           bool replacement) {
        std::string key = fmt::format("{}\n{}\n{}", topic_name ? topic_name : "?",
                                      static_cast<int>(err), replacement);
        if (!_undeliverable_logged.insert(std::move(key)).second) {
            return;
        }
        static const auto logger = log::get("pipeline");
        logger->error(
            "output to '{}' ({} bytes) refused for good: {}; not retried, {} (further ones only "
            "counted in {}_undeliverable_outputs_total)",
            topic_name ? topic_name : "?", bytes, rd_kafka_err2str(err),
            replacement ? "dropped (it replaced an output refused before)"
                        : "the stage chain may write a failed message in its place",
            _probe.prefix);
    }

    pipeline_worker& _owner;
    std::unique_ptr<message_processor> _processor;
    runtime_probe& _probe;
    std::unique_ptr<kafka::worker_producer> _producer;
    std::unordered_map<std::string, topic_entry, string_hash, std::equal_to<>> _topics;
    record_pool<input_record> _inputs;
    record_pool<output_record> _outputs;
    input_record* _live_head = nullptr;
    size_t _live_count = 0;
    size_t _not_processed = 0;  // live inputs process() returned k_not_processed for
    std::vector<partition_tracker*> _trackers;
    std::vector<retry_entry> _retries;  // min-heap on (due_ms, seq)
    uint64_t _retry_seq = 0;
    std::vector<output_message> _out;  // reused for every process() and tick()
    bool _input_open = true;
    steady::time_point _last_error_log{};
    uint64_t _errors_since_log = 0;
    size_t _max_message_bytes = 0;
    std::unordered_set<std::string> _undeliverable_logged;
};

result<std::unique_ptr<pipeline_worker>> pipeline_worker::create(
    const worker_config& config, kafka::client_options producer_options,
    std::unique_ptr<message_processor> processor, runtime_probe& probe) {
    std::unique_ptr<pipeline_worker> worker(
        new pipeline_worker(config, std::move(processor), probe));
    if (auto st = worker->_state->open_producer(std::move(producer_options)); !st) {
        return st.error();
    }
    worker->_wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (worker->_wake_fd < 0) {
        return make_error("pipeline: eventfd: {}", std::strerror(errno));
    }
    return worker;
}

pipeline_worker::pipeline_worker(const worker_config& config,
                                 std::unique_ptr<message_processor> processor, runtime_probe& probe)
    : _config(config),
      _ring(spsc_ring<work_item>::round_up_capacity(config.ring_capacity)),
      _state(std::make_unique<state>(*this, std::move(processor), probe)) {}

pipeline_worker::~pipeline_worker() {
    join();
    _state.reset();
    if (_wake_fd >= 0) {
        ::close(_wake_fd);
    }
}

void pipeline_worker::start() {
    _thread = std::thread([this] { run(); });
}

void pipeline_worker::join() {
    if (_thread.joinable()) {
        _thread.join();
    }
}

void pipeline_worker::notify() {
    // Pairs with the fence in wait(): either the worker sees the items just pushed, or this
    // thread sees it asleep and wakes it.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (_sleeping.load(std::memory_order_relaxed)) {
        const uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(_wake_fd, &one, sizeof one);
    }
}

void pipeline_worker::drain(std::chrono::steady_clock::time_point deadline) {
    _deadline_ns.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
    _draining.store(true, std::memory_order_release);
    const uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(_wake_fd, &one, sizeof one);
}

void pipeline_worker::wait(std::chrono::milliseconds timeout) {
    _sleeping.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (_ring.empty_approx() || !_state->input_open()) {
        pollfd fds[2] = {{_state->producer_fd(), POLLIN, 0}, {_wake_fd, POLLIN, 0}};
        if (::poll(fds, 2, static_cast<int>(timeout.count())) > 0 && (fds[1].revents & POLLIN)) {
            uint64_t count;
            [[maybe_unused]] auto r = ::read(_wake_fd, &count, sizeof count);
        }
    }
    _sleeping.store(false, std::memory_order_relaxed);
}

void pipeline_worker::run() {
    set_thread_name(fmt::format("{}-{}", _config.thread_prefix, _config.index));
    state& s = *_state;
    auto next_tick = steady::now() + _config.tick_interval;
    for (;;) {
        bool busy = false;
        if (s.input_open()) {
            busy = s.pop_and_process() > 0;
        }
        s.poll_producer();
        busy = s.run_retries() || busy;
        auto now = steady::now();
        if (now >= next_tick) {
            s.tick();
            next_tick = now + _config.tick_interval;
        }
        if (_draining.load(std::memory_order_acquire)) {
            const steady::time_point deadline{
                steady::duration(_deadline_ns.load(std::memory_order_relaxed))};
            if ((_ring.empty_approx() && s.idle()) || now >= deadline) {
                break;
            }
        }
        if (!busy) {
            auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - now);
            if (const int64_t retry = s.next_retry_in(); retry >= 0) {
                timeout = std::min(timeout, std::chrono::milliseconds(retry));
            }
            wait(std::clamp(timeout, std::chrono::milliseconds(0), _config.tick_interval));
        }
    }
    // Whatever is not delivered now is processed again by the partition's next consumer:
    // the processor releases its reservations and no offset moves past these inputs.
    s.abandon_all_and_discard();
    _inflight.store(0, std::memory_order_relaxed);
    _done.store(true, std::memory_order_release);
}

}  // namespace obsrv::pipeline::detail
