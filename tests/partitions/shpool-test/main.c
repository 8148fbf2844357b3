/*
 * Shared-memory pool tests. "poolowner" (ID 1) runs suite "shpool" with
 * pools shared with "poolpeer" (ID 2, both back-ends) and "stubborn"
 * (ID 3, which will not give memory back until told to), then hands over
 * to a next stage with a buffer still allocated.
 */
#include <guest/shpool.h>
#include <guest/test.h>
#include <string.h>

#define ID_OWNER    1
#define ID_PEER	    2
#define ID_STUBBORN 3
#define WINDOW	    0x4f000000ull /* static region: owner rw, peer rw */
#define WINDOW_SIZE 0x4000u

/* Test commands to a peer (x3), besides the pool's own messages. */
enum peer_cmd {
	PEEK = 0x50454b31, /* x4 address -> x4 value, x5 aborted, x6 FAR */
	POKE,		   /* x4 address, x5 value -> x5 aborted */
	BLOCKS,		   /* -> x4 blocks the peer holds */
	LET_GO,		   /* stubborn: give back from now on */
};

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t heap[64][FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t small_heap[4][FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;
static struct shpool pool;
static struct shpool_peer peer;

static struct ffa_value ask(uint16_t to, uint32_t cmd, uint64_t a, uint64_t b)
{
	uint64_t words[5] = {cmd, a, b, 0, 0};
	struct ffa_value r;

	do {
		r = ffa_direct_req(mb.self, to, words, true);
	} while (ffa_is_error(&r, FFA_BUSY));
	return r;
}

/* What the peer reads at `addr`; *aborted says whether it faulted. */
static uint64_t peek(uint64_t addr, bool *aborted, uint64_t *far)
{
	struct ffa_value r = ask(ID_PEER, PEEK, addr, 0);

	*aborted = r.x[5] != 0;
	if (far != NULL) {
		*far = r.x[6];
	}
	return r.x[4];
}

TEST(shpool, grows_only_when_needed)
{
	void *bufs[50];

	ASSERT_EQ(0, shpool_init_dynamic(&pool, &mb, ID_PEER, heap,
					 sizeof(heap), 16 * 1024));
	EXPECT_EQ(0x1000, pool.granule);
	EXPECT_EQ(0, pool.stats.transactions);
	/* 50 buffers of 100 bytes (128 each): one 16 KiB block */
	for (int i = 0; i < 50; i++) {
		bufs[i] = shpool_alloc(&pool, 100, 0);
		ASSERT_TRUE(bufs[i] != NULL);
	}
	EXPECT_EQ(1, pool.stats.transactions);
	EXPECT_EQ(1, pool.stats.refills);
	EXPECT_EQ(1, ask(ID_PEER, BLOCKS, 0, 0).x[4]);
	/* more than the block has left: a second block */
	ASSERT_TRUE(shpool_alloc(&pool, 12 * 1024, 0) != NULL);
	EXPECT_EQ(2, pool.stats.transactions);
	for (int i = 0; i < 50; i++) {
		EXPECT_TRUE(shpool_free(&pool, bufs[i], 100));
	}
	/* the freed space serves the next ones: no new block */
	for (int i = 0; i < 50; i++) {
		ASSERT_TRUE(shpool_alloc(&pool, 100, 0) != NULL);
	}
	EXPECT_EQ(2, pool.stats.refills);
}

TEST(shpool, warm_allocations_make_no_call)
{
	uint64_t calls = ffa_calls_made;

	for (int i = 0; i < 100; i++) {
		void *b = shpool_alloc(&pool, 256, 0);

		ASSERT_TRUE(b != NULL);
		EXPECT_TRUE(shpool_free(&pool, b, 256));
	}
	EXPECT_EQ(calls, ffa_calls_made);
}

TEST(shpool, freed_buffers_are_reused)
{
	void *a = shpool_alloc(&pool, 512, 0);
	void *b;

	ASSERT_TRUE(a != NULL);
	EXPECT_TRUE(shpool_free(&pool, a, 512));
	b = shpool_alloc(&pool, 512, 0);
	EXPECT_EQ((uintptr_t)a, (uintptr_t)b);
	EXPECT_TRUE(shpool_free(&pool, b, 512));
	/* not a buffer of the pool, or freed twice */
	EXPECT_FALSE(shpool_free(&pool, tx, 64));
	EXPECT_FALSE(shpool_free(&pool, b, 512));
}

TEST(shpool, alignment_is_honoured)
{
	static const size_t aligns[] = {64, 128, 1024, 4096, 8192};

	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		uint8_t *b = shpool_alloc(&pool, 72, aligns[i]);

		ASSERT_TRUE(b != NULL);
		EXPECT_EQ(0, (uintptr_t)b % aligns[i]);
	}
	EXPECT_TRUE(shpool_alloc(&pool, 8, 48) == NULL); /* not a power of 2 */
}

TEST(shpool, larger_than_a_granule_and_seen_by_the_peer)
{
	size_t size = 3 * 4096 + 5;
	uint8_t *b = shpool_alloc(&pool, size, 0);
	bool aborted = true;

	ASSERT_TRUE(b != NULL);
	memset(b, 0x5a, size);
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aull,
		  peek((uintptr_t)b + 3 * 4096 - 8, &aborted, NULL));
	EXPECT_FALSE(aborted);
	/* and the other way round */
	ask(ID_PEER, POKE, (uintptr_t)b + 4096, 0x1234);
	EXPECT_EQ(0x1234, *(volatile uint64_t *)(b + 4096));
}

