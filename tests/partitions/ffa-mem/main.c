/* ffa-mem scenario, memowner side: memory transactions with b1 and b2. */
#include "common.h"
#include <string.h>

#define PAGES	      72
#define OUTSIDE_RANGE 0x44300000ull /* memowner's RAM, outside b2's grant */
#define B1_RAM	      0x44400000ull
#define DEVICE_PAGE   0x09010000ull

static uint8_t tx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx[FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t pages[PAGES][FFA_PAGE_SIZE] __attribute__((aligned(4096)));
static struct ffa_mailbox mb;

static uint64_t addr(int page)
{
	return (uintptr_t)pages[page];
}

/* A command to a borrower; the response registers x3.. in r[0..]. */
static struct ffa_value cmd(uint16_t to, uint64_t c, uint64_t a, uint64_t b,
			    uint64_t d, uint64_t e)
{
	uint64_t words[5] = {c, a, b, d, e};

	return ffa_direct_req(mb.self, to, words, true);
}

/* The borrower's status, or the error its direct request got (BUSY). */
static int32_t status_of(struct ffa_value r)
{
	return ffa_value_is(&r, FFA_ERROR) ? ffa_value_error(&r)
					   : (int32_t)r.x[3];
}

static int32_t b_retrieve(uint16_t b, uint64_t handle, uint8_t perms)
{
	return status_of(cmd(b, B_RETRIEVE, handle, perms, 0, 0));
}

static int32_t b_relinquish(uint16_t b, uint64_t handle, uint32_t flags)
{
	return status_of(cmd(b, B_RELINQUISH, handle, flags, 0, 0));
}

static struct ffa_mem_receiver rcv(uint16_t id, uint8_t perms)
{
	return (struct ffa_mem_receiver){.id = id, .permissions = perms};
}

static int32_t send_pages(uint32_t fn, uint64_t address, uint32_t count,
			  uint16_t to, uint8_t perms, uint32_t flags,
			  uint64_t *handle)
{
	struct ffa_mem_constituent c = {address, count, 0};
	struct ffa_mem_receiver r = rcv(to, perms);

	return ffa_mem_send(&mb, fn, &c, 1, &r, 1, flags, 0, handle);
}

#define B1_SPARE_PAGE 0x44700000ull /* in b1's RAM, not in its image */
#define PATTERN	      0x5ca1ab1e0ddba11ull

static void wait_until_serving(uint16_t id)
{
	struct ffa_value r;

	do {
		r = cmd(id, 0, 0, 0, 0, 0);
	} while (ffa_is_error(&r, FFA_BUSY));
}

/* Borrower `b` sends `count` pages at `address` to `to` by `how`
 * (B_SHARE, B_LEND or B_DONATE); returns its status, the handle in
 * *handle. */
static int32_t b_send(uint16_t b, uint64_t how, uint64_t address,
		      uint32_t count, uint16_t to, uint64_t *handle)
{
	struct ffa_value r = cmd(b, how, address, count, to, 0);

	*handle = r.x[4];
	return status_of(r);
}

/* Borrower `id` resets (B_RESET: PSCI SYSTEM_RESET) and is waited for
 * until it serves again; returns the error the request got (ABORTED
 * when it reset). */
static int32_t restart(uint16_t id)
{
	struct ffa_value r = cmd(id, B_RESET, 0, 0, 0, 0);

	wait_until_serving(id);
	return ffa_value_error(&r);
}

/* Borrower `b` donates the page at `address` to us and we retrieve it,
 * executable as our RAM is (so the tables merge back); returns the
 * first error. */
static int32_t donated_home(uint16_t b, uint64_t address)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent range;
	uint64_t handle;
	int32_t err = b_send(b, B_DONATE, address, 1, ID_OWNER, &handle);

	if (err != 0) {
		return err;
	}
	return ffa_mem_retrieve(&mb, handle, b, 0, 0,
				FFA_MEM_DATA_RW | FFA_MEM_INSTR_X, 0, &t,
				&range, 1);
}

TEST(mem, share_retrieve_relinquish_reclaim)
{
	uint64_t h = 0;
	struct ffa_value r;

	memset(pages[0], 0xa5, FFA_PAGE_SIZE);
	ASSERT_EQ(0,
		  ffa_mem_share(&mb, ID_B1, pages[0], 1, FFA_MEM_DATA_RW, &h));
	EXPECT_EQ(FFA_MEM_HANDLE_HYPERVISOR, h & FFA_MEM_HANDLE_HYPERVISOR);
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	r = cmd(ID_B1, B_READ, addr(0) + 100, 0, 0, 0);
	EXPECT_EQ(0, r.x[5]);	 /* no abort */
	EXPECT_EQ(0xa5, r.x[4]); /* the owner's bytes */
	/* both sides see each other's writes */
	cmd(ID_B1, B_FILL, addr(0), 64, 0x5a, 0);
	EXPECT_EQ(0x5a, pages[0][63]);
	pages[0][200] = 0x77;
	EXPECT_EQ(0x77, cmd(ID_B1, B_READ, addr(0) + 200, 0, 0, 0).x[4]);
	EXPECT_EQ(FFA_DENIED, ffa_mem_reclaim(h, 0)); /* not relinquished */
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	/* the borrower lost access */
	r = cmd(ID_B1, B_READ, addr(0), 0, 0, 0);
	EXPECT_EQ(1, r.x[5]);
	EXPECT_EQ(addr(0), r.x[6]);
	ASSERT_EQ(0, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(0x5a, pages[0][0]);
	/* a stale handle */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, b_retrieve(ID_B1, h, 0));
}

