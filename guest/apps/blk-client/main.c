/*
 * Demo "block device" client: writes and reads back sectors of the server's
 * disk through buffers from its shared-memory pool, prints how many memory
 * transactions the pool made for how many requests, then hands over to a
 * "next stage" (guest_handover unshares everything first) which asks the
 * server to touch an old buffer. Built twice: blk-client (dynamic back-end)
 * and blk-client-static (the product's shared-memory region).
 */
#include <guest/shpool.h>
#include <string.h>

#include "../blk.h"

#ifndef BLK_STATIC
#define BLK_STATIC 0
#endif
#define SERVER	      2
#define STATIC_WINDOW 0x4f000000ull /* the static product's region */
#define STATIC_SIZE   0x4000u
#define ROUNDS	      200

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t heap[32][FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static struct shpool pool;

static int32_t request(uint32_t cmd, void *buffer, uint32_t first,
		       uint32_t count)
{
	uint64_t words[5] = {cmd, (uintptr_t)buffer, first, count, 0};
	struct ffa_value r;

	do {
		r = ffa_direct_req(mb.self, SERVER, words, true);
	} while (ffa_is_error(&r, FFA_BUSY));
	return ffa_value_is(&r, FFA_ERROR) ? ffa_value_error(&r)
					   : (int32_t)r.x[3];
}

/* After the hand-over (MMU off): show the old buffer is gone, stop. */
static void next_stage(uint64_t old_buffer)
{
	uint64_t words[5] = {BLK_PROBE, old_buffer, 0, 0, 0};

	guest_printf("block client: next stage running\n");
	ffa_direct_req(mb.self, SERVER, words, true);
	while (ffa_msg_send(&mb, SERVER, "quit", 4) == FFA_BUSY) {
	}
	psci_system_off();
}

int main(void)
{
	uint32_t requests = 0;
	uint32_t bad = 0;
	uint8_t *kept;
	int32_t err;

	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	err = BLK_STATIC ? shpool_init_static(&pool, &mb, SERVER,
					      (void *)(uintptr_t)STATIC_WINDOW,
					      STATIC_SIZE)
			 : shpool_init_dynamic(&pool, &mb, SERVER, heap,
					       sizeof(heap), 16 * 1024);
	if (err != 0) {
		guest_printf("block client: no pool: %d\n", err);
		return 1;
	}
	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint32_t count = 1 + i % 8;
		uint32_t first = (i * 7) % (BLK_SECTORS - 8);
		size_t bytes = (size_t)count * BLK_SECTOR;
		uint8_t *out = shpool_alloc(&pool, bytes, BLK_SECTOR);
		uint8_t *in = shpool_alloc(&pool, bytes, BLK_SECTOR);

		if (out == NULL || in == NULL) {
			guest_printf("block client: pool exhausted\n");
			return 1;
		}
		memset(out, (int)(i * 13 + 1), bytes);
		bad += request(BLK_WRITE, out, first, count) != 0;
		bad += request(BLK_READ, in, first, count) != 0;
		bad += memcmp(in, out, bytes) != 0;
		requests += 2;
		shpool_free(&pool, out, bytes);
		shpool_free(&pool, in, bytes);
	}
	/* a buffer the server never shared with us is refused */
	bad += request(BLK_READ, heap[31], 0, 1) != FFA_INVALID_PARAMETERS;
	guest_printf("block client: %u requests (%u wrong), %u memory "
		     "transaction(s) made by the %s pool\n",
		     requests, bad, pool.stats.transactions,
		     BLK_STATIC ? "static" : "dynamic");
	kept = shpool_alloc(&pool, 512, 0); /* never freed */
	guest_printf("block client: handing over (pool unshares %u "
		     "block(s) first)\n",
		     BLK_STATIC ? 0 : pool.block_count);
	guest_handover((uintptr_t)next_stage, (uintptr_t)kept);
}
