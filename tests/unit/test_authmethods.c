/* Unit tests for policy/authmethods.c: AuthenticationMethods lists as
 * sshd checks them, and a login's progress through them (the order within
 * a list, several lists, lists with a disabled method skipped). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "policy/authmethods.h"

static void
test_canon(void **state)
{
	char buf[AM_MAX_CANON];
	const char *why;

	(void)state;
	assert_int_equal(am_list_canon("publickey,password", buf, sizeof(buf),
	    &why), 0);
	assert_string_equal(buf, "publickey,password");
	assert_int_equal(am_list_canon("keyboard-interactive", buf, sizeof(buf),
	    &why), 0);
	assert_int_equal(am_list_methods("publickey,keyboard-interactive"),
	    AM_PUBLICKEY | AM_KBDINT);
	assert_int_equal(am_list_canon("publickey,publickey", buf, sizeof(buf),
	    &why), 0);
	/* Refused: what sshd refuses, and what sshand does not have. */
	assert_int_equal(am_list_canon("publickey,", buf, sizeof(buf), &why),
	    -EINVAL);
	assert_int_equal(am_list_canon(",password", buf, sizeof(buf), &why),
	    -EINVAL);
	assert_int_equal(am_list_canon("pubkey", buf, sizeof(buf), &why),
	    -EINVAL);
	assert_int_equal(am_list_canon("none", buf, sizeof(buf), &why), -EINVAL);
	assert_int_equal(am_list_canon("any,password", buf, sizeof(buf), &why),
	    -EINVAL);
	assert_int_equal(am_list_canon("keyboard-interactive:pam", buf,
	    sizeof(buf), &why), -EINVAL);
	assert_int_equal(am_list_canon("gssapi-with-mic", buf, sizeof(buf),
	    &why), -EINVAL);
	assert_int_equal(am_list_canon("Password", buf, sizeof(buf), &why),
	    -EINVAL);	/* sshd's names are case-sensitive */
	assert_int_equal(am_list_canon("password,password,password,password,"
	    "password,password,password,password,password", buf, sizeof(buf),
	    &why), -EINVAL);
	assert_int_equal(am_list_canon("password,password,password,password,"
	    "password,password,password,password", buf, sizeof(buf), &why), 0);
}

static void
test_any(void **state)
{
	struct am_progress p;

	(void)state;
	assert_int_equal(am_start(&p, &(struct strlist){ NULL, 0 }, AM_ALL), 1);
	assert_int_equal(am_next(&p, AM_PASSWORD), AM_PASSWORD);
	assert_int_equal(am_done(&p, AM_PASSWORD), 1);
}

static void
test_order(void **state)
{
	char *v[] = { "publickey,password" };
	struct am_progress p;

	(void)state;
	assert_int_equal(am_start(&p, &(struct strlist){ v, 1 }, AM_ALL), 1);
	assert_int_equal(am_next(&p, AM_ALL), AM_PUBLICKEY);
	/* The password first is not allowed: the list has an order. */
	assert_int_equal(am_done(&p, AM_PASSWORD), -EPERM);
	assert_int_equal(am_done(&p, AM_PUBLICKEY), 0);
	assert_int_equal(am_next(&p, AM_ALL), AM_PASSWORD);
	assert_int_equal(am_done(&p, AM_PUBLICKEY), -EPERM);
	assert_int_equal(am_done(&p, AM_PASSWORD), 1);
}

static void
test_several(void **state)
{
	char *v[] = { "publickey,password", "publickey,keyboard-interactive",
	    "password,publickey" };
	struct am_progress p;

	(void)state;
	assert_int_equal(am_start(&p, &(struct strlist){ v, 3 }, AM_ALL), 3);
	assert_int_equal(am_next(&p, AM_ALL), AM_PUBLICKEY | AM_PASSWORD);
	assert_int_equal(am_done(&p, AM_PUBLICKEY), 0);
	/* Both lists that began with publickey moved on; the third has
	 * not, and its password would now finish the first. */
	assert_int_equal(am_next(&p, AM_ALL), AM_PASSWORD | AM_KBDINT);
	assert_int_equal(am_done(&p, AM_KBDINT), 1);
	/* Two keys in a row. */
	char *w[] = { "publickey,publickey" };
	assert_int_equal(am_start(&p, &(struct strlist){ w, 1 }, AM_ALL), 1);
	assert_int_equal(am_done(&p, AM_PUBLICKEY), 0);
	assert_int_equal(am_done(&p, AM_PUBLICKEY), 1);
}

static void
test_disabled(void **state)
{
	char *v[] = { "publickey,password", "publickey,keyboard-interactive" };
	struct am_progress p;

	(void)state;
	/* PasswordAuthentication no: that list is skipped, as sshd does. */
	assert_int_equal(am_start(&p, &(struct strlist){ v, 2 },
	    AM_PUBLICKEY | AM_KBDINT), 1);
	assert_int_equal(am_done(&p, AM_PUBLICKEY), 0);
	assert_int_equal(am_next(&p, AM_PUBLICKEY | AM_KBDINT), AM_KBDINT);
	assert_int_equal(am_done(&p, AM_PASSWORD), -EPERM);
	/* Nothing left: no login can succeed. */
	assert_int_equal(am_start(&p, &(struct strlist){ v, 2 }, AM_PUBLICKEY),
	    0);
	assert_int_equal(am_next(&p, AM_ALL), 0);
	assert_int_equal(am_done(&p, AM_PUBLICKEY), -EPERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon),
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_several),
		cmocka_unit_test(test_disabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
