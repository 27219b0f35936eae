/*
 * RFC 1071 Internet checksum. Reference implementation; the fast paths are
 * being written against the same tests.
 */
#include <netstack/checksum.h>

static uint32_t fold32(uint64_t s)
{
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return (uint32_t)s;
}

uint32_t ns_csum_partial(const void *data, size_t len, uint32_t initial)
{
        const uint8_t *p = data;
        uint64_t s = initial;
        while (len >= 2) {
                s += (uint32_t)p[0] << 8 | p[1];
                p += 2;
                len -= 2;
        }
        if (len)
                s += (uint32_t)p[0] << 8;
        return fold32(s);
}

uint32_t ns_csum_combine(uint32_t a, uint32_t b, size_t a_len)
{
        if (a_len & 1)
                b = ((b & 0xff) << 8) | (b >> 8);
        return fold32((uint64_t)a + b);
}

uint16_t ns_checksum(const void *data, size_t len)
{
        return ns_csum_finish(ns_csum_partial(data, len, 0));
}

uint16_t ns_csum_update16(uint16_t old_csum, uint16_t old_word, uint16_t new_word)
{
        uint64_t s = (uint16_t)~old_csum;
        s += (uint16_t)~old_word;
        s += new_word;
        return (uint16_t)~fold32(s);
}

uint32_t ns_csum_pseudo_ip4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
        uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
        s += proto;
        s += len;
        return fold32(s);
}