TEST(mem, lend_takes_the_owners_access)
{
	uint64_t h = 0;
	struct guest_abort abort;
	uint64_t value;
	struct ffa_value r;

	ASSERT_EQ(0,
		  ffa_mem_lend(&mb, ID_B1, pages[1], 2, FFA_MEM_DATA_RW, &h));
	EXPECT_FALSE(
	    guest_probe_read(addr(1) + FFA_PAGE_SIZE + 8, &value, &abort));
	EXPECT_EQ(addr(1) + FFA_PAGE_SIZE + 8, abort.far);
	EXPECT_EQ(ESR_EC_DABT_CUR, ESR_EC(abort.esr));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	cmd(ID_B1, B_FILL, addr(1), 2 * FFA_PAGE_SIZE, 0x3c, 0);
	/* one byte before and one past the end abort in the borrower */
	r = cmd(ID_B1, B_WRITE, addr(1) + 2 * FFA_PAGE_SIZE, 1, 0, 0);
	EXPECT_EQ(1, r.x[5]);
	EXPECT_EQ(addr(1) + 2 * FFA_PAGE_SIZE, r.x[6]);
	r = cmd(ID_B1, B_READ, addr(1) - 8, 0, 0, 0);
	EXPECT_EQ(1, r.x[5]);
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	ASSERT_EQ(0, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(0x3c, pages[2][FFA_PAGE_SIZE - 1]);
}

TEST(mem, donate_back_and_on)
{
	uint64_t h = 0;
	uint64_t back;
	struct ffa_value r;
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent range;
	struct guest_abort abort;
	uint64_t value;

	pages[3][0] = 0x11;
	ASSERT_EQ(0, ffa_mem_donate(&mb, ID_B1, pages[3], 1, &h));
	EXPECT_FALSE(guest_probe_read(addr(3), &value, &abort));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, FFA_MEM_DATA_RW));
	EXPECT_EQ(0x11, cmd(ID_B1, B_READ, addr(3), 0, 0, 0).x[4]);
	/* donated memory cannot be relinquished, nor reclaimed */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, b_relinquish(ID_B1, h, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_mem_reclaim(h, 0));
	/* b1 donates it back */
	ASSERT_EQ(0, b_send(ID_B1, B_DONATE, addr(3), 1, ID_OWNER, &back));
	ASSERT_EQ(0, ffa_mem_retrieve(&mb, back, ID_B1, 0, FFA_MEM_TYPE_DONATE,
				      FFA_MEM_DATA_RW, 0, &t, &range, 1));
	EXPECT_EQ(addr(3), range.address);
	EXPECT_EQ(0x11, pages[3][0]);
	/* and on to b2 through b1 */
	ASSERT_EQ(0, ffa_mem_donate(&mb, ID_B1, pages[3], 1, &h));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, FFA_MEM_DATA_RW));
	r = cmd(ID_B1, B_DONATE, addr(3), 1, ID_B2, 0);
	ASSERT_EQ(0, r.x[3]);
	r = cmd(ID_B2, B_RETRIEVE_FROM, r.x[4], ID_B1, FFA_MEM_DATA_RW, 0);
	EXPECT_EQ(0, r.x[3]);
	EXPECT_EQ(0x11, cmd(ID_B2, B_READ, addr(3), 0, 0, 0).x[4]);
	EXPECT_EQ(1, cmd(ID_B1, B_READ, addr(3), 0, 0, 0).x[5]);
	/* home again */
	ASSERT_EQ(0, donated_home(ID_B2, addr(3)));
	EXPECT_EQ(0x11, pages[3][0]);
}

TEST(mem, no_page_sent_twice)
{
	uint64_t h = 0;
	uint64_t h2 = 0;

	ASSERT_EQ(0,
		  ffa_mem_share(&mb, ID_B1, pages[4], 4, FFA_MEM_DATA_RW, &h));
	EXPECT_EQ(FFA_DENIED,
		  ffa_mem_share(&mb, ID_B1, pages[4], 4, FFA_MEM_DATA_RW, &h2));
	EXPECT_EQ(FFA_DENIED,
		  ffa_mem_lend(&mb, ID_B1, pages[6], 1, FFA_MEM_DATA_RW, &h2));
	EXPECT_EQ(FFA_DENIED, ffa_mem_donate(&mb, ID_B1, pages[3 + 4], 2, &h2));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(0,
		  ffa_mem_lend(&mb, ID_B1, pages[6], 1, FFA_MEM_DATA_RW, &h2));
	EXPECT_EQ(0, ffa_mem_reclaim(h2, 0));
}

