#pragma once

// A growable byte buffer that always keeps `k_padding` readable bytes past its
// end, so simdjson can parse a body in place (it reads up to
// SIMDJSON_PADDING bytes beyond the input). Used for the few requests that do
// not arrive whole in one receive buffer. Not thread-safe; owned by one
// connection on one worker.

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/assert.h"

namespace obsrv::ingress {

class byte_buffer {
  public:
    static constexpr size_t k_padding = 64;  // == SIMDJSON_PADDING

    byte_buffer() = default;
    ~byte_buffer() { std::free(_data); }
    byte_buffer(const byte_buffer&) = delete;
    byte_buffer& operator=(const byte_buffer&) = delete;
    byte_buffer(byte_buffer&& other) noexcept
        : _data(other._data), _size(other._size), _capacity(other._capacity) {
        other._data = nullptr;
        other._size = other._capacity = 0;
    }
    byte_buffer& operator=(byte_buffer&& other) noexcept {
        if (this != &other) {
            std::free(_data);
            _data = other._data;
            _size = other._size;
            _capacity = other._capacity;
            other._data = nullptr;
            other._size = other._capacity = 0;
        }
        return *this;
    }

    const char* data() const { return _data; }
    char* data() { return _data; }
    size_t size() const { return _size; }
    bool empty() const { return _size == 0; }
    std::string_view view() const { return {_data, _size}; }

    void clear() { _size = 0; }

    /// Makes room for `extra` more bytes (plus padding); amortised growth.
    void reserve_extra(size_t extra) {
        size_t needed = _size + extra + k_padding;
        if (needed <= _capacity) {
            return;
        }
        size_t capacity = _capacity ? _capacity : 4096;
        while (capacity < needed) {
            capacity *= 2;
        }
        auto* grown = static_cast<char*>(std::realloc(_data, capacity));
        OBSRV_RELEASE_ASSERT(grown != nullptr, "out of memory growing a buffer to {}", capacity);
        _data = grown;
        _capacity = capacity;
    }

    void append(const char* bytes, size_t n) {
        reserve_extra(n);
        std::memcpy(_data + _size, bytes, n);
        _size += n;
    }
    void append(std::string_view bytes) { append(bytes.data(), bytes.size()); }

    /// Drops the first `n` bytes.
    void consume(size_t n) {
        OBSRV_ASSERT(n <= _size);
        if (n == _size) {
            _size = 0;
            return;
        }
        std::memmove(_data, _data + n, _size - n);
        _size -= n;
    }

    /// Gives memory back after a large request (keeps small buffers).
    void shrink_if_larger_than(size_t limit) {
        if (_size == 0 && _capacity > limit) {
            std::free(_data);
            _data = nullptr;
            _capacity = 0;
        }
    }

  private:
    char* _data = nullptr;
    size_t _size = 0;
    size_t _capacity = 0;
};

}  // namespace obsrv::ingress
