/* IPv4 option iteration and accessors; see ipv4_opts.h for the contract. */
#include "wire/ipv4_opts.h"

#include <string.h>

#include "wire/bytes.h"

#define OPTS_BASE 20 /* header offset of the option area */
#define OPTS_MAX  40

void ns_ipv4_opt_iter_init(struct ns_ipv4_opt_iter *it, const uint8_t *opts, size_t len)
{
        it->area = opts;
        it->area_len = (uint8_t)(len > OPTS_MAX ? OPTS_MAX : len);
        it->pos = 0;
        it->done = false;
        it->cursor = OPTS_BASE;
        it->fault = NS_IPV4_OPT_FAULT_NONE;
        it->fault_ptr = 0;
}

static enum ns_ipv4_opt_result fail(struct ns_ipv4_opt_iter *it, enum ns_ipv4_opt_fault fault,
                                    uint8_t ptr)
{
        it->fault = fault;
        it->fault_ptr = ptr;
        return NS_IPV4_OPT_MALFORMED;
}

/* Length rules of the options we know (gVisor IPv4OptionIterator.Next). */
static enum ns_ipv4_opt_fault check_known_len(uint8_t type, uint8_t len)
{
        switch (type) {
        case NS_IPV4_OPT_RR:
                return len < NS_IPV4_OPT_RR_HDR ? NS_IPV4_OPT_FAULT_RR_SHORT
                                                : NS_IPV4_OPT_FAULT_NONE;
        case NS_IPV4_OPT_TS:
                return len < NS_IPV4_OPT_TS_HDR ? NS_IPV4_OPT_FAULT_TS_SHORT
                                                : NS_IPV4_OPT_FAULT_NONE;
        case NS_IPV4_OPT_ROUTER_ALERT:
                return len != NS_IPV4_OPT_RA_LEN ? NS_IPV4_OPT_FAULT_RA_LEN
                                                 : NS_IPV4_OPT_FAULT_NONE;
        default:
                return NS_IPV4_OPT_FAULT_NONE;
        }
}

enum ns_ipv4_opt_result ns_ipv4_opt_next(struct ns_ipv4_opt_iter *it, struct ns_ipv4_opt *out)
{
        if (it->fault != NS_IPV4_OPT_FAULT_NONE)
                return NS_IPV4_OPT_MALFORMED;
        if (it->done || it->pos >= it->area_len)
                return NS_IPV4_OPT_DONE;

        const uint8_t *o = it->area + it->pos;
        size_t left = (size_t)it->area_len - it->pos;
        it->cursor = (uint8_t)(OPTS_BASE + it->pos);
        uint8_t type = o[0];

        if (type == NS_IPV4_OPT_EOL || type == NS_IPV4_OPT_NOP) {
                it->pos++;
                if (type == NS_IPV4_OPT_EOL)
                        it->done = true;
                *out = (struct ns_ipv4_opt){ type, 1, it->cursor, o };
                return NS_IPV4_OPT_OK;
        }
        /* Every other option has a length byte, which must be present. */
        if (left < 2)
                return fail(it, NS_IPV4_OPT_FAULT_NO_LENGTH, it->cursor);
        uint8_t len = o[NS_IPV4_OPT_LEN_OFF];
        /* The length byte is at fault, but Linux points at the option start
         * and gVisor follows it; so do we. */
        if (len < 2)
                return fail(it, NS_IPV4_OPT_FAULT_LEN_SMALL, it->cursor);
        if (len > left)
                return fail(it, NS_IPV4_OPT_FAULT_LEN_BIG, it->cursor);
        enum ns_ipv4_opt_fault f = check_known_len(type, len);
        if (f != NS_IPV4_OPT_FAULT_NONE)
                return fail(it, f, (uint8_t)(it->cursor + NS_IPV4_OPT_LEN_OFF));
        it->pos = (uint8_t)(it->pos + len);
        *out = (struct ns_ipv4_opt){ type, len, it->cursor, o };
        return NS_IPV4_OPT_OK;
}

const char *ns_ipv4_opt_fault_name(enum ns_ipv4_opt_fault fault)
{
        switch (fault) {
#define NS_IPV4_OPT_FAULT_CASE(name, str) \
        case name:                        \
                return str;
                NS_IPV4_OPT_FAULT_TABLE(NS_IPV4_OPT_FAULT_CASE)
#undef NS_IPV4_OPT_FAULT_CASE
        }
        return "unknown";
}

/* True when a size-byte slot at the 1-based pointer lies inside the option
 * and after its min_ptr-1 header bytes. */
static bool slot_fits(const uint8_t *opt, uint8_t min_ptr, unsigned size)
{
        unsigned ptr = opt[NS_IPV4_OPT_PTR_OFF];
        return ptr >= min_ptr && ptr + size - 1 <= opt[NS_IPV4_OPT_LEN_OFF];
}

