/*
 * Board check: see core/include/core/boardcheck.h. Runs on the boot CPU
 * before the page pool and the partitions, so nothing it reads (the DTB
 * lies somewhere in board RAM) has been overwritten yet.
 */
#include <bulkhead/fdt.h>
#include <bulkhead/manifest.h>
#include <core/arch.h>
#include <core/boardcheck.h>
#include <core/log.h>
#include <string.h>

extern char __image_start[];
extern char __image_end[];

/* Per-depth state of the walk: the node's own cells (for its children)
 * and what its properties said. */
struct node_state {
	const char *name;
	size_t name_len;
	uint32_t addr_cells;
	uint32_t size_cells;
	bool pending; /* properties still being read */
	bool is_memory, is_cpu, disabled;
	int gic_version;
	bool is_pl011;
	uint32_t redist_regions;
	const uint8_t *reg;
	uint32_t reg_len;
};

static bool name_is(const struct node_state *n, const char *s)
{
	size_t len = strlen(s);

	return n->name_len == len && memcmp(n->name, s, len) == 0;
}

static bool prop_is(const struct fdt_token *t, const char *s)
{
	return t->name_len == strlen(s) && memcmp(t->name, s, t->name_len) == 0;
}

static bool string_is(const struct fdt_token *t, const char *s)
{
	size_t len = strlen(s);

	return t->len == len + 1 && memcmp(t->value, s, len + 1) == 0;
}

static void read_prop(struct node_state *n, const struct fdt_token *t)
{
	if (prop_is(t, "#address-cells") && t->len == 4) {
		n->addr_cells = fdt_cell(t->value, t->len, 0);
	} else if (prop_is(t, "#size-cells") && t->len == 4) {
		n->size_cells = fdt_cell(t->value, t->len, 0);
	} else if (prop_is(t, "device_type")) {
		n->is_memory = string_is(t, "memory");
		n->is_cpu = string_is(t, "cpu");
	} else if (prop_is(t, "status")) {
		n->disabled = !string_is(t, "okay") && !string_is(t, "ok");
	} else if (prop_is(t, "reg")) {
		n->reg = t->value;
		n->reg_len = t->len;
	} else if (prop_is(t, "#redistributor-regions") && t->len == 4) {
		n->redist_regions = fdt_cell(t->value, t->len, 0);
	} else if (prop_is(t, "compatible")) {
		if (fdt_stringlist_has(t->value, t->len, "arm,gic-v3")) {
			n->gic_version = 3;
		} else if (fdt_stringlist_has(t->value, t->len,
					      "arm,cortex-a15-gic") ||
			   fdt_stringlist_has(t->value, t->len,
					      "arm,gic-400") ||
			   fdt_stringlist_has(t->value, t->len,
					      "arm,cortex-a7-gic")) {
			n->gic_version = 2;
		}
		n->is_pl011 = fdt_stringlist_has(t->value, t->len, "arm,pl011");
	}
}

/* Reads reg entry `index` with the parent's cells. */
static bool reg_entry(const struct node_state *n,
		      const struct node_state *parent, uint32_t index,
		      struct board_range *out)
{
	uint32_t per = parent->addr_cells + parent->size_cells;
	uint32_t i = index * per;

	if (n->reg == NULL || per == 0) {
		return false;
	}
	if (!fdt_read_number(n->reg, n->reg_len, &i, parent->addr_cells,
			     &out->base)) {
		return false;
	}
	out->size = 0;
	return parent->size_cells == 0 ||
	       fdt_read_number(n->reg, n->reg_len, &i, parent->size_cells,
			       &out->size);
}

/* A node's properties are complete: record what it tells. */
static void finish_node(struct node_state *stack, int depth, struct board *b)
{
	struct node_state *n = &stack[depth];
	const struct node_state *parent = &stack[depth - 1];
	struct board_range r;

	n->pending = false;
	if (depth < 2 || n->disabled) {
		return;
	}
	if (depth == 2 && n->is_memory) {
		for (uint32_t i = 0; reg_entry(n, parent, i, &r); i++) {
			if (r.size != 0 && b->ram_count < BOARD_MAX_RAM) {
				b->ram[b->ram_count++] = r;
			}
		}
	} else if (depth == 3 && n->is_cpu && name_is(parent, "cpus") &&
		   reg_entry(n, parent, 0, &r)) {
		if (b->cpu_count < BOARD_MAX_CPUS) {
			b->mpidr[b->cpu_count] = r.base;
		}
		b->cpu_count++;
	} else if (n->gic_version != 0 && b->gic_version == 0 &&
		   reg_entry(n, parent, 0, &r)) {
		b->gic_version = n->gic_version;
		b->gicd_base = r.base;
		for (uint32_t i = 0;
		     n->gic_version == 3 && i < n->redist_regions &&
		     i < BOARD_MAX_GICR && reg_entry(n, parent, 1 + i, &r);
		     i++) {
			b->gicr[b->gicr_count++] = r;
		}
	} else if (n->is_pl011 && b->uart_count < BOARD_MAX_UARTS &&
		   reg_entry(n, parent, 0, &r)) {
		b->uart[b->uart_count++] = r.base;
	}
}

