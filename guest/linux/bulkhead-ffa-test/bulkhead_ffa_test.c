// SPDX-License-Identifier: GPL-2.0-only
/*
 * Self-test of Linux's arm_ffa driver against Bulkhead and its bare-metal
 * service partition (guest/apps/linux-ffa-service, protocol.h).
 *
 * The driver matches the service partition's UUID; its probe runs every
 * case and prints one line each:
 *
 *   bulkhead_ffa_test: CASE <name> PASS|FAIL <what was seen>
 *
 * then "bulkhead_ffa_test: SUMMARY <n> passed, <m> failed". Probe also
 * leaves one share retrieved and held by the service; remove (rmmod)
 * finds it outstanding, is refused the reclaim, tells the service to
 * relinquish, reclaims, frees the pages and prints the case
 * "unload-while-shared". Memory that cannot be reclaimed is never given
 * back to Linux's allocator: it is leaked, and the line says so.
 *
 * The hostile cases use what a hostile kernel has: pages it does not
 * own in a scatterlist, and descriptors of its own making written into
 * the driver's TX buffer (found by the tag of the share just sent) and
 * passed to FFA_MEM_RETRIEVE_REQ / FFA_MEM_SHARE directly.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/arm_ffa.h>
#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uuid.h>

#include "protocol.h"

/* exported by the arm_ffa driver, declared only in its private header */
extern struct bus_type ffa_bus_type;

static char *partitions = "0x0001,0x0002,0x0003";
module_param(partitions, charp, 0444);
MODULE_PARM_DESC(partitions,
		 "partition IDs /sys/bus/arm_ffa/devices must list");
static ushort isolated_id = 3;
module_param(isolated_id, ushort, 0444);
MODULE_PARM_DESC(isolated_id,
		 "a partition this one may not message nor send memory to");
static ulong foreign_pa = 0x43000000;
module_param(foreign_pa, ulong, 0444);
MODULE_PARM_DESC(foreign_pa,
		 "a page of another partition's RAM (lent in a hostile case)");
static uint grant_pages = 8;
module_param(grant_pages, uint, 0444);
MODULE_PARM_DESC(grant_pages,
		 "max-pages of the manifest's grant to the service");

#define FFA_VERSION_1_0		   0x10000u
#define FFA_ERROR_FN		   0x84000060u
#define FFA_SUCCESS_FN		   0x84000061u
#define FFA_ID_GET		   0x84000069u
#define FFA_MEM_SHARE_64	   0xC4000073u
#define FFA_MEM_RETRIEVE_REQ_64	   0xC4000074u
#define FFA_RET_INVALID_PARAMETERS (-2)
#define FFA_RET_DENIED		   (-6)
#define FFA_MEM_TYPE_SHARE	   1
#define FFA_MEM_TYPE_LEND	   2
/* FFA_MEM_RETRIEVE_REQ flags: transaction type share (bits [4:3]) */
#define RETRIEVE_TYPE_SHARE (1u << 3)

struct bft {
	struct ffa_device *dev;
	u16 self;
	unsigned int passed;
	unsigned int failed;
	/* the share the service holds until remove() (see held_share) */
	struct page *held;
	unsigned int held_order;
	u64 held_handle;
	u64 held_tag;
};

static __printf(4, 5) void report(struct bft *t, const char *name, bool ok,
				  const char *fmt, ...)
{
	struct va_format vaf;
	va_list ap;

	va_start(ap, fmt);
	vaf.fmt = fmt;
	vaf.va = &ap;
	pr_info("CASE %s %s %pV\n", name, ok ? "PASS" : "FAIL", &vaf);
	va_end(ap);
	if (ok)
		t->passed++;
	else
		t->failed++;
}

static const struct ffa_ops *ops(struct bft *t)
{
	return t->dev->ops;
}

static int request(struct ffa_device *dev, struct ffa_send_direct_data *d)
{
	return dev->ops->msg_ops->sync_send_receive(dev, d);
}

/* --- memory: a region of several constituents -------------------------- */

#define MAX_BLOCKS 3

struct region {
	unsigned int blocks;
	struct page *page[MAX_BLOCKS];
	unsigned int order[MAX_BLOCKS];
	unsigned int pages;
	struct scatterlist sg[MAX_BLOCKS];
};

