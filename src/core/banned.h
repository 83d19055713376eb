/*
 * banned.h - functions patchlab never calls, turned into compile errors.
 * Force-included into every translation unit by CMakeLists.txt (after the
 * system headers of that unit, so their prototypes stay intact): use
 * snprintf / pl_buf_addf, pl_strdup, argv arrays with posix_spawn instead.
 */
#ifndef PL_BANNED_H
#define PL_BANNED_H

#define PL_BANNED(func) sorry_##func##_is_banned_in_patchlab

#undef sprintf
#define sprintf(...) PL_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) PL_BANNED(vsprintf)
#undef strcpy
#define strcpy(...) PL_BANNED(strcpy)
#undef strcat
#define strcat(...) PL_BANNED(strcat)
#undef strncpy
#define strncpy(...) PL_BANNED(strncpy)
#undef gets
#define gets(...) PL_BANNED(gets)
#undef system
#define system(...) PL_BANNED(system)
#undef popen
#define popen(...) PL_BANNED(popen)

#endif
