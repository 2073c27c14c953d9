/*
 * vec: room in a growable array. The array stays the caller's plain
 * pointer with a count and a capacity beside it; vec only makes room,
 * doubling the capacity so that n appends cost O(n) copies in all.
 */
#ifndef VFS_VEC_H
#define VFS_VEC_H

#include <stddef.h>

#define VEC_FIRST_CAP 8 /* items allocated the first time */

/* Make *arrayp (a pointer to an array of items of size bytes, *cap of them
 * allocated) hold at least want items: moved by realloc, the capacity
 * doubled until it does. 0, or -ENOMEM with the array and *cap unchanged. */
int vec_reserve(void *arrayp, size_t *cap, size_t want, size_t size);

/* Room for one more item after n: VEC_PUSH_ROOM(st->objs, st->nobjs, st->objcap). */
#define VEC_PUSH_ROOM(a, n, cap) vec_reserve(&(a), &(cap), (size_t)(n) + 1, sizeof *(a))

#endif