/* Blocks of 2^order pages each, allocated separately (so each is its own
 * constituent, wherever the allocator puts it). */
static int region_alloc(struct region *r, const unsigned int *orders,
			unsigned int blocks)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	sg_init_table(r->sg, blocks);
	for (i = 0; i < blocks; i++) {
		r->page[i] = alloc_pages(GFP_KERNEL | __GFP_ZERO, orders[i]);
		if (!r->page[i]) {
			while (i--)
				__free_pages(r->page[i], r->order[i]);
			return -ENOMEM;
		}
		r->order[i] = orders[i];
		r->pages += 1u << orders[i];
		sg_set_page(&r->sg[i], r->page[i], PAGE_SIZE << orders[i], 0);
	}
	r->blocks = blocks;
	return 0;
}

static void region_free(struct region *r)
{
	unsigned int i;

	for (i = 0; i < r->blocks; i++)
		__free_pages(r->page[i], r->order[i]);
	r->blocks = 0;
}

static void region_fill(struct region *r, u64 seed)
{
	unsigned int i, b;

	for (b = 0; b < r->blocks; b++) {
		u8 *p = page_address(r->page[b]);
		phys_addr_t pa = page_to_phys(r->page[b]);

		for (i = 0; i < (PAGE_SIZE << r->order[b]); i++)
			p[i] = bft_pattern(seed, pa + i);
	}
}

static u64 region_checksum(struct region *r)
{
	u64 sum = 0, h = 0;
	unsigned int i, b;

	for (b = 0; b < r->blocks; b++) {
		const u8 *p = page_address(r->page[b]);

		for (i = 0; i < (PAGE_SIZE << r->order[b]); i++) {
			if (i % PAGE_SIZE == 0)
				h = BFT_FNV_OFFSET;
			h = (h ^ p[i]) * BFT_FNV_PRIME;
			if (i % PAGE_SIZE == PAGE_SIZE - 1)
				sum += h;
		}
	}
	return sum;
}

static unsigned long region_mismatches(struct region *r, u64 seed)
{
	unsigned long bad = 0;
	unsigned int i, b;

	for (b = 0; b < r->blocks; b++) {
		const u8 *p = page_address(r->page[b]);
		phys_addr_t pa = page_to_phys(r->page[b]);

		for (i = 0; i < (PAGE_SIZE << r->order[b]); i++)
			bad += p[i] != bft_pattern(seed, pa + i);
	}
	return bad;
}

static int send(struct bft *t, bool lend, u16 receiver, u8 access,
		struct scatterlist *sg, u64 tag, bool use_txbuf, u64 *handle)
{
	struct ffa_mem_region_attributes attr = {
	    .receiver = receiver,
	    .attrs = access,
	};
	struct ffa_mem_ops_args args = {
	    .use_txbuf = use_txbuf,
	    .nattrs = 1,
	    .flags = 0,
	    .tag = tag,
	    .sg = sg,
	    .attrs = &attr,
	};
	int err = lend ? ops(t)->mem_ops->memory_lend(&args)
		       : ops(t)->mem_ops->memory_share(&args);

	*handle = args.g_handle;
	return err;
}

/* --- cases ---------------------------------------------------------------- */

static void case_version(struct bft *t)
{
	u32 v = ops(t)->info_ops->api_version_get();

	report(t, "version", v == FFA_VERSION_1_0, "driver negotiated %u.%u",
	       v >> 16, v & 0xffff);
}

struct listing {
	unsigned int count;
	u16 ids[16];
	struct ffa_device *isolated;
};

static int list_one(struct device *dev, void *data)
{
	struct listing *l = data;
	struct ffa_device *fdev = to_ffa_dev(dev);

	if (l->count < ARRAY_SIZE(l->ids))
		l->ids[l->count] = (u16)fdev->vm_id;
	l->count++;
	if (fdev->vm_id == isolated_id)
		l->isolated = fdev;
	return 0;
}

static int cmp_u16(const void *a, const void *b)
{
	return *(const u16 *)a - *(const u16 *)b;
}