bool ns_ipv4_opt_rr_store(uint8_t *opt, ns_ip4 addr)
{
        if (!slot_fits(opt, NS_IPV4_OPT_RR_MIN_PTR, 4))
                return false;
        ns_store_be32(opt + opt[NS_IPV4_OPT_PTR_OFF] - 1, addr);
        opt[NS_IPV4_OPT_PTR_OFF] = (uint8_t)(opt[NS_IPV4_OPT_PTR_OFF] + 4);
        return true;
}

uint8_t ns_ipv4_opt_ts_inc_overflow(uint8_t *opt)
{
        opt[NS_IPV4_OPT_TS_OFLW_OFF] = (uint8_t)(opt[NS_IPV4_OPT_TS_OFLW_OFF] + 0x10);
        return ns_ipv4_opt_ts_overflow(opt);
}

bool ns_ipv4_opt_ts_store(uint8_t *opt, uint32_t ts)
{
        if (!slot_fits(opt, NS_IPV4_OPT_TS_MIN_PTR, 4))
                return false;
        ns_store_be32(opt + opt[NS_IPV4_OPT_PTR_OFF] - 1, ts);
        opt[NS_IPV4_OPT_PTR_OFF] = (uint8_t)(opt[NS_IPV4_OPT_PTR_OFF] + 4);
        return true;
}

bool ns_ipv4_opt_ts_store_addr(uint8_t *opt, ns_ip4 addr, uint32_t ts)
{
        if (!slot_fits(opt, NS_IPV4_OPT_TS_MIN_PTR, 8))
                return false;
        uint8_t *slot = opt + opt[NS_IPV4_OPT_PTR_OFF] - 1;
        ns_store_be32(slot, addr);
        ns_store_be32(slot + 4, ts);
        opt[NS_IPV4_OPT_PTR_OFF] = (uint8_t)(opt[NS_IPV4_OPT_PTR_OFF] + 8);
        return true;
}

bool ns_ipv4_opt_ts_slot_addr(const uint8_t *opt, ns_ip4 *addr)
{
        if (!slot_fits(opt, NS_IPV4_OPT_TS_MIN_PTR, 8))
                return false;
        *addr = ns_load_be32(opt + opt[NS_IPV4_OPT_PTR_OFF] - 1);
        return true;
}

size_t ns_ipv4_opt_put_router_alert(uint8_t *out, size_t cap)
{
        if (cap < NS_IPV4_OPT_RA_LEN)
                return 0;
        out[0] = NS_IPV4_OPT_ROUTER_ALERT;
        out[1] = NS_IPV4_OPT_RA_LEN;
        out[2] = 0;
        out[3] = 0;
        return NS_IPV4_OPT_RA_LEN;
}

size_t ns_ipv4_opt_put_rr(uint8_t *out, size_t cap, unsigned slots)
{
        size_t len = NS_IPV4_OPT_RR_HDR + 4 * (size_t)slots;
        if (slots == 0 || len > OPTS_MAX || len > cap)
                return 0;
        out[0] = NS_IPV4_OPT_RR;
        out[1] = (uint8_t)len;
        out[2] = NS_IPV4_OPT_RR_MIN_PTR;
        memset(out + NS_IPV4_OPT_RR_HDR, 0, len - NS_IPV4_OPT_RR_HDR);
        return len;
}

size_t ns_ipv4_opt_put_ts(uint8_t *out, size_t cap, uint8_t flags, unsigned slots,
                          const ns_ip4 *prespec)
{
        size_t entry;
        if (flags == NS_IPV4_OPT_TS_ONLY)
                entry = 4;
        else if (flags == NS_IPV4_OPT_TS_ADDR || flags == NS_IPV4_OPT_TS_PRESPEC)
                entry = 8;
        else
                return 0;
        if (flags == NS_IPV4_OPT_TS_PRESPEC && !prespec)
                return 0;
        size_t len = NS_IPV4_OPT_TS_HDR + entry * slots;
        if (slots == 0 || len > OPTS_MAX || len > cap)
                return 0;
        out[0] = NS_IPV4_OPT_TS;
        out[1] = (uint8_t)len;
        out[2] = NS_IPV4_OPT_TS_MIN_PTR;
        out[3] = flags;
        memset(out + NS_IPV4_OPT_TS_HDR, 0, len - NS_IPV4_OPT_TS_HDR);
        if (flags == NS_IPV4_OPT_TS_PRESPEC) {
                for (unsigned i = 0; i < slots; i++)
                        ns_store_be32(out + NS_IPV4_OPT_TS_HDR + 8 * i, prespec[i]);
        }
        return len;
}

size_t ns_ipv4_opt_pad(uint8_t *out, size_t len, size_t cap)
{
        size_t padded = (len + 3) & ~(size_t)3;
        if (padded > cap)
                return 0;
        memset(out + len, 0, padded - len);
        return padded;
}
