/**
 * @file
 * Errors returned by the netstack-c API.
 *
 * Every API call that can fail returns 0 on success or a negative enum
 * ns_err. The table below is the single source of the codes, their names
 * and their messages (one X-macro, as libuv does).
 */
#ifndef NETSTACK_ERR_H
#define NETSTACK_ERR_H

#include <netstack/export.h>

/**
 * The error table: X(NAME, value, message) for each code NS_ERR_NAME.
 * Values are negative and stable; messages are what ns_strerror() returns.
 */
#define NS_ERR_TABLE(X)                                                  \
        X(MALFORMED_HEADER, -1, "malformed header")                      \
        X(MESSAGE_TOO_LONG, -2, "message too long")                      \
        X(INVALID_ENDPOINT_STATE, -3, "endpoint is in an invalid state") \
        X(BAD_ADDRESS, -4, "bad address")                                \
        X(BAD_LOCAL_ADDRESS, -5, "bad local address")                    \
        X(NO_ROUTE, -6, "no route to destination")                       \
        X(NOT_PERMITTED, -7, "operation not permitted")                  \
        X(UNKNOWN_PROTOCOL_OPTION, -8, "unknown protocol option")        \
        X(NO_BUFFER_SPACE, -9, "no buffer space available")              \
        X(INVALID_ARGUMENT, -10, "invalid argument")                     \
        X(DUPLICATE_ADDRESS, -11, "address already assigned")            \
        X(UNKNOWN_NIC, -12, "unknown NIC")                               \
        X(DUPLICATE_NIC, -13, "NIC already exists")                      \
        X(PORT_IN_USE, -14, "port already in use")                       \
        X(WOULD_BLOCK, -15, "operation would block")                     \
        X(CLOSED_FOR_SEND, -16, "endpoint closed for send")              \
        X(NOT_CONNECTED, -17, "endpoint not connected")                  \
        X(NO_MEMORY, -18, "out of memory")                               \
        X(HOST_UNREACHABLE, -19, "host unreachable")                     \
        X(NETWORK_UNREACHABLE, -20, "network unreachable")               \
        X(PORT_UNREACHABLE, -21, "port unreachable")                     \
        X(CONNECTION_REFUSED, -22, "connection refused")                 \
        X(NOT_SUPPORTED, -23, "operation not supported")                 \
        X(IO, -24, "input/output error on a link")                       \
        X(NO_DEVICE, -25, "no such device")                              \
        X(ACCESS_DENIED, -26, "permission denied")                       \
        X(TIMEOUT, -27, "timed out")                                     \
        X(ALREADY_EXISTS, -28, "already exists")                         \
        X(NOT_FOUND, -29, "not found")                                   \
        X(PROTOCOL_UNREACHABLE, -30, "protocol unreachable")

/** Error codes. Success is 0 and is not part of the enum. */
enum ns_err {
#define NS_ERR_ENUM(name, value, msg) NS_ERR_##name = (value),
        NS_ERR_TABLE(NS_ERR_ENUM)
#undef NS_ERR_ENUM
};

/**
 * Returns a human-readable message for an error code (0 gives "success").
 * Unknown codes give "unknown error". The string is static.
 */
NS_API const char *ns_strerror(int err);

/**
 * Returns the symbolic name of an error code without the NS_ERR_ prefix
 * ("NO_ROUTE"), "OK" for 0 and "UNKNOWN" for anything else.
 */
NS_API const char *ns_err_name(int err);

#endif