/* Every partition of `partitions`, exactly, on the arm_ffa bus. */
static struct ffa_device *case_discovery(struct bft *t)
{
	struct listing l = {0};
	char seen[96] = "", want[96] = "";
	u16 expect[16];
	unsigned int n = 0, i;
	char *copy, *cur, *tok;
	bool ok;

	copy = kstrdup(partitions, GFP_KERNEL);
	if (!copy) {
		report(t, "discovery", false, "out of memory");
		return NULL;
	}
	for (cur = copy; (tok = strsep(&cur, ",")) && n < ARRAY_SIZE(expect);) {
		if (kstrtou16(tok, 0, &expect[n]) == 0)
			n++;
	}
	kfree(copy);
	bus_for_each_dev(&ffa_bus_type, NULL, &l, list_one);
	sort(l.ids, min_t(unsigned int, l.count, ARRAY_SIZE(l.ids)),
	     sizeof(u16), cmp_u16, NULL);
	sort(expect, n, sizeof(u16), cmp_u16, NULL);
	ok = l.count == n && memcmp(l.ids, expect, n * sizeof(u16)) == 0;
	for (i = 0; i < min_t(unsigned int, l.count, ARRAY_SIZE(l.ids)); i++)
		scnprintf(seen + strlen(seen), sizeof(seen) - strlen(seen),
			  "%s0x%04x", i ? "," : "", l.ids[i]);
	for (i = 0; i < n; i++)
		scnprintf(want + strlen(want), sizeof(want) - strlen(want),
			  "%s0x%04x", i ? "," : "", expect[i]);
	report(t, "discovery", ok,
	       "%u devices on the arm_ffa bus: %s (expected %s)", l.count, seen,
	       want);
	return l.isolated;
}

/* FFA_PARTITION_INFO_GET by the service's UUID: exactly its ID. */
static void case_info_by_uuid(struct bft *t)
{
	struct ffa_partition_info info[4];
	char uuid[UUID_STRING_LEN + 1];
	int err;

	memset(info, 0xff, sizeof(info));
	snprintf(uuid, sizeof(uuid), "%pUb", &t->dev->uuid);
	err = ops(t)->info_ops->partition_info_get(uuid, info);
	report(t, "info-by-uuid", err == 0 && info[0].id == t->dev->vm_id,
	       "partition_info_get(%s) = %d, id 0x%04x (device 0x%04x)", uuid,
	       err, info[0].id, t->dev->vm_id);
}

static void case_direct(struct bft *t)
{
	struct ffa_send_direct_data d = {
	    .data0 = BFT_CMD_ECHO,
	    .data1 = 0x0123456789abcdefull,
	    .data2 = 0xfedcba9876543210ull,
	    .data3 = 0x8000000000000001ull,
	    .data4 = 0x00000000ffffffffull,
	};
	struct ffa_send_direct_data in = d;
	int err = request(t->dev, &d);

	report(t, "direct-echo",
	       err == 0 && d.data0 == 0 && d.data1 == ~in.data1 &&
		   d.data2 == ~in.data2 && d.data3 == ~in.data3 &&
		   d.data4 == ~in.data4,
	       "err %d, x3..x7 = %#lx %#lx %#lx %#lx %#lx", err, d.data0,
	       d.data1, d.data2, d.data3, d.data4);
	d = (struct ffa_send_direct_data){.data0 = 0x12345678};
	err = request(t->dev, &d);
	report(t, "direct-unknown-command",
	       err == 0 && d.data0 == BFT_STATUS_UNKNOWN, "err %d, x3 = %#lx",
	       err, d.data0);
}

static void case_direct_refused(struct bft *t, struct ffa_device *isolated)
{
	struct ffa_send_direct_data d = {.data0 = BFT_CMD_ECHO, .data1 = 1};
	int err;

	if (!isolated) {
		report(t, "direct-refused", false,
		       "partition 0x%04x is not on the bus", isolated_id);
		return;
	}
	err = request(isolated, &d);
	report(t, "direct-refused", err == -EACCES,
	       "request to partition 0x%04x (not in our messaging list): %d "
	       "(expected %d, DENIED)",
	       isolated_id, err, -EACCES);
}

/*
 * Share or lend `r` to the service, which retrieves it, checks the
 * pattern, answers with the pattern of seed ^ BFT_ANSWER_XOR over every
 * page and relinquishes; reclaim and check the answer.
 */