TEST(mem, bad_sends_rejected)
{
	struct ffa_mem_constituent two[2] = {{addr(8), 2, 0}, {addr(9), 1, 0}};
	struct ffa_mem_receiver r = rcv(ID_B1, FFA_MEM_DATA_RW);
	uint64_t h;

	EXPECT_EQ(FFA_DENIED,
		  send_pages(FFA_MEM_SHARE_64, B1_RAM, 1, ID_B1,
			     FFA_MEM_DATA_RW, 0, &h)); /* not ours */
	EXPECT_EQ(FFA_DENIED, send_pages(FFA_MEM_LEND_64, DEVICE_PAGE, 1, ID_B1,
					 FFA_MEM_DATA_RW, 0, &h));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  send_pages(FFA_MEM_SHARE_64, addr(8), 1, ID_OWNER,
			     FFA_MEM_DATA_RW, 0, &h)); /* to self */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  send_pages(FFA_MEM_SHARE_64, addr(8) + 0x800, 1, ID_B1,
			     FFA_MEM_DATA_RW, 0, &h)); /* unaligned */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_mem_send(&mb, FFA_MEM_SHARE_64, two, 2, &r, 1, 0, 0,
			       &h)); /* overlapping */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_mem_send(&mb, FFA_MEM_SHARE_64, two, 0, &r, 1, 0, 0,
			       &h)); /* no constituents */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  send_pages(FFA_MEM_SHARE_64, addr(8), 1, ID_B1,
			     FFA_MEM_DATA_RW, FFA_MEM_SEND_ZERO, &h));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  send_pages(FFA_MEM_DONATE_64, addr(8), 1, ID_B1,
			     FFA_MEM_DATA_RW, 0, &h)); /* donate: no data */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  send_pages(FFA_MEM_SHARE_64, addr(8), 1, ID_B1,
			     FFA_MEM_DATA_RW | FFA_MEM_INSTR_X, 0, &h));
	/* page counts that do not add up: edit the composite */
	{
		struct ffa_mem_transaction t = {.sender = ID_OWNER,
						.attributes =
						    FFA_MEM_ATTR_NORMAL_WB_IS,
						.receiver_count = 1,
						.constituent_count = 1};
		uint32_t len;
		struct ffa_value v;

		t.receivers[0] = r;
		len = ffa_mem_build(tx, sizeof(tx), FFA_VERSION_1_2, &t, two);
		*(uint32_t *)(tx + t.composite_offset) = 3;
		v = (struct ffa_value){{FFA_MEM_SHARE_64, len, len}};
		v = ffa_call(&v);
		EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&v));
		/* a separate buffer is not supported (FEATURES w2 bit 0) */
		ffa_mem_build(tx, sizeof(tx), FFA_VERSION_1_2, &t, two);
		v = (struct ffa_value){
		    {FFA_MEM_SHARE_64, len, len, addr(9), 1}};
		v = ffa_call(&v);
		EXPECT_EQ(FFA_NOT_SUPPORTED, ffa_value_error(&v));
		/* a fragment longer than the whole */
		v = (struct ffa_value){{FFA_MEM_SHARE_64, len, len + 16}};
		v = ffa_call(&v);
		EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&v));
		/* a first fragment that splits a constituent */
		v = (struct ffa_value){{FFA_MEM_SHARE_64, len, len - 8}};
		v = ffa_call(&v);
		EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&v));
		/* a fragment that leaves one constituent out: the rest is
		 * asked for; a bad MEM_FRAG_TX ends the transaction */
		v = (struct ffa_value){{FFA_MEM_SHARE_64, len, len - 16}};
		v = ffa_call(&v);
		ASSERT_EQ(FFA_MEM_FRAG_RX, v.x[0]);
		EXPECT_EQ(len - 16, v.x[3]);
		{
			uint32_t lo = (uint32_t)v.x[1];
			uint32_t hi = (uint32_t)v.x[2];

			/* not the sender's handle: refused, nothing ends */
			v = (struct ffa_value){
			    {FFA_MEM_FRAG_TX, lo, hi ^ 1, 16}};
			v = ffa_call(&v);
			EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&v));
			v = (struct ffa_value){{FFA_MEM_FRAG_TX, lo, hi, 8}};
			v = ffa_call(&v);
			EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&v));
			/* that send is over: its handle is unknown */
			memcpy(tx, &two[1], 16);
			v = (struct ffa_value){{FFA_MEM_FRAG_TX, lo, hi, 16}};
			v = ffa_call(&v);
			EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&v));
			EXPECT_EQ(FFA_INVALID_PARAMETERS,
				  ffa_mem_reclaim(lo | (uint64_t)hi << 32, 0));
		}
		EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_value_error(&v));
	}
}

TEST(mem, rxtx_pages_and_sent_pages_kept_apart)
{
	uint64_t h;

	EXPECT_EQ(FFA_DENIED, send_pages(FFA_MEM_SHARE_64, (uintptr_t)rx, 1,
					 ID_B1, FFA_MEM_DATA_RW, 0, &h));
	EXPECT_EQ(FFA_DENIED, send_pages(FFA_MEM_LEND_64, (uintptr_t)tx, 1,
					 ID_B1, FFA_MEM_DATA_RW, 0, &h));
	ASSERT_EQ(0,
		  ffa_mem_share(&mb, ID_B1, pages[10], 2, FFA_MEM_DATA_RW, &h));
	ASSERT_EQ(0, ffa_rxtx_unmap());
	EXPECT_EQ(FFA_DENIED, ffa_rxtx_map(pages[10], pages[11], 1));
	ASSERT_EQ(0, ffa_rxtx_map(tx, rx, 1));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
}

TEST(mem, retrieve_checks)
{
	uint64_t h = 0;
	struct ffa_value r;

	ASSERT_EQ(0,
		  ffa_mem_share(&mb, ID_B1, pages[12], 1, FFA_MEM_DATA_RO, &h));
	/* not a borrower */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, b_retrieve(ID_B2, h, 0));
	/* wrong type */
	r = cmd(ID_B1, B_RETRIEVE, h, 0, FFA_MEM_TYPE_LEND, 0);
	EXPECT_EQ((uint32_t)FFA_INVALID_PARAMETERS, r.x[3]);
	/* widening RO to RW */
	EXPECT_EQ(FFA_DENIED, b_retrieve(ID_B1, h, FFA_MEM_DATA_RW));
	/* instruction access on shared memory: must be unspecified */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  b_retrieve(ID_B1, h, FFA_MEM_DATA_RO | FFA_MEM_INSTR_X));
	/* zero flags with share */
	r = cmd(ID_B1, B_RETRIEVE, h, 0, 0, FFA_MEM_RETRIEVE_ZERO_BEFORE);
	EXPECT_EQ((uint32_t)FFA_INVALID_PARAMETERS, r.x[3]);
	/* narrowed (as sent) works; RO borrower cannot write */
	ASSERT_EQ(0, b_retrieve(ID_B1, h, FFA_MEM_DATA_RO));
	EXPECT_EQ(FFA_DENIED, b_retrieve(ID_B1, h, FFA_MEM_DATA_RO));
	r = cmd(ID_B1, B_WRITE, addr(12), 1, 0, 0);
	EXPECT_EQ(1, r.x[5]);
	EXPECT_EQ(addr(12), r.x[6]);
	EXPECT_EQ(0, cmd(ID_B1, B_READ, addr(12), 0, 0, 0).x[5]);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_mem_reclaim(h ^ 1, 0));
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	EXPECT_EQ(FFA_DENIED, b_relinquish(ID_B1, h, 0));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
}

