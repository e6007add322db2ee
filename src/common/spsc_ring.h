#pragma once

// Bounded lock-free single-producer/single-consumer ring.
//
// Lifecycle: construct with a power-of-two capacity (round_up_capacity() helps), hand the
// producer end to exactly one thread and the consumer end to exactly one other thread, and
// destroy the ring only after both threads have stopped touching it (e.g. after join()).
// Elements still queued at destruction are destroyed with the ring.
//
// Threads:
//   producer only: try_push, try_emplace, try_push_batch
//   consumer only: try_pop, pop_batch, consume
//   any thread:    size_approx, empty_approx, capacity
// The producer or the consumer role may migrate between threads only through a
// happens-before edge (mutex, join, ...), never concurrently.
//
// Usage:
//   obsrv::spsc_ring<batch_ptr> ring(obsrv::spsc_ring<batch_ptr>::round_up_capacity(1000));
//   // producer                                // consumer
//   if (!ring.try_push(std::move(b))) { ... }  ring.consume([](batch_ptr&& b) { ... }, 16);
//
// Nothing blocks and nothing throws on the hot path unless T's move/copy (or the consume
// callback) does; what to do when the ring is full or empty (spin, yield, park, drop) is the
// caller's policy. Batch operations publish their index once per call, so a batch of 16
// costs one release store and at most one cross-core load instead of 16 of each.

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "common/assert.h"

namespace obsrv {

namespace detail {
#if defined(__cpp_lib_hardware_interference_size)
// GCC warns that this value depends on -mtune and so may differ between translation units.
// Every TU of this project is built with the same flags and the ring never crosses a
// library boundary, so the layout is consistent.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winterference-size"
#endif
inline constexpr size_t spsc_cache_line = std::hardware_destructive_interference_size;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#else
inline constexpr size_t spsc_cache_line = 64;
#endif
}  // namespace detail

template <typename T>
class spsc_ring {
  public:
    using value_type = T;

    /// Smallest power of two that is >= n (and >= 1).
    static constexpr size_t round_up_capacity(size_t n) {
        OBSRV_RELEASE_ASSERT(n <= (size_t{1} << (std::numeric_limits<size_t>::digits - 1)),
                             "spsc_ring capacity {} cannot be rounded to a power of two", n);
        return std::bit_ceil(std::max<size_t>(n, 1));
    }

    explicit spsc_ring(size_t capacity) : _mask(capacity - 1) {
        // Masking instead of modulo keeps the index math to one AND on the hot path.
        OBSRV_RELEASE_ASSERT(std::has_single_bit(capacity),
                             "spsc_ring capacity must be a power of two, got {}", capacity);
        OBSRV_RELEASE_ASSERT(capacity <= std::numeric_limits<size_t>::max() / sizeof(T) / 2,
                             "spsc_ring capacity {} is too large", capacity);
        // Whole cache lines, line-aligned: the first and last slots never share a line with a
        // neighbouring heap block that some third thread might be writing.
        const size_t bytes = (capacity * sizeof(T) + k_align - 1) & ~(k_align - 1);
        _slots = static_cast<T*>(::operator new (bytes, std::align_val_t{k_align}));
    }

    ~spsc_ring() {
        // Both sides are quiescent by contract, so plain relaxed reads see the final indices.
        const uint64_t tail = _tail.load(std::memory_order_relaxed);
        for (uint64_t i = _head.load(std::memory_order_relaxed); i != tail; ++i) {
            std::destroy_at(slot(i));
        }
        ::operator delete (_slots, std::align_val_t{k_align});
    }

    spsc_ring(const spsc_ring&) = delete;
    spsc_ring& operator=(const spsc_ring&) = delete;
    spsc_ring(spsc_ring&&) = delete;
    spsc_ring& operator=(spsc_ring&&) = delete;

    // ---- producer -------------------------------------------------------------------------

    /// Constructs an element in place; false (and no construction) if the ring is full.
    template <typename... A>
    [[nodiscard]] bool try_emplace(A&&... args) noexcept(
        std::is_nothrow_constructible_v<T, A&&...>) {
        const uint64_t tail = _tail.load(std::memory_order_relaxed);
        if (tail - _cached_head == capacity()) {
            _cached_head = _head.load(std::memory_order_acquire);
            if (tail - _cached_head == capacity()) {
                return false;
            }
        }
        std::construct_at(slot(tail), std::forward<A>(args)...);
        _tail.store(tail + 1, std::memory_order_release);
        return true;
    }

    /// Moves v in; on failure v is left untouched.
    [[nodiscard]] bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
        return try_emplace(std::move(v));
    }

