/* ICMPv4 codec; see icmp4.h for the contract. */
#include "wire/icmp4.h"

#include <string.h>

#include <netstack/checksum.h>

enum ns_icmp4_invalid ns_icmp4_validate(const uint8_t *p, size_t len)
{
        if (len < NS_ICMP4_HDR)
                return NS_ICMP4_TOO_SHORT;
        switch (ns_icmp4_type(p)) {
        case NS_ICMP4_TIMESTAMP:
        case NS_ICMP4_TIMESTAMP_REPLY:
                if (len < NS_ICMP4_TIMESTAMP_LEN)
                        return NS_ICMP4_TIMESTAMP_SHORT;
                break;
        case NS_ICMP4_ADDR_MASK:
        case NS_ICMP4_ADDR_MASK_REPLY:
                if (len < NS_ICMP4_ADDR_MASK_LEN)
                        return NS_ICMP4_ADDR_MASK_SHORT;
                break;
        default:
                break;
        }
        return NS_ICMP4_VALID;
}

const char *ns_icmp4_invalid_name(enum ns_icmp4_invalid why)
{
        switch (why) {
#define NS_ICMP4_CASE(name, str) \
        case name:               \
                return str;
                NS_ICMP4_INVALID_TABLE(NS_ICMP4_CASE)
#undef NS_ICMP4_CASE
        }
        return "unknown";
}

bool ns_icmp4_checksum_ok(const uint8_t *p, size_t len)
{
        return ns_checksum(p, len) == 0;
}

uint16_t ns_icmp4_compute_checksum(const uint8_t *p, size_t len)
{
        if (len <= 4)
                return ns_checksum(p, len < 2 ? len : 2);
        /* Skip bytes 2..3 without writing them. */
        uint32_t s = ns_csum_partial(p, 2, 0);
        s = ns_csum_combine(s, ns_csum_partial(p + 4, len - 4, 0), 2);
        return ns_csum_finish(s);
}

void ns_icmp4_fill_checksum(uint8_t *p, size_t len)
{
        ns_icmp4_set_checksum(p, ns_icmp4_compute_checksum(p, len));
}

bool ns_icmp4_is_error(uint8_t type)
{
        switch (type) {
        case NS_ICMP4_DEST_UNREACH:
        case NS_ICMP4_SOURCE_QUENCH:
        case NS_ICMP4_REDIRECT:
        case NS_ICMP4_TIME_EXCEEDED:
        case NS_ICMP4_PARAM_PROBLEM:
                return true;
        default:
                return false;
        }
}

bool ns_icmp4_may_provoke_error(uint8_t type)
{
        switch (type) {
        case NS_ICMP4_ECHO_REPLY:
        case NS_ICMP4_ECHO:
        case NS_ICMP4_TIMESTAMP:
        case NS_ICMP4_TIMESTAMP_REPLY:
        case NS_ICMP4_INFO_REQUEST:
        case NS_ICMP4_INFO_REPLY:
                return true;
        default:
                return false;
        }
}

static size_t emit(uint8_t *out, size_t cap, uint8_t type, uint8_t code, uint32_t rest,
                   const uint8_t *body, size_t body_len)
{
        if (cap < NS_ICMP4_HDR || body_len > cap - NS_ICMP4_HDR || (body_len && !body))
                return 0;
        if (body_len)
                memmove(out + NS_ICMP4_HDR, body, body_len);
        ns_icmp4_set_type(out, type);
        ns_icmp4_set_code(out, code);
        ns_icmp4_set_checksum(out, 0);
        ns_icmp4_set_rest(out, rest);
        ns_icmp4_fill_checksum(out, NS_ICMP4_HDR + body_len);
        return NS_ICMP4_HDR + body_len;
}

size_t ns_icmp4_emit_echo(uint8_t *out, size_t cap, uint8_t type, uint16_t id, uint16_t seq,
                          const uint8_t *data, size_t data_len)
{
        return emit(out, cap, type, 0, (uint32_t)id << 16 | seq, data, data_len);
}

size_t ns_icmp4_emit_error(uint8_t *out, size_t cap, uint8_t type, uint8_t code, uint32_t rest,
                           const uint8_t *quote, size_t quote_len)
{
        return emit(out, cap, type, code, rest, quote, quote_len);
}
