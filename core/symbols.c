/* Symbol lookup and build ID: see core/include/core/symbols.h. */
#include <core/symbols.h>

/* The table tools/board/symtab.py generates, sorted by address. */
struct symtab_entry {
	uint64_t addr;
	uint32_t size;
	uint32_t name; /* offset in bulkhead_symtab_names */
};

extern const uint64_t bulkhead_symtab_count;
extern const struct symtab_entry bulkhead_symtab[];
extern const char bulkhead_symtab_names[];
extern const uint64_t bulkhead_symtab_names_size;
extern const uint8_t __image_start[];

#define BUILD_ID_OFFSET 0x28 /* in the arm64 Image header: res3, res4 */
#define BUILD_ID_LEN	16

const char *symbols_lookup(uint64_t addr, uint64_t *offset)
{
	uint64_t lo = 0;
	uint64_t hi = bulkhead_symtab_count;

	/* Last entry with entry.addr <= addr. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (bulkhead_symtab[mid].addr <= addr) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo == 0) {
		return NULL;
	}
	const struct symtab_entry *e = &bulkhead_symtab[lo - 1];

	if (addr - e->addr >= e->size ||
	    e->name >= bulkhead_symtab_names_size) {
		return NULL;
	}
	*offset = addr - e->addr;
	return &bulkhead_symtab_names[e->name];
}

void build_id_hex(char out[33])
{
	static const char digits[] = "0123456789abcdef";
	const volatile uint8_t *id = __image_start + BUILD_ID_OFFSET;

	for (int i = 0; i < BUILD_ID_LEN; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 0xf];
	}
	out[32] = '\0';
}
