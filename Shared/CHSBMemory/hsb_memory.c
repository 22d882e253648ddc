#include "hsb_memory.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void hsb_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