TEST(mem, zero_flags)
{
	uint64_t h = 0;
	struct ffa_value r;

	memset(pages[13], 0xee, FFA_PAGE_SIZE);
	ASSERT_EQ(0, send_pages(FFA_MEM_LEND_64, addr(13), 1, ID_B1,
				FFA_MEM_DATA_RW, FFA_MEM_SEND_ZERO, &h));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	EXPECT_EQ(0, cmd(ID_B1, B_READ, addr(13) + 4000, 0, 0, 0).x[4]);
	cmd(ID_B1, B_FILL, addr(13), FFA_PAGE_SIZE, 0x99, 0);
	ASSERT_EQ(0, b_relinquish(ID_B1, h, FFA_MEM_RELINQUISH_ZERO));
	ASSERT_EQ(0, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(0, pages[13][17]);
	/* clear on relinquish of read-only memory is refused */
	ASSERT_EQ(0,
		  ffa_mem_lend(&mb, ID_B1, pages[13], 1, FFA_MEM_DATA_RO, &h));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	EXPECT_EQ(FFA_DENIED, b_relinquish(ID_B1, h, FFA_MEM_RELINQUISH_ZERO));
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	memset(pages[14], 0x42, FFA_PAGE_SIZE);
	EXPECT_EQ(0, ffa_mem_reclaim(h, FFA_MEM_RECLAIM_ZERO));
	EXPECT_EQ(0, pages[13][0]);
	(void)r;
}

TEST(mem, both_sides_at_once_on_shared_memory)
{
	volatile uint64_t *counter = (volatile uint64_t *)pages[16];
	struct spin_request req = {SPIN_MAGIC, 20000, addr(16)};
	uint64_t h = 0;

	counter[0] = 0;
	counter[1] = 0;
	ASSERT_EQ(0,
		  ffa_mem_share(&mb, ID_B1, pages[16], 1, FFA_MEM_DATA_RW, &h));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	/* b1 adds 20000 while we add 20000: nothing may be lost */
	ASSERT_EQ(0, ffa_msg_send(&mb, ID_B1, &req, sizeof(req)));
	for (int i = 0; i < 20000; i++) {
		__atomic_fetch_add((uint64_t *)pages[16], 1, __ATOMIC_RELAXED);
	}
	while (__atomic_load_n((uint64_t *)pages[16] + 1, __ATOMIC_ACQUIRE) ==
	       0) {
		guest_cpu_relax();
	}
	EXPECT_EQ(40000, counter[0]);
	wait_until_serving(ID_B1); /* back in MSG_WAIT */
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
}

TEST(mem, execute_rules)
{
	static const uint32_t ret = 0xd65f03c0; /* RET */
	struct ffa_mem_constituent c = {addr(17), 1, 0};
	struct ffa_mem_receiver two[2] = {rcv(ID_B1, FFA_MEM_DATA_RO),
					  rcv(ID_B2, FFA_MEM_DATA_RO)};
	struct ffa_value r;
	uint64_t h = 0;

	memcpy(pages[17], &ret, sizeof(ret));
	/* lent to two: nobody may execute it (instruction access must be
	 * left unspecified) */
	ASSERT_EQ(0,
		  ffa_mem_send(&mb, FFA_MEM_LEND_64, &c, 1, two, 2, 0, 0, &h));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  b_retrieve(ID_B1, h, FFA_MEM_DATA_RO | FFA_MEM_INSTR_X));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
	/* b2's grant has no execute */
	ASSERT_EQ(0,
		  ffa_mem_lend(&mb, ID_B2, pages[17], 1, FFA_MEM_DATA_RO, &h));
	EXPECT_EQ(FFA_DENIED,
		  b_retrieve(ID_B2, h, FFA_MEM_DATA_RO | FFA_MEM_INSTR_X));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
	/* a lone borrower with an execute grant: X runs, NX aborts */
	ASSERT_EQ(0,
		  ffa_mem_lend(&mb, ID_B1, pages[17], 1, FFA_MEM_DATA_RO, &h));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, FFA_MEM_DATA_RO | FFA_MEM_INSTR_X));
	EXPECT_EQ(0, cmd(ID_B1, B_EXEC, addr(17), 0, 0, 0).x[5]);
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, FFA_MEM_DATA_RO));
	r = cmd(ID_B1, B_EXEC, addr(17), 0, 0, 0);
	EXPECT_EQ(1, r.x[5]);
	EXPECT_EQ(ESR_EC_IABT_CUR, ESR_EC(r.x[6]));
	/* clearing read-only memory is refused */
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	r = cmd(ID_B1, B_RETRIEVE, h, FFA_MEM_DATA_RO, 0,
		FFA_MEM_RETRIEVE_ZERO_BEFORE);
	EXPECT_EQ((uint32_t)FFA_DENIED, r.x[3]);
	/* a non-owner cannot reclaim it */
	EXPECT_EQ((uint32_t)FFA_INVALID_PARAMETERS,
		  cmd(ID_B1, B_RECLAIM, h, 0, 0, 0).x[3]);
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
	/* and a reclaimed handle is stale */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, b_retrieve(ID_B1, h, 0));
}

