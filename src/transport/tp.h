/*
 * Helpers shared by the transport endpoints (UDP, ping, raw): the map from
 * ICMP errors to the error codes a user sees, and the hook through which
 * raw endpoints see copies of datagrams another transport handles.
 */
#ifndef NS_TRANSPORT_TP_H
#define NS_TRANSPORT_TP_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack/err.h>

#include "core/stack.h"

/*
 * The error Linux reports for an ICMP error (icmp_err_convert[] in
 * net/ipv4/icmp.c): port unreachable is "connection refused", fragmentation
 * needed "message too long", time exceeded "host unreachable", parameter
 * problem EPROTO (here: malformed header).
 */
static inline int ns__tp_icmp_error_code(uint8_t type, uint8_t code)
{
        switch (type) {
        case 3: /* destination unreachable */
                switch (code) {
                case 0: /* net */
                case 6:
                case 11:
                        return NS_ERR_NETWORK_UNREACHABLE;
                case 2:
                        return NS_ERR_PROTOCOL_UNREACHABLE;
                case 3:
                        return NS_ERR_CONNECTION_REFUSED;
                case 4:
                        return NS_ERR_MESSAGE_TOO_LONG;
                case 9:
                case 10:
                case 13:
                        return NS_ERR_NOT_PERMITTED;
                default:
                        return NS_ERR_HOST_UNREACHABLE;
                }
        case 11: /* time exceeded */
                return NS_ERR_HOST_UNREACHABLE;
        case 12: /* parameter problem */
                return NS_ERR_MALFORMED_HEADER;
        default:
                return NS_ERR_HOST_UNREACHABLE;
        }
}

/* ---- raw endpoint taps (raw.c) ---- */

/*
 * The part of the raw module's state other transports look at: per IP
 * protocol, the number of open raw endpoints. s->raw points at a struct
 * whose first member is this.
 */
struct ns__raw_tap_view {
        uint32_t n_eps[256];
};

/** True when raw endpoints for proto exist, so a copy must be offered. */
static inline bool ns__raw_wants(const struct ns_stack *s, uint8_t proto)
{
        const struct ns__raw_tap_view *v = (const struct ns__raw_tap_view *)s->raw;
        return v && v->n_eps[proto] != 0;
}

/**
 * Offers pkt (borrowed; data at the transport header, network header
 * marked) to every raw endpoint of proto that matches it, as Linux's
 * raw_local_deliver() does before the protocol's own handler. Returns true
 * when at least one endpoint received it. Call only when ns__raw_wants().
 */
bool ns__raw_tap(struct ns_stack *s, struct ns_nic *nic, const struct ns_pkt *pkt, uint8_t proto);

#endif
