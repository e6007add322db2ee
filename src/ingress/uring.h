#pragma once

// io_uring setup for one worker: the ring (SINGLE_ISSUER|DEFER_TASKRUN when
// the kernel has them, COOP_TASKRUN otherwise), a probe of the operations the
// gateway needs, and a provided-buffer ring for multishot receives.
//
// Minimum kernel: 6.0 (multishot recv with provided buffer rings). Without
// io_uring or these features, start-up fails with a message saying what is
// missing; there is no epoll fallback.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <liburing.h>

#include "common/result.h"

namespace obsrv::ingress {

class uring {
  public:
    /// Sets up a ring with `entries` submission slots (the completion queue
    /// gets 8x), probing every operation the gateway uses.
    static result<std::unique_ptr<uring>> create(unsigned entries);
    ~uring();

    uring(const uring&) = delete;
    uring& operator=(const uring&) = delete;

    io_uring* get() { return &_ring; }

    /// A free submission entry; submits pending ones first when the queue is
    /// full, so the caller always gets one.
    io_uring_sqe* sqe();

  private:
    uring() = default;
    io_uring _ring{};
    bool _initialised = false;
};

/// `count` receive buffers of `size` bytes registered as buffer group
/// `group`. Each buffer is its own malloc'd block: headroom, the buffer, and
/// `k_slack` readable bytes, so a body that ends at a buffer's end can be
/// parsed in place with simdjson's padding rule, and a block can be handed
/// over (replace()) to hold the Kafka message built around the body in it.
class provided_buffers {
  public:
    static result<std::unique_ptr<provided_buffers>> create(io_uring* ring, uint16_t group,
                                                            unsigned count, size_t size);
    ~provided_buffers();

    provided_buffers(const provided_buffers&) = delete;
    provided_buffers& operator=(const provided_buffers&) = delete;

    uint16_t group() const { return _group; }
    size_t buffer_size() const { return _size; }
    static constexpr size_t k_slack = 64;  // simdjson's padding
    /// Bytes before each buffer, where a message built around a body can put its start (an
    /// Obsrv message's envelope before the events is ~200 bytes, often more than the request's
    /// own head before its data).
    static constexpr size_t k_headroom = 512;

    /// Where the kernel writes buffer `id`'s bytes.
    char* buffer(uint16_t id) const { return _blocks[id] + k_headroom; }
    /// The allocation holding buffer `id` (k_headroom bytes before buffer(id)).
    char* block(uint16_t id) const { return _blocks[id]; }

    /// Hands buffer `id` back to the kernel; visible after publish().
    void recycle(uint16_t id);
    /// Buffer `id`'s block now belongs to someone else (who frees it with std::free): hands the
    /// kernel a new block under the same id; visible after publish().
    void replace(uint16_t id);
    void publish();

  private:
    provided_buffers() = default;
    io_uring* _ring = nullptr;
    io_uring_buf_ring* _ring_memory = nullptr;
    size_t _ring_bytes = 0;
    std::vector<char*> _blocks;
    unsigned _count = 0;
    size_t _size = 0;
    uint16_t _group = 0;
    int _pending = 0;
};

}  // namespace obsrv::ingress
