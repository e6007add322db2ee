#include "pipeline/partition_progress.h"

#include "common/assert.h"

namespace obsrv::pipeline {

partition_progress::ticket partition_progress::start(int64_t offset) {
    OBSRV_ASSERT(offset > _last_started, "partition_progress: offset {} after {}", offset,
                 _last_started);
    if (_tail - _head == _entries.size()) {
        grow();
    }
    const uint64_t seq = _tail++;
    at(seq) = entry{offset, false};
    _last_started = offset;
    return seq;
}

bool partition_progress::finish(ticket t) {
    OBSRV_ASSERT(t >= _head && t < _tail, "partition_progress: unknown ticket {}", t);
    at(t).done = true;
    if (t != _head) {
        return false;  // an older input still holds the low-water mark
    }
    while (_head != _tail && at(_head).done) {
        _committable = at(_head).offset + 1;
        ++_head;
    }
    return true;
}

void partition_progress::grow() {
    // Doubling keeps the index math a mask; entries keep their sequence numbers (tickets), only
    // their slots move.
    std::vector<entry> bigger(_entries.empty() ? 64 : _entries.size() * 2);
    for (uint64_t seq = _head; seq != _tail; ++seq) {
        bigger[seq & (bigger.size() - 1)] = at(seq);
    }
    _entries.swap(bigger);
}

}  // namespace obsrv::pipeline