    [[nodiscard]] bool try_push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
        return try_emplace(v);
    }

    /// Moves items[0, n) into the ring for the largest n that fits and returns n;
    /// items[n, size) are left untouched.
    [[nodiscard]] size_t try_push_batch(std::span<T> items) noexcept(
        std::is_nothrow_move_constructible_v<T>) {
        const uint64_t tail = _tail.load(std::memory_order_relaxed);
        size_t free = capacity() - static_cast<size_t>(tail - _cached_head);
        if (free < items.size()) {
            _cached_head = _head.load(std::memory_order_acquire);
            free = capacity() - static_cast<size_t>(tail - _cached_head);
        }
        const size_t n = std::min(free, items.size());
        if (n == 0) {
            return 0;
        }
        index_publisher publish{_tail, tail};
        for (size_t i = 0; i < n; ++i) {
            std::construct_at(slot(publish.value), std::move(items[i]));
            ++publish.value;
        }
        return n;
    }

    // ---- consumer -------------------------------------------------------------------------

    /// Move-assigns the oldest element to out; false (out untouched) if the ring is empty.
    [[nodiscard]] bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
        const uint64_t head = _head.load(std::memory_order_relaxed);
        if (!refresh_if_empty(head)) {
            return false;
        }
        T* s = slot(head);
        out = std::move(*s);
        std::destroy_at(s);
        _head.store(head + 1, std::memory_order_release);
        return true;
    }

    /// The oldest element, or nullopt if the ring is empty.
    [[nodiscard]] std::optional<T> try_pop() noexcept(std::is_nothrow_move_constructible_v<T>) {
        const uint64_t head = _head.load(std::memory_order_relaxed);
        if (!refresh_if_empty(head)) {
            return std::nullopt;
        }
        T* s = slot(head);
        std::optional<T> out(std::move(*s));
        std::destroy_at(s);
        _head.store(head + 1, std::memory_order_release);
        return out;
    }

    /// Move-assigns up to out.size() elements, oldest first, to out[0, n) and returns n.
    [[nodiscard]] size_t pop_batch(std::span<T> out) noexcept(
        std::is_nothrow_move_assignable_v<T>) {
        const uint64_t head = _head.load(std::memory_order_relaxed);
        const size_t n = available(head, out.size());
        if (n == 0) {
            return 0;
        }
        index_publisher publish{_head, head};
        for (size_t i = 0; i < n; ++i) {
            T* s = slot(publish.value);
            out[i] = std::move(*s);
            std::destroy_at(s);
            ++publish.value;
        }
        return n;
    }

    /// Calls f(T&&) on up to max elements, oldest first, and returns how many were consumed.
    /// Each element is destroyed after f returns. If f throws, the element it was given and
    /// all before it count as consumed; the rest stay queued.
    template <typename F>
    size_t consume(F&& f, size_t max = std::numeric_limits<size_t>::max()) noexcept(
        std::is_nothrow_invocable_v<F&, T&&>) {
        const uint64_t head = _head.load(std::memory_order_relaxed);
        const size_t n = available(head, max);
        if (n == 0) {
            return 0;
        }
        index_publisher publish{_head, head};
        for (size_t i = 0; i < n; ++i) {
            T* s = slot(publish.value);
            ++publish.value;
            element_destroyer destroy{s};
            f(std::move(*s));
        }
        return n;
    }

    // ---- either side ----------------------------------------------------------------------

    /// A snapshot that may be stale by the time it is used; exact only on a quiescent ring.
    size_t size_approx() const noexcept {
        // head first, with acquire: the consumer published that head only after seeing a tail
        // at least as large, so the tail read below cannot be older than it.
        const uint64_t head = _head.load(std::memory_order_acquire);
        const uint64_t tail = _tail.load(std::memory_order_relaxed);
        return static_cast<size_t>(std::min<uint64_t>(tail - head, capacity()));
    }

    bool empty_approx() const noexcept { return size_approx() == 0; }

    size_t capacity() const noexcept { return _mask + 1; }

  private:
    static constexpr size_t k_align = std::max(detail::spsc_cache_line, alignof(T));

    // Publishes a batch's final index on scope exit, so that a throwing move or callback leaves
    // every slot before the published index handed over and every slot after it untouched.
    struct index_publisher {
        std::atomic<uint64_t>& index;
        uint64_t value;
        ~index_publisher() { index.store(value, std::memory_order_release); }
    };

    struct element_destroyer {
        T* element;
        ~element_destroyer() { std::destroy_at(element); }
    };

    T* slot(uint64_t index) const noexcept { return _slots + (index & _mask); }

    // Reads the producer's line only when the cached tail says empty: a consumer that is
    // behind drains on its own line without touching the producer's.
    bool refresh_if_empty(uint64_t head) noexcept {
        if (head == _cached_tail) {
            _cached_tail = _tail.load(std::memory_order_acquire);
            if (head == _cached_tail) {
                return false;
            }
        }
        return true;
    }

    size_t available(uint64_t head, size_t want) noexcept {
        size_t ready = static_cast<size_t>(_cached_tail - head);
        if (ready < want) {
            _cached_tail = _tail.load(std::memory_order_acquire);
            ready = static_cast<size_t>(_cached_tail - head);
        }
        return std::min(ready, want);
    }

    // Read-only after construction; shares a line with nothing that is written.
    T* _slots = nullptr;
    const size_t _mask;

    // Producer's line. _cached_head is the producer's last view of _head, refreshed only when
    // the ring looks full, so the producer rarely pulls the consumer's line.
    alignas(detail::spsc_cache_line) std::atomic<uint64_t> _tail{0};
    uint64_t _cached_head = 0;

    // Consumer's line, mirror image of the producer's.
    alignas(detail::spsc_cache_line) std::atomic<uint64_t> _head{0};
    uint64_t _cached_tail = 0;
};

}  // namespace obsrv