bool board_parse(const struct fdt *f, struct board *b, const char **error)
{
	struct node_state stack[FDT_MAX_DEPTH + 1];
	uint32_t cursor = 0;
	int depth = 0;

	memset(b, 0, sizeof(*b));
	memset(stack, 0, sizeof(stack));
	for (;;) {
		struct fdt_token t = fdt_next(f, &cursor, &depth);

		switch (t.kind) {
		case FDT_TOKEN_BEGIN_NODE:
			if (stack[depth - 1].pending) {
				finish_node(stack, depth - 1, b);
			}
			stack[depth] =
			    (struct node_state){.name = t.name,
						.name_len = t.name_len,
						.addr_cells = 2,
						.size_cells = 1,
						.pending = true,
						.redist_regions = 1};
			break;
		case FDT_TOKEN_PROP:
			if (!stack[depth].pending) {
				*error = "property after a child node";
				return false;
			}
			read_prop(&stack[depth], &t);
			break;
		case FDT_TOKEN_END_NODE:
			if (stack[depth + 1].pending) {
				finish_node(stack, depth + 1, b);
			}
			break;
		case FDT_TOKEN_END:
			return true;
		case FDT_TOKEN_ERROR:
		default:
			*error = t.error;
			return false;
		}
	}
}

/* Whether [base, base + size) is covered by the board's RAM ranges. */
static bool in_board_ram(const struct board *b, uint64_t base, uint64_t size)
{
	uint64_t cur = base;
	uint64_t end = base + size;
	bool advanced = true;

	while (cur < end && advanced) {
		advanced = false;
		for (uint32_t i = 0; i < b->ram_count; i++) {
			const struct board_range *r = &b->ram[i];

			if (cur >= r->base && cur - r->base < r->size) {
				cur = r->base + r->size;
				advanced = true;
			}
		}
	}
	return cur >= end;
}

static bool board_has_mpidr(const struct board *b, uint64_t mpidr)
{
	for (uint32_t i = 0; i < b->cpu_count && i < BOARD_MAX_CPUS; i++) {
		if (b->mpidr[i] == (mpidr & 0xff00ffffffull)) {
			return true;
		}
	}
	return false;
}

/* what + name + suffix names the range, e.g. "partition " "logger" "'s RAM". */
static uint32_t check_memory(const struct board *b, const char *what,
			     const char *name, const char *suffix,
			     uint64_t base, uint64_t size)
{
	if (in_board_ram(b, base, size)) {
		return 0;
	}
	ERROR("%s%s%s %#lx-%#lx is outside the board's memory", what, name,
	      suffix, base, base + size);
	return 1;
}