TEST(mem, donate_takes_the_owners_access_and_zero_after)
{
	struct guest_abort abort;
	struct ffa_value r;
	uint64_t value;
	uint64_t h = 0;

	pages[18][0] = 0x31;
	ASSERT_EQ(0, ffa_mem_donate(&mb, ID_B1, pages[18], 1, &h));
	EXPECT_FALSE(guest_probe_read(addr(18) + 16, &value, &abort));
	EXPECT_EQ(addr(18) + 16, abort.far);
	ASSERT_EQ(0, b_retrieve(ID_B1, h, FFA_MEM_DATA_RW | FFA_MEM_INSTR_X));
	/* donated memory cannot be relinquished: it is b1's */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, b_relinquish(ID_B1, h, 0));
	EXPECT_EQ(0x31, cmd(ID_B1, B_READ, addr(18), 0, 0, 0).x[4]);
	/* back home */
	ASSERT_EQ(0, donated_home(ID_B1, addr(18)));
	EXPECT_EQ(0x31, pages[18][0]);
	/* zero after relinquish, asked at retrieve: the relinquish's own
	 * flag overrides it (b'0: not zeroed, b'1: zeroed) */
	ASSERT_EQ(0,
		  ffa_mem_lend(&mb, ID_B1, pages[18], 1, FFA_MEM_DATA_RW, &h));
	r = cmd(ID_B1, B_RETRIEVE, h, 0, 0, FFA_MEM_RETRIEVE_ZERO_AFTER);
	ASSERT_EQ(0, r.x[3]);
	cmd(ID_B1, B_FILL, addr(18), 64, 0x44, 0);
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	r = cmd(ID_B1, B_RETRIEVE, h, 0, 0, FFA_MEM_RETRIEVE_ZERO_AFTER);
	ASSERT_EQ(0, r.x[3]);
	EXPECT_EQ(0x44, cmd(ID_B1, B_READ, addr(18) + 63, 0, 0, 0).x[4]);
	ASSERT_EQ(0, b_relinquish(ID_B1, h, FFA_MEM_RELINQUISH_ZERO));
	ASSERT_EQ(0, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(0, pages[18][0]);
	EXPECT_EQ(0, pages[18][63]);
}

TEST(mem, two_borrowers_reclaim_after_both)
{
	struct ffa_mem_constituent c = {addr(15), 1, 0};
	struct ffa_mem_receiver r[2] = {rcv(ID_B1, FFA_MEM_DATA_RW),
					rcv(ID_B2, FFA_MEM_DATA_RO)};
	struct guest_abort abort;
	uint64_t value;
	uint64_t h = 0;

	ASSERT_EQ(0,
		  ffa_mem_send(&mb, FFA_MEM_SHARE_64, &c, 1, r, 2, 0, 0, &h));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	ASSERT_EQ(0, b_retrieve(ID_B2, h, 0));
	cmd(ID_B1, B_FILL, addr(15), 8, 0x12, 0);
	EXPECT_EQ(0x12, cmd(ID_B2, B_READ, addr(15), 0, 0, 0).x[4]);
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	EXPECT_EQ(FFA_DENIED, ffa_mem_reclaim(h, 0));
	ASSERT_EQ(0, b_relinquish(ID_B2, h, 0));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
	/* the same lent: the owner has no access until the reclaim */
	r[1] = rcv(ID_B2, FFA_MEM_DATA_RO);
	ASSERT_EQ(0, ffa_mem_send(&mb, FFA_MEM_LEND_64, &c, 1, r, 2, 0, 0, &h));
	EXPECT_FALSE(guest_probe_read(addr(15), &value, &abort));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	ASSERT_EQ(0, b_retrieve(ID_B2, h, 0));
	cmd(ID_B1, B_FILL, addr(15), 8, 0x34, 0);
	EXPECT_EQ(0x34, cmd(ID_B2, B_READ, addr(15), 0, 0, 0).x[4]);
	ASSERT_EQ(0, b_relinquish(ID_B2, h, 0));
	EXPECT_EQ(FFA_DENIED, ffa_mem_reclaim(h, 0));
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(0x34, pages[15][0]);
}

TEST(mem, grant_limits)
{
	uint64_t h = 0;

	/* b2 may not receive donations */
	EXPECT_EQ(FFA_DENIED, ffa_mem_donate(&mb, ID_B2, pages[16], 1, &h));
	/* outsider has no grant */
	EXPECT_EQ(FFA_DENIED, ffa_mem_share(&mb, ID_OUTSIDER, pages[16], 1,
					    FFA_MEM_DATA_RO, &h));
	/* b2: at most 16 pages outstanding */
	EXPECT_EQ(FFA_DENIED, ffa_mem_share(&mb, ID_B2, pages[16], 17,
					    FFA_MEM_DATA_RO, &h));
	/* b2: read-only at most */
	EXPECT_EQ(FFA_DENIED,
		  ffa_mem_share(&mb, ID_B2, pages[16], 1, FFA_MEM_DATA_RW, &h));
	/* b2: only inside the grant's range */
	EXPECT_EQ(FFA_DENIED, send_pages(FFA_MEM_SHARE_64, OUTSIDE_RANGE, 1,
					 ID_B2, FFA_MEM_DATA_RO, 0, &h));
	/* within every limit it works, and the count falls on reclaim */
	ASSERT_EQ(
	    0, ffa_mem_share(&mb, ID_B2, pages[16], 16, FFA_MEM_DATA_RO, &h));
	EXPECT_EQ(FFA_DENIED,
		  ffa_mem_share(&mb, ID_B2, pages[32], 1, FFA_MEM_DATA_RO, &h));
	ASSERT_EQ(0, ffa_mem_reclaim(h, 0));
	ASSERT_EQ(0,
		  ffa_mem_share(&mb, ID_B2, pages[32], 1, FFA_MEM_DATA_RO, &h));
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
}

