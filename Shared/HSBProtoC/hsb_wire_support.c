#include "hsb_wire_support.h"
#include <stdlib.h>
#include <string.h>

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

/* ---- A scan of untrusted bytes before unpacking (hsb_wire_scan). ---- */

/* Reads one varint; 0 on success. At most 10 bytes, as the wire format allows. */
static int hsb_read_varint(const uint8_t *data, size_t len, size_t *pos, uint64_t *value) {
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*pos >= len) return -1;
        uint8_t byte = data[(*pos)++];
        if (shift == 63 && (byte & 0x7e) != 0) return -1;
        result |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            *value = result;
            return 0;
        }
    }
    return -1;
}

/* Counts the varints in a packed run; -1 when one is cut short. */
static long hsb_count_varints(const uint8_t *data, size_t len) {
    long count = 0;
    for (size_t i = 0; i < len; i++) {
        if ((data[i] & 0x80) == 0) count++;
    }
    if (len > 0 && (data[len - 1] & 0x80) != 0) return -1;
    return count;
}

static hsb_scan_status hsb_scan_message(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
                                        size_t max_entries, size_t max_string_bytes, unsigned depth,
                                        hsb_scan_result *result) {
    if (depth == 0) {
        result->message = d->name;
        return HSB_SCAN_TOO_DEEP;
    }
    /* Occurrences per field of this message; the schema's messages have few fields, and a
     * message with more than 64 is counted only for its first 64. */
    size_t counts[64] = {0};
    size_t pos = 0;
    while (pos < len) {
        uint64_t key;
        if (hsb_read_varint(data, len, &pos, &key) != 0) return HSB_SCAN_MALFORMED;
        uint64_t number = key >> 3;
        unsigned wire = (unsigned)(key & 7);
        if (number == 0 || number > 0x1fffffff) return HSB_SCAN_MALFORMED;
        const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field(d, (unsigned)number);
        size_t index = field ? (size_t)(field - d->fields) : 0;
        size_t entries = 1;
        uint64_t value;
        switch (wire) {
        case 0:
            if (hsb_read_varint(data, len, &pos, &value) != 0) return HSB_SCAN_MALFORMED;
            break;
        case 1:
            if (len - pos < 8) return HSB_SCAN_MALFORMED;
            pos += 8;
            break;
        case 5:
            if (len - pos < 4) return HSB_SCAN_MALFORMED;
            pos += 4;
            break;
        case 2: {
            if (hsb_read_varint(data, len, &pos, &value) != 0) return HSB_SCAN_MALFORMED;
            if (value > len - pos) return HSB_SCAN_MALFORMED;
            const uint8_t *body = data + pos;
            size_t size = (size_t)value;
            pos += size;
            if (field == NULL) break;
            switch (field->type) {
            case PROTOBUF_C_TYPE_STRING:
                if (size > max_string_bytes) {
                    result->message = d->name;
                    result->field = field->name;
                    result->count = size;
                    return HSB_SCAN_STRING_TOO_LONG;
                }
                if (size > 0 && memchr(body, 0, size) != NULL) {
                    result->message = d->name;
                    result->field = field->name;
                    return HSB_SCAN_NUL_IN_STRING;
                }
                break;
            case PROTOBUF_C_TYPE_MESSAGE: {
                hsb_scan_status status = hsb_scan_message((const ProtobufCMessageDescriptor *)field->descriptor, body, size,
                                                          max_entries, max_string_bytes, depth - 1, result);
                if (status != HSB_SCAN_OK) return status;
                break;
            }
            case PROTOBUF_C_TYPE_BYTES:
                break;
            case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT:
                entries = size / 4;
                break;
            case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
                entries = size / 8;
                break;
            default: { /* a packed run of varints */
                long n = hsb_count_varints(body, size);
                if (n < 0) return HSB_SCAN_MALFORMED;
                entries = (size_t)n;
                break;
            }
            }
            break;
        }
        default:
            return HSB_SCAN_MALFORMED; /* groups (3, 4) and undefined wire types */
        }
        if (field != NULL && field->label == PROTOBUF_C_LABEL_REPEATED && index < 64) {
            counts[index] += entries;
            if (counts[index] > max_entries) {
                result->message = d->name;
                result->field = field->name;
                result->count = counts[index];
                return HSB_SCAN_TOO_MANY_ENTRIES;
            }
        }
    }
    return HSB_SCAN_OK;
}

hsb_scan_status hsb_wire_scan(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t len,
                              size_t max_entries, size_t max_string_bytes, unsigned max_depth,
                              hsb_scan_result *result) {
    result->message = NULL;
    result->field = NULL;
    result->count = 0;
    if (descriptor == NULL) return HSB_SCAN_OK;
    if (data == NULL && len > 0) return HSB_SCAN_MALFORMED;
    return hsb_scan_message(descriptor, data, len, max_entries, max_string_bytes, max_depth, result);
}
