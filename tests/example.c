/*
 * example: the EXAMPLES program of libvineyardfs(3), built against the
 * installed library by "make installcheck" (pkg-config), so the page's
 * program and the installed files stay right.
 */
#include <stdio.h>
#include <vineyardfs.h>

int
main(void)
{
	double m[6] = { 1, 2, 3, 4, 5, 6 };
	uint64_t shape[2] = { 2, 3 };
	char id[VFS_ID_SIZE];
	struct vfs_tensor t;
	vfs_t *v;
	int rc;

	if ((rc = vfs_open(NULL, &v)) != 0)
		return 1;
	if ((rc = vfs_put_tensor(v, "float64", 2, shape, m, "m", id)) != 0 ||
	    (rc = vfs_get_tensor(v, "m", &t)) != 0) {
		fprintf(stderr, "%s\n", vfs_error(v));
		return 1;
	}
	printf("%s: %s %llux%llu, m[1][2] = %g\n", id, t.value_type, (unsigned long long)t.shape[0],
	    (unsigned long long)t.shape[1], ((const double *)t.map.data)[5]);
	vfs_unmap(&t.map);
	vfs_close(v);
	return 0;
}