TEST(mem, reset_leaves_donated_pages_alone)
{
	volatile uint64_t *page = (volatile uint64_t *)(uintptr_t)B1_SPARE_PAGE;
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent range;
	struct ffa_value r;
	uint64_t h = 0;

	/* b1 gives us a page of its own RAM */
	r = cmd(ID_B1, B_DONATE, B1_SPARE_PAGE, 1, ID_OWNER, 0);
	ASSERT_EQ(0, r.x[3]);
	ASSERT_EQ(0, ffa_mem_retrieve(
			 &mb, r.x[4], ID_B1, 0, FFA_MEM_TYPE_DONATE,
			 FFA_MEM_DATA_RW | FFA_MEM_INSTR_X, 0, &t, &range, 1));
	*page = PATTERN;
	/* b1 resets: its RAM is cleared and reloaded, except our page */
	EXPECT_EQ(FFA_ABORTED, restart(ID_B1));
	EXPECT_EQ(PATTERN, *page);
	/* hand it back (executable, as b1's RAM was) */
	ASSERT_EQ(0, ffa_mem_donate(&mb, ID_B1,
				    (void *)(uintptr_t)B1_SPARE_PAGE, 1, &h));
	r = cmd(ID_B1, B_RETRIEVE_FROM, h, ID_OWNER,
		FFA_MEM_DATA_RW | FFA_MEM_INSTR_X, 0);
	EXPECT_EQ(0, r.x[3]);
	EXPECT_EQ(PATTERN, r.x[5]);
}

#define B1_PAGE2 0x44701000ull /* in b1's RAM, not in its image */
#define B1_PAGE3 0x44702000ull

TEST(mem, borrower_reset_gives_borrowed_memory_back)
{
	uint64_t h = 0;

	pages[20][8] = 0x77;
	ASSERT_EQ(0,
		  ffa_mem_lend(&mb, ID_B1, pages[20], 1, FFA_MEM_DATA_RW, &h));
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	EXPECT_EQ(FFA_DENIED, ffa_mem_reclaim(h, 0));
	/* b1 restarts holding it: the hypervisor relinquishes for it */
	EXPECT_EQ(FFA_ABORTED, restart(ID_B1));
	EXPECT_EQ(addr(20), cmd(ID_B1, B_READ, addr(20), 0, 0, 0).x[6]);
	EXPECT_EQ(1, cmd(ID_B1, B_READ, addr(20), 0, 0, 0).x[5]);
	EXPECT_EQ(0, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(0x77, pages[20][8]);
}

TEST(mem, owner_reset_takes_unretrieved_memory_home)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent range;
	struct ffa_value r;
	uint64_t h;

	/* b1 donates a page and restarts before we retrieve it */
	cmd(ID_B1, B_FILL, B1_PAGE2, 8, 0x66, 0);
	ASSERT_EQ(0, b_send(ID_B1, B_DONATE, B1_PAGE2, 1, ID_OWNER, &h));
	EXPECT_EQ(FFA_ABORTED, restart(ID_B1));
	/* the donation ended with its sender: the page is b1's, zeroed */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_mem_retrieve(&mb, h, ID_B1, 0, 0, 0, 0, &t, &range, 1));
	r = cmd(ID_B1, B_READ, B1_PAGE2, 0, 0, 0);
	EXPECT_EQ(0, r.x[5]);
	EXPECT_EQ(0, r.x[4]);
}

#define B1_PAGE4 0x44703000ull

/* x5 of a B_READ/B_WRITE answer: the access aborted */
static bool aborted(struct ffa_value r)
{
	return r.x[5] == 1;
}

TEST(mem, owner_reset_revokes_what_it_lent_and_shared)
{
	struct ffa_value r;
	uint64_t lent;
	uint64_t shared;

	/* b1 lends one page and shares another with b2, which retrieves
	 * both and writes to the shared one */
	cmd(ID_B1, B_FILL, B1_PAGE3, 8, 0x55, 0);
	ASSERT_EQ(0, b_send(ID_B1, B_LEND, B1_PAGE3, 1, ID_B2, &lent));
	cmd(ID_B1, B_FILL, B1_PAGE4, 8, 0x44, 0);
	ASSERT_EQ(0, b_send(ID_B1, B_SHARE, B1_PAGE4, 1, ID_B2, &shared));
	r = cmd(ID_B2, B_RETRIEVE_FROM, lent, ID_B1, FFA_MEM_DATA_RW, 0);
	ASSERT_EQ(0, r.x[3]);
	EXPECT_EQ(0x5555555555555555ull, r.x[5]);
	r = cmd(ID_B2, B_RETRIEVE_FROM, shared, ID_B1, FFA_MEM_DATA_RW, 0);
	ASSERT_EQ(0, r.x[3]);
	EXPECT_FALSE(aborted(cmd(ID_B2, B_WRITE, B1_PAGE4, 0x99, 0, 0)));
	/* b1 restarts: b2 loses both pages at once */
	EXPECT_EQ(FFA_ABORTED, restart(ID_B1));
	r = cmd(ID_B2, B_READ, B1_PAGE3, 0, 0, 0);
	EXPECT_TRUE(aborted(r));
	EXPECT_EQ(B1_PAGE3, r.x[6]);
	r = cmd(ID_B2, B_WRITE, B1_PAGE4, 0x98, 0, 0);
	EXPECT_TRUE(aborted(r));
	EXPECT_EQ(B1_PAGE4, r.x[6]);
	/* the new b1 owns them, zeroed: nothing b2 wrote reaches it */
	r = cmd(ID_B1, B_READ, B1_PAGE3, 0, 0, 0);
	EXPECT_FALSE(aborted(r));
	EXPECT_EQ(0, r.x[4]);
	r = cmd(ID_B1, B_READ, B1_PAGE4, 0, 0, 0);
	EXPECT_FALSE(aborted(r));
	EXPECT_EQ(0, r.x[4]);
	/* both transactions ended: their handles are dead */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, b_relinquish(ID_B2, lent, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, b_relinquish(ID_B2, shared, 0));
	/* and the grant's pages are free again: the same page lends anew */
	ASSERT_EQ(0, b_send(ID_B1, B_LEND, B1_PAGE3, 1, ID_B2, &lent));
	EXPECT_EQ(0, status_of(cmd(ID_B1, B_RECLAIM, lent, 0, 0, 0)));
}

