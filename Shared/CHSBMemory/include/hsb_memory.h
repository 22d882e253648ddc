/* Returns memory the C allocator holds but no longer uses to the system (glibc's malloc_trim);
 * a no-op elsewhere. Called after large buffers from cut-off peers are freed. */
#ifndef HSB_MEMORY_H
#define HSB_MEMORY_H

void hsb_release_free_memory(void);

#endif