static void exchange(struct bft *t, const char *name, bool lend,
		     struct region *r)
{
	u64 seed = get_random_u64(), tag = get_random_u64(), handle = 0, sum;
	struct ffa_send_direct_data d;
	unsigned long bad;
	int err, rec;

	region_fill(r, seed);
	sum = region_checksum(r);
	err =
	    send(t, lend, t->dev->vm_id, FFA_MEM_RW, r->sg, tag, true, &handle);
	if (err) {
		report(t, name, false, "%s of %u pages in %u constituents: %d",
		       lend ? "lend" : "share", r->pages, r->blocks, err);
		return;
	}
	d = (struct ffa_send_direct_data){
	    .data0 = BFT_CMD_CHECK,
	    .data1 = handle,
	    .data2 = tag,
	    .data3 =
		r->pages | (u64)(lend ? FFA_MEM_TYPE_LEND : FFA_MEM_TYPE_SHARE)
			       << BFT_TYPE_SHIFT,
	    .data4 = seed,
	};
	err = request(t->dev, &d);
	rec = ops(t)->mem_ops->memory_reclaim(handle, 0);
	if (rec) {
		/* still borrowed: never give these pages back to Linux */
		report(t, name, false,
		       "handle %#llx: reclaim %d, %u pages leaked", handle, rec,
		       r->pages);
		r->blocks = 0;
		return;
	}
	bad = region_mismatches(r, seed ^ BFT_ANSWER_XOR);
	report(
	    t, name,
	    err == 0 && d.data0 == 0 && d.data1 == sum && d.data2 == 0 &&
		d.data3 == r->pages && d.data4 == r->blocks && bad == 0,
	    "%s of %u pages in %u constituents, handle %#llx: service status "
	    "%ld, checksum %#lx (ours %#llx), %lu bytes off the pattern there, "
	    "%lu pages, %lu constituents; reclaimed, %lu bytes off its answer",
	    lend ? "lend" : "share", r->pages, r->blocks, handle, (long)d.data0,
	    d.data1, sum, d.data2, d.data3, d.data4, bad);
}

static void case_share_and_lend(struct bft *t)
{
	static const unsigned int orders[] = {2, 0, 1};
	struct region r;

	if (region_alloc(&r, orders, ARRAY_SIZE(orders))) {
		report(t, "share", false, "out of memory");
		return;
	}
	exchange(t, "share", false, &r);
	exchange(t, "lend", true, &r);
	region_free(&r);
}

/* A send the grants refuse must change nothing: expected `want`. */
static void refused_send(struct bft *t, const char *name, bool lend,
			 u16 receiver, struct scatterlist *sg, bool use_txbuf,
			 int want, const char *why)
{
	u64 handle = 0;
	int err =
	    send(t, lend, receiver, FFA_MEM_RW, sg, 0, use_txbuf, &handle);

	if (err == 0)
		ops(t)->mem_ops->memory_reclaim(handle, 0);
	report(t, name, err == want, "%s: %d (expected %d)", why, err, want);
}

static void case_refusals(struct bft *t)
{
	unsigned int orders[] = {0};
	struct region r, big;
	struct scatterlist foreign;

	if (region_alloc(&r, orders, 1)) {
		report(t, "lend-no-grant", false, "out of memory");
		return;
	}
	refused_send(t, "lend-no-grant", true, isolated_id, r.sg, true, -EACCES,
		     "lend of 1 page to a partition no grant names (DENIED)");
	refused_send(t, "share-caller-buffer", false, t->dev->vm_id, r.sg,
		     false, -EOPNOTSUPP,
		     "share with the descriptor in a buffer of the caller's "
		     "(NOT_SUPPORTED)");
	orders[0] = order_base_2(grant_pages * 2);
	if (region_alloc(&big, orders, 1)) {
		report(t, "lend-over-grant", false, "out of memory");
	} else {
		char why[96];

		snprintf(
		    why, sizeof(why),
		    "lend of %u pages under a grant of max-pages %u (DENIED)",
		    big.pages, grant_pages);
		refused_send(t, "lend-over-grant", true, t->dev->vm_id, big.sg,
			     true, -EACCES, why);
		region_free(&big);
	}
	/* hostile: a page of another partition's RAM (its struct page is only
	 * arithmetic: the driver reads nothing but its physical address) */
	sg_init_table(&foreign, 1);
	sg_set_page(&foreign, pfn_to_page(PHYS_PFN(foreign_pa)), PAGE_SIZE, 0);
	refused_send(
	    t, "hostile-lend-not-owned", true, t->dev->vm_id, &foreign, true,
	    -EACCES,
	    "lend of a page at a physical address outside our RAM (DENIED)");
	region_free(&r);
}

