/*
 * The partition's device tree (x0 at the boot vCPU's entry, see
 * guest_dtb()), read in place with the bounds-checked reader of
 * <bulkhead/fdt.h>. Paths are full node names from the root:
 * "/", "/cpus/cpu@1", "/serial@9000000".
 */
#pragma once

#include <bulkhead/fdt.h>
#include <guest/guest.h>

#define GUEST_DT_MAX	  0x200000u /* the boot protocol's limit */
#define GUEST_DT_PATH_MAX 256

/* Checks the header of the partition's device tree; false (and *error)
 * when there is none or it is malformed. */
bool guest_dt(struct fdt *f, const char **error);

/* The value of property `prop` of the node at `path`; false if absent. */
bool guest_dt_prop(const struct fdt *f, const char *path, const char *prop,
		   const uint8_t **value, uint32_t *len);

/* A string property (NUL-terminated value); false if absent or not one. */
bool guest_dt_string(const struct fdt *f, const char *path, const char *prop,
		     const char **out);

/* Calls fn (if not NULL) with the name of each child of the node at
 * `path`; returns how many there are (0 if the node is absent). */
typedef void (*guest_dt_child_fn)(const char *name, size_t len, void *ctx);
uint32_t guest_dt_children(const struct fdt *f, const char *path,
			   guest_dt_child_fn fn, void *ctx);
