/*
 * Host tests of the hypervisor's memory transactions (core/ffa_mem.c) on
 * fake partitions: pool exhaustion injected at every allocation point of
 * every call leaves every stage-2 table, the page pool and the
 * transaction table as they were, and the call then succeeds.
 *
 * The partitions' RAM is host memory mapped at the guest addresses (the
 * hypervisor identity maps, and zeroing writes through va_from_pa).
 */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <core/arch.h>
#include <core/arch_mm.h>
#include <core/ffa.h>

#include "fake_arch.h"
#include "unit.h"

#define RAM_BASE  0x44000000ull
#define RAM_SIZE  0x400000ull /* per partition: two 2 MiB blocks */
#define NPARTS	  4
#define POOL_SIZE 96

/* Partition i (ID i + 1) owns [RAM_BASE + i * RAM_SIZE, + RAM_SIZE); its
 * TX and RX buffers are its last two pages. */
#define RAM(i)	   (RAM_BASE + (uint64_t)(i)*RAM_SIZE)
#define TX(i)	   (RAM(i) + RAM_SIZE - 2 * FFA_PAGE_SIZE)
#define RX(i)	   (RAM(i) + RAM_SIZE - FFA_PAGE_SIZE)
#define PAGE(i, n) (RAM(i) + 0x100000ull + (uint64_t)(n)*FFA_PAGE_SIZE)

#define GRANT(from, to)                                                        \
	{                                                                      \
		.sender = (from), .receiver = (to),                            \
		.operations =                                                  \
		    MANIFEST_OP_SHARE | MANIFEST_OP_LEND | MANIFEST_OP_DONATE, \
		.max_access =                                                  \
		    MANIFEST_ACCESS_R | MANIFEST_ACCESS_W | MANIFEST_ACCESS_X, \
		.max_pages = 4096,                                             \
	}

/*
 * Partition i has one vCPU, on physical CPU i, and RAM(i) (which the
 * memory checker finds an owner for, page by page). Partition 1 may have the
 * whole table, partition 2 two transactions (and may only share, 8 pages,
 * with 3), partition 4 has no grant at all.
 */
const struct manifest bulkhead_manifest = {
    .platform = {.cpu_count = NPARTS,
		 .cpu_mpidr = {0, 1, 2, 3},
		 /* the vGIC tests (test_vgic.c) trap accesses here */
		 .gicd_base = 0x08000000,
		 .gicr_base = 0x080a0000},
    .partition_count = NPARTS,
    .partitions = {{.id = 1,
		    .name = "one",
		    .mem_count = 1,
		    .mem = {{RAM(0), RAM_SIZE}},
		    .vcpu_count = 1,
		    .cpus = {0},
		    .mem_transactions = CONFIG_FFA_MEM_MAX_TRANSACTIONS},
		   {.id = 2,
		    .name = "two",
		    .mem_count = 1,
		    .mem = {{RAM(1), RAM_SIZE}},
		    .vcpu_count = 1,
		    .cpus = {1},
		    .mem_transactions = 2},
		   {.id = 3,
		    .name = "three",
		    .mem_count = 1,
		    .mem = {{RAM(2), RAM_SIZE}},
		    .vcpu_count = 1,
		    .cpus = {2},
		    .mem_transactions = 8},
		   {.id = 4,
		    .name = "four",
		    .mem_count = 1,
		    .mem = {{RAM(3), RAM_SIZE}},
		    .vcpu_count = 1,
		    .cpus = {3}}},
    .grant_count = 6,
    .grants = {GRANT(1, 2),
	       GRANT(1, 3),
	       GRANT(2, 1),
	       {.sender = 2,
		.receiver = 3,
		.operations = MANIFEST_OP_SHARE,
		.max_access = MANIFEST_ACCESS_R | MANIFEST_ACCESS_W,
		.max_pages = 8},
	       GRANT(3, 1),
	       GRANT(3, 2)},
};

static struct mpool pool;
static struct mm_table_info pool_info[POOL_SIZE];
static void *pool_mem;

void arch_sync_memory_for_guest(void *va, size_t size)
{
	(void)va;
	(void)size;
}

void arch_zero_for_guest(void *va, size_t size)
{
	memset(va, 0, size);
}

