/* ns_err: every code has a distinct name and message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <netstack/err.h>

static const int all_codes[] = {
#define NS_ERR_VALUE(name, value, msg) value,
        NS_ERR_TABLE(NS_ERR_VALUE)
#undef NS_ERR_VALUE
};

static void test_names_and_messages_are_distinct(void **state)
{
        (void)state;
        size_t n = sizeof(all_codes) / sizeof(all_codes[0]);
        for (size_t i = 0; i < n; i++) {
                assert_true(all_codes[i] < 0);
                assert_string_not_equal(ns_strerror(all_codes[i]), "unknown error");
                assert_string_not_equal(ns_err_name(all_codes[i]), "UNKNOWN");
                for (size_t j = i + 1; j < n; j++) {
                        assert_int_not_equal(all_codes[i], all_codes[j]);
                        assert_string_not_equal(ns_err_name(all_codes[i]),
                                                ns_err_name(all_codes[j]));
                }
        }
}

static void test_specific_codes(void **state)
{
        (void)state;
        assert_string_equal(ns_err_name(NS_ERR_NO_ROUTE), "NO_ROUTE");
        assert_string_equal(ns_strerror(NS_ERR_MESSAGE_TOO_LONG), "message too long");
        assert_string_equal(ns_strerror(0), "success");
        assert_string_equal(ns_err_name(0), "OK");
        assert_string_equal(ns_strerror(-9999), "unknown error");
        assert_string_equal(ns_err_name(12345), "UNKNOWN");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_and_messages_are_distinct),
                cmocka_unit_test(test_specific_codes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