TEST(shpool, unshare_all_leaves_nothing_shared)
{
	uint64_t handles[SHPOOL_MAX_BLOCKS];
	uintptr_t bases[SHPOOL_MAX_BLOCKS];
	uint32_t n = pool.block_count;
	uint32_t before = pool.stats.transactions;
	uint8_t *kept = shpool_alloc(&pool, 64, 0); /* never freed */
	bool aborted = false;
	uint64_t far = 0;

	ASSERT_TRUE(kept != NULL);
	ASSERT_TRUE(n >= 2);
	for (uint32_t i = 0; i < n; i++) {
		handles[i] = pool.blocks[i].handle;
		bases[i] = pool.blocks[i].base;
	}
	EXPECT_EQ(0, shpool_unshare_all(&pool));
	EXPECT_EQ(0, pool.block_count);
	EXPECT_EQ(before + n, pool.stats.transactions);
	/* the peer let go: its access faults, at the address it touched */
	peek((uintptr_t)kept, &aborted, &far);
	EXPECT_TRUE(aborted);
	EXPECT_EQ((uintptr_t)kept, far);
	EXPECT_EQ(0, ask(ID_PEER, BLOCKS, 0, 0).x[4]);
	/* the hypervisor has none of the handles: they are stale */
	for (uint32_t i = 0; i < n; i++) {
		EXPECT_EQ(FFA_INVALID_PARAMETERS,
			  ffa_mem_reclaim(handles[i], 0));
		/* ours again, and writable */
		*(volatile uint64_t *)bases[i] = 7;
	}
	/* every heap granule is back */
	EXPECT_EQ(0, pool.heap.used);
	/* the pool still works: it grows again */
	ASSERT_TRUE(shpool_alloc(&pool, 64, 0) != NULL);
	EXPECT_EQ(1, pool.block_count);
}

TEST(shpool, heap_exhaustion_is_an_error)
{
	static struct shpool small;
	uint32_t got = 0;

	ASSERT_EQ(0, shpool_init_dynamic(&small, &mb, ID_PEER, small_heap,
					 sizeof(small_heap), 0));
	/* 4 granules of heap: 16 buffers of 1 KiB, then nothing */
	for (int i = 0; i < 20; i++) {
		got += shpool_alloc(&small, 1024, 0) != NULL;
	}
	EXPECT_EQ(16, got);
	EXPECT_TRUE(shpool_alloc(&small, 5 * 4096, 0) == NULL);
	EXPECT_EQ(4, small.stats.refills);
	EXPECT_EQ(0, shpool_destroy(&small));
	EXPECT_TRUE(shpool_alloc(&small, 64, 0) == NULL); /* gone */
}

