/* IGMP codec; see igmp.h for the contract. */
#include "wire/igmp.h"

#include <netstack/checksum.h>

enum ns_igmp_query_version ns_igmp_query_version(size_t len, uint8_t max_resp)
{
        if (len == NS_IGMP_LEN)
                return max_resp == 0 ? NS_IGMP_QUERY_V1 : NS_IGMP_QUERY_V2;
        if (len >= NS_IGMPV3_QUERY_MIN)
                return NS_IGMP_QUERY_V3;
        return NS_IGMP_QUERY_INVALID;
}

static enum ns_igmp_invalid validate_report(const uint8_t *p, size_t len)
{
        struct ns_igmpv3_rec_iter it;
        struct ns_igmpv3_rec r;
        enum ns_igmpv3_rec_result res;
        ns_igmpv3_rec_iter_init(&it, p, len);
        while ((res = ns_igmpv3_rec_next(&it, &r)) == NS_IGMPV3_REC_OK)
                ;
        return res == NS_IGMPV3_REC_DONE ? NS_IGMP_VALID : NS_IGMP_RECORD_TRUNCATED;
}

enum ns_igmp_invalid ns_igmp_validate(const uint8_t *p, size_t len)
{
        if (len < NS_IGMP_LEN)
                return NS_IGMP_TOO_SHORT;
        switch (ns_igmp_type(p)) {
        case NS_IGMP_QUERY:
                if (len == NS_IGMP_LEN)
                        return NS_IGMP_VALID;
                if (len < NS_IGMPV3_QUERY_MIN)
                        return NS_IGMP_QUERY_BAD_LEN;
                if ((size_t)ns_igmpv3_query_nsources(p) * 4 > len - NS_IGMPV3_QUERY_MIN)
                        return NS_IGMP_SOURCES_TRUNCATED;
                return NS_IGMP_VALID;
        case NS_IGMP_V3_REPORT:
                return validate_report(p, len);
        default:
                return NS_IGMP_VALID;
        }
}

const char *ns_igmp_invalid_name(enum ns_igmp_invalid why)
{
        switch (why) {
#define NS_IGMP_CASE(name, str) \
        case name:              \
                return str;
                NS_IGMP_INVALID_TABLE(NS_IGMP_CASE)
#undef NS_IGMP_CASE
        }
        return "unknown";
}

bool ns_igmp_checksum_ok(const uint8_t *p, size_t len)
{
        return ns_checksum(p, len) == 0;
}

uint16_t ns_igmp_compute_checksum(const uint8_t *p, size_t len)
{
        if (len < 4)
                return ns_checksum(p, len < 2 ? len : 2);
        uint32_t s = ns_csum_partial(p, 2, 0);
        s = ns_csum_combine(s, ns_csum_partial(p + 4, len - 4, 0), 2);
        return ns_csum_finish(s);
}

void ns_igmpv3_rec_iter_init(struct ns_igmpv3_rec_iter *it, const uint8_t *msg, size_t len)
{
        it->msg = msg;
        it->len = len;
        it->pos = NS_IGMP_LEN;
        it->left = len >= NS_IGMP_LEN ? ns_igmpv3_report_nrecords(msg) : 0;
        it->bad = len < NS_IGMP_LEN;
}

enum ns_igmpv3_rec_result ns_igmpv3_rec_next(struct ns_igmpv3_rec_iter *it,
                                             struct ns_igmpv3_rec *out)
{
        if (it->bad)
                return NS_IGMPV3_REC_TRUNCATED;
        if (it->left == 0)
                return NS_IGMPV3_REC_DONE;
        size_t room = it->len - it->pos;
        const uint8_t *r = it->msg + it->pos;
        if (room < NS_IGMPV3_REC_HDR) {
                it->bad = true;
                return NS_IGMPV3_REC_TRUNCATED;
        }
        uint8_t aux = r[1];
        uint16_t n = ns_load_be16(r + 2);
        /* At most 8 + 65535*4 + 255*4: no overflow in size_t. */
        size_t need = NS_IGMPV3_REC_HDR + 4 * (size_t)n + 4 * (size_t)aux;
        if (need > room) {
                it->bad = true;
                return NS_IGMPV3_REC_TRUNCATED;
        }
        out->type = r[0];
        out->aux_words = aux;
        out->nsources = n;
        out->group = ns_load_be32(r + 4);
        out->sources = r + NS_IGMPV3_REC_HDR;
        out->aux = r + NS_IGMPV3_REC_HDR + 4 * (size_t)n;
        it->pos += need;
        it->left--;
        return NS_IGMPV3_REC_OK;
}

static void fill_checksum(uint8_t *p, size_t len)
{
        ns_store_be16(p + 2, ns_igmp_compute_checksum(p, len));
}

size_t ns_igmp_emit(uint8_t *out, size_t cap, uint8_t type, uint8_t max_resp, ns_ip4 group)
{
        if (cap < NS_IGMP_LEN)
                return 0;
        out[0] = type;
        out[1] = max_resp;
        ns_store_be16(out + 2, 0);
        ns_store_be32(out + 4, group);
        fill_checksum(out, NS_IGMP_LEN);
        return NS_IGMP_LEN;
}

size_t ns_igmpv3_emit_query(uint8_t *out, size_t cap, uint8_t max_resp_code, ns_ip4 group,
                            bool s_flag, uint8_t qrv, uint8_t qqic, const ns_ip4 *sources,
                            uint16_t nsources)
{
        size_t len = NS_IGMPV3_QUERY_MIN + 4 * (size_t)nsources;
        if (len > cap || (nsources && !sources))
                return 0;
        out[0] = NS_IGMP_QUERY;
        out[1] = max_resp_code;
        ns_store_be16(out + 2, 0);
        ns_store_be32(out + 4, group);
        out[8] = (uint8_t)((s_flag ? 0x08 : 0) | (qrv & 0x07));
        out[9] = qqic;
        ns_store_be16(out + 10, nsources);
        for (uint16_t i = 0; i < nsources; i++)
                ns_store_be32(out + NS_IGMPV3_QUERY_MIN + 4 * (size_t)i, sources[i]);
        fill_checksum(out, len);
        return len;
}

size_t ns_igmpv3_emit_report(uint8_t *out, size_t cap, const struct ns_igmpv3_rec_out *recs,
                             uint16_t nrecs)
{
        size_t len = NS_IGMP_LEN;
        for (uint16_t i = 0; i < nrecs; i++) {
                if (recs[i].nsources && !recs[i].sources)
                        return 0;
                len += NS_IGMPV3_REC_HDR + 4 * (size_t)recs[i].nsources;
        }
        if (len > cap)
                return 0;
        out[0] = NS_IGMP_V3_REPORT;
        out[1] = 0;
        ns_store_be16(out + 2, 0);
        ns_store_be16(out + 4, 0);
        ns_store_be16(out + 6, nrecs);
        uint8_t *r = out + NS_IGMP_LEN;
        for (uint16_t i = 0; i < nrecs; i++) {
                r[0] = recs[i].type;
                r[1] = 0;
                ns_store_be16(r + 2, recs[i].nsources);
                ns_store_be32(r + 4, recs[i].group);
                r += NS_IGMPV3_REC_HDR;
                for (uint16_t s = 0; s < recs[i].nsources; s++, r += 4)
                        ns_store_be32(r, recs[i].sources[s]);
        }
        fill_checksum(out, len);
        return len;
}
