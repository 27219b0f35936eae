/* Error names and messages, generated from the table in <netstack/err.h>. */
#include <netstack/err.h>

const char *ns_strerror(int err)
{
        switch (err) {
        case 0:
                return "success";
#define NS_ERR_MSG(name, value, msg) \
        case value:                  \
                return msg;
                NS_ERR_TABLE(NS_ERR_MSG)
#undef NS_ERR_MSG
        default:
                return "unknown error";
        }
}

const char *ns_err_name(int err)
{
        switch (err) {
        case 0:
                return "OK";
#define NS_ERR_NAME(name, value, msg) \
        case value:                   \
                return #name;
                NS_ERR_TABLE(NS_ERR_NAME)
#undef NS_ERR_NAME
        default:
                return "UNKNOWN";
        }
}
