/*
 * Shared-memory pool: buffers a partition shares with one peer partition,
 * allocated and freed without a memory transaction each time.
 *
 * Back-ends (same allocation API):
 *  - dynamic: when an allocation does not fit, the pool takes a block of
 *    whole granules from the partition's own heap (at least `min_block`
 *    bytes, big enough for the request), shares it with the peer in one
 *    FFA_MEM_SHARE (read-write) and announces the handle; the peer
 *    retrieves it. Freed buffers stay in the pool.
 *  - static: the pool is one of the product's `shared-memory` regions; no
 *    memory transaction is ever made.
 * The sharing granule is read once, at creation (FFA_FEATURES of
 * FFA_RXTX_MAP, w2[1:0]: 4, 64 or 16 KiB).
 *
 * Inside the pool buffers come from a first-fit bitmap allocator in
 * SHPOOL_UNIT units (freed neighbours merge). Its bookkeeping lives in the
 * pool structure, never in shared memory, so a peer cannot corrupt it.
 *
 * Protocol (direct requests, 64-bit; x3 = message, reply x3 = FF-A status):
 *   SHPOOL_MSG_ANNOUNCE  x4 = handle, x5 = bytes: retrieve it read-write
 *                        (reply x4 = where it is mapped)
 *   SHPOOL_MSG_STATIC    x4 = base, x5 = bytes: the pool is this static
 *                        region (no transaction)
 *   SHPOOL_MSG_GIVE_BACK x4 = handle: stop using it and relinquish it
 * A peer answers them with shpool_peer_handle() from its direct-request
 * handler (ffa_service_loop's `direct`).
 */
#pragma once

#include <bulkhead/bitalloc.h>
#include <guest/ffa.h>

#define SHPOOL_UNIT	      64u      /* smallest allocation, bytes */
#define SHPOOL_MAX_BLOCKS     16       /* blocks one pool shares */
#define SHPOOL_MAX_BLOCK_SIZE 0x40000u /* 256 KiB per block */
#define SHPOOL_MAX_HEAP_UNITS 1024     /* heap granules */

#define SHPOOL_MSG_ANNOUNCE  0x53504131u /* "SPA1" */
#define SHPOOL_MSG_STATIC    0x53505331u /* "SPS1" */
#define SHPOOL_MSG_GIVE_BACK 0x53504731u /* "SPG1" */

enum shpool_backend {
	SHPOOL_DYNAMIC,
	SHPOOL_STATIC,
};

struct shpool_block {
	uintptr_t base;
	size_t size;
	uint64_t handle; /* 0 for the static region */
	struct bitalloc alloc;
	uint64_t bits[SHPOOL_MAX_BLOCK_SIZE / SHPOOL_UNIT / 64];
};

struct shpool_stats {
	uint32_t transactions; /* memory transactions made (share, reclaim) */
	uint32_t refills;      /* blocks added */
	uint32_t allocs;       /* successful allocations */
};

struct shpool {
	struct ffa_mailbox *mb;
	uint16_t peer;
	enum shpool_backend backend;
	size_t granule;
	size_t min_block;
	/* dynamic: the heap blocks come from, in granules */
	uintptr_t heap_base;
	struct bitalloc heap;
	uint64_t heap_bits[SHPOOL_MAX_HEAP_UNITS / 64];
	uint32_t block_count;
	struct shpool_block blocks[SHPOOL_MAX_BLOCKS];
	struct shpool_stats stats;
	/* the last block unshare_all could not get back (0: none) */
	uint64_t failed_handle;
	bool live;
};

/*
 * A dynamic pool shared with `peer`, growing from [heap, heap + heap_size)
 * of this partition's own memory (granule aligned) in blocks of at least
 * `min_block` bytes (0: one granule). Returns 0 or a negative FF-A error.
 */
int32_t shpool_init_dynamic(struct shpool *p, struct ffa_mailbox *mb,
			    uint16_t peer, void *heap, size_t heap_size,
			    size_t min_block);

/* A static pool over the shared-memory region [region, region + size)
 * (which the manifest maps for this partition and `peer`); the peer is
 * told where it is. */
int32_t shpool_init_static(struct shpool *p, struct ffa_mailbox *mb,
			   uint16_t peer, void *region, size_t size);

/* `size` bytes aligned to `align` (a power of two; 0 = SHPOOL_UNIT), or
 * NULL when neither the pool nor (dynamic) the heap has room. */
void *shpool_alloc(struct shpool *p, size_t size, size_t align);

/* Gives back a buffer shpool_alloc returned for `size` bytes; false if it
 * is not one. */
bool shpool_free(struct shpool *p, void *ptr, size_t size);

/*
 * Ends all sharing: for each block, the peer is asked to give it back,
 * then it is reclaimed and returns to the heap; allocations still out are
 * gone with it. Returns 0, or the error of the first block that could not
 * be reclaimed (its handle in p->failed_handle, and printed); blocks that
 * could not be reclaimed stay out of use. Called for every live pool by
 * guest_handover().
 */
int32_t shpool_unshare_all(struct shpool *p);

/* unshare_all, and the pool is no more. */
int32_t shpool_destroy(struct shpool *p);

/* unshare_all for every live pool (what guest_handover() does first);
 * returns the first error. */
int32_t shpool_unshare_everything(void);

/* --- The peer's side ----------------------------------------------------- */

struct shpool_peer_block {
	uint64_t handle;
	uintptr_t base;
	size_t size;
};

struct shpool_peer {
	struct ffa_mailbox *mb;
	uint32_t count;
	struct shpool_peer_block blocks[SHPOOL_MAX_BLOCKS];
	bool refuse_give_back; /* tests: a peer that will not let go */
};

void shpool_peer_init(struct shpool_peer *peer, struct ffa_mailbox *mb);

/*
 * If `req` is a pool message, handles it and fills resp[0..4] (x3..x7 of
 * the response); returns false for anything else.
 */
bool shpool_peer_handle(struct shpool_peer *peer, const struct ffa_value *req,
			uint64_t *resp);

/* Whether [addr, addr + len) lies inside one block the peer holds. */
bool shpool_peer_holds(const struct shpool_peer *peer, uint64_t addr,
		       uint64_t len);
