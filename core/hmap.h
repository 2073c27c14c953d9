/*
 * hmap: a chained hash table from 64-bit keys to pointers. String-keyed
 * tables hash the string into the key and let the caller compare (see
 * hmap_str_hash and hmap_find_next). Not thread safe; the owner locks.
 */
#ifndef VFS_HMAP_H
#define VFS_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_node {
	struct hmap_node *next;
	uint64_t key;
	void *value;
};

struct hmap {
	struct hmap_node **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
};

/* An empty table; hmap_destroy frees its nodes, not the values. */
void hmap_init(struct hmap *h);
void hmap_destroy(struct hmap *h);
/* Add key -> value (duplicates allowed); 0 or -ENOMEM. */
int hmap_insert(struct hmap *h, uint64_t key, void *value);
/* First value under key, or NULL. */
void *hmap_find(const struct hmap *h, uint64_t key);
/* Iterate values under one key: pass NULL *pos first; NULL at the end. */
void *hmap_find_next(const struct hmap *h, uint64_t key, struct hmap_node **pos);
/* Remove the entry key -> value; 0 or -ENOENT. */
int hmap_remove(struct hmap *h, uint64_t key, const void *value);
/* Call fn on every value (the table must not change meanwhile). */
void hmap_foreach(const struct hmap *h, void (*fn)(void *value, void *arg), void *arg);
/* 64-bit FNV-1a of a NUL-terminated string. */
uint64_t hmap_str_hash(const char *s);

#endif
