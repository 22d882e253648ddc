#include "hsb_wire_support.h"
#include <stdlib.h>

static void *hsb_budget_alloc(void *data, size_t size) {
    hsb_alloc_budget *budget = (hsb_alloc_budget *)data;
    /* Overflow-safe: refuse when size alone exceeds what is left. */
    if (size > budget->limit - budget->used) {
        budget->refused = 1;
        return NULL;
    }
    void *p = malloc(size == 0 ? 1 : size);
    if (p == NULL) {
        budget->refused = 1;
        return NULL;
    }
    budget->used += size;
    budget->live += 1;
    return p;
}

static void hsb_budget_free(void *data, void *pointer) {
    hsb_alloc_budget *budget = (hsb_alloc_budget *)data;
    if (pointer != NULL) {
        budget->live -= 1;
        free(pointer);
    }
}

void hsb_budget_allocator_init(ProtobufCAllocator *allocator, hsb_alloc_budget *budget, size_t limit) {
    budget->limit = limit;
    budget->used = 0;
    budget->live = 0;
    budget->refused = 0;
    allocator->alloc = hsb_budget_alloc;
    allocator->free = hsb_budget_free;
    allocator->allocator_data = budget;
}
