-- Record-batch (message format v2) support for Debian's lua-resty-kafka 0.07
-- (package lua-nginx-kafka, modules nginx.kafka.*), loaded once in init_by_lua.
--
-- Why: lua-resty-kafka 0.07 only writes the old message formats: Produce v0/v1 carry a
-- MessageSet with magic 0 and Produce v2 one with magic 1 (its api_version option, 0/1/2).
-- The embedded broker of obsrvd is librdkafka's mock cluster, which stores record batches
-- only: any other magic byte is answered with error 35 (UNSUPPORTED_VERSION), whatever the
-- api_version. 0.07 does not know error 35 either and dies with "attempt to perform arithmetic
-- on local 'index' (a string value)" (producer.lua:182) while logging the failure. So no
-- configuration of 0.07 works against that broker. (A real Kafka 0.11 .. 3.x broker takes the
-- old formats and converts them; Kafka 4 refuses Produce below v3 as well.)
--
-- What this changes, and nothing else (lua-resty-kafka still does the partitioning, the
-- buffering, the async ring buffer and flush timer, metadata, retries and the sockets):
--   * producer config api_version = 3 now means Produce v3 (the first version carrying
--     record batches): the request gets the v3 TransactionalId field (null), and
--     request:message_set() encodes the messages as one uncompressed record batch (magic 2)
--     per partition, with a real CRC-32C, instead of a v0/v1 MessageSet;
--   * the v3 Produce response has the v2 layout (plus a trailing throttle time that
--     lua-resty-kafka never reads), so it is decoded as v2;
--   * Kafka error codes unknown to 0.07 get a name ("KafkaError35") so its error path no
--     longer crashes and the error reaches the caller.
-- api_version 0/1/2 keep their original behaviour.
--
-- Cost: the CRC-32C is computed in Lua (LuaJIT, slicing-by-8 over FFI pointers), where
-- librdkafka uses the SSE4.2 instruction; the 0.07 formats would have used nginx's C crc32.
-- Compression: none (0.07 has none at all, and neither has this encoder).

local ffi = require "ffi"
local bit = require "bit"
local request = require "nginx.kafka.request"
local response = require "nginx.kafka.response"
local errors = require "nginx.kafka.errors"

local band, bor, bxor, bnot, lshift, rshift, tobit = bit.band, bit.bor, bit.bxor, bit.bnot,
    bit.lshift, bit.rshift, bit.tobit
local char, concat, floor = string.char, table.concat, math.floor
local cast = ffi.cast

local _M = {}

local PRODUCE = request.ProduceRequest
local RECORD_BATCH_API_VERSION = 3

-- ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8 -----------------

-- Eight separate arrays, each held by an upvalue: a reference into one 2-D cdata array
-- (T[k]) would not keep that array alive, and the GC would free the tables under our feet.
local T = {}
for k = 0, 7 do
    T[k] = ffi.new("int32_t[256]")
end
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if band(c, 1) ~= 0 then
            c = bxor(rshift(c, 1), tobit(0x82F63B78))
        else
            c = rshift(c, 1)
        end
    end
    T[0][i] = c
end
for k = 1, 7 do
    for i = 0, 255 do
        local prev = T[k - 1][i]
        T[k][i] = bxor(rshift(prev, 8), T[0][band(prev, 0xff)])
    end
end
local T0, T1, T2, T3, T4, T5, T6, T7 = T[0], T[1], T[2], T[3], T[4], T[5], T[6], T[7]

-- crc: the running (pre-inverted) state; returns the new state. Bytes are loaded one by one
-- (no 4-byte loads) and every table index is masked to 0..255.
local function crc32c_update(crc, s)
    local n = #s
    local p = cast("const uint8_t*", s)
    local i = 0
    local stop8 = n - 8
    while i <= stop8 do
        local lo = bxor(crc, bor(p[i], lshift(p[i + 1], 8), lshift(p[i + 2], 16),
                                 lshift(p[i + 3], 24)))
        crc = bxor(T7[band(lo, 0xff)], T6[band(rshift(lo, 8), 0xff)],
                   T5[band(rshift(lo, 16), 0xff)], T4[band(rshift(lo, 24), 0xff)],
                   T3[p[i + 4]], T2[p[i + 5]], T1[p[i + 6]], T0[p[i + 7]])
        i = i + 8
    end
    while i < n do
        crc = bxor(rshift(crc, 8), T0[band(bxor(crc, p[i]), 0xff)])
        i = i + 1
    end
    return crc
end

-- CRC-32C of the concatenation of the strings parts[first..last].
local function crc32c(parts, first, last)
    local crc = tobit(0xffffffff)
    for i = first, last do
        crc = crc32c_update(crc, parts[i])
    end
    return bnot(crc)
end
_M.crc32c = function(s) return crc32c({ s }, 1, 1) end
_M.crc32c_parts = crc32c
_M.crc32c_parts = crc32c

-- ---- big-endian integers and varints -------------------------------------------------------

local function be16(v)
    return char(band(rshift(v, 8), 0xff), band(v, 0xff))
