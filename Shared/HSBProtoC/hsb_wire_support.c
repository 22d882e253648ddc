#include "hsb_wire_support.h"
#include <stdlib.h>

/* Every allocation is aligned for any field protobuf-c stores (pointers, 64-bit integers, doubles). */
#define HSB_ALIGN 8u
#define HSB_CHUNK 4096u

struct hsb_arena_chunk {
    struct hsb_arena_chunk *next;
    size_t size;
};

static size_t hsb_round_up(size_t size) { return (size + (HSB_ALIGN - 1)) & ~(size_t)(HSB_ALIGN - 1); }

static void *hsb_budget_alloc(void *data, size_t size) {
    hsb_alloc_budget *budget = (hsb_alloc_budget *)data;
    size_t want = hsb_round_up(size == 0 ? 1 : size);
    /* Overflow-safe: refuse when the request alone exceeds what is left. */
    if (want < size || want > budget->limit - budget->used) {
        budget->refused = 1;
        return NULL;
    }
    if (budget->block == NULL || want > budget->block_size - budget->block_used) {
        size_t payload = want > HSB_CHUNK ? want : HSB_CHUNK;
        size_t header = hsb_round_up(sizeof(struct hsb_arena_chunk));
        struct hsb_arena_chunk *chunk = malloc(header + payload);
        if (chunk == NULL) {
            budget->refused = 1;
            return NULL;
        }
        chunk->next = budget->chunks;
        chunk->size = payload;
        budget->chunks = chunk;
        budget->block = (unsigned char *)chunk + header;
        budget->block_size = payload;
        budget->block_used = 0;
    }
    void *pointer = budget->block + budget->block_used;
    budget->block_used += want;
    budget->used += want;
    return pointer;
}

/* Memory goes back all at once in hsb_arena_release. */
static void hsb_budget_free(void *data, void *pointer) {
    (void)data;
    (void)pointer;
}

void hsb_budget_allocator_init(ProtobufCAllocator *allocator, hsb_alloc_budget *budget, size_t limit,
                               void *first_block, size_t first_size) {
    budget->limit = limit;
    budget->used = 0;
    budget->refused = 0;
    budget->chunks = NULL;
    /* The first block must be aligned too; drop its unaligned head. */
    uintptr_t start = (uintptr_t)first_block;
    uintptr_t aligned = (start + (HSB_ALIGN - 1)) & ~(uintptr_t)(HSB_ALIGN - 1);
    if (first_block != NULL && first_size > (size_t)(aligned - start)) {
        budget->block = (unsigned char *)aligned;
        budget->block_size = first_size - (size_t)(aligned - start);
    } else {
        budget->block = NULL;
        budget->block_size = 0;
    }
    budget->block_used = 0;
    allocator->alloc = hsb_budget_alloc;
    allocator->free = hsb_budget_free;
    allocator->allocator_data = budget;
}

void hsb_arena_release(hsb_alloc_budget *budget) {
    struct hsb_arena_chunk *chunk = budget->chunks;
    while (chunk != NULL) {
        struct hsb_arena_chunk *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    budget->chunks = NULL;
    budget->block = NULL;
    budget->block_size = 0;
    budget->block_used = 0;
}
