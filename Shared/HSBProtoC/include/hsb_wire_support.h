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

/* What a scan of untrusted bytes found, before protobuf-c unpacks them. */
typedef enum hsb_scan_status {
    HSB_SCAN_OK = 0,
    HSB_SCAN_NUL_IN_STRING = 1,   /* a string field holds U+0000, which C strings would cut at */
    HSB_SCAN_TOO_MANY_ENTRIES = 2, /* a repeated field holds more entries than allowed */
    HSB_SCAN_STRING_TOO_LONG = 3,  /* a string field is longer than allowed */
    HSB_SCAN_MALFORMED = 4,        /* not protobuf wire format (unpack would refuse it too) */
    HSB_SCAN_TOO_DEEP = 5          /* sub-messages nested deeper than allowed */
} hsb_scan_status;

typedef struct hsb_scan_result {
    const char *message; /* full protobuf name of the message holding the field, or NULL */
    const char *field;   /* the field's name, or NULL */
    size_t count;        /* entries seen (TOO_MANY_ENTRIES) or bytes (STRING_TOO_LONG) */
} hsb_scan_result;

/* Walks `data` as a `descriptor` message without allocating: every string field (at any depth) is
 * checked for NUL bytes and against `max_string_bytes`; every field's occurrences within one
 * message are counted (packed scalars by element) against `max_entries`. Unknown fields are
 * skipped. Nesting is bounded by `max_depth`. */
hsb_scan_status hsb_wire_scan(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t len,
                              size_t max_entries, size_t max_string_bytes, unsigned max_depth,
                              hsb_scan_result *result);

#endif
