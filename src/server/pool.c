/* pool.c - SQLite connections for the server's threads: each request
 * borrows one (SQLite connections are opened NOMUTEX: one thread at a time). */
#include "server-private.h"

int srv_pool_open(struct srv_pool *p, const char *dir, unsigned flags, size_t n, struct pl_err *err)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->free = pl_calloc(n, sizeof(*p->free));
	for (size_t i = 0; i < n; i++) {
		if (store_open(dir, flags, &p->free[i], err) < 0) {
			srv_pool_close(p);
			return err->code;
		}
		p->nfree = p->size = i + 1;
	}
	return 0;
}

struct store *srv_pool_get(struct srv_pool *p)
{
	struct store *st;

	pthread_mutex_lock(&p->mu);
	while (p->nfree == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	st = p->free[--p->nfree];
	pthread_mutex_unlock(&p->mu);
	return st;
}

void srv_pool_put(struct srv_pool *p, struct store *st)
{
	if (!st)
		return;
	store_rollback(st); /* a handler that failed mid-transaction leaves nothing open */
	pthread_mutex_lock(&p->mu);
	p->free[p->nfree++] = st;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void srv_pool_close(struct srv_pool *p)
{
	for (size_t i = 0; i < p->nfree; i++)
		store_close(p->free[i]);
	free(p->free);
	p->free = NULL;
	p->nfree = p->size = 0;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}
