/*
 * FF-A calls from partitions: version, features, discovery, RX/TX buffers,
 * indirect messages (MSG_SEND2 / MSG_WAIT), direct messages, YIELD, RUN and
 * CONSOLE_LOG. Both conduits arrive here. Every handler returns a struct
 * ffa_value that ffa_handle writes to the caller's registers once: x0..x7
 * (x0..x17 for the v1.2 extended calls) with every unused result register
 * zero.
 *
 * Locks (order in core/include/core/partition.h): a call that touches two
 * partitions takes both with partition_lock_pair.
 *
 * Blocking: a vCPU in MSG_WAIT (or after a direct response) is
 * VCPU_WAIT_MESSAGE; after a direct request it is VCPU_WAIT_RESPONSE.
 * Its physical CPU idles in WFI (cpu_main) until another CPU writes its
 * result registers, makes it runnable and sends an SGI (vcpu_resume).
 */
#include <bulkhead/ffa.h>
#include <bulkhead/smccc.h>
#include <bulkhead/ffa_notify.h>
#include <core/arch.h>
#include <core/console.h>
#include <core/ffa.h>
#include <core/ffa_notify.h>
#include <core/log.h>
#include <core/vcpu.h>
#include <string.h>

/* Calls that exist only from a given negotiated version on. */
#define SINCE_1_1 FFA_VERSION_1_1
#define SINCE_1_2 FFA_VERSION_1_2

/* --- Arguments ----------------------------------------------------------- */

static uint32_t w(const struct vcpu *v, int i)
{
	return (uint32_t)v->regs.x[i];
}

/* Argument `i` of the call: 32-bit calls use only the low half. */
static uint64_t arg(const struct vcpu *v, uint32_t fn, int i)
{
	return (fn & (1u << 30)) ? v->regs.x[i] : (uint32_t)v->regs.x[i];
}

static uint16_t own_id(const struct vcpu *v)
{
	return v->part->m->id;
}

/* --- Version and features ------------------------------------------------ */

static bool version_supported(uint32_t requested)
{
	return (requested & FFA_VERSION_MBZ) == 0 &&
	       (requested >> FFA_VERSION_MAJOR_SHIFT) ==
		   (FFA_VERSION_IMPLEMENTED >> FFA_VERSION_MAJOR_SHIFT) &&
	       (requested & 0xffff) <= (FFA_VERSION_IMPLEMENTED & 0xffff);
}

/* FFA_VERSION's NOT_SUPPORTED: -1 as the 32-bit value it is (DEN0077: an
 * SMC32 call's results are 32 bits, the upper halves zero). */
#define FFA_VERSION_NOT_SUPPORTED 0xffffffffull

/*
 * FFA_VERSION: w0 = the implemented version, or NOT_SUPPORTED (w0 = -1,
 * not wrapped in FFA_ERROR). The requested version sets the layouts the
 * partition gets, until it makes any other FF-A call; after that only the
 * version already in force is accepted. The version word changes only by
 * compare-and-swap while it is not fixed, so a concurrent first call of
 * another vCPU (fix_version) sees one version or the other, never a mix.
 */
static struct ffa_value call_version(struct vcpu *v)
{
	struct partition *p = v->part;
	uint32_t requested = w(v, 1);
	uint32_t word = __atomic_load_n(&p->ffa_version, __ATOMIC_ACQUIRE);

