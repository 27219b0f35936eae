/* Dotted-quad text for IPv4 addresses (<netstack/addr.h>). */
#include <stdio.h>

#include <netstack/addr.h>

bool ns_ip4_parse(const char *text, ns_ip4 *out)
{
        uint32_t v = 0;
        const char *p = text;
        if (!p)
                return false;
        for (int part = 0; part < 4; part++) {
                unsigned n = 0;
                int digits = 0;
                while (*p >= '0' && *p <= '9') {
                        n = n * 10 + (unsigned)(*p - '0');
                        if (++digits > 3 || n > 255)
                                return false;
                        p++;
                }
                if (digits == 0)
                        return false;
                v = v << 8 | n;
                if (part < 3) {
                        if (*p != '.')
                                return false;
                        p++;
                }
        }
        if (*p != '\0')
                return false;
        *out = v;
        return true;
}

char *ns_ip4_format(ns_ip4 a, char *buf)
{
        snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
        return buf;
}
