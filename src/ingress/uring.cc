#include "ingress/uring.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#include "common/assert.h"

namespace obsrv::ingress {
namespace {

struct probe_deleter {
    void operator()(io_uring_probe* p) const noexcept { io_uring_free_probe(p); }
};

const char* op_name(int op) {
    switch (op) {
        case IORING_OP_ACCEPT:
            return "ACCEPT";
        case IORING_OP_RECV:
            return "RECV";
        case IORING_OP_SEND:
            return "SEND";
        case IORING_OP_POLL_ADD:
            return "POLL_ADD";
        case IORING_OP_ASYNC_CANCEL:
            return "ASYNC_CANCEL";
        default:
            return "?";
    }
}

}  // namespace

result<std::unique_ptr<uring>> uring::create(unsigned entries) {
    std::unique_ptr<uring> r(new uring());
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
                   IORING_SETUP_DEFER_TASKRUN;
    params.cq_entries = entries * 8;
    int rc = io_uring_queue_init_params(entries, &r->_ring, &params);
    if (rc == -EINVAL) {
        // Kernels before 6.1 lack DEFER_TASKRUN; COOP_TASKRUN (5.19) is next best.
        params = io_uring_params{};
        params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
        params.cq_entries = entries * 8;
        rc = io_uring_queue_init_params(entries, &r->_ring, &params);
    }
    if (rc < 0) {
        return make_error(
            "io_uring unavailable ({}): the gateway needs Linux >= 6.0 with io_uring enabled "
            "(check kernel.io_uring_disabled and container seccomp profiles)",
            std::strerror(-rc));
    }
    r->_initialised = true;

    std::unique_ptr<io_uring_probe, probe_deleter> probe(io_uring_get_probe_ring(&r->_ring));
    if (!probe) {
        return make_error("io_uring: cannot probe supported operations");
    }
    for (int op : {IORING_OP_ACCEPT, IORING_OP_RECV, IORING_OP_SEND, IORING_OP_POLL_ADD,
                   IORING_OP_ASYNC_CANCEL}) {
        if (!io_uring_opcode_supported(probe.get(), op)) {
            return make_error("io_uring: operation {} not supported by this kernel", op_name(op));
        }
    }
    if (!(params.features & IORING_FEAT_FAST_POLL)) {
        return make_error("io_uring: kernel lacks IORING_FEAT_FAST_POLL (needs Linux >= 5.7)");
    }
    return r;
}

uring::~uring() {
    if (_initialised) {
        io_uring_queue_exit(&_ring);
    }
}

io_uring_sqe* uring::sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&_ring);
    while (!s) {
        io_uring_submit(&_ring);
        s = io_uring_get_sqe(&_ring);
    }
    return s;
}

result<std::unique_ptr<provided_buffers>> provided_buffers::create(io_uring* ring, uint16_t group,
                                                                   unsigned count, size_t size) {
    if (count == 0 || (count & (count - 1)) != 0 || count > 32768) {
        return make_error("gateway.buffer_count must be a power of two up to 32768, got {}", count);
    }
    std::unique_ptr<provided_buffers> b(new provided_buffers());
    b->_ring = ring;
    b->_group = group;
    b->_count = count;
    b->_size = size;
    b->_ring_bytes = count * sizeof(io_uring_buf);
    void* ring_mem =
        ::mmap(nullptr, b->_ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ring_mem == MAP_FAILED) {
        return make_error("io_uring: cannot map the buffer ring: {}", std::strerror(errno));
    }
    b->_ring_memory = static_cast<io_uring_buf_ring*>(ring_mem);
    b->_blocks.assign(count, nullptr);
    for (auto& block : b->_blocks) {
        block = static_cast<char*>(std::malloc(k_headroom + size + k_slack));
        if (block == nullptr) {
            return make_error("io_uring: cannot allocate {} receive buffers of {} bytes", count,
                              size);
        }
    }

    io_uring_buf_ring_init(b->_ring_memory);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(b->_ring_memory);
    reg.ring_entries = count;
    reg.bgid = group;
    int rc = io_uring_register_buf_ring(ring, &reg, 0);
    if (rc < 0) {
        return make_error(
            "io_uring: cannot register a provided buffer ring ({}): needs Linux >= 5.19",
            std::strerror(-rc));
    }
    for (unsigned i = 0; i < count; ++i) {
        b->recycle(static_cast<uint16_t>(i));
    }
    b->publish();
    return b;
}

provided_buffers::~provided_buffers() {
    if (_ring && _ring_memory) {
        io_uring_unregister_buf_ring(_ring, _group);
    }
    if (_ring_memory) {
        ::munmap(_ring_memory, _ring_bytes);
    }
    for (char* block : _blocks) {
        std::free(block);
    }
}

void provided_buffers::recycle(uint16_t id) {
    io_uring_buf_ring_add(_ring_memory, _blocks[id] + k_headroom, static_cast<unsigned>(_size), id,
                          io_uring_buf_ring_mask(_count), _pending);
    ++_pending;
}

void provided_buffers::replace(uint16_t id) {
    _blocks[id] = static_cast<char*>(std::malloc(k_headroom + _size + k_slack));
    OBSRV_RELEASE_ASSERT(_blocks[id] != nullptr, "out of memory for a {} byte receive buffer",
                         _size);
    recycle(id);
}

void provided_buffers::publish() {
    if (_pending) {
        io_uring_buf_ring_advance(_ring_memory, _pending);
        _pending = 0;
    }
}

}  // namespace obsrv::ingress
