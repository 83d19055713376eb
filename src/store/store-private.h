/* store-private.h - internals shared by the files of src/store/. */
#ifndef PL_STORE_PRIVATE_H
#define PL_STORE_PRIVATE_H

#include "store.h"

extern const char *const store_migrations[];
extern const int store_migrations_count;

#endif
