-- The peer's request handler: POST /v2/data/in/<dataset_id>, the Obsrv Dataset API v2 ingest
-- route, answered by nginx + lua-resty-kafka the way obsrvd's gateway answers it:
--   1. read the body (kept in memory: client_body_buffer_size), parse it with cjson;
--   2. validate it like the gateway does (the Obsrv ajv schema): an object with id ==
--      "api.data.in", ver and ts strings, params an object holding only msgid, a string, and
--      data an object or an array of objects, nothing else at the top level;
--   3. build the Obsrv Kafka message (one per request, no key):
--        data array  -> {"obsrv_meta":M,"dataset":<id>,"msgid":<msgid>,"events":<data>,
--                        "id":<msgid>}
--        data object -> {"obsrv_meta":M,"dataset":<id>,"msgid":<msgid>,"event":<data>}
--        M = {"syncts":<ms>,"flags":{},"timespans":{},"error":{},
--             "source":{"connector":"api","connectorInstance":"api"}}
--      serialised with cjson.encode (key order differs from the gateway's; cjson also writes
--      "/" as "\/", and numbers with 14 significant digits at most);
--   4. produce it to the topic with lua-resty-kafka (required_acks = -1, no compression);
--        sync:  answer once the broker acknowledged the Produce request (like the gateway's
--               gateway.ack=persisted);
--        async: answer once the message is in lua-resty-kafka's ring buffer, which a timer
--               flushes in batches (like gateway.ack=enqueued);
--   5. answer 200 with the Obsrv success body, 400 with Obsrv's error body for invalid JSON
--      or an invalid request, 500 when Kafka refused the message (sync), 503 with
--      Retry-After when the async buffer is full.
-- Counters for the bench script are kept in the shared dict "peer_stats" (GET /peer/stats).

local cjson = require "cjson.safe"
local producer = require "nginx.kafka.producer"
local recordbatch = require "kafka_recordbatch"   -- record batches for the mock broker

local ngx = ngx
local type, pairs, ipairs, tostring, floor, random = type, pairs, ipairs, tostring,
    math.floor, math.random
local format = string.format
local encode, decode = cjson.encode, cjson.decode

-- Keep integers such as epoch milliseconds exact; 14 is this cjson's maximum precision.
if not pcall(cjson.encode_number_precision, 17) then
    cjson.encode_number_precision(14)
end

local _M = {}

local conf              -- set by init(), in the master, before the fork
local broker_list       -- { { host = , port = }, ... }
local producer_config   -- lua-resty-kafka producer options
local async_producer    -- per worker (async mode)
local sync_pool = {}    -- per worker (sync mode): idle producers, one per request in flight
local sync_pool_n = 0
local stats             -- ngx.shared.peer_stats

-- ---- configuration -------------------------------------------------------------------------

