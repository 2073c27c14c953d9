/*
 * check_core: runs the unit suites of the core modules (no FUSE mount).
 */
#include "config.h"

#include <stdlib.h>

#include "tests/check_core.h"

int
main(void)
{
	SRunner *sr = srunner_create(id_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