	if (!version_supported(requested)) {
		return ffa_result(FFA_VERSION_NOT_SUPPORTED, 0, 0, 0);
	}
	while (!(word & FFA_VERSION_FIXED)) {
		if (__atomic_compare_exchange_n(
			&p->ffa_version, &word, requested, false,
			__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			return ffa_result(FFA_VERSION_IMPLEMENTED, 0, 0, 0);
		}
	}
	if ((word & ~FFA_VERSION_FIXED) != requested) {
		return ffa_result(FFA_VERSION_NOT_SUPPORTED, 0, 0, 0);
	}
	return ffa_result(FFA_VERSION_IMPLEMENTED, 0, 0, 0);
}

/*
 * In which minor versions (of FF-A 1.x) each function is available: a
 * table indexed by the function number (bits [7:0] of the ID, from 0x60)
 * for each calling convention, bit m set when a caller of v1.m may call
 * it (a negotiated minor is at most FFA_VERSION_IMPLEMENTED's, < 8). A
 * lookup instead of a switch: every call asks.
 *
 * FFA_MSG_SEND and FFA_MSG_POLL are v1.0's indirect messaging, which
 * v1.1 deprecates in favour of FFA_MSG_SEND2 (a header in TX) and
 * FFA_MSG_WAIT returning FFA_RUN: a v1.1+ caller gets NOT_SUPPORTED, so
 * that each caller has one way to send and receive, in its version's
 * layout.
 */
#define SINCE(fn, version)                                                     \
	[(fn)&0xffu] = (uint8_t)(0xffu << ((version)&0xffffu))
#define ONLY_1_0(fn) [(fn)&0xffu] = 0x1u

static const uint8_t since_32[0x100] = {
    SINCE(FFA_ERROR, FFA_VERSION_1_0),
    SINCE(FFA_SUCCESS_32, FFA_VERSION_1_0),
    SINCE(FFA_INTERRUPT, FFA_VERSION_1_0),
    SINCE(FFA_VERSION, FFA_VERSION_1_0),
    SINCE(FFA_FEATURES, FFA_VERSION_1_0),
    SINCE(FFA_RX_RELEASE, FFA_VERSION_1_0),
    SINCE(FFA_RXTX_MAP_32, FFA_VERSION_1_0),
    SINCE(FFA_RXTX_UNMAP, FFA_VERSION_1_0),
    SINCE(FFA_PARTITION_INFO_GET, FFA_VERSION_1_0),
    SINCE(FFA_ID_GET, FFA_VERSION_1_0),
    SINCE(FFA_MSG_WAIT, FFA_VERSION_1_0),
    ONLY_1_0(FFA_MSG_POLL),
    ONLY_1_0(FFA_MSG_SEND),
    SINCE(FFA_YIELD, FFA_VERSION_1_0),
    SINCE(FFA_RUN, FFA_VERSION_1_0),
    SINCE(FFA_MSG_SEND_DIRECT_REQ_32, FFA_VERSION_1_0),
    SINCE(FFA_MSG_SEND_DIRECT_RESP_32, FFA_VERSION_1_0),
    SINCE(FFA_MSG_SEND2, SINCE_1_1),
    /* memory transactions: descriptors in the caller's version's layout */
    SINCE(FFA_MEM_SHARE_32, FFA_VERSION_1_0),
    SINCE(FFA_MEM_LEND_32, FFA_VERSION_1_0),
    SINCE(FFA_MEM_DONATE_32, FFA_VERSION_1_0),
    SINCE(FFA_MEM_RETRIEVE_REQ_32, FFA_VERSION_1_0),
    SINCE(FFA_MEM_RETRIEVE_RESP, FFA_VERSION_1_0),
    SINCE(FFA_MEM_RELINQUISH, FFA_VERSION_1_0),
    SINCE(FFA_MEM_RECLAIM, FFA_VERSION_1_0),
    SINCE(FFA_MEM_FRAG_RX, FFA_VERSION_1_0),
    SINCE(FFA_MEM_FRAG_TX, FFA_VERSION_1_0),
    SINCE(FFA_CONSOLE_LOG_32, SINCE_1_2),
    /* notifications; BITMAP_CREATE/DESTROY are the hypervisor's calls to
     * an SPMC, not a partition's: NOT_SUPPORTED */
    SINCE(FFA_NOTIFICATION_BIND, SINCE_1_1),
    SINCE(FFA_NOTIFICATION_UNBIND, SINCE_1_1),
    SINCE(FFA_NOTIFICATION_SET, SINCE_1_1),
    SINCE(FFA_NOTIFICATION_GET, SINCE_1_1),
    SINCE(FFA_NOTIFICATION_INFO_GET_32, SINCE_1_1),
};

static const uint8_t since_64[0x100] = {
    SINCE(FFA_SUCCESS_64, FFA_VERSION_1_0),
    SINCE(FFA_RXTX_MAP_64, FFA_VERSION_1_0),
    SINCE(FFA_MSG_SEND_DIRECT_REQ_64, FFA_VERSION_1_0),
    SINCE(FFA_MSG_SEND_DIRECT_RESP_64, FFA_VERSION_1_0),
    SINCE(FFA_MEM_SHARE_64, FFA_VERSION_1_0),
    SINCE(FFA_MEM_LEND_64, FFA_VERSION_1_0),
    SINCE(FFA_MEM_DONATE_64, FFA_VERSION_1_0),
    SINCE(FFA_MEM_RETRIEVE_REQ_64, FFA_VERSION_1_0),
    SINCE(FFA_CONSOLE_LOG_64, SINCE_1_2),
    SINCE(FFA_PARTITION_INFO_GET_REGS, SINCE_1_2),
    SINCE(FFA_MSG_SEND_DIRECT_REQ2, SINCE_1_2),
    SINCE(FFA_MSG_SEND_DIRECT_RESP2, SINCE_1_2),
    SINCE(FFA_NOTIFICATION_INFO_GET_64, SINCE_1_1),
};

/* Whether FF-A function `fn` (an ID call_handle routed here: fast call,
 * standard service, number 0x60..0xff) exists for a partition that
 * negotiated `version`. */
static bool available(uint32_t version, uint32_t fn)
{
	uint8_t in = ((fn & SMCCC_64BIT) ? since_64 : since_32)[fn & 0xffu];

	_Static_assert((FFA_VERSION_IMPLEMENTED & 0xffffu) < 8,
		       "a negotiated minor version indexes 8 bits");
	return ((in >> (version & 0xffffu)) & 1u) != 0;
}

/*
 * FFA_FEATURES, function IDs (w1 bit 31 set): SUCCESS for every call that
 * works at the caller's version and is of use to it (the notification
 * calls by its manifest: ffa_notify_offers), with the properties DEN0077
 * defines for it in w2/w3; NOT_SUPPORTED for every other ID, whatever w2
 * says; then INVALID_PARAMETERS for input properties in w2 where DEN0077
 * defines none.
 *
 * - RXTX_MAP: w2[1:0] = 0 (4 KiB minimum buffer and alignment), from
 *   v1.2 w2[31:16] = the most pages of each buffer.
 * - MEM_DONATE/LEND/SHARE: w2 bit 0 = 0 (descriptors in the TX buffer
 *   only, no buffer of the caller's own).
 * - MEM_RETRIEVE_REQ: input w2 bit 1 = the caller handles the NS bit of
 *   retrieve responses. A v1.0 caller chooses with it whether it gets the
 *   bit; from v1.1 responses always carry it, and the input bit is how a
 *   secure partition says it copes: partitions here are all non-secure
 *   endpoints, so either value gets the same answer.
 *   Output w2 bit 0 = 0 (no buffer of its own), bit 1 = 1 (NS bit set in
 *   responses), bit 2 = 0 (no retrieval by a hypervisor: there is none
 *   above Bulkhead); w3[7:0] = 0: a borrower holds one retrieval of a
 *   handle at a time (2^(0+1) - 1).
 * - Everything else: w2 = w3 = 0.
 */
static struct ffa_value features_of_function(struct vcpu *v, uint32_t id,
					     uint32_t input, uint32_t version)
{
	bool retrieve =
	    id == FFA_MEM_RETRIEVE_REQ_32 || id == FFA_MEM_RETRIEVE_REQ_64;

	if (!available(version, id) || !ffa_notify_offers(v->part, id)) {
		return ffa_error(FFA_NOT_SUPPORTED);
	}
	if ((input & ~(retrieve ? FFA_FEATURES_MEM_RETRIEVE_NS : 0u)) != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	switch (id) {
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
		return ffa_success(
		    version >= FFA_VERSION_1_2
			? (uint32_t)CONFIG_FFA_RXTX_MAX_PAGES
			      << FFA_FEATURES_RXTX_MAX_PAGES_SHIFT
			: 0,
		    0);
	case FFA_MEM_RETRIEVE_REQ_32:
	case FFA_MEM_RETRIEVE_REQ_64:
		if (version == FFA_VERSION_1_0) {
			/* the partition's lock orders this against its
			 * retrieves */
			struct partition_locked locked =
			    partition_lock(v->part);

			v->part->ffa_mem_ns =
			    (input & FFA_FEATURES_MEM_RETRIEVE_NS) != 0;
			partition_unlock(&locked);
			return ffa_success(input & FFA_FEATURES_MEM_RETRIEVE_NS,
					   0);
		}
		return ffa_success(FFA_FEATURES_MEM_RETRIEVE_NS, 0);
	default:
		return ffa_success(0, 0);
	}
}

/*
 * FFA_FEATURES, feature IDs (w1 bit 31 clear: bits [7:0] the ID, bits
 * [30:8] MBZ): SUCCESS with the feature's properties, or NOT_SUPPORTED.
 * One case per feature Bulkhead supports, from v1.1 (notifications): the
 * notification pending interrupt (1) and the schedule receiver interrupt
 * (2), w2 = the virtual SGI each is (core/ffa_notify.c), no input
 * properties; each only to a partition that can receive it (one with
 * bitmaps; a scheduler). The managed exit interrupt (3) is for secure
 * partitions.
 */
static struct ffa_value features_of_feature(const struct vcpu *v, uint32_t id,
					    uint32_t input, uint32_t version)
{
	uint32_t intid;

	if (id == FFA_FEATURE_NPI) {
		intid = FFA_NOTIFY_NPI_INTID;
	} else if (id == FFA_FEATURE_SRI) {
		intid = FFA_NOTIFY_SRI_INTID;
	} else {
		return ffa_error(FFA_NOT_SUPPORTED);
	}
	if (version < FFA_VERSION_1_1 || !ffa_notify_offers(v->part, id)) {
		return ffa_error(FFA_NOT_SUPPORTED);
	}
	if (input != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	return ffa_success(intid, 0);
}

/* FFA_FEATURES: w1 = a function or feature ID, w2 = input properties. */
static struct ffa_value call_features(struct vcpu *v, uint32_t version)
{
	uint32_t id = w(v, 1);
	uint32_t input = w(v, 2);

	if (!(id & FFA_FEATURES_FUNCTION)) {
		return features_of_feature(v, id, input, version);
	}
	if (!ffa_is_function_id(id)) {
		return ffa_error(FFA_NOT_SUPPORTED);
	}
	return features_of_function(v, id, input, version);
}

/* --- Discovery ----------------------------------------------------------- */

static bool uuid_is_nil(const uint8_t uuid[16])
{
	for (int i = 0; i < 16; i++) {
		if (uuid[i] != 0) {
			return false;
		}
	}
	return true;
}

static void uuid_from_words(uint8_t uuid[16], const uint32_t words[4])
{
	for (int i = 0; i < 4; i++) {
		for (int b = 0; b < 4; b++) {
			uuid[i * 4 + b] = (uint8_t)(words[i] >> (8 * b));
		}
	}
}

static bool partition_matches(const struct partition *p, const uint8_t uuid[16])
{
	return uuid_is_nil(uuid) || memcmp(p->m->uuid, uuid, 16) == 0;
}

static void partition_info(struct ffa_partition_info *info,
			   const struct partition *p)
{
	info->id = p->m->id;
	info->exec_context_count = p->m->vcpu_count;
	info->properties = p->ffa_properties;
	memcpy(info->uuid, p->m->uuid, sizeof(info->uuid));
}

static uint32_t count_matching(const uint8_t uuid[16])
{
	uint32_t count = 0;

	for (uint32_t i = 0; i < partition_count; i++) {
		count += partition_matches(&partitions[i], uuid);
	}
	return count;
}

/*
 * FFA_PARTITION_INFO_GET: w1..w4 = UUID (nil: every partition), w5 bit 0 =
 * count only. Descriptors go to the caller's RX buffer, which the caller
 * then owns until it releases it.
 */
static struct ffa_value call_partition_info_get(struct vcpu *v,
						uint32_t version)
{
	struct partition *p = v->part;
	uint32_t words[4] = {w(v, 1), w(v, 2), w(v, 3), w(v, 4)};
	uint32_t flags = w(v, 5);
	uint32_t size = ffa_partition_info_size(version);
	uint32_t size_word = version == FFA_VERSION_1_0 ? 0 : size;
	struct partition_locked locked;
	struct ffa_value ret;
	uint8_t uuid[16];
	uint32_t count;
	uint8_t *rx;

	uuid_from_words(uuid, words);
	if ((flags & ~FFA_PARTITION_INFO_COUNT_ONLY) != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	count = count_matching(uuid);
	if (count == 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (flags & FFA_PARTITION_INFO_COUNT_ONLY) {
		return ffa_success(count, size_word);
	}
	locked = partition_lock(p);
	if (!rx_free(&p->mailbox)) {
		ret = ffa_error(FFA_BUSY);
		goto out;
	}
	if ((uint64_t)count * size > mailbox_size(&p->mailbox)) {
		ret = ffa_error(FFA_NO_MEMORY);
		goto out;
	}
	rx = partition_va(p->mailbox.rx);
	for (uint32_t i = 0; i < partition_count; i++) {
		struct ffa_partition_info info;

		if (partition_matches(&partitions[i], uuid)) {
			partition_info(&info, &partitions[i]);
			rx += ffa_partition_info_write(rx, &info, version);
		}
	}
	p->mailbox.rx_owner = FFA_RX_PARTITION;
	ret = ffa_success(count, size_word);
out:
	partition_unlock(&locked);
	return ret;
}

/* Descriptors per FFA_PARTITION_INFO_GET_REGS answer (x3..x17). */
#define INFO_REGS_PER_CALL 5

/*
 * FFA_PARTITION_INFO_GET_REGS: x1/x2 = UUID, x3 = [15:0] start index,
 * [31:16] tag (must be 0: the list never changes). Answer: SUCCESS_64 with
 * x2 = last index | current index << 16 | tag << 32 | size << 48 and up to
 * five descriptors in x3..x17.
 */
static struct ffa_value call_partition_info_get_regs(struct vcpu *v)
{
	struct arch_regs *r = &v->regs;
	uint32_t words[4] = {(uint32_t)r->x[1], (uint32_t)(r->x[1] >> 32),
			     (uint32_t)r->x[2], (uint32_t)(r->x[2] >> 32)};
	uint64_t start = r->x[3] & 0xffff;
	uint8_t uuid[16];
	struct ffa_value ret;
	uint32_t count;
	uint32_t index = 0;
	uint32_t filled = 0;

	uuid_from_words(uuid, words);
	count = count_matching(uuid);
	/* this call's results define x8..x17 (ffa_value_write) */
	FFA_ZERO_REGS(ret.x, 3, FFA_VALUE_REGS - 3);
	if ((r->x[3] >> 16) != 0 || count == 0 || start >= count) {
		ret.x[0] = FFA_ERROR;
		ret.x[1] = 0;
		ret.x[2] = (uint32_t)FFA_INVALID_PARAMETERS;
		return ret;
	}
	for (uint32_t i = 0; i < partition_count && filled < INFO_REGS_PER_CALL;
	     i++) {
		struct ffa_partition_info info;

		if (!partition_matches(&partitions[i], uuid)) {
			continue;
		}
		if (index++ < start) {
			continue;
		}
		partition_info(&info, &partitions[i]);
		info.properties &= FFA_PROPS_1_2;
		memcpy(&ret.x[3 + 3 * filled], &info, sizeof(info));
		filled++;
	}
	ret.x[0] = FFA_SUCCESS_64;
	ret.x[1] = 0;
	ret.x[2] = (count - 1) | ((start + filled - 1) << 16) |
		   ((uint64_t)FFA_PARTITION_INFO_SIZE << 48);
	return ret;
}

/* --- RX/TX buffers ------------------------------------------------------- */

static bool ranges_overlap(uint64_t a, uint64_t b, uint64_t size)
{
	return a < b + size && b < a + size;
}

/* Whether [addr, addr + size) of the partition's own RAM is mapped for
 * it alone, readable and writable, normal memory. */
static bool exclusively_owned(struct partition_locked locked, uint64_t addr,
			      uint64_t size)
{
	uint32_t mode;

	if (!mm_get_mode(&locked.p->ptable, ipa_init(addr),
			 ipa_init(addr + size), &mode)) {
		return false;
	}
	return (mode & (MM_MODE_INVALID | MM_MODE_UNOWNED | MM_MODE_SHARED |
			MM_MODE_D)) == 0 &&
	       (mode & (MM_MODE_R | MM_MODE_W)) == (MM_MODE_R | MM_MODE_W);
}

/*
 * FFA_RXTX_MAP: x1 = TX, x2 = RX, w3[5:0] = pages of each. Errors:
 * INVALID_PARAMETERS for bad addresses or counts (unaligned, zero, above
 * CONFIG_FFA_RXTX_MAX_PAGES, TX and RX overlapping) and for buffers not
 * wholly inside the caller's RAM (its manifest `memory`); DENIED when a
 * pair is already mapped or the RAM is not the caller's alone, readable
 * and writable (lent, shared, donated away, read-only).
 */
static struct ffa_value call_rxtx_map(struct vcpu *v, uint32_t fn)
{
	struct partition *p = v->part;
	uint64_t tx = arg(v, fn, 1);
	uint64_t rx = arg(v, fn, 2);
	uint32_t pages = w(v, 3);
	uint64_t size = (uint64_t)pages * FFA_PAGE_SIZE;
	struct partition_locked locked;
	struct ffa_value ret;

	if ((pages & ~FFA_RXTX_PAGE_COUNT_MASK) != 0 || pages == 0 ||
	    pages > CONFIG_FFA_RXTX_MAX_PAGES || !is_aligned(tx, PAGE_SIZE) ||
	    !is_aligned(rx, PAGE_SIZE) || tx == 0 || rx == 0 ||
	    ranges_overlap(tx, rx, size) ||
	    !partition_in_ram(p, ipa_init(tx), size) ||
	    !partition_in_ram(p, ipa_init(rx), size)) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	locked = partition_lock(p);
	if (mailbox_mapped(&p->mailbox) ||
	    !exclusively_owned(locked, tx, size) ||
	    !exclusively_owned(locked, rx, size)) {
		ret = ffa_error(FFA_DENIED);
		goto out;
	}
	p->mailbox = (struct ffa_mailbox){.tx = ipa_init(tx),
					  .rx = ipa_init(rx),
					  .page_count = pages,
					  .rx_owner = FFA_RX_HYPERVISOR};
	ret = ffa_success(0, 0);
out:
	partition_unlock(&locked);
	return ret;
}

/* w1 of UNMAP and RX_RELEASE: zero, or the caller's own ID in [31:16]
 * (as Linux sends it). */
static bool own_target_info(const struct vcpu *v)
{
	uint32_t target = w(v, 1);

	return target == 0 || target == (uint32_t)own_id(v) << 16;
}

/*
 * FFA_RXTX_UNMAP (INVALID_PARAMETERS without a pair) and FFA_RX_RELEASE
 * (DENIED unless the caller owns a full RX): both act on the caller's own
 * mailbox, named by w1.
 */
static struct ffa_value call_mailbox(struct vcpu *v, uint32_t fn)
{
	struct partition *p = v->part;
	struct ffa_mailbox *mb = &p->mailbox;
	struct partition_locked locked;
	struct ffa_value ret;

	if (!own_target_info(v)) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	locked = partition_lock(p);
	if (fn == FFA_RXTX_UNMAP && !mailbox_mapped(mb)) {
		ret = ffa_error(FFA_INVALID_PARAMETERS);
	} else if (fn == FFA_RX_RELEASE &&
		   (!mailbox_mapped(mb) || mb->rx_owner != FFA_RX_PARTITION)) {
		ret = ffa_error(FFA_DENIED);
	} else {
		if (fn == FFA_RXTX_UNMAP) {
			*mb = (struct ffa_mailbox){0};
		} else {
			mb->rx_owner = FFA_RX_HYPERVISOR;
			mb->msg_unseen = false;
		}
		ret = ffa_success(0, 0);
	}
	partition_unlock(&locked);
	return ret;
}

/* --- Readiness and interrupted waits -------------------------------------
 *
 * A partition in the boot order (manifest `boot-order`) is ready once it
 * first calls FFA_MSG_WAIT (or is off); its boot vCPU starts only when
 * every partition before it in the order is ready, or has not become
 * ready within its own ready-timeout-ms. A direct request or indirect
 * message to a partition that is not ready waits for it (the caller's
 * vCPU blocks, its call's registers kept) and is made again once it is;
 * after the target's ready-timeout-ms it fails with ABORTED. This CPU's
 * deadline (core/deadline.c, DEADLINE_FFA_READY) wakes it then.
 *
 * A vCPU in MSG_WAIT or awaiting a direct response that gets a virtual
 * interrupt it can take returns FFA_INTERRUPT (w1 = its ID << 16 | vCPU);
 * FFA_RUN naming itself resumes the wait (a response that came meanwhile
 * is returned then), and so does a new FFA_MSG_WAIT.
 */

enum ffa_resume {
	RESUME_NONE,
	RESUME_MSG_WAIT, /* FFA_INTERRUPT ended a MSG_WAIT */
	RESUME_RESPONSE, /* FFA_INTERRUPT came while awaiting a response */
};

/* What a vCPU's wait is beyond enum vcpu_wait and the flags in struct
 * vcpu (v->ffa_resume, v->ffa_ready_wait), which the fast paths test:
 * only a wait that needs more has anything here (its partition's lock;
 * `ready_target` is also written with the target's lock held, which its
 * readers hold). */
struct wait_state {
	struct partition *ready_target; /* waiting for it to be ready */
	uint64_t deadline;		/* ... until then (timer ticks) */
	bool response_ready;		/* came while interrupted: */
	struct ffa_value response;	/* what FFA_RUN returns */
};

static struct wait_state waits[CONFIG_MAX_PARTITIONS][CONFIG_MAX_CPUS];

/* Per partition in the boot order: given up on (a later partition
 * started without it). Whether it is ready: p->ffa_ready. */
static bool given_up[CONFIG_MAX_PARTITIONS];
/* Per partition's boot vCPU, on its own CPU: whom its start waits for,
 * until when. */
static const struct partition *hold_for[CONFIG_MAX_PARTITIONS];
static uint64_t hold_until[CONFIG_MAX_PARTITIONS];

static struct wait_state *wait_state(const struct vcpu *v)
{
	return &waits[v->part->index][v->index];
}

static bool is_ready(const struct partition *p)
{
	return __atomic_load_n(&p->ffa_ready, __ATOMIC_ACQUIRE);
}

/* Has the CPU of `v` (the caller's own) woken at `deadline`. */
static void wake_at(const struct vcpu *v, uint64_t deadline)
{
	deadline_set(&cpus[v->cpu], DEADLINE_FFA_READY, deadline);
}

/*
 * The caller `v` (its and `to`'s partitions locked) made a direct request
 * or sent an indirect message to `to`, which is not ready: it waits until
 * `to` is (the call is made again) or the deadline passes (ABORTED).
 */
static __attribute__((noinline)) struct ffa_value
wait_until_ready(struct vcpu *v, struct partition *to)
{
	struct wait_state *ws = wait_state(v);

	v->ffa_ready_wait = true;
	ws->ready_target = to;
	ws->deadline = deadline_after_ms(to->m->ready_timeout_ms);
	v->awaiting = NULL;
	v->wait = VCPU_WAIT_RESPONSE;
	wake_at(v, ws->deadline);
	return ffa_blocked();
}

/* The locked partition is ready: whoever waits for it looks again, and
 * so do the boot vCPUs later in the boot order. */
static __attribute__((noinline)) void mark_ready(struct partition_locked locked)
{
	struct partition *p = locked.p;

	if (p->ffa_ready) {
		return;
	}
	__atomic_store_n(&p->ffa_ready, true, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < partition_count; i++) {
		struct partition *q = &partitions[i];

		for (uint16_t j = 0; j < q->m->vcpu_count; j++) {
			if (waits[i][j].ready_target == p) {
				cpu_kick(q->vcpus[j].cpu);
			}
		}
		if (q->m->boot_order > p->m->boot_order) {
			cpu_kick(q->vcpus[0].cpu);
		}
	}
}

/* The first partition before `p` in the boot order that is neither ready
 * nor given up on, or NULL. */
static const struct partition *not_ready_before(const struct partition *p)
{
	const struct partition *first = NULL;

	for (uint32_t i = 0; i < partition_count; i++) {
		const struct partition *q = &partitions[i];

		if (q->m->boot_order != 0 &&
		    q->m->boot_order < p->m->boot_order && !is_ready(q) &&
		    !__atomic_load_n(&given_up[i], __ATOMIC_RELAXED) &&
		    (first == NULL ||
		     q->m->boot_order < first->m->boot_order)) {
			first = q;
		}
	}
	return first;
}

__attribute__((noinline)) bool ffa_vcpu_may_start(struct vcpu *v)
{
	struct partition *p = v->part;
	const struct partition *first;

	if (v->index != 0 || p->m->boot_order == 0) {
		return true;
	}
	while ((first = not_ready_before(p)) != NULL) {
		if (hold_for[p->index] != first) {
			hold_for[p->index] = first;
			hold_until[p->index] =
			    deadline_after_ms(first->m->ready_timeout_ms);
			wake_at(v, hold_until[p->index]);
		}
		if (arch_counter_now() < hold_until[p->index]) {
			return false;
		}
		WARN("partition %s not ready after %u ms: the boot order goes "
		     "on without it",
		     first->m->name, first->m->ready_timeout_ms);
		__atomic_store_n(&given_up[first->index], true,
				 __ATOMIC_RELAXED);
	}
	if (hold_for[p->index] != NULL) {
		hold_for[p->index] = NULL;
		deadline_clear(&cpus[v->cpu], DEADLINE_FFA_READY);
	}
	return true;
}

/* On `v`'s own CPU, in a ready wait: the call again once its target is
 * ready, ABORTED once the deadline has passed. */
static __attribute__((noinline)) void check_ready_wait(struct vcpu *v,
						       struct wait_state *ws)
{
	bool now_ready = is_ready(ws->ready_target);
	struct partition_locked locked;

	if (!now_ready && arch_counter_now() < ws->deadline) {
		return;
	}
	deadline_clear(&cpus[v->cpu], DEADLINE_FFA_READY);
	locked = partition_lock(v->part);
	ws->ready_target = NULL;
	v->ffa_ready_wait = false;
	v->wait = VCPU_RUNNABLE;
	partition_unlock(&locked);
	if (now_ready) {
		ffa_handle(v);
	} else {
		struct ffa_value r = ffa_error(FFA_ABORTED);

		ffa_value_write(&v->regs, (uint32_t)v->regs.x[0], &r);
	}
}

/* On `v`'s own CPU, in MSG_WAIT or awaiting a response, when a virtual
 * interrupt may have come (v->vgic.dirty): one it can take ends the wait
 * with FFA_INTERRUPT. */
static __attribute__((noinline)) void check_interrupt(struct vcpu *v)
{
	struct wait_state *ws = wait_state(v);
	struct partition_locked locked;

	vgic_sync(v); /* what is pending, as the guest's interface has it */
	locked = partition_lock(v->part);
	if ((v->wait == VCPU_WAIT_MESSAGE ||
	     (v->wait == VCPU_WAIT_RESPONSE && v->awaiting != NULL)) &&
	    vgic_deliverable(v)) {
		struct ffa_value r = ffa_result(
		    FFA_INTERRUPT, ffa_endpoints(own_id(v), v->index), 0, 0);

		v->ffa_resume = v->wait == VCPU_WAIT_MESSAGE ? RESUME_MSG_WAIT
							     : RESUME_RESPONSE;
		ws->response_ready = false;
		ffa_value_deliver(&v->regs, &r, false);
		v->wait = VCPU_RUNNABLE;
	}
	partition_unlock(&locked);
}

/* --- Waiting ------------------------------------------------------------- */

/*
 * `v` (its partition locked) begins a wait (MSG_WAIT, a direct request):
 * an interrupt already pending for it is in a list register, and marking
 * the vCPU dirty has the loop look whether it ends the wait
 * (ffa_vcpu_wait_needs_check); later ones mark it themselves.
 */
static inline void wait_begins(struct vcpu *v)
{
	if ((v->vgic.in_lr | v->vgic.spi_in_lr) != 0) {
		v->vgic.dirty = true;
	}
}

static bool may_message(const struct partition *from, uint16_t to)
{
	for (uint32_t i = 0; i < from->m->messaging_count; i++) {
		if (from->m->messaging[i] == to) {
			return true;
		}
	}
	return false;
}

/* The result MSG_WAIT completes with when a message is in RX: FFA_RUN with
 * w1 = partition ID << 16 | vCPU index. */
static struct ffa_value run_result(const struct vcpu *v)
{
	return ffa_result(FFA_RUN, ffa_endpoints(own_id(v), v->index), 0, 0);
}

/*
 * The message a v1.0 partition's RX holds, per partition (its lock): v1.0
 * has no header in RX, so FFA_MSG_WAIT and FFA_MSG_POLL report its sender
 * and size in registers. Written with each delivery to it (deliver_v10).
 */
struct v10_msg {
	uint16_t sender;
	uint32_t size;
};

static struct v10_msg v10_msgs[CONFIG_MAX_PARTITIONS];

/* How v1.0 reports a message in the locked partition `p`'s RX: FFA_MSG_SEND
 * with w1 = sender << 16 | receiver, w3 = size, w4 = 0 (flags), the other
 * registers zero. */
static struct ffa_value v10_msg_result(const struct partition *p)
{
	const struct v10_msg *m = &v10_msgs[p->index];

	return ffa_result(FFA_MSG_SEND, ffa_endpoints(m->sender, p->m->id), 0,
			  m->size);
}

/* What a wait of `v` (its partition locked) returns for a message in RX
 * that no wait reported yet: in the layout of the partition's version. */
static __attribute__((noinline)) struct ffa_value
unseen_result(struct partition_locked locked, const struct vcpu *v)
{
	return partition_ffa_version(locked.p) == FFA_VERSION_1_0
		   ? v10_msg_result(locked.p)
		   : run_result(v);
}

/*
 * Puts the caller (its partition locked) in the receiving state. When RX
 * holds a message no earlier wait reported, returns at once with FFA_RUN
 * (v1.0: FFA_MSG_SEND) instead, so a message that came while the
 * partition was busy is never lost.
 */
static inline __attribute__((always_inline)) struct ffa_value
wait_for_message(struct partition_locked locked, struct vcpu *v)
{
	struct ffa_mailbox *mb = &locked.p->mailbox;

	if (mb->msg_unseen) {
		mb->msg_unseen = false;
		return unseen_result(locked, v);
	}
	v->wake_pending = false;
	v->wait = VCPU_WAIT_MESSAGE;
	wait_begins(v);
	return ffa_blocked();
}

/*
 * FFA_MSG_WAIT: releases the RX buffer (v1.1+; v1.2 w2 bit 0 keeps it),
 * then blocks until an indirect message (completes with FFA_RUN; for a
 * v1.0 caller with FFA_MSG_SEND, v10_msg_result) or a direct request
 * (completes with that request) arrives.
 */
static inline __attribute__((always_inline)) struct ffa_value
call_msg_wait(struct vcpu *v, uint32_t version)
{
	struct partition *p = v->part;
	uint32_t flags = w(v, 2);
	uint32_t allowed =
	    version >= FFA_VERSION_1_2 ? FFA_MSG_WAIT_RETAIN_RX : 0;
	struct partition_locked locked;
	struct ffa_value ret;

	if (w(v, 1) != 0 || (flags & ~allowed) != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (v->serving != NULL) {
		/* It owes its requester a response first. */
		return ffa_error(FFA_DENIED);
	}
	locked = partition_lock(p);
	v->ffa_resume = RESUME_NONE;
	if (!p->ffa_ready) {
		mark_ready(locked);
	}
	if (!p->mailbox.msg_unseen && version >= FFA_VERSION_1_1 &&
	    !(flags & FFA_MSG_WAIT_RETAIN_RX) &&
	    p->mailbox.rx_owner == FFA_RX_PARTITION) {
		p->mailbox.rx_owner = FFA_RX_HYPERVISOR;
	}
	ret = wait_for_message(locked, v);
	partition_unlock(&locked);
	return ret;
}

/* A vCPU of a locked partition in MSG_WAIT, or NULL. */
static inline __attribute__((always_inline)) struct vcpu *
waiting_vcpu(struct partition *p)
{
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		struct vcpu *t = &p->vcpus[i];

		if (t->state == VCPU_ON && t->wait == VCPU_WAIT_MESSAGE) {
			return t;
		}
	}
	return NULL;
}

/* Ends the wait of `t` (its partition locked, in MSG_WAIT) with `r`. */
static inline __attribute__((always_inline)) void
end_message_wait(struct vcpu *t, const struct ffa_value *r)
{
	/* the wait was a MSG_WAIT or a direct response: x0..x7 */
	FFA_COPY_REGS(t->regs.x, r->x, 0, 8);
	vcpu_resume(t);
}

/* No vCPU of the locked partition is in MSG_WAIT: its next wait (or
 * FFA_MSG_POLL) reports the message in RX, and a vCPU idling in WFI
 * wakes. */
static inline void message_unseen(struct partition *p)
{
	p->mailbox.msg_unseen = true;
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		if (p->vcpus[i].wait == VCPU_WAIT_IDLE) {
			vcpu_resume(&p->vcpus[i]);
			break;
		}
	}
}

/* Tells a locked partition that a message is in its RX buffer: a vCPU in
 * MSG_WAIT returns with FFA_RUN (true), else one idling in WFI wakes. */
static inline __attribute__((always_inline)) bool
notify_message(struct partition *p)
{
	struct vcpu *t = waiting_vcpu(p);

	if (t != NULL) {
		struct ffa_value r = run_result(t);

		end_message_wait(t, &r);
		return true;
	}
	message_unseen(p);
	return false;
}

/* FFA_RUN naming the caller itself: resumes the wait FFA_INTERRUPT ended
 * (INVALID_PARAMETERS if none did). */
static __attribute__((noinline)) struct ffa_value resume_wait(struct vcpu *v)
{
	struct wait_state *ws = wait_state(v);
	struct partition_locked locked = partition_lock(v->part);
	struct ffa_value ret = ffa_blocked();

	if (v->ffa_resume == RESUME_MSG_WAIT) {
		ret = wait_for_message(locked, v);
	} else if (v->ffa_resume == RESUME_RESPONSE && ws->response_ready) {
		ffa_value_deliver(&v->regs, &ws->response, true);
	} else if (v->ffa_resume == RESUME_RESPONSE) {
		v->wait = VCPU_WAIT_RESPONSE;
		wait_begins(v);
	} else {
		ret = ffa_error(FFA_INVALID_PARAMETERS);
	}
	v->ffa_resume = RESUME_NONE;
	partition_unlock(&locked);
	return ret;
}

/* --- Indirect messages --------------------------------------------------- */

/*
 * deliver_indirect for a v1.0 receiver (locked; RX free): the payload at
 * RX offset 0 and no header; a vCPU in MSG_WAIT returns FFA_MSG_SEND with
 * the sender and size (v10_msg_result), else the next MSG_WAIT or
 * MSG_POLL does. No framework notification: v1.0 has none.
 */
static __attribute__((noinline)) int32_t
deliver_v10(struct partition_locked locked_to, const struct partition *from,
	    const struct ffa_msg *msg)
{
	struct partition *to = locked_to.p;
	struct vcpu *t;

	if (msg->size > mailbox_size(&to->mailbox)) {
		return FFA_INVALID_PARAMETERS;
	}
	memcpy(partition_va(to->mailbox.rx),
	       (const uint8_t *)partition_va(from->mailbox.tx) + msg->offset,
	       msg->size);
	v10_msgs[to->index] =
	    (struct v10_msg){.sender = msg->sender, .size = msg->size};
	to->mailbox.rx_owner = FFA_RX_PARTITION;
	t = waiting_vcpu(to);
	if (t != NULL) {
		struct ffa_value r = v10_msg_result(to);

		end_message_wait(t, &r);
	} else {
		message_unseen(to);
	}
	return 0;
}

/*
 * Copies the payload of the message in the sender's TX into the
 * receiver's RX (both locked) and writes the header in the receiver's
 * layout (v1.0: none, deliver_v10). `msg` is the one copy of the sender's
 * header that was checked; TX is not read for it again. The receiver learns of
 * it (notify_message, and the framework notification "RX buffer full"); true in
 * *schedule when its scheduler is to be told (ffa_notify_schedule).
 */
static inline __attribute__((always_inline)) int32_t
deliver_indirect(struct partition_locked locked_to, struct partition *from,
		 const struct ffa_msg *msg, bool *schedule)
{
	struct partition *to = locked_to.p;
	const uint8_t *tx = partition_va(from->mailbox.tx);
	uint32_t version;
	uint32_t offset;
	uint8_t *rx;
	bool woke;

	if (!rx_free(&to->mailbox)) {
		return FFA_BUSY;
	}
	/* A partition with RX mapped has its version fixed: one read. */
	version = partition_ffa_version(to);
	if (version == FFA_VERSION_1_0) {
		return deliver_v10(locked_to, from, msg);
	}
	offset = ffa_msg_payload_offset(version);
	if ((uint64_t)offset + msg->size > mailbox_size(&to->mailbox)) {
		return FFA_INVALID_PARAMETERS;
	}
	rx = partition_va(to->mailbox.rx);
	/* Payload first, then the header: a receiver polling its RX sees a
	 * header only once the payload behind it is complete. */
	memcpy(rx + offset, tx + msg->offset, msg->size);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ffa_msg_header_write(rx, msg, version);
	to->mailbox.rx_owner = FFA_RX_PARTITION;
	/* a vCPU in MSG_WAIT learns of it from FFA_RUN: no pending
	 * interrupt then */
	woke = notify_message(to);
	*schedule = ffa_notify_rx_full(locked_to, !woke);
	return 0;
}

/*
 * The checked message `msg` from the caller `v` (whose mailbox was `mb`
 * when it was checked) goes to `to`, which the caller may send indirect
 * messages: delivered unless the caller's buffers changed meanwhile
 * (DENIED), the receiver's RX is full or it is not running (BUSY); a
 * receiver not ready yet is waited for. `delay_sri`: the schedule receiver
 * interrupt waits until the caller gives its CPU back.
 */
static inline __attribute__((always_inline)) struct ffa_value
send_indirect(struct vcpu *v, struct partition *to,
	      const struct ffa_mailbox *mb, const struct ffa_msg *msg,
	      bool delay_sri)
{
	struct partition *p = v->part;
	struct partition_locked lp;
	struct partition_locked lt;
	bool schedule = false;
	int32_t err;

	partition_lock_pair(p, to, &lp, &lt);
	if (ipa_addr(p->mailbox.tx) != ipa_addr(mb->tx) ||
	    p->mailbox.page_count != mb->page_count) {
		/* the caller unmapped or replaced its buffers meanwhile */
		err = FFA_DENIED;
	} else if (!to->ffa_ready && to->state == PARTITION_RUNNING) {
		struct ffa_value ret = wait_until_ready(v, to);

		partition_unlock(&lt);
		partition_unlock(&lp);
		return ret;
	} else {
		err = to->state == PARTITION_RUNNING
			  ? deliver_indirect(lt, p, msg, &schedule)
			  : FFA_BUSY;
	}
	partition_unlock(&lt);
	partition_unlock(&lp);
	if (schedule) {
		ffa_notify_schedule(v, to, delay_sri);
	}
	return err != 0 ? ffa_error(err) : ffa_success(0, 0);
}

/*
 * FFA_MSG_SEND2: w1 MBZ, w2 flags (v1.2: bit 1 only). The header in TX
 * names the sender (must be the caller) and the receiver (must be in the
 * caller's manifest `messaging` list). The header is parsed once, from a
 * single read of TX under the caller's lock; delivery uses that copy, so a
 * second vCPU rewriting TX meanwhile cannot change what was checked.
 */
static __attribute__((noinline)) struct ffa_value
call_msg_send2(struct vcpu *v, uint32_t version)
{
	struct partition *p = v->part;
	struct partition *to;
	struct partition_locked lp;
	struct ffa_mailbox mb;
	struct ffa_msg msg;
	int32_t err;

	if (w(v, 1) != 0 || (w(v, 2) & ~FFA_MSG_SEND2_DELAY_SRI) != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	lp = partition_lock(p);
	mb = p->mailbox;
	err = !mailbox_mapped(&mb)
		  ? FFA_DENIED
		  : ffa_msg_parse(partition_va(mb.tx), mailbox_size(&mb),
				  version, &msg);
	partition_unlock(&lp);
	if (err != 0) {
		return ffa_error(err);
	}
	if (msg.sender != own_id(v) || msg.receiver == own_id(v) ||
	    (to = partition_find(msg.receiver)) == NULL ||
	    (!uuid_is_nil(msg.uuid) &&
	     memcmp(msg.uuid, to->m->uuid, 16) != 0)) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (!(p->ffa_sends[to->index] & FFA_SENDS_INDIRECT)) {
		return ffa_error(FFA_DENIED);
	}
	return send_indirect(v, to, &mb, &msg,
			     w(v, 2) & FFA_MSG_SEND2_DELAY_SRI);
}

/*
 * FFA_MSG_SEND (v1.0): w1 = sender << 16 | receiver (the sender must be
 * the caller), w2 MBZ, w3 = payload size (at offset 0 of the caller's TX,
 * at most its size), w4 = flags: bit 0 says the caller must not be
 * blocked; Bulkhead never blocks it (a full RX is BUSY at once), so both
 * values act alike; bits [31:1] MBZ. The receiver gets the message in its own
 * version's layout (deliver_indirect), as from FFA_MSG_SEND2. DENIED while the
 * caller handles a direct request (it owes a response first; as Arm's
 * compliance suite expects) or without its TX mapped.
 */
static __attribute__((noinline)) struct ffa_value call_msg_send(struct vcpu *v)
{
	struct partition *p = v->part;
	uint32_t ends = w(v, 1);
	struct ffa_msg msg = {.sender = ffa_sender(ends),
			      .receiver = ffa_receiver(ends),
			      .offset = 0,
			      .size = w(v, 3)};
	struct partition_locked lp;
	struct partition *to;
	struct ffa_mailbox mb;

	if (msg.sender != own_id(v) || w(v, 2) != 0 ||
	    (w(v, 4) & ~FFA_MSG_SEND_NOT_BLOCKING) != 0 ||
	    msg.receiver == own_id(v) ||
	    (to = partition_find(msg.receiver)) == NULL) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (v->serving != NULL) {
		return ffa_error(FFA_DENIED);
	}
	lp = partition_lock(p);
	mb = p->mailbox;
	partition_unlock(&lp);
	if (!mailbox_mapped(&mb)) {
		return ffa_error(FFA_DENIED);
	}
	if (msg.size > mailbox_size(&mb)) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (!(p->ffa_sends[to->index] & FFA_SENDS_INDIRECT)) {
		return ffa_error(FFA_DENIED);
	}
	return send_indirect(v, to, &mb, &msg, false);
}

/*
 * FFA_MSG_POLL (v1.0): w1, w2 MBZ. The message in the caller's RX that no
 * wait or poll reported yet, as FFA_MSG_WAIT returns it (FFA_MSG_SEND,
 * v10_msg_result); RETRY when there is none. Never blocks; DENIED while
 * the caller handles a direct request, as MSG_WAIT.
 */
static __attribute__((noinline)) struct ffa_value call_msg_poll(struct vcpu *v)
{
	struct partition_locked locked;
	struct ffa_value ret;

	if (w(v, 1) != 0 || w(v, 2) != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (v->serving != NULL) {
		return ffa_error(FFA_DENIED);
	}
	locked = partition_lock(v->part);
	if (v->part->mailbox.msg_unseen) {
		v->part->mailbox.msg_unseen = false;
		ret = v10_msg_result(v->part);
	} else {
		ret = ffa_error(FFA_RETRY);
	}
	partition_unlock(&locked);
	return ret;
}

/* --- Direct messages ----------------------------------------------------- */

static bool is_req2(uint32_t fn)
{
	return fn == FFA_MSG_SEND_DIRECT_REQ2 ||
	       fn == FFA_MSG_SEND_DIRECT_RESP2;
}

/*
 * The message registers of `from` as the result of the receiving vCPU's
 * wait, written to x[0..17] (another vCPU's registers, or a struct
 * ffa_value): x0 = `fn`, x1 = endpoints, then the payload (x3..x7, or
 * x2..x17 for REQ2/RESP2 where x2/x3 carry the UUID); every other
 * register up to x17 is zero. 32-bit calls pass the low halves only.
 * Written in place: no copy of all eighteen through the stack.
 */
static inline __attribute__((always_inline)) void
write_message(uint64_t *restrict x, const struct vcpu *from, uint32_t fn,
	      uint32_t endpoints)
{
	const struct arch_regs *s = &from->regs;
	uint64_t mask = (fn & (1u << 30)) ? ~0ull : 0xffffffffull;

	x[0] = fn;
	x[1] = endpoints;
	if (fn == FFA_MSG_SEND_DIRECT_REQ2) {
		FFA_COPY_REGS(x, s->x, 2, 16);
	} else if (fn == FFA_MSG_SEND_DIRECT_RESP2) {
		x[2] = 0;
		x[3] = 0;
		FFA_COPY_REGS(x, s->x, 4, 14);
	} else {
		x[2] = 0;
		x[3] = s->x[3] & mask;
		x[4] = s->x[4] & mask;
		x[5] = s->x[5] & mask;
		x[6] = s->x[6] & mask;
		x[7] = s->x[7] & mask;
		FFA_ZERO_REGS(x, 8, FFA_VALUE_REGS - 8);
	}
}

/*
 * MSG_SEND_DIRECT_REQ (32/64) and REQ2: w1 = caller << 16 | receiver. The
 * receiver must be in the caller's `messaging` list (else DENIED) and have
 * a vCPU in MSG_WAIT (else BUSY). The caller blocks until the response.
 */
static struct ffa_value call_direct_req(struct vcpu *v, uint32_t fn)
{
	uint32_t endpoints = w(v, 1);
	struct partition *p = v->part;
	struct partition *to;
	struct partition_locked lp;
	struct partition_locked lt;
	struct vcpu *t;
	int32_t err = 0;

	if (ffa_sender(endpoints) != own_id(v) ||
	    ffa_receiver(endpoints) == own_id(v) ||
	    (!is_req2(fn) && w(v, 2) != 0) ||
	    (to = partition_find(ffa_receiver(endpoints))) == NULL) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (is_req2(fn)) {
		uint32_t words[4] = {w(v, 2), (uint32_t)(v->regs.x[2] >> 32),
				     w(v, 3), (uint32_t)(v->regs.x[3] >> 32)};
		uint8_t uuid[16];

		uuid_from_words(uuid, words);
		if (!uuid_is_nil(uuid) && memcmp(uuid, to->m->uuid, 16) != 0) {
			return ffa_error(FFA_INVALID_PARAMETERS);
		}
	}
	if (!(p->ffa_sends[to->index] &
	      (is_req2(fn) ? FFA_SENDS_DIRECT2 : FFA_SENDS_DIRECT))) {
		return ffa_error(FFA_DENIED);
	}
	partition_lock_pair(p, to, &lp, &lt);
	v->ffa_resume = RESUME_NONE;
	if (!to->ffa_ready && to->state == PARTITION_RUNNING) {
		struct ffa_value ret = wait_until_ready(v, to);

		partition_unlock(&lt);
		partition_unlock(&lp);
		return ret;
	}
	t = to->state == PARTITION_RUNNING ? waiting_vcpu(to) : NULL;
	if (t == NULL) {
		err = FFA_BUSY;
	} else if (is_req2(fn) && partition_ffa_version(to) < FFA_VERSION_1_2) {
		err = FFA_DENIED;
	} else {
		write_message(t->regs.x, v, fn, endpoints);
		t->serving = v;
		t->serving_generation = v->generation;
		t->serving_kind =
		    is_req2(fn) ? FFA_DIRECT_REQ2 : FFA_DIRECT_REQ;
		v->awaiting = t;
		v->awaiting_generation = t->generation;
		v->wait = VCPU_WAIT_RESPONSE;
		wait_begins(v);
		vcpu_resume(t);
	}
	partition_unlock(&lt);
	partition_unlock(&lp);
	return err != 0 ? ffa_error(err) : ffa_blocked();
}

/*
 * MSG_SEND_DIRECT_RESP (32/64) and RESP2: only from a vCPU handling a
 * request (else DENIED), in the same family as the request (else DENIED),
 * addressed to its requester (else INVALID_PARAMETERS). The requester
 * resumes with the response; the caller goes back to receiving, as after
 * MSG_WAIT (its RX buffer is not released).
 */
static struct ffa_value call_direct_resp(struct vcpu *v, uint32_t fn)
{
	uint32_t endpoints = w(v, 1);
	struct vcpu *req = v->serving;
	struct partition *p = v->part;
	struct partition_locked lp;
	struct partition_locked lr;
	struct ffa_value ret;
	enum ffa_direct_kind kind =
	    is_req2(fn) ? FFA_DIRECT_REQ2 : FFA_DIRECT_REQ;

	if (req == NULL || v->serving_kind != kind) {
		return ffa_error(FFA_DENIED);
	}
	if (ffa_sender(endpoints) != own_id(v) ||
	    ffa_receiver(endpoints) != req->part->m->id ||
	    (!is_req2(fn) && w(v, 2) != 0) ||
	    (is_req2(fn) && (v->regs.x[2] != 0 || v->regs.x[3] != 0))) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	partition_lock_pair(p, req->part, &lp, &lr);
	/* A requester that went off meanwhile gets nothing. */
	if (req->generation == v->serving_generation && req->awaiting == v) {
		if (req->wait == VCPU_WAIT_RESPONSE) {
			write_message(req->regs.x, v, fn, endpoints);
			req->awaiting = NULL;
			vcpu_resume(req);
		} else if (req->ffa_resume == RESUME_RESPONSE) {
			/* interrupted: FFA_RUN returns it */
			struct wait_state *ws = wait_state(req);

			write_message(ws->response.x, v, fn, endpoints);
			ws->response_ready = true;
			req->awaiting = NULL;
		}
	}
	v->serving = NULL;
	v->serving_kind = FFA_DIRECT_NONE;
	ret = wait_for_message(lp, v);
	partition_unlock(&lr);
	partition_unlock(&lp);
	return ret;
}

/* For a vCPU awaiting a direct response: FFA_ERROR(ABORTED) if the
 * receiver went off. */
static void check_aborted(struct vcpu *v)
{
	struct partition_locked lv;
	struct partition_locked lt;
	struct vcpu *t = v->awaiting;

	if (t == NULL) {
		return;
	}
	partition_lock_pair(v->part, t->part, &lv, &lt);
	if (v->wait == VCPU_WAIT_RESPONSE && v->awaiting == t &&
	    t->generation != v->awaiting_generation) {
		struct ffa_value r = ffa_error(FFA_ABORTED);

		ffa_value_deliver(&v->regs, &r, false);
		v->awaiting = NULL;
		v->wait = VCPU_RUNNABLE;
	}
	partition_unlock(&lt);
	partition_unlock(&lv);
}

void ffa_vcpu_check_wait(struct vcpu *v)
{
	if (v->ffa_ready_wait) {
		check_ready_wait(v, wait_state(v));
		return;
	}
	check_aborted(v); /* nothing unless it awaits a response */
	if (__atomic_load_n(&v->vgic.dirty, __ATOMIC_RELAXED) &&
	    __atomic_load_n(&v->wait, __ATOMIC_ACQUIRE) != VCPU_RUNNABLE) {
		check_interrupt(v);
	}
}

/* --- YIELD, RUN, console ------------------------------------------------- */

/*
 * FFA_RUN: w1 = partition << 16 | vCPU. Every vCPU owns its physical CPU,
 * so there are no cycles to give and the call returns SUCCESS at once. A
 * target idling in WFI wakes (or, if running or waiting for a direct
 * response, its next WFI returns at once); one in MSG_WAIT keeps waiting, since
 * MSG_WAIT completes with FFA_RUN only when a message is in its RX buffer.
 * INVALID_PARAMETERS for an unknown target or the caller itself; DENIED for a
 * partition the caller may not message (checked before its lock is taken: a
 * stranger cannot make a partition's lock busy) and for a vCPU that is off.
 */
static struct ffa_value call_run(struct vcpu *v)
{
	uint32_t target = w(v, 1);
	struct partition *to = partition_find(ffa_sender(target));
	struct partition_locked lt;
	struct ffa_value ret;
	struct vcpu *t;

	if (to == v->part && ffa_receiver(target) == v->index) {
		return resume_wait(v);
	}
	if (to == NULL || ffa_receiver(target) >= to->m->vcpu_count) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (to != v->part &&
	    !(v->part->ffa_sends[to->index] & FFA_SENDS_MESSAGE)) {
		return ffa_error(FFA_DENIED);
	}
	t = &to->vcpus[ffa_receiver(target)];
	lt = partition_lock(to);
	if (t->state == VCPU_OFF || to->state != PARTITION_RUNNING) {
		ret = ffa_error(FFA_DENIED);
	} else {
		if (t->wait == VCPU_WAIT_IDLE) {
			vcpu_resume(t);
		} else if (t->wait == VCPU_RUNNABLE ||
			   t->wait == VCPU_WAIT_RESPONSE) {
			/* running (or in a direct request, running again
			 * with the response): its next WFI returns */
			t->wake_pending = true;
		}
		ret = ffa_success(0, 0);
	}
	partition_unlock(&lt);
	return ret;
}

/*
 * FFA_CONSOLE_LOG: w1 = character count, characters packed little-endian
 * from w2 (32-bit: up to 24) or x2 (64-bit: up to 128). They join the
 * vCPU's console line; '\n' ends it.
 */
static struct ffa_value call_console_log(struct vcpu *v, uint32_t fn)
{
	bool wide = fn == FFA_CONSOLE_LOG_64;
	uint32_t per_reg = wide ? 8 : 4;
	uint32_t max = per_reg * (wide ? 16 : 6);
	uint32_t count = w(v, 1);

	if (count == 0 || count > max || (wide && (v->regs.x[1] >> 32) != 0)) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t reg = v->regs.x[2 + i / per_reg];

		vconsole_putc(v, (char)(reg >> (8 * (i % per_reg))));
	}
	return ffa_success(0, 0);
}

/* --- Life cycle ---------------------------------------------------------- */

/* FF-A properties of a partition: what its manifest declares
 * (`messaging-method`, checked by the compiler against the `messaging`
 * permissions); every partition is AArch64. */
void ffa_partition_init(struct partition *p)
{
	uint32_t mine = p->m->ffa_properties;

	p->ffa_properties = FFA_PROP_AARCH64 | mine;
	/* the checks of every message, made once */
	for (uint32_t i = 0; i < partition_count; i++) {
		uint32_t theirs = partitions[i].m->ffa_properties;
		uint8_t sends = 0;

		if (&partitions[i] != p &&
		    may_message(p, partitions[i].m->id)) {
			sends |= FFA_SENDS_MESSAGE;
			if ((mine & FFA_PROP_DIRECT_REQ_SEND) &&
			    (theirs & FFA_PROP_DIRECT_REQ_RECV)) {
				sends |= FFA_SENDS_DIRECT;
			}
			if ((mine & FFA_PROP_DIRECT_REQ2_SEND) &&
			    (theirs & FFA_PROP_DIRECT_REQ2_RECV)) {
				sends |= FFA_SENDS_DIRECT2;
			}
			if (mine & theirs & FFA_PROP_INDIRECT_MSG) {
				sends |= FFA_SENDS_INDIRECT;
			}
		}
		p->ffa_sends[i] = sends;
	}
}

void ffa_partition_boot(struct partition_locked locked)
{
	struct partition *p = locked.p;

	p->ffa_version = FFA_VERSION_IMPLEMENTED;
	p->ffa_mem_ns = false;
	p->mailbox = (struct ffa_mailbox){0};
	__atomic_store_n(&p->ffa_ready, p->m->boot_order == 0,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&given_up[p->index], false, __ATOMIC_RELAXED);
	hold_for[p->index] = NULL;
	ffa_notify_partition_boot(locked);
}

void ffa_vcpu_stopped(struct vcpu *v)
{
	struct wait_state *ws = wait_state(v);

	ws->ready_target = NULL;
	ws->response_ready = false;
	v->ffa_ready_wait = false;
	v->ffa_resume = RESUME_NONE;
	v->awaiting = NULL;
	if (v->serving != NULL) {
		/* its requester finds the request aborted */
		cpu_kick(v->serving->cpu);
		v->serving = NULL;
		v->serving_kind = FFA_DIRECT_NONE;
	}
}

void ffa_partition_stopped(struct vcpu *last)
{
	struct partition_locked locked = partition_lock(last->part);

	mark_ready(locked); /* off counts as ready: its waiters look again */
	partition_unlock(&locked);
	ffa_notify_partition_stopped(last->part);
	ffa_mem_partition_stopped(last);
}

/* --- Dispatch ------------------------------------------------------------ */

/*
 * The negotiated version, fixed by this call if it is the partition's
 * first FF-A call other than FFA_VERSION. Read once per call, so every
 * layout decision within the call agrees.
 */
static uint32_t fix_version(struct partition *p)
{
	uint32_t word = __atomic_load_n(&p->ffa_version, __ATOMIC_ACQUIRE);

	if (!(word & FFA_VERSION_FIXED)) {
		word = __atomic_or_fetch(&p->ffa_version, FFA_VERSION_FIXED,
					 __ATOMIC_ACQ_REL);
	}
	return word & ~FFA_VERSION_FIXED;
}

/*
 * Writes the result a handler returned to the caller's registers: the one
 * place that does (unless the caller now waits, FFA_VALUE_BLOCKED). Each
 * case of ffa_handle ends here, so the compiler writes each result
 * straight from where it was computed.
 */
static inline __attribute__((always_inline)) void
finish(struct vcpu *v, uint32_t fn, struct ffa_value r)
{
	if (r.x[0] != FFA_VALUE_BLOCKED) {
		ffa_value_write(&v->regs, fn, &r);
	}
}

/* FFA_ID_GET: out of line, so that its path sets up none of the frame
 * the other calls need. */
static __attribute__((noinline)) void call_id_get(struct vcpu *v)
{
	fix_version(v->part); /* a call other than FFA_VERSION, as any */
	finish(v, FFA_ID_GET, ffa_success(own_id(v), 0));
}

void ffa_handle(struct vcpu *v)
{
	uint32_t fn = (uint32_t)v->regs.x[0];
	uint32_t version;

	if (fn == FFA_VERSION) {
		finish(v, fn, call_version(v));
		return;
	}
	if (fn == FFA_ID_GET) {
		call_id_get(v);
		return;
	}
	version = fix_version(v->part);
	if (!available(version, fn)) {
		finish(v, fn, ffa_error(FFA_NOT_SUPPORTED));
		return;
	}
	switch (fn) {
	case FFA_FEATURES:
		finish(v, fn, call_features(v, version));
		break;
	case FFA_PARTITION_INFO_GET:
		finish(v, fn, call_partition_info_get(v, version));
		break;
	case FFA_PARTITION_INFO_GET_REGS: {
		struct ffa_value r = call_partition_info_get_regs(v);

		ffa_value_write_full(&v->regs, &r);
		break;
	}
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
		finish(v, fn, call_rxtx_map(v, fn));
		break;
	case FFA_RXTX_UNMAP:
	case FFA_RX_RELEASE:
		finish(v, fn, call_mailbox(v, fn));
		break;
	case FFA_MSG_SEND2:
		finish(v, fn, call_msg_send2(v, version));
		break;
	case FFA_MSG_SEND:
		finish(v, fn, call_msg_send(v));
		break;
	case FFA_MSG_POLL:
		finish(v, fn, call_msg_poll(v));
		break;
	case FFA_MSG_WAIT:
		ffa_notify_flush(v);
		finish(v, fn, call_msg_wait(v, version));
		break;
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MSG_SEND_DIRECT_REQ_64:
	case FFA_MSG_SEND_DIRECT_REQ2:
		ffa_notify_flush(v);
		finish(v, fn, call_direct_req(v, fn));
		break;
	case FFA_MSG_SEND_DIRECT_RESP_32:
	case FFA_MSG_SEND_DIRECT_RESP_64:
	case FFA_MSG_SEND_DIRECT_RESP2:
		ffa_notify_flush(v);
		finish(v, fn, call_direct_resp(v, fn));
		break;
	case FFA_YIELD:
		/* The vCPU keeps its CPU: nothing else would run there. */
		ffa_notify_flush(v);
		finish(v, fn, ffa_success(0, 0));
		break;
	case FFA_NOTIFICATION_BIND:
	case FFA_NOTIFICATION_UNBIND:
	case FFA_NOTIFICATION_SET:
	case FFA_NOTIFICATION_GET:
	case FFA_NOTIFICATION_INFO_GET_32:
	case FFA_NOTIFICATION_INFO_GET_64:
		finish(v, fn, ffa_notify_handle(v, fn));
		break;
	case FFA_RUN:
		finish(v, fn, call_run(v));
		break;
	case FFA_CONSOLE_LOG_32:
	case FFA_CONSOLE_LOG_64:
		finish(v, fn, call_console_log(v, fn));
		break;
	default:
		/* the memory calls; everything else (ERROR, SUCCESS,
		 * INTERRUPT and RETRIEVE_RESP are answers, not requests) gets
		 * NOT_SUPPORTED there */
		finish(v, fn, ffa_mem_handle(v, fn, version));
		break;
	}
}