TEST(mem, borrower_stop_honours_zero_after_relinquish)
{
	struct ffa_value r;
	uint64_t h;

	/* b2 retrieves a lent page asking "zero after relinquish", writes
	 * a secret and restarts without relinquishing */
	ASSERT_EQ(0, b_send(ID_B1, B_LEND, B1_PAGE3, 1, ID_B2, &h));
	r = cmd(ID_B2, B_RETRIEVE_FROM, h, ID_B1, FFA_MEM_DATA_RW,
		FFA_MEM_RETRIEVE_ZERO_AFTER);
	ASSERT_EQ(0, r.x[3]);
	EXPECT_FALSE(aborted(cmd(ID_B2, B_WRITE, B1_PAGE3, 0x77, 0, 0)));
	EXPECT_EQ(FFA_ABORTED, restart(ID_B2));
	/* relinquished on its behalf, zeroed as it asked */
	EXPECT_EQ(0, status_of(cmd(ID_B1, B_RECLAIM, h, 0, 0, 0)));
	r = cmd(ID_B1, B_READ, B1_PAGE3, 0, 0, 0);
	EXPECT_FALSE(aborted(r));
	EXPECT_EQ(0, r.x[4]);
}

TEST(mem, borrower_stopping_after_its_owner_restarted_leaks_nothing)
{
	uint64_t h;

	/* owner restarts while b2 holds its page, then b2 restarts too */
	ASSERT_EQ(0, b_send(ID_B1, B_LEND, B1_PAGE3, 1, ID_B2, &h));
	ASSERT_EQ(0, status_of(cmd(ID_B2, B_RETRIEVE_FROM, h, ID_B1,
				   FFA_MEM_DATA_RW, 0)));
	EXPECT_EQ(FFA_ABORTED, restart(ID_B1));
	EXPECT_EQ(FFA_ABORTED, restart(ID_B2));
	/* the page is b1's, usable, and the grant's whole quota of four
	 * pages is free: a four-page lend goes through */
	EXPECT_FALSE(aborted(cmd(ID_B1, B_READ, B1_PAGE3, 0, 0, 0)));
	ASSERT_EQ(0, b_send(ID_B1, B_LEND, B1_PAGE3, 4, ID_B2, &h));
	EXPECT_EQ(0, status_of(cmd(ID_B1, B_RECLAIM, h, 0, 0, 0)));
}

#define SHARED_WINDOW 0x4f000000ull /* static region: memowner rw, b2 ro */

TEST(mem, static_shared_region_access)
{
	volatile uint8_t *window = (volatile uint8_t *)(uintptr_t)SHARED_WINDOW;
	struct ffa_value r;
	uint64_t h;

	window[5] = 0x6b;
	r = cmd(ID_B2, B_READ, SHARED_WINDOW + 5, 0, 0, 0);
	EXPECT_EQ(0, r.x[5]);
	EXPECT_EQ(0x6b, r.x[4]);
	/* read-only for b2 */
	r = cmd(ID_B2, B_WRITE, SHARED_WINDOW, 1, 0, 0);
	EXPECT_EQ(1, r.x[5]);
	EXPECT_EQ(SHARED_WINDOW, r.x[6]);
	/* not part of b1's stage 2 at all */
	EXPECT_EQ(1, cmd(ID_B1, B_READ, SHARED_WINDOW, 0, 0, 0).x[5]);
	/* and never part of a run-time transaction */
	EXPECT_EQ(FFA_DENIED, send_pages(FFA_MEM_SHARE_64, SHARED_WINDOW, 1,
					 ID_B1, FFA_MEM_DATA_RO, 0, &h));
}

/* A 600-page area of memowner's RAM above its image, for descriptors with
 * hundreds of constituents. */
#define BIG_BASE  0x44180000ull
#define BIG_COUNT 600
extern char __image_end[];