static void setup(void)
{
	void *ram =
	    mmap((void *)(uintptr_t)RAM_BASE, NPARTS * RAM_SIZE,
		 PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	EXPECT_EQ(RAM_BASE, (uintptr_t)ram);
	pool_mem = aligned_alloc(PAGE_SIZE, POOL_SIZE * PAGE_SIZE);
	mpool_init(&pool);
	mpool_add(&pool, pool_mem, POOL_SIZE * PAGE_SIZE);
	mm_track_tables(pool_mem, POOL_SIZE, pool_info);
	partition_table_init(&pool);
	for (int i = 0; i < NPARTS; i++) {
		struct partition *p = &partitions[i];

		p->ffa_version = FFA_VERSION_1_2;
		p->mailbox = (struct ffa_mailbox){.tx = ipa_init(TX(i)),
						  .rx = ipa_init(RX(i)),
						  .page_count = 1};
		EXPECT_TRUE(
		    mm_ptable_init(&p->ptable, (uint16_t)(i + 1), &pool));
		EXPECT_TRUE(mm_identity_map(&p->ptable, ipa_init(RAM(i)),
					    ipa_init(RAM(i) + RAM_SIZE),
					    MM_MODE_RWX, &pool));
	}
}

/* Every partition's tree, serialised, so "nothing changed" can be seen. */
static size_t snapshot_table(const pte_t *table, uint8_t level, pte_t *out,
			     size_t pos)
{
	for (size_t i = 0; i < MM_PTE_PER_TABLE; i++) {
		out[pos++] = table[i];
		if (arch_mm_pte_is_table(table[i], level)) {
			pos = snapshot_table(
			    va_from_pa(arch_mm_table_addr(table[i], level)),
			    level + 1, out, pos);
		}
	}
	return pos;
}

static size_t snapshot(pte_t *out)
{
	size_t n = 0;

	for (int i = 0; i < NPARTS; i++) {
		n = snapshot_table(va_from_pa(partitions[i].ptable.root),
				   arch_mm_stage2_root_level(), out, n);
	}
	return n;
}

/* Runs FF-A call `fn` with x1..x4 as partition `caller`; returns w0 and
 * the registers. */
/* The FF-A version each partition's calls are made at (call()). */
static uint32_t caller_version[NPARTS] = {FFA_VERSION_1_2, FFA_VERSION_1_2,
					  FFA_VERSION_1_2, FFA_VERSION_1_2};

static struct arch_regs call(int caller, uint32_t fn, uint64_t a1, uint64_t a2,
			     uint64_t a3, uint64_t a4)
{
	struct vcpu *v = &partitions[caller].vcpus[0];
	struct ffa_value r;

	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.x[0] = fn;
	v->regs.x[1] = a1;
	v->regs.x[2] = a2;
	v->regs.x[3] = a3;
	v->regs.x[4] = a4;
	r = ffa_mem_handle(v, fn, caller_version[caller]);
	ffa_value_write(&v->regs, fn, &r);
	return v->regs;
}

static int32_t status(const struct arch_regs *r)
{
	return (uint32_t)r->x[0] == FFA_ERROR ? (int32_t)r->x[2] : 0;
}

/* A send descriptor in `caller`'s TX: `count` constituents `cons`. */
static uint32_t write_send(int caller, const struct ffa_mem_constituent *cons,
			   uint32_t count, const uint16_t *to, uint32_t nb,
			   uint8_t perms, bool share)
{
	struct ffa_mem_transaction t = {
	    .sender = (uint16_t)(caller + 1),
	    .attributes = share || nb > 1 ? FFA_MEM_ATTR_NORMAL_WB_IS : 0,
	    .receiver_count = nb,
	    .constituent_count = count,
	};

	for (uint32_t i = 0; i < nb; i++) {
		t.receivers[i].id = to[i];
		t.receivers[i].permissions = perms;
	}
	return ffa_mem_build(va_from_pa(pa_init(TX(caller))), FFA_PAGE_SIZE,
			     FFA_VERSION_1_2, &t, cons);
}

/* `caller` sends the page at `address` by `fn` to partition ID `to` with
 * `perms` (normal memory when shared); returns the registers. */
static struct arch_regs send_page(int caller, uint32_t fn, uint64_t address,
				  uint16_t to, uint8_t perms)
{
	struct ffa_mem_constituent c = {address, 1, 0};
	uint32_t len =
	    write_send(caller, &c, 1, &to, 1, perms, fn == FFA_MEM_SHARE_64);

	return call(caller, fn, len, len, 0, 0);
}

static uint32_t write_retrieve(int caller, uint64_t handle, uint16_t owner,
			       uint8_t perms)
{
	struct ffa_mem_transaction t = {
	    .sender = owner, .handle = handle, .receiver_count = 1};

	t.receivers[0].id = (uint16_t)(caller + 1);
	t.receivers[0].permissions = perms;
	return ffa_mem_build(va_from_pa(pa_init(TX(caller))), FFA_PAGE_SIZE,
			     FFA_VERSION_1_2, &t, NULL);
}

static void write_relinquish(int caller, uint64_t handle)
{
	struct ffa_mem_relinquish r = {handle, 0, (uint16_t)(caller + 1)};

	ffa_mem_relinquish_build(va_from_pa(pa_init(TX(caller))), &r);
}

static uint64_t handle_of(const struct arch_regs *r)
{
	return (uint32_t)r->x[2] | (uint64_t)(uint32_t)r->x[3] << 32;
}

/* The RX buffer is the partition's again after a retrieve response. */
static void release_rx(int i)
{
	partitions[i].mailbox.rx_owner = FFA_RX_HYPERVISOR;
}

typedef struct arch_regs (*step_fn)(uint64_t *handle);

/* How many calls exhaust() saw fail for want of pages. */
static unsigned int dry_failures;

/*
 * Runs `step` with the pool failing after 0, 1, 2, ... pages until it
 * succeeds: each failure must be NO_MEMORY and change no table and no
 * pool count; returns the successful result.
 */
static struct arch_regs exhaust(step_fn step, uint64_t *handle)
{
	static pte_t before[1 << 16];
	static pte_t after[1 << 16];

	for (long allowed = 0;; allowed++) {
		size_t n = snapshot(before);
		size_t free_before = mpool_count(&pool);
		struct arch_regs r;

		mpool_fail_after(&pool, allowed);
		r = step(handle);
		mpool_fail_after(&pool, -1);
		if (status(&r) == 0) {
			return r;
		}
		EXPECT_EQ(FFA_NO_MEMORY, status(&r));
		dry_failures++;
		EXPECT_EQ(n, snapshot(after));
		EXPECT_EQ(0, memcmp(before, after, n * sizeof(pte_t)));
		EXPECT_EQ(free_before, mpool_count(&pool));
		EXPECT_TRUE(allowed < 64);
	}
}

/* Three constituents: one page, two pages across a 2 MiB boundary of
 * partition 1, and a page in its other block. */
static const struct ffa_mem_constituent three[] = {
    {PAGE(0, 3), 1, 0},
    {RAM(0) + 0x1ff000, 2, 0},
    {RAM(0) + 0x280000, 1, 0},
};

static struct arch_regs share_to_two(uint64_t *handle)
{
	uint16_t to[2] = {2, 3};
	uint32_t len = write_send(0, three, 3, to, 2, FFA_MEM_DATA_RW, true);
	struct arch_regs r = call(0, FFA_MEM_SHARE_64, len, len, 0, 0);

	*handle = handle_of(&r);
	return r;
}

static struct arch_regs retrieve_by(int who, uint64_t handle, uint16_t owner,
				    uint8_t perms)
{
	uint32_t len = write_retrieve(who, handle, owner, perms);
	struct arch_regs r = call(who, FFA_MEM_RETRIEVE_REQ_64, len, len, 0, 0);

	if ((uint32_t)r.x[0] == FFA_MEM_RETRIEVE_RESP) {
		release_rx(who);
		r.x[0] = FFA_SUCCESS_32; /* for exhaust() */
	}
	return r;
}

static struct arch_regs b2_retrieves(uint64_t *handle)
{
	return retrieve_by(1, *handle, 1, 0);
}

static struct arch_regs b3_retrieves(uint64_t *handle)
{
	return retrieve_by(2, *handle, 1, FFA_MEM_DATA_RO);
}

static struct arch_regs b2_relinquishes(uint64_t *handle)
{
	write_relinquish(1, *handle);
	return call(1, FFA_MEM_RELINQUISH, 0, 0, 0, 0);
}

static struct arch_regs b3_relinquishes(uint64_t *handle)
{
	write_relinquish(2, *handle);
	return call(2, FFA_MEM_RELINQUISH, 0, 0, 0, 0);
}

static struct arch_regs owner_reclaims(uint64_t *handle)
{
	return call(0, FFA_MEM_RECLAIM, (uint32_t)*handle, *handle >> 32, 0, 0);
}

/* Partition `from` donates the three ranges to partition ID `to`. */
static struct arch_regs donate(int from, uint16_t to, uint64_t *handle)
{
	uint32_t len = write_send(from, three, 3, &to, 1, 0, false);
	struct arch_regs r = call(from, FFA_MEM_DONATE_64, len, len, 0, 0);

	*handle = handle_of(&r);
	return r;
}

static struct arch_regs donate_to_3(uint64_t *handle)
{
	return donate(0, 3, handle);
}

static struct arch_regs b3_takes_donation(uint64_t *handle)
{
	return retrieve_by(2, *handle, 1, FFA_MEM_DATA_RW | FFA_MEM_INSTR_X);
}

static struct arch_regs b3_donates_back(uint64_t *handle)
{
	return donate(2, 1, handle);
}

static struct arch_regs owner_takes_it_back(uint64_t *handle)
{
	return retrieve_by(0, *handle, 3, FFA_MEM_DATA_RW | FFA_MEM_INSTR_X);
}

/* The same share to partition 2 alone, in two fragments: the header with
 * one constituent, then the other two by MEM_FRAG_TX. */
static struct arch_regs share_in_fragments(uint64_t *handle)
{
	uint16_t to = 2;
	uint32_t len = write_send(0, three, 3, &to, 1, FFA_MEM_DATA_RW, true);
	uint32_t first = len - 2 * FFA_MEM_CONSTITUENT_SIZE;
	struct arch_regs r = call(0, FFA_MEM_SHARE_64, len, first, 0, 0);
	uint8_t *tx = va_from_pa(pa_init(TX(0)));

	EXPECT_EQ(FFA_MEM_FRAG_RX, (uint32_t)r.x[0]);
	EXPECT_EQ(first, r.x[3]);
	memmove(tx, tx + first, 2 * FFA_MEM_CONSTITUENT_SIZE);
	r = call(0, FFA_MEM_FRAG_TX, r.x[1], r.x[2],
		 2 * FFA_MEM_CONSTITUENT_SIZE, 0);
	*handle = handle_of(&r);
	return r;
}

static uint32_t mode_in(int i, uint64_t addr)
{
	uint32_t mode = 0;

	EXPECT_TRUE(mm_get_mode(&partitions[i].ptable, ipa_init(addr),
				ipa_init(addr + FFA_PAGE_SIZE), &mode));
	return mode;
}

/* A share of `count` pages at `first` from `caller` to partition ID `to`,
 * sent as a first fragment of all but the last constituent (one page
 * each, every other page): returns the call's registers. */
static struct arch_regs first_fragment(int caller, uint16_t to, uint32_t count,
				       uint64_t first)
{
	struct ffa_mem_constituent cons[8];
	uint32_t len;

	for (uint32_t i = 0; i < count; i++) {
		cons[i] = (struct ffa_mem_constituent){
		    first + 2 * i * FFA_PAGE_SIZE, 1, 0};
	}
	len = write_send(caller, cons, count, &to, 1, FFA_MEM_DATA_RW, true);
	return call(caller, FFA_MEM_SHARE_64, len,
		    len - FFA_MEM_CONSTITUENT_SIZE, 0, 0);
}

static void teardown(void)
{
	munmap((void *)(uintptr_t)RAM_BASE, NPARTS * RAM_SIZE);
	free(pool_mem);
}

/* --- DEN0077's rules, one case each -------------------------------------- */

/* A whole descriptor `t` with constituents `cons` in `caller`'s TX, in the
 * layout of its version; returns its length. */
static uint32_t put_desc(int caller, struct ffa_mem_transaction *t,
			 const struct ffa_mem_constituent *cons)
{
	return ffa_mem_build(va_from_pa(pa_init(TX(caller))), FFA_PAGE_SIZE,
			     caller_version[caller], t, cons);
}

/* `caller` sends page `page` of its RAM by `fn` to the receivers of `t`
 * (sender and constituent filled in); returns the registers. */
static struct arch_regs send_one(int caller, uint32_t fn, int page,
				 struct ffa_mem_transaction *t,
				 uint64_t *handle)
{
	struct ffa_mem_constituent c = {PAGE(caller, page), 1, 0};
	uint32_t len;
	struct arch_regs r;

	t->sender = (uint16_t)(caller + 1);
	t->constituent_count = 1;
	len = put_desc(caller, t, &c);
	r = call(caller, fn, len, len, 0, 0);
	*handle = handle_of(&r);
	return r;
}

/* A send of page `page` of partition 1 (ID 1) to `to` by `fn`. */
static uint64_t send_to(uint32_t fn, int page, uint16_t to, uint8_t perms,
			uint32_t flags)
{
	struct ffa_mem_transaction t = {
	    .attributes =
		fn == FFA_MEM_SHARE_64 ? FFA_MEM_ATTR_NORMAL_WB_IS : 0,
	    .flags = flags,
	    .receiver_count = 1,
	};
	uint64_t h = 0;
	struct arch_regs r;

	t.receivers[0].id = to;
	t.receivers[0].permissions = perms;
	r = send_one(0, fn, page, &t, &h);
	EXPECT_EQ(0, status(&r));
	return h;
}

/* `who` retrieves `handle` of partition ID 1 as asked; the registers. */
static struct arch_regs retrieve_as(int who, uint64_t handle, uint8_t perms,
				    uint16_t attributes, uint32_t flags)
{
	struct ffa_mem_transaction t = {.sender = 1,
					.attributes = attributes,
					.flags = flags,
					.handle = handle,
					.receiver_count = 1};
	uint32_t len;

	t.receivers[0].id = (uint16_t)(who + 1);
	t.receivers[0].permissions = perms;
	len = put_desc(who, &t, NULL);
	return call(who, FFA_MEM_RETRIEVE_REQ_64, len, len, 0, 0);
}

static struct arch_regs relinquish_as(int who, uint64_t handle, uint32_t flags)
{
	struct ffa_mem_relinquish r = {handle, flags, (uint16_t)(who + 1)};

	ffa_mem_relinquish_build(va_from_pa(pa_init(TX(who))), &r);
	return call(who, FFA_MEM_RELINQUISH, 0, 0, 0, 0);
}

static uint8_t *rx_of(int i)
{
	return va_from_pa(pa_init(RX(i)));
}

static uint8_t *page_va(int i, int n)
{
	return va_from_pa(pa_init(PAGE(i, n)));
}

static uint32_t rx_u32(int i, size_t offset)
{
	uint32_t v;

	memcpy(&v, rx_of(i) + offset, sizeof(v));
	return v;
}

/* DEN0077 "FFA_MEM_DONATE/LEND/SHARE": the sender endpoint ID must be the
 * caller's, else DENIED. */
UNIT(spec_send_naming_another_sender_is_denied)
{
	struct ffa_mem_transaction t = {.attributes = FFA_MEM_ATTR_NORMAL_WB_IS,
					.receiver_count = 1};
	struct ffa_mem_constituent c = {PAGE(0, 0), 1, 0};
	uint32_t len;
	struct arch_regs r;

	setup();
	t.sender = 3; /* partition 1 (ID 1) claims to be ID 3 */
	t.constituent_count = 1;
	t.receivers[0].id = 2;
	t.receivers[0].permissions = FFA_MEM_DATA_RO;
	len = put_desc(0, &t, &c);
	r = call(0, FFA_MEM_SHARE_64, len, len, 0, 0);
	EXPECT_EQ(FFA_DENIED, status(&r));
	EXPECT_EQ(MM_MODE_RWX, mode_in(0, PAGE(0, 0)));
	teardown();
}

/* DEN0077 "FFA_MEM_RETRIEVE_REQ": a request whose sender is not the
 * transaction's owner is DENIED. */
UNIT(spec_retrieve_naming_the_wrong_sender_is_denied)
{
	uint64_t h;
	struct ffa_mem_transaction t = {.sender = 3, .receiver_count = 1};
	uint32_t len;
	struct arch_regs r;

	setup();
	h = send_to(FFA_MEM_SHARE_64, 0, 2, FFA_MEM_DATA_RO, 0);
	t.handle = h;
	t.receivers[0].id = 2;
	len = put_desc(1, &t, NULL);
	r = call(1, FFA_MEM_RETRIEVE_REQ_64, len, len, 0, 0);
	EXPECT_EQ(FFA_DENIED, status(&r));
	r = retrieve_as(1, h, 0, 0, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	teardown();
}

/* DEN0077 "Memory region attributes": the NS bit (bit 6) of a retrieve
 * response gives the memory's security state, non-secure (1) here; set
 * from v1.1 on, and for a v1.0 retriever only once it said (FFA_FEATURES
 * input property) that it handles it. */
UNIT(spec_retrieve_response_carries_the_ns_bit)
{
	uint64_t h;
	struct arch_regs r;

	setup();
	h = send_to(FFA_MEM_SHARE_64, 0, 2, FFA_MEM_DATA_RO, 0);
	r = retrieve_as(1, h, 0, 0, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	EXPECT_EQ(FFA_MEM_ATTR_NORMAL_WB_IS | FFA_MEM_ATTR_NS,
		  rx_u32(1, 0) >> 16);
	release_rx(1);
	r = relinquish_as(1, h, 0);
	EXPECT_EQ(0, status(&r));
	/* a v1.0 retriever: 8-bit attributes, NS only when asked for */
	caller_version[1] = FFA_VERSION_1_0;
	r = retrieve_as(1, h, 0, 0, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	EXPECT_EQ(FFA_MEM_ATTR_NORMAL_WB_IS, rx_of(1)[2]);
	EXPECT_EQ(0, rx_of(1)[3]);
	release_rx(1);
	r = relinquish_as(1, h, 0);
	partitions[1].ffa_mem_ns = true;
	r = retrieve_as(1, h, 0, 0, 0);
	EXPECT_EQ(FFA_MEM_ATTR_NORMAL_WB_IS | FFA_MEM_ATTR_NS, rx_of(1)[2]);
	caller_version[1] = FFA_VERSION_1_2;
	partitions[1].ffa_mem_ns = false;
	teardown();
}

/* DEN0077 "Flags usage in FFA_MEM_RETRIEVE_RESP": bit 0 says the memory
 * was zeroed before retrieval (the sender asked for it), bits [4:3] the
 * transaction type. */
UNIT(spec_retrieve_response_says_the_memory_was_zeroed)
{
	uint64_t h;
	struct arch_regs r;

	setup();
	memset(page_va(0, 1), 0x5a, FFA_PAGE_SIZE);
	h = send_to(FFA_MEM_LEND_64, 1, 2, FFA_MEM_DATA_RW, FFA_MEM_SEND_ZERO);
	r = retrieve_as(1, h, 0, 0, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	EXPECT_EQ(FFA_MEM_RETRIEVE_ZERO_BEFORE |
		      FFA_MEM_TYPE_LEND << FFA_MEM_RETRIEVE_TYPE_SHIFT,
		  rx_u32(1, 4));
	EXPECT_EQ(0, page_va(0, 1)[100]);
	release_rx(1);
	h = send_to(FFA_MEM_LEND_64, 2, 2, FFA_MEM_DATA_RW, 0);
	r = retrieve_as(1, h, 0, 0, 0);
	EXPECT_EQ(FFA_MEM_TYPE_LEND << FFA_MEM_RETRIEVE_TYPE_SHIFT,
		  rx_u32(1, 4));
	teardown();
}

/* Partition ID 1 lends its page 0 read-write to ID 2, giving it the
 * implementation-defined value `impdef` (in the layout of
 * caller_version[0]); returns the handle. */
static uint64_t lend_with_impdef(const uint8_t impdef[16])
{
	struct ffa_mem_transaction t = {.attributes = 0, .receiver_count = 1};
	uint64_t h = 0;
	struct arch_regs r;

	t.receivers[0].id = 2;
	t.receivers[0].permissions = FFA_MEM_DATA_RW;
	memcpy(t.receivers[0].impdef, impdef, 16);
	r = send_one(0, FFA_MEM_LEND_64, 0, &t, &h);
	EXPECT_EQ(0, status(&r));
	return h;
}

/* ID 2 retrieves `h` (v1.2) naming the implementation-defined value
 * `impdef`; returns the registers. */
static struct arch_regs retrieve_with_impdef(uint64_t h,
					     const uint8_t impdef[16])
{
	struct ffa_mem_transaction q = {
	    .sender = 1, .handle = h, .receiver_count = 1};
	uint32_t len;

	q.receivers[0].id = 2;
	memcpy(q.receivers[0].impdef, impdef, 16);
	len = put_desc(1, &q, NULL);
	return call(1, FFA_MEM_RETRIEVE_REQ_64, len, len, 0, 0);
}

/* DEN0077 v1.2 "Endpoint memory access descriptor": the
 * implementation-defined value of a retrieve request must be the one the
 * sender gave that receiver, else INVALID_PARAMETERS; the response
 * carries it. */
UNIT(spec_v12_impdef_value_must_match_the_senders)
{
	uint8_t sent[16];
	uint8_t other[16] = {0};
	uint64_t h;
	struct arch_regs r;

	setup();
	for (int i = 0; i < 16; i++) {
		sent[i] = (uint8_t)(0xa0 + i);
	}
	h = lend_with_impdef(sent);
	r = retrieve_with_impdef(h, other); /* all zero */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	other[15] = 0xaf; /* one byte of sixteen */
	r = retrieve_with_impdef(h, other);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	r = retrieve_with_impdef(h, sent);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	EXPECT_EQ(0, memcmp(rx_of(1) + 48 + 8, sent, 16));
	teardown();
}

/* The same rule when the sender used v1.1 descriptors, which have no
 * implementation-defined field: the value it gave is zero, so a v1.2
 * retriever naming any other is refused. */
UNIT(spec_v12_impdef_after_a_v11_send_must_be_zero)
{
	uint8_t value[16] = {0};
	uint64_t h;
	struct arch_regs r;

	setup();
	caller_version[0] = FFA_VERSION_1_1;
	h = lend_with_impdef(value);
	value[3] = 0x01;
	r = retrieve_with_impdef(h, value);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	value[3] = 0;
	r = retrieve_with_impdef(h, value);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	caller_version[0] = FFA_VERSION_1_2;
	teardown();
}

/* DEN0077 "Flags usage in FFA_MEM_RETRIEVE_REQ", bit 2: the retrieve's
 * zero-after-relinquish "could be overridden by the Receiver in an
 * invocation of FFA_MEM_RELINQUISH": the relinquish's own flag decides
 * (b'0: must not zero); the retrieve's stands if the borrower stops. For
 * memory lent to several, it is cleared once none holds it if any asked. */
UNIT(spec_relinquish_flag_overrides_zero_after)
{
	uint64_t h;
	struct arch_regs r;
	struct ffa_mem_transaction t = {.attributes = FFA_MEM_ATTR_NORMAL_WB_IS,
					.receiver_count = 2};

	setup();
	h = send_to(FFA_MEM_LEND_64, 0, 2, FFA_MEM_DATA_RW, 0);
	r = retrieve_as(1, h, 0, 0, FFA_MEM_RETRIEVE_ZERO_AFTER);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	memset(page_va(0, 0), 0x77, FFA_PAGE_SIZE);
	release_rx(1);
	r = relinquish_as(1, h, 0);
	EXPECT_EQ(0, status(&r));
	EXPECT_EQ(0x77, page_va(0, 0)[9]); /* b'0: not zeroed */
	r = retrieve_as(1, h, 0, 0, 0);
	release_rx(1);
	r = relinquish_as(1, h, FFA_MEM_RELINQUISH_ZERO);
	EXPECT_EQ(0, status(&r));
	EXPECT_EQ(0, page_va(0, 0)[9]); /* b'1: zeroed */
	r = owner_reclaims(&h);
	EXPECT_EQ(0, status(&r));
	/* lent to two: zeroed when the last lets go */
	t.receivers[0] =
	    (struct ffa_mem_receiver){.id = 2, .permissions = FFA_MEM_DATA_RW};
	t.receivers[1] =
	    (struct ffa_mem_receiver){.id = 3, .permissions = FFA_MEM_DATA_RW};
	r = send_one(0, FFA_MEM_LEND_64, 0, &t, &h);
	EXPECT_EQ(0, status(&r));
	r = retrieve_as(1, h, 0, 0, 0);
	release_rx(1);
	r = retrieve_as(2, h, 0, 0, 0);
	release_rx(2);
	memset(page_va(0, 0), 0x66, FFA_PAGE_SIZE);
	r = relinquish_as(1, h, FFA_MEM_RELINQUISH_ZERO);
	EXPECT_EQ(0, status(&r));
	EXPECT_EQ(0x66, page_va(0, 0)[9]); /* partition 3 still uses it */
	r = relinquish_as(2, h, 0);
	EXPECT_EQ(0, status(&r));
	EXPECT_EQ(0, page_va(0, 0)[9]);
	teardown();
}

/* DEN0077 "Flags usage in FFA_MEM_RETRIEVE_REQ", bit 0: b'1 retrieves
 * "only if the Sender requested the Relayer to zero its contents": a
 * donation (or loan) sent without the zero flag is refused (DENIED). */
UNIT(spec_zero_before_retrieval_needs_the_senders_zero_flag)
{
	uint64_t h;
	struct arch_regs r;

	setup();
	h = send_to(FFA_MEM_DONATE_64, 0, 2, 0, 0);
	r = retrieve_as(1, h, FFA_MEM_DATA_RW, 0, FFA_MEM_RETRIEVE_ZERO_BEFORE);
	EXPECT_EQ(FFA_DENIED, status(&r));
	EXPECT_EQ(MM_MODE_ABSENT, mode_in(1, PAGE(0, 0)));
	h = send_to(FFA_MEM_LEND_64, 1, 2, FFA_MEM_DATA_RW, 0);
	r = retrieve_as(1, h, 0, 0, FFA_MEM_RETRIEVE_ZERO_BEFORE);
	EXPECT_EQ(FFA_DENIED, status(&r));
	h = send_to(FFA_MEM_DONATE_64, 2, 2, 0, FFA_MEM_SEND_ZERO);
	r = retrieve_as(1, h, FFA_MEM_DATA_RW, 0, FFA_MEM_RETRIEVE_ZERO_BEFORE);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	teardown();
}

/* DEN0077 "Instruction access permissions usage": in a transaction to
 * share memory or lend it to more than one borrower, the borrower's
 * request must leave instruction access unspecified (b'00), else
 * INVALID_PARAMETERS; the response says NX. */
UNIT(spec_instruction_access_unspecified_for_several_borrowers)
{
	struct ffa_mem_transaction t = {.attributes = FFA_MEM_ATTR_NORMAL_WB_IS,
					.receiver_count = 2};
	uint64_t h = 0;
	struct arch_regs r;

	setup();
	t.receivers[0] =
	    (struct ffa_mem_receiver){.id = 2, .permissions = FFA_MEM_DATA_RO};
	t.receivers[1] =
	    (struct ffa_mem_receiver){.id = 3, .permissions = FFA_MEM_DATA_RO};
	r = send_one(0, FFA_MEM_LEND_64, 0, &t, &h);
	EXPECT_EQ(0, status(&r));
	r = retrieve_as(1, h, FFA_MEM_DATA_RO | FFA_MEM_INSTR_NX, 0, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	r = retrieve_as(1, h, FFA_MEM_DATA_RO | FFA_MEM_INSTR_X, 0, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	r = retrieve_as(1, h, FFA_MEM_DATA_RO, 0, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	EXPECT_EQ(FFA_MEM_DATA_RO | FFA_MEM_INSTR_NX, rx_of(1)[48 + 2]);
	/* shared with one: the same */
	h = send_to(FFA_MEM_SHARE_64, 1, 3, FFA_MEM_DATA_RO, 0);
	r = retrieve_as(2, h, FFA_MEM_DATA_RO | FFA_MEM_INSTR_NX, 0, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	teardown();
}

/* DEN0077 "Instruction access permissions usage": the Relayer may deny
 * executable access to a borrower on memory of Device type (DENIED);
 * without execute, device memory is mapped as Device-nGnRE. */
UNIT(spec_device_memory_is_never_executable)
{
	uint64_t h;
	struct arch_regs r;

	setup();
	h = send_to(FFA_MEM_LEND_64, 0, 2, FFA_MEM_DATA_RW, 0);
	r = retrieve_as(1, h, FFA_MEM_DATA_RW | FFA_MEM_INSTR_X,
			FFA_MEM_ATTR_DEVICE_NGNRE, 0);
	EXPECT_EQ(FFA_DENIED, status(&r));
	EXPECT_EQ(MM_MODE_ABSENT, mode_in(1, PAGE(0, 0)));
	/* reserved encodings, and ones Bulkhead cannot map */
	r = retrieve_as(1, h, 0, FFA_MEM_ATTR_TYPE_DEVICE | 1, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	r = retrieve_as(1, h, 0, FFA_MEM_ATTR_NORMAL_WB_IS | FFA_MEM_ATTR_NS,
			0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	r = retrieve_as(1, h, 0, FFA_MEM_ATTR_TYPE_DEVICE, 0); /* nGnRnE */
	EXPECT_EQ(FFA_DENIED, status(&r));
	r = retrieve_as(1, h, FFA_MEM_DATA_RW | FFA_MEM_INSTR_X,
			FFA_MEM_ATTR_NORMAL_WB_IS, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	release_rx(1);
	r = relinquish_as(1, h, 0);
	r = retrieve_as(1, h, FFA_MEM_DATA_RW, FFA_MEM_ATTR_DEVICE_NGNRE, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	EXPECT_EQ(MM_MODE_R | MM_MODE_W | MM_MODE_D | MM_MODE_UNOWNED,
		  mode_in(1, PAGE(0, 0)));
	EXPECT_EQ(FFA_MEM_ATTR_DEVICE_NGNRE | FFA_MEM_ATTR_NS,
		  rx_u32(1, 0) >> 16);
	teardown();
}

/* A v1.0 sender (Linux 6.1's layout) shares with a v1.2 borrower and
 * lends to a v1.0 one: each reads and writes its own version's layout. */
UNIT(v10_and_v12_partitions_share_through_the_core)
{
	uint64_t h = 0;
	struct ffa_mem_transaction t = {.attributes = FFA_MEM_ATTR_NORMAL_WB_IS,
					.receiver_count = 1};
	struct arch_regs r;

	setup();
	caller_version[0] = FFA_VERSION_1_0;
	caller_version[2] = FFA_VERSION_1_0;
	t.receivers[0] =
	    (struct ffa_mem_receiver){.id = 2, .permissions = FFA_MEM_DATA_RW};
	r = send_one(0, FFA_MEM_SHARE_64, 0, &t, &h);
	EXPECT_EQ(0, status(&r));
	/* the v1.2 borrower asks in v1.2 and gets a v1.2 response */
	r = retrieve_as(1, h, 0, 0, 0);
	EXPECT_EQ(0, status(&r));
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	EXPECT_EQ(48 + 32 + 16 + 16, r.x[1]);
	EXPECT_EQ(32, rx_u32(1, 24)); /* access descriptor size */
	EXPECT_EQ(1, rx_u32(1, 28));
	EXPECT_EQ(48, rx_u32(1, 32));
	EXPECT_EQ((uint32_t)PAGE(0, 0), rx_u32(1, 48 + 32 + 16));
	release_rx(1);
	r = relinquish_as(1, h, 0);
	EXPECT_EQ(0, status(&r));
	r = owner_reclaims(&h);
	EXPECT_EQ(0, status(&r));
	/* the v1.0 sender lends to the v1.0 borrower (partition 3) */
	t.receivers[0] =
	    (struct ffa_mem_receiver){.id = 3, .permissions = FFA_MEM_DATA_RW};
	t.attributes = 0;
	r = send_one(0, FFA_MEM_LEND_64, 0, &t, &h);
	EXPECT_EQ(0, status(&r));
	r = retrieve_as(2, h, 0, 0, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	/* 32-byte header, access descriptor at 32, composite at 48 */
	EXPECT_EQ(32 + 16 + 16 + 16, r.x[1]);
	EXPECT_EQ(1, rx_u32(2, 0) & 0xffff); /* sender */
	EXPECT_EQ(FFA_MEM_ATTR_NORMAL_WB_IS, rx_of(2)[2]);
	EXPECT_EQ(h, *(uint64_t *)(rx_of(2) + 8));
	EXPECT_EQ(0, *(uint64_t *)(rx_of(2) + 16)); /* tag */
	EXPECT_EQ(0, rx_u32(2, 24));
	EXPECT_EQ(1, rx_u32(2, 28));
	EXPECT_EQ(0x00060003u, rx_u32(2, 32)); /* ID 3, RW + NX */
	EXPECT_EQ(48, rx_u32(2, 36));
	EXPECT_EQ(1, rx_u32(2, 48)); /* one page */
	EXPECT_EQ((uint32_t)PAGE(0, 0), rx_u32(2, 64));
	EXPECT_EQ(MM_MODE_R | MM_MODE_W | MM_MODE_UNOWNED,
		  mode_in(2, PAGE(0, 0)));
	release_rx(2);
	r = relinquish_as(2, h, 0);
	EXPECT_EQ(0, status(&r));
	r = owner_reclaims(&h);
	EXPECT_EQ(0, status(&r));
	caller_version[0] = FFA_VERSION_1_2;
	caller_version[2] = FFA_VERSION_1_2;
	teardown();
}

UNIT(transactions_change_nothing_when_the_pool_runs_dry)
{
	size_t pool_start;
	uint64_t h = 0;
	uint64_t back = 0;
	uint64_t handles[CONFIG_FFA_MEM_MAX_TRANSACTIONS];
	struct arch_regs r;

	setup();
	pool_start = mpool_count(&pool);
	/* share to two, both retrieve, both relinquish, reclaim */
	exhaust(share_to_two, &h);
	EXPECT_EQ(MM_MODE_RWX | MM_MODE_SHARED, mode_in(0, PAGE(0, 3)));
	exhaust(b2_retrieves, &h);
	exhaust(b3_retrieves, &h);
	EXPECT_EQ(MM_MODE_R | MM_MODE_W | MM_MODE_SHARED | MM_MODE_UNOWNED,
		  mode_in(1, RAM(0) + 0x200000));
	EXPECT_EQ(MM_MODE_R | MM_MODE_SHARED | MM_MODE_UNOWNED,
		  mode_in(2, RAM(0) + 0x280000));
	/* too early: both hold it */
	r = owner_reclaims(&h);
	EXPECT_EQ(FFA_DENIED, status(&r));
	exhaust(b2_relinquishes, &h);
	exhaust(b3_relinquishes, &h);
	exhaust(owner_reclaims, &h);
	EXPECT_EQ(MM_MODE_RWX, mode_in(0, PAGE(0, 3)));
	EXPECT_EQ(MM_MODE_ABSENT, mode_in(1, PAGE(0, 3)));
	EXPECT_EQ(pool_start, mpool_count(&pool));
	/* a fragmented send fails whole at its last fragment */
	exhaust(share_in_fragments, &h);
	exhaust(b2_retrieves, &h);
	exhaust(b2_relinquishes, &h);
	exhaust(owner_reclaims, &h);
	EXPECT_EQ(pool_start, mpool_count(&pool));
	/* donate away and back: ownership moves at each retrieve */
	exhaust(donate_to_3, &h);
	exhaust(b3_takes_donation, &h);
	EXPECT_EQ(MM_MODE_ABSENT, mode_in(0, RAM(0) + 0x280000));
	EXPECT_EQ(MM_MODE_RWX, mode_in(2, RAM(0) + 0x280000));
	exhaust(b3_donates_back, &back);
	exhaust(owner_takes_it_back, &back);
	EXPECT_EQ(MM_MODE_RWX, mode_in(0, RAM(0) + 0x1ff000));
	EXPECT_EQ(MM_MODE_ABSENT, mode_in(2, RAM(0) + 0x1ff000));
	/* every table merged back, every slot free */
	EXPECT_EQ(pool_start, mpool_count(&pool));
	for (int n = 0; n <= CONFIG_FFA_MEM_MAX_TRANSACTIONS; n++) {
		r = send_page(0, FFA_MEM_SHARE_64, PAGE(0, 10 + n), 2,
			      FFA_MEM_DATA_RO);
		if (n == CONFIG_FFA_MEM_MAX_TRANSACTIONS) {
			EXPECT_EQ(FFA_NO_MEMORY, status(&r));
		} else {
			EXPECT_EQ(0, status(&r));
			handles[n] = handle_of(&r);
		}
	}
	for (int n = 0; n < CONFIG_FFA_MEM_MAX_TRANSACTIONS; n++) {
		r = owner_reclaims(&handles[n]);
		EXPECT_EQ(0, status(&r));
	}
	EXPECT_EQ(pool_start, mpool_count(&pool));
	/* the share split three blocks' worth in the owner and in each
	 * borrower; the donations moved pages between tables */
	EXPECT_TRUE(dry_failures >= 10);
	teardown();
}

UNIT(a_sender_without_a_grant_never_gets_a_slot)
{
	struct arch_regs r;

	setup();
	/* no grant at all: refused at the first fragment */
	for (int i = 0; i < 2 * CONFIG_FFA_MEM_MAX_TRANSACTIONS; i++) {
		r = first_fragment(3, 2, 4, PAGE(3, 0));
		EXPECT_EQ(FFA_DENIED, status(&r));
	}
	/* a receiver that does not exist, and one of a grant without the
	 * operation (2 may only share with 3: a lend is refused) */
	r = first_fragment(0, 9, 4, PAGE(0, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	{
		struct ffa_mem_constituent c[2] = {{PAGE(1, 0), 1, 0},
						   {PAGE(1, 2), 1, 0}};
		uint16_t to = 3;
		uint32_t len =
		    write_send(1, c, 2, &to, 1, FFA_MEM_DATA_RW, false);

		r = call(1, FFA_MEM_LEND_64, len,
			 len - FFA_MEM_CONSTITUENT_SIZE, 0, 0);
		EXPECT_EQ(FFA_DENIED, status(&r));
	}
	/* more pages declared than the grant allows (8) */
	r = first_fragment(1, 3, 8, PAGE(1, 0));
	EXPECT_EQ(0, status(&r)); /* 8 pages: the limit itself is fine */
	{
		struct ffa_mem_constituent c[5];
		uint16_t to = 3;
		uint32_t len;

		for (int i = 0; i < 5; i++) {
			c[i] = (struct ffa_mem_constituent){PAGE(1, 40 + 3 * i),
							    2, 0};
		}
		len = write_send(1, c, 5, &to, 1, FFA_MEM_DATA_RW, true);
		r = call(1, FFA_MEM_SHARE_64, len,
			 len - FFA_MEM_CONSTITUENT_SIZE, 0, 0);
		EXPECT_EQ(FFA_DENIED, status(&r)); /* 10 pages */
	}
	/* none of the refusals held a slot: partition 1 still has all */
	for (int n = 0; n < CONFIG_FFA_MEM_MAX_TRANSACTIONS; n++) {
		r = send_page(0, FFA_MEM_SHARE_64, PAGE(0, 10 + n), 2,
			      FFA_MEM_DATA_RO);
		if (n < CONFIG_FFA_MEM_MAX_TRANSACTIONS - 1) {
			EXPECT_EQ(0, status(&r));
		} else {
			/* partition 2's half-sent share holds the last */
			EXPECT_EQ(FFA_NO_MEMORY, status(&r));
		}
	}
	teardown();
}

UNIT(a_full_quota_is_no_memory_for_that_partition_only)
{
	struct arch_regs r;

	setup();
	for (int n = 0; n < 3; n++) {
		r = send_page(1, FFA_MEM_SHARE_64, PAGE(1, n), 3,
			      FFA_MEM_DATA_RO);
		EXPECT_EQ(n < 2 ? 0 : FFA_NO_MEMORY, status(&r));
	}
	/* the others still send */
	r = send_page(0, FFA_MEM_SHARE_64, PAGE(0, 0), 3, FFA_MEM_DATA_RO);
	EXPECT_EQ(0, status(&r));
	teardown();
}

UNIT(reclaim_drops_a_half_sent_descriptor)
{
	struct arch_regs r;
	uint64_t handle;

	setup();
	/* partition 2 may hold two: two half-sent sends fill its quota */
	r = first_fragment(1, 3, 2, PAGE(1, 0));
	EXPECT_EQ(FFA_MEM_FRAG_RX, (uint32_t)r.x[0]);
	handle = (uint32_t)r.x[1] | (uint64_t)(uint32_t)r.x[2] << 32;
	r = first_fragment(1, 3, 2, PAGE(1, 8));
	EXPECT_EQ(FFA_MEM_FRAG_RX, (uint32_t)r.x[0]);
	r = first_fragment(1, 3, 2, PAGE(1, 16));
	EXPECT_EQ(FFA_NO_MEMORY, status(&r));
	/* another partition cannot drop it */
	r = call(0, FFA_MEM_RECLAIM, (uint32_t)handle, handle >> 32, 0, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	/* its sender can, and gets its slot back */
	r = call(1, FFA_MEM_RECLAIM, (uint32_t)handle, handle >> 32, 0, 0);
	EXPECT_EQ(0, status(&r));
	EXPECT_EQ(FFA_SUCCESS_32, (uint32_t)r.x[0]);
	/* the handle is dead: the rest of the descriptor is refused */
	r = call(1, FFA_MEM_FRAG_TX, (uint32_t)handle, handle >> 32,
		 FFA_MEM_CONSTITUENT_SIZE, 0);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, status(&r));
	r = first_fragment(1, 3, 2, PAGE(1, 16));
	EXPECT_EQ(FFA_MEM_FRAG_RX, (uint32_t)r.x[0]);
	/* nothing was mapped or changed for the dropped send */
	EXPECT_EQ(MM_MODE_RWX, mode_in(1, PAGE(1, 0)));
	teardown();
}

UNIT(a_partition_pays_its_page_tables_from_its_own_reserve)
{
	struct arch_regs r;

	setup();
	/* partition 1 keeps one table page, partition 3 eight */
	EXPECT_TRUE(partition_take_reserve(&partitions[0], 1));
	EXPECT_TRUE(partition_take_reserve(&partitions[2], 8));
	/* a page of one 2 MiB block: one table page to split it */
	r = send_page(0, FFA_MEM_SHARE_64, PAGE(0, 0), 3, FFA_MEM_DATA_RO);
	EXPECT_EQ(0, status(&r));
	/* a page of its other block needs a second: refused */
	r = send_page(0, FFA_MEM_SHARE_64, RAM(0) + 0x280000, 3,
		      FFA_MEM_DATA_RO);
	EXPECT_EQ(FFA_NO_MEMORY, status(&r));
	EXPECT_EQ(MM_MODE_RWX, mode_in(0, RAM(0) + 0x280000));
	/* the shared pool ran dry: partition 3 still shares from its
	 * reserve */
	mpool_fail_after(&pool, 0);
	r = send_page(2, FFA_MEM_SHARE_64, PAGE(2, 0), 1, FFA_MEM_DATA_RO);
	mpool_fail_after(&pool, -1);
	EXPECT_EQ(0, status(&r));
	teardown();
}

/* Runs `fn` in a child process; returns what it wrote to stderr and
 * whether it died of abort() (the fake panic). */
static bool dies_with(void (*fn)(void), const char *message)
{
	int pipefd[2];
	char out[512] = {0};
	pid_t pid;
	int status = 0;
	ssize_t n;

	EXPECT_EQ(0, pipe(pipefd));
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		fn();
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], out, sizeof(out) - 1);
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return n > 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
	       strstr(out, message) != NULL;
}

/* Partition 2 gets a page of partition 1's RAM as its own behind the
 * hypervisor's back; the next memory call must notice. */
static void map_a_page_twice(void)
{
	setup();
	EXPECT_TRUE(mm_identity_map(&partitions[1].ptable, ipa_init(PAGE(0, 5)),
				    ipa_init(PAGE(0, 6)), MM_MODE_RWX, &pool));
	send_page(0, FFA_MEM_SHARE_64, PAGE(0, 0), 3, FFA_MEM_DATA_RO);
}

/* A lent page still mapped in its owner's stage 2 behind the table's
 * back. */
static void keep_a_lent_page(void)
{
	struct arch_regs r;

	setup();
	r = send_page(0, FFA_MEM_LEND_64, PAGE(0, 0), 3, FFA_MEM_DATA_RW);
	EXPECT_EQ(0, status(&r));
	EXPECT_TRUE(mm_identity_map(&partitions[0].ptable, ipa_init(PAGE(0, 0)),
				    ipa_init(PAGE(0, 1)), MM_MODE_RWX, &pool));
	r = call(0, FFA_MEM_RECLAIM, 0, 0, 0, 0); /* any call: a bad handle */
}

/* A page of partition 2's RAM taken out of its stage 2 with nobody
 * else owning it: the page has no owner. */
static void lose_a_page(void)
{
	setup();
	EXPECT_TRUE(mm_unmap(&partitions[1].ptable, ipa_init(PAGE(1, 7)),
			     ipa_init(PAGE(1, 8)), &pool));
	send_page(0, FFA_MEM_SHARE_64, PAGE(0, 0), 3, FFA_MEM_DATA_RO);
}

/* A borrower that can reach a shared page it never retrieved. */
static void map_an_unretrieved_page(void)
{
	struct arch_regs r;

	setup();
	r = send_page(0, FFA_MEM_SHARE_64, PAGE(0, 0), 3, FFA_MEM_DATA_RO);
	EXPECT_EQ(0, status(&r));
	EXPECT_TRUE(mm_identity_map(
	    &partitions[2].ptable, ipa_init(PAGE(0, 0)), ipa_init(PAGE(0, 1)),
	    MM_MODE_R | MM_MODE_UNOWNED | MM_MODE_SHARED, &pool));
	r = call(0, FFA_MEM_RECLAIM, 0, 0, 0, 0); /* any call: a bad handle */
}

UNIT(memory_checker_catches_what_the_table_does_not_say)
{
	EXPECT_TRUE(
	    dies_with(map_a_page_twice,
		      "0x44105000-0x44106000 owned by both one and two"));
	EXPECT_TRUE(
	    dies_with(keep_a_lent_page, "owner one maps 0x44100000 wrongly"));
	EXPECT_TRUE(dies_with(lose_a_page, "page 0x44507000 of partition RAM "
					   "has no owner"));
	EXPECT_TRUE(dies_with(map_an_unretrieved_page,
			      "borrower three maps 0x44100000 wrongly"));
}

/* The same calls on the untouched state: no panic (so the cases above die
 * of what they broke, not of the calls). */
static void share_and_reclaim_honestly(void)
{
	struct arch_regs r;

	setup();
	r = send_page(0, FFA_MEM_SHARE_64, PAGE(0, 0), 3, FFA_MEM_DATA_RO);
	EXPECT_EQ(0, status(&r));
	r = call(0, FFA_MEM_RECLAIM, r.x[2], r.x[3], 0, 0);
	EXPECT_EQ(0, status(&r));
	teardown();
}

UNIT(memory_checker_passes_a_consistent_state)
{
	EXPECT_FALSE(dies_with(share_and_reclaim_honestly, "memory checker"));
}

/* Read-only memory (a manifest's read-only-memory): the owner may lend,
 * share or donate it read-only only; DEN0077: the sender cannot grant what
 * it does not have, the zero flags need write access (DENIED). */
UNIT(read_only_memory_is_sent_read_only)
{
	uint64_t h = 0;
	struct ffa_mem_transaction t = {.receiver_count = 1};
	struct arch_regs r;

	setup();
	EXPECT_TRUE(mm_identity_map(
	    &partitions[0].ptable, ipa_init(PAGE(0, 40)), ipa_init(PAGE(0, 42)),
	    MM_MODE_R | MM_MODE_X, &pool));
	t.receivers[0] =
	    (struct ffa_mem_receiver){.id = 2, .permissions = FFA_MEM_DATA_RW};
	r = send_one(0, FFA_MEM_LEND_64, 40, &t, &h);
	EXPECT_EQ(FFA_DENIED, status(&r));
	t.attributes = FFA_MEM_ATTR_NORMAL_WB_IS;
	r = send_one(0, FFA_MEM_SHARE_64, 40, &t, &h);
	EXPECT_EQ(FFA_DENIED, status(&r));
	t.attributes = 0;
	t.receivers[0].permissions = FFA_MEM_DATA_RO;
	t.flags = FFA_MEM_SEND_ZERO;
	r = send_one(0, FFA_MEM_LEND_64, 40, &t, &h);
	EXPECT_EQ(FFA_DENIED, status(&r));
	EXPECT_EQ(MM_MODE_R | MM_MODE_X, mode_in(0, PAGE(0, 40)));
	t.flags = 0;
	r = send_one(0, FFA_MEM_LEND_64, 40, &t, &h);
	EXPECT_EQ(0, status(&r));
	EXPECT_EQ(MM_MODE_R | MM_MODE_X | MM_MODE_INVALID,
		  mode_in(0, PAGE(0, 40)));
	r = retrieve_as(1, h, FFA_MEM_DATA_RW, 0, 0);
	EXPECT_EQ(FFA_DENIED, status(&r));
	r = retrieve_as(1, h, FFA_MEM_DATA_RO | FFA_MEM_INSTR_X, 0, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	EXPECT_EQ(MM_MODE_R | MM_MODE_X | MM_MODE_UNOWNED,
		  mode_in(1, PAGE(0, 40)));
	release_rx(1);
	r = relinquish_as(1, h, FFA_MEM_RELINQUISH_ZERO);
	EXPECT_EQ(FFA_DENIED, status(&r));
	r = relinquish_as(1, h, 0);
	EXPECT_EQ(0, status(&r));
	r = call(0, FFA_MEM_RECLAIM, (uint32_t)h, h >> 32, FFA_MEM_RECLAIM_ZERO,
		 0);
	EXPECT_EQ(FFA_DENIED, status(&r));
	r = owner_reclaims(&h);
	EXPECT_EQ(0, status(&r));
	EXPECT_EQ(MM_MODE_R | MM_MODE_X, mode_in(0, PAGE(0, 40)));
	/* donated, it stays read-only with its new owner */
	t.receivers[0].permissions = 0;
	r = send_one(0, FFA_MEM_DONATE_64, 41, &t, &h);
	EXPECT_EQ(0, status(&r));
	r = retrieve_as(1, h, FFA_MEM_DATA_RW, 0, 0);
	EXPECT_EQ(FFA_DENIED, status(&r));
	r = retrieve_as(1, h, FFA_MEM_DATA_RO, 0, 0);
	EXPECT_EQ(FFA_MEM_RETRIEVE_RESP, (uint32_t)r.x[0]);
	EXPECT_EQ(MM_MODE_R, mode_in(1, PAGE(0, 41)));
	EXPECT_EQ(MM_MODE_ABSENT, mode_in(0, PAGE(0, 41)));
	teardown();
}
