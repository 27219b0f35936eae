/**
 * @file
 * The version of netstack-c these headers belong to, and of the library
 * actually linked (ns_version()), which may differ when a program runs
 * against a newer shared library than it was built with.
 *
 * The numbers follow Semantic Versioning: the shared library's soname is
 * its major version, and within one major version the API and ABI only
 * grow. The single source is `project(netstack VERSION ...)` in the top
 * CMakeLists.txt: configuring fails when this header says otherwise, so
 * the header, the library, netstack.pc and the CMake package always agree.
 */
#ifndef NETSTACK_VERSION_H
#define NETSTACK_VERSION_H

#include <netstack/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version: bumped on an incompatible API or ABI change. */
#define NS_VERSION_MAJOR 0
/** Minor version: bumped when the API grows compatibly. */
#define NS_VERSION_MINOR 1
/** Patch version: bumped for fixes that change no API. */
#define NS_VERSION_PATCH 0

/** Expands to the version as one integer, 0xMMmmpp, for preprocessor comparisons. */
#define NS_VERSION_ENCODE(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))

/** These headers' version as one integer (see NS_VERSION_ENCODE()). */
#define NS_VERSION_NUMBER NS_VERSION_ENCODE(NS_VERSION_MAJOR, NS_VERSION_MINOR, NS_VERSION_PATCH)

/** Helper of NS_VERSION_STRING: turns a number into a string literal. */
#define NS_VERSION_STR_(x) #x
/** Helper of NS_VERSION_STRING: expands x before quoting it. */
#define NS_VERSION_XSTR_(x) NS_VERSION_STR_(x)

/** These headers' version as a string literal, "MAJOR.MINOR.PATCH". */
#define NS_VERSION_STRING                  \
        NS_VERSION_XSTR_(NS_VERSION_MAJOR) \
        "." NS_VERSION_XSTR_(NS_VERSION_MINOR) "." NS_VERSION_XSTR_(NS_VERSION_PATCH)

/**
 * The linked library's version, "MAJOR.MINOR.PATCH": a static string,
 * never NULL. Compare it with NS_VERSION_STRING to detect a program
 * running against another build than it was compiled with.
 */
NS_API const char *ns_version(void);

/** The linked library's version as one integer (see NS_VERSION_ENCODE()). */
NS_API unsigned ns_version_number(void);

#ifdef __cplusplus
}
#endif

#endif