/* --- hostile: our own descriptors in the driver's TX buffer -------------- */

/* FF-A v1.0 memory transaction descriptor with one receiver (the layout
 * the driver writes, include/linux/arm_ffa.h). */
struct desc_v1_0 {
	struct ffa_mem_region region;
	struct ffa_mem_region_attributes ep;
	struct ffa_composite_mem_region composite;
	struct ffa_mem_region_addr_range range;
} __packed;

/* The driver's TX page: the only page-aligned copy of the descriptor it
 * just sent with `tag` (sender us, handle 0, one receiver). */
static void *find_tx_buffer(struct bft *t, u64 tag, u16 receiver,
			    unsigned int *found)
{
	pg_data_t *pgdat = NODE_DATA(0);
	unsigned long pfn,
	    end = pgdat->node_start_pfn + pgdat->node_spanned_pages;
	void *hit = NULL;

	*found = 0;
	for (pfn = pgdat->node_start_pfn; pfn < end; pfn++) {
		const struct desc_v1_0 *d;

		if (!pfn_valid(pfn))
			continue;
		d = page_address(pfn_to_page(pfn));
		if (d->region.tag == tag && d->region.sender_id == t->self &&
		    d->region.handle == 0 && d->region.ep_count == 1 &&
		    d->ep.receiver == receiver) {
			hit = (void *)d;
			(*found)++;
		}
	}
	return *found == 1 ? hit : NULL;
}