end

local function be32(v)
    return char(band(rshift(v, 24), 0xff), band(rshift(v, 16), 0xff),
                band(rshift(v, 8), 0xff), band(v, 0xff))
end

-- v: a Lua number, |v| < 2^53 (milliseconds, -1)
local function be64(v)
    local hi = floor(v / 4294967296)
    local lo = v - hi * 4294967296
    return be32(tobit(hi)) .. be32(tobit(lo))
end

-- Zig-zag varint (Kafka's signed varint/varlong) of an integer |v| < 2^52.
local function varint(v)
    local z = v >= 0 and v * 2 or -v * 2 - 1
    if z < 128 then
        return char(z)
    end
    local out, n = {}, 0
    while z >= 128 do
        n = n + 1
        out[n] = char(z % 128 + 128)
        z = floor(z / 128)
    end
    out[n + 1] = char(z)
    return concat(out)
end

-- ---- request: Produce v3 header and record batches -----------------------------------------

local orig_new = request.new
function request.new(self, apikey, correlation_id, client_id, api_version)
    local req = orig_new(self, apikey, correlation_id, client_id, api_version)
    if apikey == PRODUCE and api_version == RECORD_BATCH_API_VERSION then
        req:int16(-1)   -- TransactionalId: null string (Produce v3+), then acks, timeout, ...
    end
    return req
end

local orig_message_set = request.message_set
-- messages = { key1, value1, key2, value2, ... }, index = 2 * count.
-- Writes Records (BYTES: int32 size + one record batch) where 0.07 wrote MessageSetSize +
-- MessageSet; the request is a table of strings, so the values are not copied here.
function request.message_set(self, messages, index)
    if self.api_key ~= PRODUCE or self.api_version ~= RECORD_BATCH_API_VERSION then
        return orig_message_set(self, messages, index)
    end
    index = index or #messages
    local count = index / 2
    local now_ms = floor(ngx.now() * 1000)

    -- parts[1] is the 40 bytes after the CRC field (attributes .. record count); the CRC
    -- covers parts[1..n].
    local parts, n = {}, 1
    local records_size = 0
    for i = 1, index, 2 do
        local key, value = messages[i], messages[i + 1]
        local key_len = key and #key or -1
        local value_len = #value
        local head = char(0)                     -- record attributes
            .. char(0)                           -- timestampDelta (varlong 0)
            .. varint((i - 1) / 2)               -- offsetDelta
            .. varint(key_len) .. (key or "")
            .. varint(value_len)
        local body_len = #head + value_len + 1   -- + headers count (varint 0)
        local len_prefix = varint(body_len)
        parts[n + 1] = len_prefix .. head
        parts[n + 2] = value
        parts[n + 3] = "\0"
        n = n + 3
        records_size = records_size + #len_prefix + body_len
    end
    parts[1] = be16(0)                  -- attributes: no compression, CreateTime
        .. be32(count - 1)              -- lastOffsetDelta
        .. be64(now_ms)                 -- firstTimestamp
        .. be64(now_ms)                 -- maxTimestamp
        .. be64(-1)                     -- producerId (not idempotent)
        .. be16(-1)                     -- producerEpoch
        .. be32(-1)                     -- baseSequence
        .. be32(count)                  -- records count

    local crc = crc32c(parts, 1, n)
    local batch_len = 4 + 1 + 4 + 40 + records_size      -- bytes after the batchLength field
    local batch_size = 12 + batch_len

    local req = self._req
    local off = self.offset
    req[off] = be32(batch_size)                          -- Records: BYTES length
    req[off + 1] = be64(0)                               -- baseOffset
        .. be32(batch_len)                               -- batchLength
        .. be32(-1)                                      -- partitionLeaderEpoch
        .. char(2)                                       -- magic
        .. be32(crc)                                     -- crc
    for i = 1, n do
        req[off + 1 + i] = parts[i]
    end
    self.offset = off + n + 2
    self.len = self.len + 4 + batch_size
end

-- ---- response: v3 decodes like v2 ----------------------------------------------------------

local orig_response_new = response.new
function response.new(self, str, api_version)
    if api_version == RECORD_BATCH_API_VERSION then
        api_version = 2
    end
    return orig_response_new(self, str, api_version)
end

-- ---- errors: names for codes 0.07 does not know --------------------------------------------

local extra = {
    [13] = "NetworkException", [17] = "InvalidTopicException",
    [18] = "RecordListTooLarge", [19] = "NotEnoughReplicas",
    [20] = "NotEnoughReplicasAfterAppend", [21] = "InvalidRequiredAcks",
    [29] = "TopicAuthorizationFailed", [35] = "UnsupportedVersion",
    [42] = "InvalidRequest", [43] = "UnsupportedForMessageFormat",
    [87] = "InvalidRecord",
}
for code, name in pairs(extra) do
    if errors[code] == nil then
        errors[code] = name
    end
end
setmetatable(errors, { __index = function(_, code) return "KafkaError" .. tostring(code) end })

_M.API_VERSION = RECORD_BATCH_API_VERSION
return _M
