/*
 * A small reader of flattened device trees (DTB, version 16 and 17), for
 * the board check at boot. Every read is bounds-checked against the blob's
 * own header: a malformed or hostile DTB makes a call return false (or
 * FDT_ERROR), never read outside the blob.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDT_MAGIC	0xd00dfeedu
#define FDT_HEADER_SIZE 40u
#define FDT_MAX_DEPTH	16

struct fdt {
	const uint8_t *blob;
	uint32_t size; /* totalsize */
	uint32_t struct_off;
	uint32_t struct_size;
	uint32_t strings_off;
	uint32_t strings_size;
};

/* One step of a walk through the structure block. */
enum fdt_token_kind {
	FDT_TOKEN_BEGIN_NODE, /* name, name_len */
	FDT_TOKEN_PROP,	      /* name (NUL-terminated), value, len */
	FDT_TOKEN_END_NODE,
	FDT_TOKEN_END,	 /* the whole tree was read */
	FDT_TOKEN_ERROR, /* malformed: error says what */
};

struct fdt_token {
	enum fdt_token_kind kind;
	const char *name;
	size_t name_len;
	const uint8_t *value;
	uint32_t len;
	const char *error;
};

/*
 * Checks the header of the blob at `blob`, of which at most `max_size`
 * bytes may be read. On failure returns false and sets *error.
 */
bool fdt_init(struct fdt *f, const void *blob, size_t max_size,
	      const char **error);

/* The totalsize field of a header that may not be valid yet (0 if
 * max_size is too small to hold it). */
uint32_t fdt_peek_size(const void *blob, size_t max_size);

/*
 * Reads the token at *cursor (start with 0) and advances the cursor.
 * Nesting, names and property bounds are checked; depth is limited to
 * FDT_MAX_DEPTH.
 */
struct fdt_token fdt_next(const struct fdt *f, uint32_t *cursor, int *depth);

/* Big-endian cell i of a property value (0 when out of range). */
uint32_t fdt_cell(const uint8_t *value, uint32_t len, uint32_t i);

/* Reads `cells` (1 or 2) cells at cell index *i as one number; false if
 * the value is too short or cells is not 1 or 2. */
bool fdt_read_number(const uint8_t *value, uint32_t len, uint32_t *i,
		     uint32_t cells, uint64_t *out);

/* Whether a string-list property (e.g. compatible) holds `s`. */
bool fdt_stringlist_has(const uint8_t *value, uint32_t len, const char *s);