static void case_forged(struct bft *t)
{
	static const unsigned int orders[] = {1};
	struct region r;
	struct arm_smccc_res res;
	struct desc_v1_0 *tx;
	struct ffa_send_direct_data d;
	u64 tag = get_random_u64() | 1, handle = 0, seed = get_random_u64();
	unsigned int found;
	int err, rec;

	if (region_alloc(&r, orders, 1)) {
		report(t, "hostile-retrieve-by-owner", false, "out of memory");
		return;
	}
	region_fill(&r, seed);
	err =
	    send(t, false, t->dev->vm_id, FFA_MEM_RW, r.sg, tag, true, &handle);
	tx = err ? NULL : find_tx_buffer(t, tag, t->dev->vm_id, &found);
	if (!tx) {
		report(t, "hostile-retrieve-by-owner", false,
		       "share: %d; pages holding its descriptor: %u", err,
		       err ? 0 : found);
		if (!err && ops(t)->mem_ops->memory_reclaim(handle, 0))
			r.blocks = 0; /* still out: leak, never reuse */
		region_free(&r);
		return;
	}

	/* A retrieve request naming the service as the receiver, from us. */
	memset(tx, 0, sizeof(*tx));
	tx->region.sender_id = t->self;
	tx->region.flags = RETRIEVE_TYPE_SHARE;
	tx->region.handle = handle;
	tx->region.tag = tag;
	tx->region.ep_count = 1;
	tx->ep.receiver = t->dev->vm_id;
	tx->ep.attrs = FFA_MEM_RW;
	arm_smccc_1_1_invoke(FFA_MEM_RETRIEVE_REQ_64, COMPOSITE_OFFSET(1),
			     COMPOSITE_OFFSET(1), 0, 0, 0, 0, 0, &res);
	report(t, "hostile-retrieve-by-owner",
	       res.a0 == FFA_ERROR_FN &&
		   (int)res.a2 == FFA_RET_INVALID_PARAMETERS,
	       "MEM_RETRIEVE_REQ of our handle %#llx by us, naming partition "
	       "0x%04x as the receiver: x0 %#lx, w2 %d (expected FFA_ERROR, "
	       "INVALID_PARAMETERS %d)",
	       handle, t->dev->vm_id, res.a0, (int)res.a2,
	       FFA_RET_INVALID_PARAMETERS);

	/* The borrower asks for it naming another endpoint (us). */
	d = (struct ffa_send_direct_data){
	    .data0 = BFT_CMD_RETRIEVE_AS,
	    .data1 = handle,
	    .data2 = tag,
	    .data3 = r.pages | (u64)FFA_MEM_TYPE_SHARE << BFT_TYPE_SHIFT,
	    .data4 = t->self,
	};
	err = request(t->dev, &d);
	report(
	    t, "hostile-retrieve-as-other",
	    err == 0 && (long)d.data0 == FFA_RET_INVALID_PARAMETERS,
	    "the service's MEM_RETRIEVE_REQ of handle %#llx naming partition "
	    "0x%04x as the receiver: %d/%ld (expected INVALID_PARAMETERS %d)",
	    handle, t->self, err, (long)d.data0, FFA_RET_INVALID_PARAMETERS);

	/* A share whose descriptor says another partition sends it. */
	memset(tx, 0, sizeof(*tx));
	tx->region.sender_id = t->dev->vm_id;
	tx->region.attributes =
	    FFA_MEM_NORMAL | FFA_MEM_WRITE_BACK | FFA_MEM_INNER_SHAREABLE;
	tx->region.ep_count = 1;
	tx->ep.receiver = t->self;
	tx->ep.attrs = FFA_MEM_RW;
	tx->ep.composite_off = COMPOSITE_OFFSET(1);
	tx->composite.total_pg_cnt = 1;
	tx->composite.addr_range_cnt = 1;
	tx->range.address = page_to_phys(r.page[0]);
	tx->range.pg_cnt = 1;
	arm_smccc_1_1_invoke(FFA_MEM_SHARE_64, sizeof(*tx), sizeof(*tx), 0, 0,
			     0, 0, 0, &res);
	/* a sender ID that is not the caller's: DENIED (FF-A's rule) */
	report(t, "hostile-share-as-other",
	       res.a0 == FFA_ERROR_FN && (int)res.a2 == FFA_RET_DENIED,
	       "MEM_SHARE by us, to us, in the name of partition 0x%04x: x0 "
	       "%#lx, w2 %d (expected FFA_ERROR, DENIED %d)",
	       t->dev->vm_id, res.a0, (int)res.a2, FFA_RET_DENIED);

	/* The real borrower still gets the share, intact. */
	d = (struct ffa_send_direct_data){
	    .data0 = BFT_CMD_CHECK,
	    .data1 = handle,
	    .data2 = tag,
	    .data3 = r.pages | (u64)FFA_MEM_TYPE_SHARE << BFT_TYPE_SHIFT,
	    .data4 = seed,
	};
	err = request(t->dev, &d);
	rec = ops(t)->mem_ops->memory_reclaim(handle, 0);
	report(t, "hostile-share-still-intact",
	       err == 0 && d.data0 == 0 && d.data2 == 0 && rec == 0 &&
		   region_mismatches(&r, seed ^ BFT_ANSWER_XOR) == 0,
	       "after both: service status %ld, %lu bytes off the pattern; "
	       "reclaim %d",
	       (long)d.data0, d.data2, rec);
	if (rec)
		r.blocks = 0; /* leak rather than reuse */
	region_free(&r);
}

/* Leaves a share the service holds, for remove() to find. */
static void case_hold(struct bft *t)
{
	struct ffa_send_direct_data d;
	struct region r;
	static const unsigned int orders[] = {1};
	int err;

	if (region_alloc(&r, orders, 1)) {
		report(t, "hold", false, "out of memory");
		return;
	}
	region_fill(&r, 0);
	t->held_tag = get_random_u64();
	err = send(t, false, t->dev->vm_id, FFA_MEM_RW, r.sg, t->held_tag, true,
		   &t->held_handle);
	if (err) {
		report(t, "hold", false, "share: %d", err);
		region_free(&r);
		return;
	}
	t->held = r.page[0];
	t->held_order = r.order[0];
	d = (struct ffa_send_direct_data){
	    .data0 = BFT_CMD_HOLD,
	    .data1 = t->held_handle,
	    .data2 = t->held_tag,
	    .data3 = r.pages | (u64)FFA_MEM_TYPE_SHARE << BFT_TYPE_SHIFT,
	};
	err = request(t->dev, &d);
	report(t, "hold", err == 0 && d.data0 == 0 && d.data1 == r.pages,
	       "share of %u pages, handle %#llx, retrieved and held by the "
	       "service: err %d, status %ld, %lu pages",
	       r.pages, t->held_handle, err, (long)d.data0, d.data1);
}

