#pragma once

// Ordered progress of one partition's in-flight inputs, for at-least-once offset commits.
//
// Inputs start in offset order (the order the consumer hands them over) and finish in any order
// (their outputs are delivered whenever the brokers answer). The committable offset is one past
// the highest offset N such that every started input with an offset <= N finished: the
// low-water mark. Committing it never skips an input whose outputs are not delivered yet.
//
//   started:   10  11  12  13  14        (offsets; gaps are allowed: compaction, markers)
//   finished:   x   x       x
//   committable = 12 (11 + 1): 12 holds back 13 until it finishes, then it jumps to 14.
//
// Lifecycle: one per assigned partition and assignment, on the worker that owns the partition;
// dropped when the partition is released. Not thread-safe: the owning worker thread only.
// Memory: one 16-byte entry per unfinished input and per finished one behind the oldest
// unfinished input; the runtime bounds both through its in-flight limit.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace obsrv::pipeline {

class partition_progress {
  public:
    /// Identifies one started input; valid until it is finished.
    using ticket = uint64_t;

    partition_progress() = default;

    /// Registers the next input; `offset` is greater than every offset started before.
    ticket start(int64_t offset);

    /// Marks a started input finished (all of its outputs delivered). Returns true when the
    /// committable offset moved.
    bool finish(ticket t);

    /// The offset to commit (next to consume), or -1 while no input has finished in order.
    int64_t committable() const { return _committable; }

    /// Inputs started and not finished, plus finished ones waiting behind them.
    size_t pending() const { return static_cast<size_t>(_tail - _head); }

    /// The offset of the last started input, or -1 before the first.
    int64_t last_started() const { return _last_started; }

  private:
    struct entry {
        int64_t offset = 0;
        bool done = false;
    };

    entry& at(uint64_t seq) { return _entries[seq & (_entries.size() - 1)]; }
    void grow();

    std::vector<entry> _entries;  // circular, power-of-two size; [_head, _tail) in use
    uint64_t _head = 0;
    uint64_t _tail = 0;
    int64_t _committable = -1;
    int64_t _last_started = -1;
};

}  // namespace obsrv::pipeline
