/* Hand-written support for the generated code: a budgeted arena allocator for decoding
 * untrusted bytes. Not generated; kept beside the generated headers. */
#ifndef HSB_WIRE_SUPPORT_H
#define HSB_WIRE_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

struct hsb_arena_chunk;

/* What one unpack may allocate, and the memory it allocated. Allocations are carved from a
 * caller-supplied first block (often on the stack), then from malloc'd chunks; freeing one is a
 * no-op, and hsb_arena_release frees everything at once. Refusing an allocation makes
 * protobuf-c's unpack fail cleanly (it returns NULL). */
typedef struct hsb_alloc_budget {
    size_t limit;      /* bytes one unpack may allocate in total (after alignment) */
    size_t used;       /* bytes allocated so far */
    int refused;       /* set when an allocation was refused */
    unsigned char *block;          /* the current block */
    size_t block_size;
    size_t block_used;
    struct hsb_arena_chunk *chunks; /* malloc'd chunks, newest first */
} hsb_alloc_budget;

/* Fills `allocator` so that it allocates from `budget`: first from `first_block`
 * (`first_size` bytes, may be NULL/0), then from malloc'd chunks. */
void hsb_budget_allocator_init(ProtobufCAllocator *allocator, hsb_alloc_budget *budget, size_t limit,
                               void *first_block, size_t first_size);

/* Frees every chunk the arena malloc'd. Everything it handed out is invalid afterwards. */
void hsb_arena_release(hsb_alloc_budget *budget);

#endif
