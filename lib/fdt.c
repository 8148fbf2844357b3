/* Flattened device tree reader: see include/bulkhead/fdt.h. */
#include <bulkhead/fdt.h>
#include <string.h>

#define FDT_BEGIN_NODE 0x1u
#define FDT_END_NODE   0x2u
#define FDT_PROP       0x3u
#define FDT_NOP	       0x4u
#define FDT_END	       0x9u

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

uint32_t fdt_peek_size(const void *blob, size_t max_size)
{
	if (max_size < FDT_HEADER_SIZE) {
		return 0;
	}
	return be32((const uint8_t *)blob + 4);
}

/* Whether [off, off + len) lies inside [0, size). */
static bool inside(uint32_t off, uint32_t len, uint32_t size)
{
	return off <= size && len <= size - off;
}

bool fdt_init(struct fdt *f, const void *blob, size_t max_size,
	      const char **error)
{
	const uint8_t *h = blob;
	uint32_t version;

	if (max_size < FDT_HEADER_SIZE) {
		*error = "no room for a header";
		return false;
	}
	if (be32(h) != FDT_MAGIC) {
		*error = "bad magic (not a device tree blob)";
		return false;
	}
	f->blob = h;
	f->size = be32(h + 4);
	f->struct_off = be32(h + 8);
	f->strings_off = be32(h + 12);
	version = be32(h + 20);
	f->strings_size = be32(h + 32);
	if (f->size < FDT_HEADER_SIZE || f->size > max_size) {
		*error = "totalsize out of range";
		return false;
	}
	if (version < 16 || be32(h + 24) > 17) {
		*error = "unsupported version";
		return false;
	}
	f->struct_size = version >= 17 ? be32(h + 36) : f->size - f->struct_off;
	if ((f->struct_off & 3) != 0 ||
	    !inside(f->struct_off, f->struct_size, f->size) ||
	    !inside(f->strings_off, f->strings_size, f->size)) {
		*error = "blocks outside the blob";
		return false;
	}
	return true;
}

static struct fdt_token token_error(const char *what)
{
	return (struct fdt_token){.kind = FDT_TOKEN_ERROR, .error = what};
}

/* Reads a 32-bit word of the structure block at *cursor. */
static bool read_word(const struct fdt *f, uint32_t *cursor, uint32_t *out)
{
	if (!inside(*cursor, 4, f->struct_size)) {
		return false;
	}
	*out = be32(f->blob + f->struct_off + *cursor);
	*cursor += 4;
	return true;
}

static uint32_t align4(uint32_t v)
{
	return (v + 3u) & ~3u;
}

static struct fdt_token begin_node(const struct fdt *f, uint32_t *cursor,
				   int *depth)
{
	const char *base = (const char *)f->blob + f->struct_off;
	uint32_t start = *cursor;
	uint32_t len = 0;

	while (start + len < f->struct_size && base[start + len] != '\0') {
		len++;
	}
	if (start + len >= f->struct_size) {
		return token_error("node name runs past the structure block");
	}
	if (*depth >= FDT_MAX_DEPTH) {
		return token_error("nodes nested too deeply");
	}
	(*depth)++;
	*cursor = align4(start + len + 1);
	return (struct fdt_token){.kind = FDT_TOKEN_BEGIN_NODE,
				  .name = base + start,
				  .name_len = len};
}

static struct fdt_token property(const struct fdt *f, uint32_t *cursor,
				 int depth)
{
	const char *strings = (const char *)f->blob + f->strings_off;
	uint32_t len;
	uint32_t name_off;
	uint32_t end;

	if (depth == 0) {
		return token_error("property outside a node");
	}
	if (!read_word(f, cursor, &len) || !read_word(f, cursor, &name_off)) {
		return token_error("truncated property header");
	}
	if (!inside(*cursor, len, f->struct_size)) {
		return token_error("property value runs past the structure "
				   "block");
	}
	if (name_off >= f->strings_size) {
		return token_error("property name outside the strings block");
	}
	end = name_off;
	while (end < f->strings_size && strings[end] != '\0') {
		end++;
	}
	if (end == f->strings_size) {
		return token_error("property name not terminated");
	}
	struct fdt_token t = {.kind = FDT_TOKEN_PROP,
			      .name = strings + name_off,
			      .name_len = end - name_off,
			      .value = f->blob + f->struct_off + *cursor,
			      .len = len};
	*cursor = align4(*cursor + len);
	return t;
}

struct fdt_token fdt_next(const struct fdt *f, uint32_t *cursor, int *depth)
{
	for (;;) {
		uint32_t tag;

		if (!read_word(f, cursor, &tag)) {
			return token_error("structure block ends without "
					   "FDT_END");
		}
		switch (tag) {
		case FDT_NOP:
			continue;
		case FDT_BEGIN_NODE:
			return begin_node(f, cursor, depth);
		case FDT_PROP:
			return property(f, cursor, *depth);
		case FDT_END_NODE:
			if (*depth == 0) {
				return token_error("unbalanced end of node");
			}
			(*depth)--;
			return (struct fdt_token){.kind = FDT_TOKEN_END_NODE};
		case FDT_END:
			if (*depth != 0) {
				return token_error("tree ends inside a node");
			}
			return (struct fdt_token){.kind = FDT_TOKEN_END};
		default:
			return token_error("unknown token");
		}
	}
}

uint32_t fdt_cell(const uint8_t *value, uint32_t len, uint32_t i)
{
	if (i >= len / 4) {
		return 0;
	}
	return be32(value + 4 * i);
}

bool fdt_read_number(const uint8_t *value, uint32_t len, uint32_t *i,
		     uint32_t cells, uint64_t *out)
{
	if (cells < 1 || cells > 2 || *i > len / 4 || len / 4 - *i < cells) {
		return false;
	}
	*out = fdt_cell(value, len, *i);
	if (cells == 2) {
		*out = (*out << 32) | fdt_cell(value, len, *i + 1);
	}
	*i += cells;
	return true;
}

bool fdt_stringlist_has(const uint8_t *value, uint32_t len, const char *s)
{
	size_t want = strlen(s);
	uint32_t pos = 0;

	while (pos < len) {
		uint32_t end = pos;

		while (end < len && value[end] != '\0') {
			end++;
		}
		if (end - pos == want && memcmp(value + pos, s, want) == 0 &&
		    end < len) {
			return true;
		}
		pos = end + 1;
	}
	return false;
}