TEST(shpool, static_backend_makes_no_transaction)
{
	static struct shpool fixed;
	uint8_t *bufs[16];
	bool aborted = true;

	ASSERT_EQ(0,
		  shpool_init_static(&fixed, &mb, ID_PEER,
				     (void *)(uintptr_t)WINDOW, WINDOW_SIZE));
	for (int i = 0; i < 16; i++) {
		bufs[i] = shpool_alloc(&fixed, 1000, 0);
		ASSERT_TRUE(bufs[i] != NULL);
		bufs[i][0] = (uint8_t)i;
	}
	EXPECT_TRUE(shpool_alloc(&fixed, 1000, 0) == NULL); /* full */
	EXPECT_EQ(15, peek((uintptr_t)bufs[15], &aborted, NULL) & 0xff);
	EXPECT_FALSE(aborted);
	EXPECT_EQ(0, shpool_unshare_all(&fixed));
	EXPECT_TRUE(shpool_alloc(&fixed, 1000, 0) != NULL); /* empty again */
	EXPECT_EQ(0, fixed.stats.transactions);
	EXPECT_EQ(0, shpool_destroy(&fixed));
}

TEST(shpool, a_peer_that_keeps_memory_is_named)
{
	static struct shpool held;
	uint64_t handle;

	ASSERT_EQ(0, shpool_init_dynamic(&held, &mb, ID_STUBBORN, heap[48],
					 4 * FFA_PAGE_SIZE, 0));
	ASSERT_TRUE(shpool_alloc(&held, 64, 0) != NULL);
	handle = held.blocks[0].handle;
	/* it refuses: an error naming the handle, no hang */
	EXPECT_EQ(FFA_DENIED, shpool_unshare_all(&held));
	EXPECT_EQ(handle, held.failed_handle);
	guest_printf("expected refusal of handle %#lx\n", handle);
	/* the block stays shared and out of use */
	EXPECT_EQ(1, held.block_count);
	EXPECT_EQ(FFA_DENIED, ffa_mem_reclaim(handle, 0));
	/* once it lets go, a second attempt gets it back */
	ask(ID_STUBBORN, LET_GO, 0, 0);
	EXPECT_EQ(0, shpool_destroy(&held));
	EXPECT_EQ(0, held.failed_handle);
}

/* --- hand-over ----------------------------------------------------------- */

/* The next stage: runs with the MMU off after guest_handover(). */
static void next_stage(uint64_t old_buffer)
{
	bool aborted = false;
	uint64_t far = 0;

	peek(old_buffer, &aborted, &far);
	guest_printf("next stage: old buffer %#lx in the peer: %s (FAR "
		     "%#lx)\n",
		     old_buffer, aborted ? "faults" : "still mapped", far);
	for (uint16_t id = ID_PEER; id <= ID_STUBBORN; id++) {
		while (ffa_msg_send(&mb, id, "quit", 4) == FFA_BUSY) {
		}
	}
	psci_system_off();
}

/* --- peers --------------------------------------------------------------- */

static void serve(struct ffa_service *s, const struct ffa_value *req,
		  uint64_t *resp)
{
	struct guest_abort abort = {0};
	uint64_t value = 0;

	(void)s;
	if (shpool_peer_handle(&peer, req, resp)) {
		return;
	}
	switch ((uint32_t)req->x[3]) {
	case PEEK:
		resp[2] = !guest_probe_read(req->x[4], &value, &abort);
		resp[1] = value;
		resp[3] = abort.far;
		break;
	case POKE:
		resp[2] = !guest_probe_write(req->x[4], req->x[5], &abort);
		break;
	case BLOCKS:
		resp[1] = peer.count;
		break;
	case LET_GO:
		peer.refuse_give_back = false;
		break;
	default:
		resp[0] = 0xbad;
	}
}

int main(void)
{
	struct guest_self me = guest_self();

	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	if (me.id != ID_OWNER) {
		struct ffa_service s = {.mb = &mb,
					.direct = serve,
					.indirect =
					    ffa_service_stop_on_message};

		shpool_peer_init(&peer, &mb);
		peer.refuse_give_back = me.id == ID_STUBBORN;
		ffa_service_loop(&s);
		return 0;
	}
	test_run_suite("shpool");
	/* hand over with a buffer still allocated: the SDK unshares first */
	{
		uint8_t *b = shpool_alloc(&pool, 256, 0);

		guest_printf("handing over with %u block(s) shared\n",
			     pool.block_count);
		guest_handover((uintptr_t)next_stage, (uintptr_t)b);
	}
}
