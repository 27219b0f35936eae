/* IPv4 option processing; see options.h for the contract. */
#include "ipv4/options.h"

#include <string.h>

#include "wire/ipv4_opts.h"

#define OPTS_BASE 20 /* header offset of the option area */
#define OPTS_MAX  40 /* RFC 791: IHL 15 leaves 40 option bytes */

#define IP4_ADDR_LEN  4
#define TS_ENTRY      4 /* flag 0: a timestamp */
#define TS_ADDR_ENTRY 8 /* flags 1 and 3: an address, then a timestamp */

/* The seed's optionAction. */
enum action {
        ACT_REMOVE,  /* leave the option out of the replacement */
        ACT_PROCESS, /* check it and record into the copy */
        ACT_VERIFY,  /* check it and copy it unchanged */
        ACT_PASS,    /* copy it without checking */
};

struct actions {
        enum action ts, rr, unknown;
};

/* The seed's optionUsage*.actions(). */
static struct actions actions_for(enum ns_opt_usage usage)
{
        switch (usage) {
        case NS_OPT_USAGE_VERIFY:
                return (struct actions){ ACT_VERIFY, ACT_VERIFY, ACT_REMOVE };
        case NS_OPT_USAGE_RECEIVE:
        case NS_OPT_USAGE_FORWARD:
                return (struct actions){ ACT_PROCESS, ACT_PROCESS, ACT_PASS };
        case NS_OPT_USAGE_ECHO:
                break;
        }
        return (struct actions){ ACT_PROCESS, ACT_PROCESS, ACT_REMOVE };
}

/*
 * Checks, and unless act is ACT_VERIFY updates, the Timestamp option at
 * opt (already copied to the replacement; the iterator guarantees a length
 * of at least 4 that lies inside the area). Returns 0, or the offset inside
 * the option of the byte at fault (1 length, 2 pointer, 3 overflow/flags).
 */
static uint8_t handle_timestamp(uint8_t *opt, enum action act, const struct ns_opt_ctx *ctx)
{
        uint8_t flags = ns_ipv4_opt_ts_flags(opt);
        unsigned entry;
        switch (flags) {
        case NS_IPV4_OPT_TS_ONLY:
                entry = TS_ENTRY;
                break;
        case NS_IPV4_OPT_TS_ADDR:
        case NS_IPV4_OPT_TS_PRESPEC:
                entry = TS_ADDR_ENTRY;
                break;
        default:
                /* RFC 791 defines flags 0, 1 and 3 only; Linux also rejects
                 * the rest at the flags byte. */
                return NS_IPV4_OPT_TS_OFLW_OFF;
        }

        /* RFC 791: "The smallest legal value is 5" (1-based, past the 4-byte
         * header). */
        unsigned ptr = ns_ipv4_opt_ts_pointer(opt);
        if (ptr < NS_IPV4_OPT_TS_MIN_PTR)
                return NS_IPV4_OPT_PTR_OFF;

        unsigned len = opt[NS_IPV4_OPT_LEN_OFF];
        if (ptr > len) {
                /*
                 * RFC 791: a full data area means the datagram goes on
                 * without a timestamp, but the overflow count is incremented;
                 * if the count itself overflows, the datagram is in error.
                 * Prespecified addresses (flag 3) have nobody left to stamp,
                 * so nothing changes (as gVisor).
                 */
                if (flags == NS_IPV4_OPT_TS_PRESPEC)
                        return 0;
                if (act == ACT_VERIFY)
                        return ns_ipv4_opt_ts_overflow(opt) == 0xf ? NS_IPV4_OPT_TS_OFLW_OFF : 0;
                return ns_ipv4_opt_ts_inc_overflow(opt) == 0 ? NS_IPV4_OPT_TS_OFLW_OFF : 0;
        }

        /*
         * RFC 791: some room but not enough for a whole entry is an error.
         * Whether the length or the pointer is misaligned, Linux
         * (__ip_options_compile) reports the pointer byte, and so do we.
         */
        unsigned next_slot = ptr - NS_IPV4_OPT_TS_MIN_PTR;
        if (next_slot + entry > len - NS_IPV4_OPT_TS_HDR)
                return NS_IPV4_OPT_PTR_OFF;

        if (act != ACT_PROCESS)
                return 0;
        /* The slot fits (checked above), so the stores below cannot fail. */
        switch (flags) {
        case NS_IPV4_OPT_TS_ONLY:
                (void)ns_ipv4_opt_ts_store(opt, ctx->ts_ms);
                break;
        case NS_IPV4_OPT_TS_ADDR:
                (void)ns_ipv4_opt_ts_store_addr(opt, ctx->local_addr, ctx->ts_ms);
                break;
        default: {
                /* RFC 791 flag 3: stamp only when the next prespecified
                 * address is ours; otherwise leave the option as it is
                 * (gVisor's UpdateTimestamp). Rewriting the matching
                 * address with itself is harmless. */
                ns_ip4 slot_addr;
                if (ns_ipv4_opt_ts_slot_addr(opt, &slot_addr) && slot_addr == ctx->local_addr)
                        (void)ns_ipv4_opt_ts_store_addr(opt, ctx->local_addr, ctx->ts_ms);
                break;
        }
        }
        return 0;
}

