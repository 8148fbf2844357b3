/*
 * Shared by the peer apps of the Linux product (manifests/qemu-virt-linux.dts):
 * what each prints of its device tree, and the logger's UUID and
 * direct-request word.
 */
#pragma once

#include <guest/dt.h>
#include <string.h>

#define PEER_COUNT_REQUEST 0x434e543fu /* "CNT?": messages logged */

/* a3e1c2d4-7f60-4b9a-8c5d-1e2f3a4b5c6d, as FF-A carries it */
static const uint8_t peer_logger_uuid[16] = {0xd4, 0xc2, 0xe1, 0xa3, 0x9a, 0x4b,
					     0x60, 0x7f, 0x2f, 0x1e, 0x5d, 0x8c,
					     0x6d, 0x5c, 0x4b, 0x3a};

struct peer_memory_node {
	char path[48];
};

static inline void peer_memory_child(const char *name, size_t len, void *ctx)
{
	struct peer_memory_node *m = ctx;

	if (m->path[0] == '\0' && len + 2 <= sizeof(m->path) &&
	    strncmp(name, "memory@", 7) == 0) {
		m->path[0] = '/';
		memcpy(&m->path[1], name, len);
		m->path[len + 1] = '\0';
	}
}

/* One line: where the device tree is and what it says of this partition. */
static inline void peer_print_device_tree(void)
{
	struct peer_memory_node mem = {{0}};
	const char *model = "?";
	const char *console = "none";
	const char *error;
	const uint8_t *reg;
	uint64_t base = 0, size = 0;
	uint32_t len;
	uint32_t i = 0;
	struct fdt f;

	if (!guest_dt(&f, &error)) {
		guest_printf("device tree: %s\n", error);
		return;
	}
	guest_dt_string(&f, "/", "model", &model);
	guest_dt_string(&f, "/chosen", "stdout-path", &console);
	guest_dt_children(&f, "/", peer_memory_child, &mem);
	if (mem.path[0] != '\0' &&
	    guest_dt_prop(&f, mem.path, "reg", &reg, &len)) {
		fdt_read_number(reg, len, &i, 2, &base);
		fdt_read_number(reg, len, &i, 2, &size);
	}
	guest_printf("device tree at %#lx (%u bytes): \"%s\", %u vCPU(s), "
		     "memory %#lx-%#lx, console %s\n",
		     (uint64_t)(uintptr_t)guest_dtb(), f.size, model,
		     guest_dt_children(&f, "/cpus", NULL, NULL), base,
		     base + size, console);
}
