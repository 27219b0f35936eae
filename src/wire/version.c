/*
 * ns_version(): the version this library was built as, from the same
 * header embedders compile against (include/netstack/version.h).
 */
#include <netstack/version.h>

const char *ns_version(void)
{
        return NS_VERSION_STRING;
}

unsigned ns_version_number(void)
{
        return NS_VERSION_NUMBER;
}