/* Compares; prints each difference; returns how many. */
static uint32_t compare(const struct manifest *m, const struct board *b)
{
	const struct manifest_platform *p = &m->platform;
	bool used[CONFIG_MAX_CPUS] = {false};
	uint32_t needed = 0;
	uint32_t bad = 0;

	/* The CPUs the partitions are pinned to (a product may leave some of
	 * the platform's CPUs unused, and then runs on a board without them).
	 */
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct manifest_partition *part = &m->partitions[i];

		for (uint16_t c = 0; c < part->vcpu_count; c++) {
			if (part->cpus[c] < CONFIG_MAX_CPUS &&
			    !used[part->cpus[c]]) {
				used[part->cpus[c]] = true;
				needed++;
			}
		}
	}
	if (b->cpu_count < needed) {
		ERROR("manifest needs %u CPUs, the board has %u", needed,
		      b->cpu_count);
		bad++;
	}
	for (uint32_t i = 0; i < p->cpu_count; i++) {
		if (used[i] && !board_has_mpidr(b, p->cpu_mpidr[i])) {
			ERROR("manifest's CPU %u (MPIDR %#lx) is not on the "
			      "board",
			      i, p->cpu_mpidr[i]);
			bad++;
		}
	}
	if (b->ram_count == 0) {
		ERROR("the board's device tree has no memory node");
		bad++;
	} else {
		bad += check_memory(b, "the hypervisor's memory", "", "",
				    m->hyp_base, m->hyp_size);
		for (uint32_t i = 0; i < m->partition_count; i++) {
			const struct manifest_partition *part =
			    &m->partitions[i];

			for (uint32_t r = 0; r < part->mem_count; r++) {
				bad += check_memory(b, "partition ", part->name,
						    "'s RAM", part->mem[r].base,
						    part->mem[r].size);
			}
		}
		for (uint32_t i = 0; i < m->shared_count; i++) {
			bad += check_memory(
			    b, "shared region ", m->shared[i].name, "",
			    m->shared[i].base, m->shared[i].size);
		}
	}
	if (b->gic_version == 0) {
		ERROR("manifest needs a GICv3, the board's device tree has no "
		      "GIC");
		bad++;
	} else if (b->gic_version != 3) {
		ERROR("manifest needs a GICv3, the board has a GICv%d at %#lx",
		      b->gic_version, b->gicd_base);
		bad++;
	} else {
		bool redist_ok = false;

		if (b->gicd_base != p->gicd_base) {
			ERROR("manifest's GIC distributor is at %#lx, the "
			      "board's at %#lx",
			      p->gicd_base, b->gicd_base);
			bad++;
		}
		for (uint32_t i = 0; i < b->gicr_count; i++) {
			const struct board_range *r = &b->gicr[i];

			redist_ok |=
			    p->gicr_base >= r->base &&
			    p->gicr_base - r->base <= r->size &&
			    p->gicr_size <= r->size - (p->gicr_base - r->base);
		}
		if (!redist_ok) {
			ERROR("manifest's GIC redistributors %#lx-%#lx are not "
			      "in the board's redistributor regions",
			      p->gicr_base, p->gicr_base + p->gicr_size);
			bad++;
		}
	}
	bool uart_ok = false;

	for (uint32_t i = 0; i < b->uart_count; i++) {
		uart_ok |= b->uart[i] == p->uart_base;
	}
	if (!uart_ok) {
		ERROR("manifest's UART (PL011) at %#lx is not on the board",
		      p->uart_base);
		bad++;
	}
	return bad;
}

static _Noreturn void refuse(void)
{
	ERROR("board check failed: this image was built for another board; "
	      "stopping before any partition starts");
	arch_power_off_failure();
}

void boardcheck_run(uint64_t dtb)
{
	const struct manifest *m = &bulkhead_manifest;
	uint64_t ram_end = m->platform.ram_base + m->platform.ram_size;
	uint64_t img_start = (uint64_t)(uintptr_t)__image_start;
	uint64_t img_end = (uint64_t)(uintptr_t)__image_end;
	static struct board b;
	struct fdt f;
	const char *error = "";

	if (dtb == 0) {
		WARN("board check skipped: the loader passed no device tree");
		return;
	}
	/* Only the manifest's RAM is mapped: read nothing outside it. */
	if (dtb < m->platform.ram_base || dtb >= ram_end || (dtb & 7) != 0) {
		ERROR("the loader passed a device tree at %#lx, outside the "
		      "RAM %#lx-%#lx the manifest describes (or unaligned)",
		      dtb, m->platform.ram_base, ram_end);
		refuse();
	}
	if (dtb >= img_start && dtb < img_end) {
		ERROR("the loader put the device tree at %#lx, inside the "
		      "hypervisor's image %#lx-%#lx",
		      dtb, img_start, img_end);
		refuse();
	}
	if (!fdt_init(&f, (const void *)(uintptr_t)dtb, ram_end - dtb,
		      &error) ||
	    !board_parse(&f, &b, &error)) {
		ERROR("the device tree at %#lx is malformed: %s", dtb, error);
		refuse();
	}
	if (dtb < img_end && dtb + f.size > img_start) {
		ERROR("the device tree at %#lx-%#lx overlaps the hypervisor's "
		      "image %#lx-%#lx",
		      dtb, dtb + f.size, img_start, img_end);
		refuse();
	}
	if (compare(m, &b) != 0) {
		refuse();
	}
	INFO("board: %u CPUs, %u RAM range(s) from %#lx, GICv3 at %#lx, "
	     "PL011 at %#lx: matches the manifest",
	     b.cpu_count, b.ram_count, b.ram[0].base, b.gicd_base,
	     m->platform.uart_base);
}
