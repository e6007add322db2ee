#include "ingress/request_handler.h"

#include "ingress/server_worker.h"

namespace obsrv::ingress {

response request_handler::protocol_error(uint16_t status) {
    response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::string(status_reason(status)) + "\n";
    return r;
}

}  // namespace obsrv::ingress
