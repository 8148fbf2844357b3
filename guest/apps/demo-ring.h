/*
 * Shared by the demo apps: the sensor -> logger ring in the demo
 * manifest's static shared region `ring` (sensor rw, logger ro), and the
 * direct-request commands the demo partitions understand.
 */
#pragma once

#include <stdint.h>

#define DEMO_RING_ADDR	  0x43000000ull
#define DEMO_RING_ENTRIES 8

struct demo_ring {
	volatile uint32_t head; /* entries written so far */
	uint32_t reserved;
	char entries[DEMO_RING_ENTRIES][48];
};

#define DEMO_COUNT_REQUEST 0x434e543fu /* "CNT?": messages logged */
#define DEMO_FILL_REQUEST  0x46494c4cu /* "FILL": x4 = handle of lent page */
#define DEMO_SHOW_REQUEST  0x53484f57u /* "SHOW": x4 = handle of shared page */

/* Retrieves the single page `handle` (sent by `owner`) with `perms`;
 * returns its address or 0, printing the error. */
static inline uint64_t demo_retrieve(struct ffa_mailbox *mb, uint64_t handle,
				     uint16_t owner, uint8_t perms)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent range;
	int32_t err = ffa_mem_retrieve(mb, handle, owner, 0, FFA_MEM_TYPE_ANY,
				       perms, 0, &t, &range, 1);

	if (err != 0) {
		guest_printf("MEM_RETRIEVE_REQ failed: %d\n", err);
		return 0;
	}
	return range.address;
}