TEST(mem, fragmented_send_forced)
{
	/* out of order: the response lists them in address order */
	static const int order[6] = {50, 40, 46, 42, 48, 44};
	struct ffa_mem_constituent cons[6];
	struct ffa_mem_receiver r = rcv(ID_B1, FFA_MEM_DATA_RW);
	struct ffa_value v;
	uint64_t h = 0;

	for (int i = 0; i < 6; i++) {
		cons[i] = (struct ffa_mem_constituent){addr(order[i]), 1, 0};
		pages[order[i]][0] = (uint8_t)((order[i] - 40) / 2);
	}
	/* header (96 bytes) and one constituent, then 16 bytes each */
	mb.max_fragment = 112;
	ASSERT_EQ(
	    0, ffa_mem_send(&mb, FFA_MEM_SHARE_64, cons, 6, &r, 1, 0, 0, &h));
	mb.max_fragment = 0;
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	/* 6 single pages two apart: check them as 2-page steps */
	v = cmd(ID_B1, B_RANGES, addr(40), 0, 0, 0);
	EXPECT_EQ(6, v.x[5]);
	for (int i = 0; i < 6; i++) {
		v = cmd(ID_B1, B_READ, addr(40 + 2 * i), 0, 0, 0);
		EXPECT_EQ(0, v.x[5]);
		EXPECT_EQ(i, v.x[4]);
	}
	/* not sent: page 41 */
	EXPECT_EQ(1, cmd(ID_B1, B_READ, addr(41), 0, 0, 0).x[5]);
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	ASSERT_EQ(0, ffa_mem_reclaim(h, 0));
}

TEST(mem, six_hundred_constituents_both_ways)
{
	static struct ffa_mem_constituent cons[BIG_COUNT];
	struct ffa_mem_receiver r = rcv(ID_B1, FFA_MEM_DATA_RW);
	struct guest_abort abort;
	uint64_t value;
	struct ffa_value v;
	uint64_t h = 0;

	ASSERT_TRUE((uintptr_t)__image_end <= BIG_BASE);
	for (int i = 0; i < BIG_COUNT; i++) {
		uint64_t a = BIG_BASE + (uint64_t)i * FFA_PAGE_SIZE;

		cons[i] = (struct ffa_mem_constituent){a, 1, 0};
		*(volatile uint8_t *)(uintptr_t)a = (uint8_t)i;
	}
	/* 9,696 bytes: three fragments through a one-page TX */
	ASSERT_EQ(0, ffa_mem_send(&mb, FFA_MEM_LEND_64, cons, BIG_COUNT, &r, 1,
				  0, 0, &h));
	EXPECT_FALSE(
	    guest_probe_read(BIG_BASE + 599 * FFA_PAGE_SIZE, &value, &abort));
	EXPECT_EQ(BIG_BASE + 599 * FFA_PAGE_SIZE, abort.far);
	/* the response leaves in three fragments through b1's RX */
	ASSERT_EQ(0, b_retrieve(ID_B1, h, 0));
	v = cmd(ID_B1, B_RANGES, BIG_BASE, BIG_COUNT, 0, 0);
	EXPECT_EQ(0, v.x[4]);
	EXPECT_EQ(BIG_COUNT, v.x[5]);
	cmd(ID_B1, B_FILL, BIG_BASE + 300 * FFA_PAGE_SIZE, 1, 0xee, 0);
	ASSERT_EQ(0, b_relinquish(ID_B1, h, 0));
	EXPECT_EQ(1, cmd(ID_B1, B_READ, BIG_BASE, 0, 0, 0).x[5]);
	ASSERT_EQ(0, ffa_mem_reclaim(h, 0));
	EXPECT_EQ(0xee, *(volatile uint8_t *)(uintptr_t)(BIG_BASE +
							 300 * FFA_PAGE_SIZE));
	EXPECT_EQ(99, *(volatile uint8_t *)(uintptr_t)(BIG_BASE +
						       99 * FFA_PAGE_SIZE));
	/* and the retrieve fragments by hand */
	ASSERT_EQ(0, ffa_mem_send(&mb, FFA_MEM_SHARE_64, cons, BIG_COUNT, &r, 1,
				  0, 0, &h));
	EXPECT_EQ(0, cmd(ID_B1, B_FRAG_PROTOCOL, h, 0, 0, 0).x[4]);
	ASSERT_EQ(0, ffa_mem_reclaim(h, 0));
}

TEST(mem, quota_full_then_recovers)
{
	uint64_t h[OWNER_QUOTA + 1];
	uint64_t other;
	int n = 0;
	int32_t err = 0;

	/* single pages, each its own transaction, until the quota is full */
	while (n < OWNER_QUOTA + 1) {
		err = ffa_mem_share(&mb, ID_B1, pages[36 + n], 1,
				    FFA_MEM_DATA_RO, &h[n]);
		if (err != 0) {
			break;
		}
		n++;
	}
	EXPECT_EQ(FFA_NO_MEMORY, err);
	EXPECT_EQ(OWNER_QUOTA, n);
	/* the table has room for others: b1 still shares */
	ASSERT_EQ(0, b_send(ID_B1, B_SHARE, B1_PAGE3, 1, ID_B2, &other));
	EXPECT_EQ(0, status_of(cmd(ID_B1, B_RECLAIM, other, 0, 0, 0)));
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(0, ffa_mem_reclaim(h[i], 0));
	}
	ASSERT_EQ(
	    0, ffa_mem_share(&mb, ID_B1, pages[36], 1, FFA_MEM_DATA_RO, &h[0]));
	EXPECT_EQ(0, ffa_mem_reclaim(h[0], 0));
}

int main(void)
{
	struct guest_self me = guest_self();

	if (me.id != ID_OWNER) {
		borrower_main();
		return 0;
	}
	ffa_mailbox_init(&mb, tx, rx, 1, FFA_VERSION_1_2);
	wait_until_serving(ID_B1);
	wait_until_serving(ID_B2);
	test_run_suite("mem");
	for (uint16_t id = ID_B1; id <= ID_OUTSIDER; id++) {
		while (ffa_msg_send(&mb, id, "quit", 4) == FFA_BUSY) {
		}
	}
	return 0;
}
