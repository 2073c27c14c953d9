/*
 * hmap: separate chaining, doubled when the load passes 1.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "hmap.h"

static size_t
bucket_of(const struct hmap *h, uint64_t key)
{
	key ^= key >> 33;
	key *= UINT64_C(0xff51afd7ed558ccd);
	key ^= key >> 33;
	return (size_t)key & (h->nbuckets - 1);
}

void
hmap_init(struct hmap *h)
{
	h->buckets = NULL;
	h->nbuckets = 0;
	h->count = 0;
}

void
hmap_destroy(struct hmap *h)
{
	size_t i;

	for (i = 0; i < h->nbuckets; i++) {
		struct hmap_node *n = h->buckets[i], *next;

		for (; n != NULL; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(h->buckets);
	hmap_init(h);
}

static int
grow(struct hmap *h)
{
	size_t nb = h->nbuckets ? h->nbuckets * 2 : 64, i;
	struct hmap_node **old = h->buckets;
	size_t oldn = h->nbuckets;

	h->buckets = calloc(nb, sizeof *h->buckets);
	if (h->buckets == NULL) {
		h->buckets = old;
		return -ENOMEM;
	}
	h->nbuckets = nb;
	for (i = 0; i < oldn; i++) {
		struct hmap_node *n = old[i], *next;

		for (; n != NULL; n = next) {
			size_t b = bucket_of(h, n->key);

			next = n->next;
			n->next = h->buckets[b];
			h->buckets[b] = n;
		}
	}
	free(old);
	return 0;
}

int
hmap_insert(struct hmap *h, uint64_t key, void *value)
{
	struct hmap_node *n;
	size_t b;

	if (h->count >= h->nbuckets && grow(h) != 0 && h->nbuckets == 0)
		return -ENOMEM;
	n = malloc(sizeof *n);
	if (n == NULL)
		return -ENOMEM;
	b = bucket_of(h, key);
	n->key = key;
	n->value = value;
	n->next = h->buckets[b];
	h->buckets[b] = n;
	h->count++;
	return 0;
}

void *
hmap_find(const struct hmap *h, uint64_t key)
{
	struct hmap_node *pos = NULL;

	return hmap_find_next(h, key, &pos);
}

void *
hmap_find_next(const struct hmap *h, uint64_t key, struct hmap_node **pos)
{
	struct hmap_node *n;

	if (h->nbuckets == 0)
		return NULL;
	n = *pos == NULL ? h->buckets[bucket_of(h, key)] : (*pos)->next;
	for (; n != NULL; n = n->next) {
		if (n->key == key) {
			*pos = n;
			return n->value;
		}
	}
	*pos = NULL;
	return NULL;
}

int
hmap_remove(struct hmap *h, uint64_t key, const void *value)
{
	struct hmap_node **pp;

	if (h->nbuckets == 0)
		return -ENOENT;
	for (pp = &h->buckets[bucket_of(h, key)]; *pp != NULL; pp = &(*pp)->next) {
		struct hmap_node *n = *pp;

		if (n->key == key && n->value == value) {
			*pp = n->next;
			free(n);
			h->count--;
			return 0;
		}
	}
	return -ENOENT;
}

void
hmap_foreach(const struct hmap *h, void (*fn)(void *value, void *arg), void *arg)
{
	size_t i;

	for (i = 0; i < h->nbuckets; i++) {
		struct hmap_node *n = h->buckets[i];

		for (; n != NULL; n = n->next)
			fn(n->value, arg);
	}
}

uint64_t
hmap_str_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}