-- opts: brokers "host:port,...", mode "sync"|"async", topic, keepalive_size,
--       batch_num, batch_size, max_buffering, flush_time (lua-resty-kafka options)
function _M.init(opts)
    conf = opts
    broker_list = {}
    for hostport in opts.brokers:gmatch("[^,]+") do
        local host, port = hostport:match("^%s*(.-):(%d+)%s*$")
        broker_list[#broker_list + 1] = { host = host, port = tonumber(port) }
    end
    producer_config = {
        producer_type = opts.mode,
        required_acks = -1,
        -- Produce v3 with record batches (kafka_recordbatch.lua); 0.07's own versions 0/1/2
        -- write MessageSets v0/v1, which the mock broker refuses.
        api_version = recordbatch.API_VERSION,
        request_timeout = 30000,         -- broker-side ack timeout (ms)
        socket_timeout = 30000,          -- (ms) a loaded broker may take a while to answer
        keepalive_size = opts.keepalive_size or 128,  -- idle broker connections per worker
        keepalive_timeout = 600000,
        max_retry = 3,
        retry_backoff = 100,
        batch_num = opts.batch_num or 200,
        batch_size = opts.batch_size or 1048576,
        max_buffering = opts.max_buffering or 50000,
        flush_time = opts.flush_time or 1000,
        error_handle = function(topic, partition_id, queue, index, err, retryable)
            -- async only: a buffered batch could not be delivered; those messages are lost
            -- (the clients already got 200). Counted so the bench can report it.
            stats:incr("async_lost", index / 2, 0)
            ngx.log(ngx.ERR, "async batch lost: ", err, " topic ", topic, " partition ",
                    partition_id, " messages ", index / 2)
        end,
    }
end

function _M.init_worker()
    stats = ngx.shared.peer_stats
    math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
    if conf.mode == "async" then
        -- one buffered producer per worker; its flush timer starts here
        async_producer = producer:new(broker_list, producer_config)
    end
end

-- ---- response bodies -----------------------------------------------------------------------

local ts_sec, ts_text = -1, ""
-- "2025-06-03T10:00:00+00:00" (moment().format() in a UTC process), cached per second
local function iso_ts()
    local now = ngx.time()
    if now ~= ts_sec then
        ts_sec = now
        ts_text = ngx.utctime():gsub(" ", "T") .. "+00:00"
    end
    return ts_text
end

-- A random v4 UUID (resmsgid).
local function uuid4()
    return format("%04x%04x-%04x-4%03x-%04x-%04x%04x%04x",
                  random(0, 0xffff), random(0, 0xffff), random(0, 0xffff),
                  random(0, 0xfff), random(0x8000, 0xbfff),
                  random(0, 0xffff), random(0, 0xffff), random(0, 0xffff))
end

local function head(status, msgid, response_code)
    local t = { '{"id":"api.data.in","ver":"v2","ts":"', iso_ts(), '","params":{"status":"',
                status, '"' }
    if type(msgid) == "string" and msgid ~= "" then
        t[#t + 1] = ',"msgid":'
        t[#t + 1] = encode(msgid)
    end
    t[#t + 1] = ',"resmsgid":"'
    t[#t + 1] = uuid4()
    t[#t + 1] = '"},"responseCode":"'
    t[#t + 1] = response_code
    t[#t + 1] = '","result":'
    return t
end

local function send(status, body, extra_header)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json; charset=utf-8"
    if extra_header then
        ngx.header[extra_header[1]] = extra_header[2]
    end
    ngx.print(body)
    stats:incr("status_" .. status, 1, 0)
    return ngx.exit(status)
end

local function success(msgid)
    local t = head("SUCCESS", msgid, "OK")
    t[#t + 1] = '{"message":"Data ingested successfully"}}'
    return send(200, t)
end

local ERRORS = {
    [400] = { "BAD_REQUEST", "DATA_INGESTION_INVALID_INPUT" },
    [404] = { "NOT_FOUND", "ROUTE_NOT_FOUND" },
    [405] = { "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED" },
    [500] = { "INTERNAL_SERVER_ERROR", "INTERNAL_SERVER_ERROR" },
    [503] = { "SERVICE_UNAVAILABLE", "DATA_INGESTION_UNAVAILABLE" },
}

local function fail(status, msgid, message, extra_header)
    local e = ERRORS[status]
    local t = head("FAILED", msgid, e[1])
    t[#t + 1] = '{},"error":{"code":"'
    t[#t + 1] = e[2]
    t[#t + 1] = '","message":'
    t[#t + 1] = encode(message)
    t[#t + 1] = '}}'
    return send(status, t, extra_header)
end

-- ---- validation (the gateway's ajv messages, in its order) ---------------------------------

local TOP_KEYS = { id = true, ver = true, ts = true, params = true, data = true }

-- Returns nil when valid, else the error message; and whether data is an array.
local function validate(req)
    if type(req) ~= "table" then
        return "#type must be object"
    end
    if req.id == nil then return "#required must have required property 'id'" end
    if req.ver == nil then return "#required must have required property 'ver'" end
    if req.ts == nil then return "#required must have required property 'ts'" end
    if req.params == nil then return "#required must have required property 'params'" end
    if req.data == nil then return "#required must have required property 'data'" end
    if type(req.id) ~= "string" then return "#properties/id/type must be string" end
    if req.id ~= "api.data.in" then
        return "#properties/id/enum must be equal to one of the allowed values"
    end
    if type(req.ver) ~= "string" then return "#properties/ver/type must be string" end
    if type(req.ts) ~= "string" then return "#properties/ts/type must be string" end
    local params = req.params
    if type(params) ~= "table" or params[1] ~= nil then
        return "#properties/params/type must be object"
    end
    if params.msgid == nil then
        return "#properties/params/required must have required property 'msgid'"
    end
    for k in pairs(params) do
        if k ~= "msgid" then
            return "#properties/params/additionalProperties must NOT have additional properties"
        end
    end
    if type(params.msgid) ~= "string" then
        return "#properties/params/properties/msgid/type must be string"
    end
    local data = req.data
    if type(data) ~= "table" then
        return "#properties/data/oneOf/0/type must be object"
    end
    -- cjson gives arrays and objects both as tables: an array has [1] (or is empty)
    local is_array = data[1] ~= nil
    if is_array then
        for i = 1, #data do
            if type(data[i]) ~= "table" then
                return "#properties/data/oneOf/0/type must be object"
            end
        end
    end
    for k in pairs(req) do
        if not TOP_KEYS[k] then
            return "#properties/additionalProperties/false schema boolean schema is false"
        end
    end
    return nil, is_array
end

-- ---- the handler ---------------------------------------------------------------------------

local function read_body()
    ngx.req.read_body()
    local body = ngx.req.get_body_data()
    if body then
        return body
    end
    local file = ngx.req.get_body_file()   -- only if the body outgrew client_body_buffer_size
    if not file then
        return ""
    end
    local f = io.open(file, "rb")
    if not f then
        return ""
    end
    body = f:read("*a")
    f:close()
    return body
end

local function produce(message)
    if conf.mode == "async" then
        return async_producer:send(conf.topic, nil, message)
    end
    -- A sync producer keeps per-call state (its send buffer), so each request in flight
    -- takes one from the worker's pool; each keeps the topic metadata it fetched once.
    local p
    if sync_pool_n > 0 then
        p = sync_pool[sync_pool_n]
        sync_pool[sync_pool_n] = nil
        sync_pool_n = sync_pool_n - 1
    else
        p = producer:new(broker_list, producer_config)
        stats:incr("sync_producers", 1, 0)
    end
    local ok, err = p:send(conf.topic, nil, message)
    sync_pool_n = sync_pool_n + 1
    sync_pool[sync_pool_n] = p
    return ok, err
end

-- dataset: the URI's last segment (already percent-decoded by nginx)
function _M.handle(dataset)
    if ngx.req.get_method() ~= "POST" then
        return fail(405, nil, "Method " .. ngx.req.get_method() .. " not allowed")
    end
    local body = read_body()
    if body == "" then
        return fail(400, nil, "#required must have required property 'id'")
    end
    local req, perr = decode(body)
    if req == nil then
        return fail(400, nil, "Invalid JSON body: " .. tostring(perr))
    end
    local verr, is_array = validate(req)
    local msgid = type(req) == "table" and type(req.params) == "table" and req.params.msgid
        or nil
    if verr then
        return fail(400, msgid, verr)
    end

    local message = {
        obsrv_meta = {
            syncts = floor(ngx.now() * 1000),
            flags = {}, timespans = {}, error = {},
            source = { connector = "api", connectorInstance = "api" },
        },
        dataset = dataset,
        msgid = msgid,
    }
    if is_array then
        message.events = req.data
        message.id = msgid
    else
        message.event = req.data
    end
    local value, eerr = encode(message)
    if not value then
        return fail(500, msgid, "cannot serialise the message: " .. tostring(eerr))
    end

    local ok, err = produce(value)
    if not ok then
        if err == "buffer overflow" then   -- async ring buffer full (max_buffering)
            return fail(503, msgid, "the Kafka producer queue is full", { "Retry-After", "1" })
        end
        stats:incr("kafka_errors", 1, 0)
        return fail(500, msgid, tostring(err))
    end
    return success(msgid)
end

function _M.not_found()
    ngx.status = 404
    ngx.header["Content-Type"] = "application/json; charset=utf-8"
    ngx.print('{"id":"api","ver":"v2","ts":"', iso_ts(), '","params":{"status":"FAILED"},',
              '"responseCode":"NOT_FOUND","result":"","error":{"code":"ROUTE_NOT_FOUND",',
              '"message":"Route not found"}}')
    return ngx.exit(404)
end

-- GET /peer/stats: the counters as JSON
function _M.stats()
    local out = {}
    for _, k in ipairs(ngx.shared.peer_stats:get_keys(0)) do
        out[k] = ngx.shared.peer_stats:get(k)
    end
    out.mode = conf.mode
    ngx.header["Content-Type"] = "application/json"
    ngx.print(encode(out))
end

return _M