static int bft_probe(struct ffa_device *dev)
{
	struct bft *t = devm_kzalloc(&dev->dev, sizeof(*t), GFP_KERNEL);
	struct ffa_device *isolated;
	struct arm_smccc_res res;

	if (!t)
		return -ENOMEM;
	t->dev = dev;
	ffa_dev_set_drvdata(dev, t);
	/* our own ID: the driver keeps it to itself; FFA_ID_GET tells it */
	arm_smccc_1_1_invoke(FFA_ID_GET, 0, 0, 0, 0, 0, 0, 0, &res);
	if (res.a0 != FFA_SUCCESS_FN) {
		pr_err("FFA_ID_GET: x0 %#lx, w2 %d\n", res.a0, (int)res.a2);
		return -ENODEV;
	}
	t->self = (u16)res.a2;
	pr_info("probe: we are partition 0x%04x; service partition 0x%04x, "
		"uuid %pUb\n",
		t->self, dev->vm_id, &dev->uuid);
	case_version(t);
	isolated = case_discovery(t);
	case_info_by_uuid(t);
	case_direct(t);
	case_direct_refused(t, isolated);
	case_share_and_lend(t);
	case_refusals(t);
	case_forged(t);
	case_hold(t);
	pr_info("NOTE notifications: not tested, Linux 6.1's arm_ffa driver "
		"has no notification operations\n");
	pr_info("SUMMARY %u passed, %u failed\n", t->passed, t->failed);
	return 0;
}

/* rmmod with the held share still out: reclaim is refused while the
 * service holds it; told to, it relinquishes; then reclaim succeeds. */
static void bft_remove(struct ffa_device *dev)
{
	struct bft *t = ffa_dev_get_drvdata(dev);
	struct ffa_send_direct_data d;
	int first, told, second;

	if (t->held) {
		first = ops(t)->mem_ops->memory_reclaim(t->held_handle, 0);
		d = (struct ffa_send_direct_data){.data0 = BFT_CMD_RELEASE,
						  .data1 = t->held_handle};
		told = request(dev, &d);
		second = ops(t)->mem_ops->memory_reclaim(t->held_handle, 0);
		report(t, "unload-while-shared",
		       first == -EACCES && told == 0 && d.data0 == 0 &&
			   second == 0,
		       "handle %#llx: reclaim while held %d (expected %d, "
		       "DENIED), service told to relinquish: %d/%ld, reclaim "
		       "%d; %s",
		       t->held_handle, first, -EACCES, told, (long)d.data0,
		       second,
		       second == 0 ? "pages freed"
				   : "pages leaked (still borrowed)");
		if (second == 0)
			__free_pages(t->held, t->held_order);
		t->held = NULL;
	} else {
		report(t, "unload-while-shared", false,
		       "nothing was shared at unload (case hold failed)");
	}
	d = (struct ffa_send_direct_data){.data0 = BFT_CMD_QUIT};
	told = request(dev, &d);
	pr_info("remove: service told to quit: %d/%ld\n", told, (long)d.data0);
	pr_info("SUMMARY at unload %u passed, %u failed\n", t->passed,
		t->failed);
}

static const struct ffa_device_id bft_ids[] = {
    {UUID_INIT(0x6b1f0d2e, 0x8c4a, 0x4f3b, 0x9d, 0x57, 0x2e, 0x1a, 0x0c, 0x9b,
	       0x8f, 0x74)},
    {}};

static struct ffa_driver bft_driver = {
    .name = "bulkhead-ffa-test",
    .probe = bft_probe,
    .remove = bft_remove,
    .id_table = bft_ids,
};
module_ffa_driver(bft_driver);

MODULE_DESCRIPTION(
    "Self-test of the arm_ffa driver against Bulkhead's service partition");
MODULE_LICENSE("GPL");
