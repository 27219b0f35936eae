/*
 * Loads and stores of network-order integers from byte arrays. Wire code
 * never overlays structs on packet bytes; every multi-byte field is read and
 * written through these helpers, which compile to a single bswap'd access.
 */
#ifndef NS_WIRE_BYTES_H
#define NS_WIRE_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t ns_load_be16(const uint8_t *p)
{
        return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t ns_load_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void ns_store_be16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}

static inline void ns_store_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

#endif
