/* check_core: one Check suite per core module, run by check_core.c. */
#ifndef VFS_CHECK_CORE_H
#define VFS_CHECK_CORE_H

#include <check.h>

Suite *id_suite(void);

#endif
