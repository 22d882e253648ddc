/* Hand-written support for the generated code: a budgeted allocator for
 * decoding untrusted bytes. Not generated; kept beside the generated headers. */
#ifndef HSB_WIRE_SUPPORT_H
#define HSB_WIRE_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* Tracks what one unpack may allocate. Refusing an allocation makes
 * protobuf-c's unpack fail cleanly (it frees what it built and returns NULL). */
typedef struct hsb_alloc_budget {
    size_t limit;      /* bytes one unpack may allocate in total */
    size_t used;       /* bytes allocated so far */
    size_t live;       /* allocations not yet freed */
    int refused;       /* set when an allocation was refused */
} hsb_alloc_budget;

/* Fills `allocator` so that it allocates with malloc against `budget`. */
void hsb_budget_allocator_init(ProtobufCAllocator *allocator, hsb_alloc_budget *budget, size_t limit);

#endif
