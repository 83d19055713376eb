/*
 * intern.c - the two hash tables the database scan runs on: interned
 * strings (a string is stored once and named by a dense uint32 id) and a
 * map from 64-bit keys to uint32 values. Open addressing, linear probing,
 * power-of-two sizes kept at most half full; FNV-1a for strings and a
 * 64-bit finaliser (splitmix64) for integer keys.
 */
#include "detect/detect-private.h"

/* Eight bytes at a time (the scan interns 15 million keys on a cold run),
 * each word multiplied in and folded; the tail byte by byte. */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ len, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	h ^= h >> 32;
	return h * 0xd6e8feb86659fd93ULL ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* ---- strings ---------------------------------------------------------------- */

void detect_strtab_free(struct detect_strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->len);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static void strtab_rehash(struct detect_strtab *t)
{
	size_t n = t->nslot ? t->nslot * 2 : 1024;

	free(t->slot);
	t->slot = pl_calloc(n, sizeof(uint32_t));
	t->nslot = n;
	for (size_t id = 0; id < t->n; id++) {
		size_t i = hash_bytes(t->s[id], t->len[id]) & (n - 1);

		while (t->slot[i])
			i = (i + 1) & (n - 1);
		t->slot[i] = (uint32_t)id + 1;
	}
}

/* The slot where s is, or the empty one where it would go. */
static size_t strtab_probe(const struct detect_strtab *t, const char *s, size_t len)
{
	size_t i = hash_bytes(s, len) & (t->nslot - 1);

	for (;;) {
		uint32_t v = t->slot[i];

		if (!v || (t->len[v - 1] == len && memcmp(t->s[v - 1], s, len) == 0))
			return i;
		i = (i + 1) & (t->nslot - 1);
	}
}

int detect_strtab_find(const struct detect_strtab *t, const char *s, size_t len, uint32_t *id)
{
	size_t i;

	if (!t->nslot)
		return 0;
	i = strtab_probe(t, s, len);
	if (!t->slot[i])
		return 0;
	*id = t->slot[i] - 1;
	return 1;
}

uint32_t detect_strtab_intern(struct detect_strtab *t, const char *s, size_t len)
{
	size_t i;

	if ((t->n + 1) * 2 > t->nslot)
		strtab_rehash(t);
	i = strtab_probe(t, s, len);
	if (t->slot[i])
		return t->slot[i] - 1;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->s = pl_realloc(t->s, t->cap * sizeof(char *));
		t->len = pl_realloc(t->len, t->cap * sizeof(size_t));
	}
	t->s[t->n] = pl_strndup(s, len);
	t->len[t->n] = len;
	t->slot[i] = (uint32_t)++t->n;
	return (uint32_t)(t->n - 1);
}

/* ---- 64-bit keys -------------------------------------------------------------- */

#define U64_EMPTY UINT64_MAX

void detect_u64map_free(struct detect_u64map *m)
{
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static void u64map_resize(struct detect_u64map *m, size_t n)
{
	size_t old = m->nslot;
	uint64_t *k = m->k;
	uint32_t *v = m->v;

	m->k = pl_malloc(n * sizeof(uint64_t));
	m->v = pl_malloc(n * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		m->k[i] = U64_EMPTY;
	m->nslot = n;
	for (size_t i = 0; i < old; i++) {
		size_t j;

		if (k[i] == U64_EMPTY)
			continue;
		for (j = hash_u64(k[i]) & (n - 1); m->k[j] != U64_EMPTY; j = (j + 1) & (n - 1))
			;
		m->k[j] = k[i];
		m->v[j] = v[i];
	}
	free(k);
	free(v);
}

static void u64map_rehash(struct detect_u64map *m)
{
	u64map_resize(m, m->nslot ? m->nslot * 2 : 1024);
}

void detect_u64map_reserve(struct detect_u64map *m, size_t n)
{
	size_t want = 1024;

	while (want < n * 2)
		want *= 2;
	if (want > m->nslot)
		u64map_resize(m, want);
}

int detect_u64map_get(const struct detect_u64map *m, uint64_t key, uint32_t *val)
{
	if (!m->nslot)
		return 0;
	for (size_t i = hash_u64(key) & (m->nslot - 1);; i = (i + 1) & (m->nslot - 1)) {
		if (m->k[i] == U64_EMPTY)
			return 0;
		if (m->k[i] == key) {
			*val = m->v[i];
			return 1;
		}
	}
}

void detect_u64map_put(struct detect_u64map *m, uint64_t key, uint32_t val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->nslot)
		u64map_rehash(m);
	for (i = hash_u64(key) & (m->nslot - 1); m->k[i] != U64_EMPTY && m->k[i] != key;
	     i = (i + 1) & (m->nslot - 1))
		;
	if (m->k[i] == U64_EMPTY)
		m->n++;
	m->k[i] = key;
	m->v[i] = val;
}