/*
 * Checks, and unless act is ACT_VERIFY updates, the Record Route option at
 * opt (already copied; length at least 3 inside the area). Returns 0 or
 * the offset inside the option of the byte at fault.
 */
static uint8_t handle_record_route(uint8_t *opt, enum action act, const struct ns_opt_ctx *ctx)
{
        unsigned len = opt[NS_IPV4_OPT_LEN_OFF];
        /* Room for at least one address after the 3-byte header. */
        if (len < NS_IPV4_OPT_RR_HDR + IP4_ADDR_LEN)
                return NS_IPV4_OPT_LEN_OFF;

        /* RFC 791: "the smallest legal value for the pointer is 4". */
        unsigned ptr = ns_ipv4_opt_rr_pointer(opt);
        if (ptr < NS_IPV4_OPT_RR_MIN_PTR)
                return NS_IPV4_OPT_PTR_OFF;

        /*
         * RFC 791: a full route data area means the datagram goes on without
         * recording. RFC 791 goes on to say an ICMP "may" be sent "in either
         * case"; like gVisor and Linux we do not report a full area.
         */
        if (ptr > len)
                return 0;

        /* Some room but not a whole address: the pointer byte, as Linux,
         * whichever of pointer and length is really wrong. */
        if (ptr + IP4_ADDR_LEN > len + 1)
                return NS_IPV4_OPT_PTR_OFF;

        if (act == ACT_PROCESS)
                (void)ns_ipv4_opt_rr_store(opt, ctx->local_addr);
        return 0;
}

static bool reject(struct ns_opt_problem *prob, size_t *out_len, uint8_t pointer, bool need_icmp)
{
        prob->present = true;
        prob->need_icmp = need_icmp;
        prob->pointer = pointer;
        *out_len = 0;
        return false;
}

bool ns__ipv4_process_options(const uint8_t *in, size_t in_len, enum ns_opt_usage usage,
                              struct ns_opt_ctx *ctx, uint8_t *out, size_t *out_len,
                              struct ns_opt_problem *prob)
{
        *prob = (struct ns_opt_problem){ 0 };
        *out_len = 0;
        memset(out, NS_IPV4_OPT_EOL, in_len);

        /* The seed refuses before looking at the options when it has no
         * address to record; no ICMP, nothing counted. */
        if (!ctx->have_local_addr)
                return reject(prob, out_len, 0, false);

        struct actions act = actions_for(usage);
        /* RFC 791 3.1: each option other than NOP appears at most once. */
        bool seen[256] = { false };
        size_t wp = 0; /* write position in out */

        struct ns_ipv4_opt_iter it;
        ns_ipv4_opt_iter_init(&it, in, in_len);
        for (;;) {
                struct ns_ipv4_opt o;
                enum ns_ipv4_opt_result r = ns_ipv4_opt_next(&it, &o);
                if (r == NS_IPV4_OPT_DONE)
                        break;
                if (r == NS_IPV4_OPT_MALFORMED)
                        return reject(prob, out_len, it.fault_ptr, true);

                if (o.type == NS_IPV4_OPT_NOP) {
                        out[wp++] = NS_IPV4_OPT_NOP;
                        continue;
                }
                if (o.type == NS_IPV4_OPT_EOL) {
                        /* What follows EOL is padding: never parsed or copied. */
                        out[wp++] = NS_IPV4_OPT_EOL;
                        break;
                }
                if (seen[o.type])
                        return reject(prob, out_len, o.offset, true);
                seen[o.type] = true;

                enum action a;
                uint8_t fault = 0;
                switch (o.type) {
                case NS_IPV4_OPT_TS:
                        ctx->seen.ts++;
                        a = act.ts;
                        if (a != ACT_REMOVE) {
                                memcpy(out + wp, o.opt, o.len);
                                fault = handle_timestamp(out + wp, a, ctx);
                        }
                        break;
                case NS_IPV4_OPT_RR:
                        ctx->seen.rr++;
                        a = act.rr;
                        if (a != ACT_REMOVE) {
                                memcpy(out + wp, o.opt, o.len);
                                fault = handle_record_route(out + wp, a, ctx);
                        }
                        break;
                default:
                        /* Router Alert (RFC 2113) has a counter of its own
                         * but is otherwise treated like any other option. */
                        if (o.type == NS_IPV4_OPT_ROUTER_ALERT)
                                ctx->seen.ra++;
                        else
                                ctx->seen.unknown++;
                        a = act.unknown;
                        if (a != ACT_REMOVE)
                                memcpy(out + wp, o.opt, o.len);
                        break;
                }
                if (fault != 0)
                        return reject(prob, out_len, (uint8_t)(o.offset + fault), true);
                if (a != ACT_REMOVE)
                        wp += o.len;
        }

        /* RFC 791 3.1: the header ends on a 32-bit boundary, padded with
         * zeros; out is already zero past wp. */
        size_t padded = (wp + 3) & ~(size_t)3;
        *out_len = padded < in_len ? padded : in_len;
        return true;
}
