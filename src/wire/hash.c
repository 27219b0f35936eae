/* Jenkins 3-word hash; see hash.h for the contract. */
#include "wire/hash.h"

static uint32_t rol32(uint32_t v, unsigned shift)
{
        return (v << shift) | (v >> ((32u - shift) & 31u));
}

uint32_t ns_hash3_words(uint32_t a, uint32_t b, uint32_t c, uint32_t initval)
{
        /* JHASH_INITVAL plus the byte length of three words, as jhash_3words. */
        initval += 0xdeadbeefu + (3u << 2);
        a += initval;
        b += initval;
        c += initval;

        /* __jhash_final(a, b, c) */
        c ^= b;
        c -= rol32(b, 14);
        a ^= c;
        a -= rol32(c, 11);
        b ^= a;
        b -= rol32(a, 25);
        c ^= b;
        c -= rol32(b, 16);
        a ^= c;
        a -= rol32(c, 4);
        b ^= a;
        b -= rol32(a, 14);
        c ^= b;
        c -= rol32(b, 24);
        return c;
}
