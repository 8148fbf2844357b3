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
#include <core/console.h>
#include <core/ffa.h>
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
 * From which minor version (of FF-A 1.x) each function is available: a
 * table indexed by the function number (bits [7:0] of the ID, from 0x60)
 * for each calling convention, 0 for none and minor + 1 otherwise. A
 * lookup instead of a switch: every call asks.
 */
#define SINCE(fn, version) [(fn)&0xffu] = ((version)&0xffffu) + 1

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
};

/* Whether FF-A function `fn` (an ID call_handle routed here: fast call,
 * standard service, number 0x60..0xff) exists for a partition that
 * negotiated `version`. */
static bool available(uint32_t version, uint32_t fn)
{
	uint8_t since = ((fn & SMCCC_64BIT) ? since_64 : since_32)[fn & 0xffu];

	return since != 0 && (version & 0xffffu) + 1 >= since;
}

/*
 * FFA_FEATURES, function IDs (w1 bit 31 set): SUCCESS for every call that
 * works at the caller's version, with the properties DEN0077 defines for
 * it in w2/w3 (input properties in w2 only where DEN0077 defines them);
 * NOT_SUPPORTED for every other ID.
 *
 * - RXTX_MAP: w2[1:0] = 0 (4 KiB minimum buffer and alignment), from
 *   v1.2 w2[31:16] = the most pages of each buffer.
 * - MEM_DONATE/LEND/SHARE: w2 bit 0 = 0 (descriptors in the TX buffer
 *   only, no buffer of the caller's own).
 * - MEM_RETRIEVE_REQ: input w2 bit 1 = the caller handles the NS bit of
 *   retrieve responses (a v1.0 caller chooses whether it gets it; from
 *   v1.1 it always does, so a caller that cannot is NOT_SUPPORTED).
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

	if ((input & ~(retrieve ? FFA_FEATURES_MEM_RETRIEVE_NS : 0u)) != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (!available(version, id)) {
		return ffa_error(FFA_NOT_SUPPORTED);
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
		if (!(input & FFA_FEATURES_MEM_RETRIEVE_NS)) {
			return ffa_error(FFA_NOT_SUPPORTED);
		}
		return ffa_success(FFA_FEATURES_MEM_RETRIEVE_NS, 0);
	default:
		return ffa_success(0, 0);
	}
}

/*
 * FFA_FEATURES, feature IDs (w1 bit 31 clear: bits [7:0] the ID, bits
 * [30:8] MBZ): SUCCESS with the feature's properties, or NOT_SUPPORTED.
 * One case per feature Bulkhead supports; none so far: the managed exit
 * interrupt (3) is for secure partitions, and the notification interrupts
 * (1, 2) come with notifications.
 */
static struct ffa_value features_of_feature(uint32_t id, uint32_t input)
{
	(void)id;
	(void)input;
	return ffa_error(FFA_NOT_SUPPORTED);
}

/* FFA_FEATURES: w1 = a function or feature ID, w2 = input properties. */
static struct ffa_value call_features(struct vcpu *v, uint32_t version)
{
	uint32_t id = w(v, 1);
	uint32_t input = w(v, 2);

	if (!(id & FFA_FEATURES_FUNCTION)) {
		return features_of_feature(id, input);
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

/* --- Waiting ------------------------------------------------------------- */

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
 * Puts the caller (its partition locked) in the receiving state. When RX
 * holds a message no earlier wait reported, returns at once with FFA_RUN
 * instead, so a message that came while the partition was busy is never
 * lost.
 */
static struct ffa_value wait_for_message(struct partition_locked locked,
					 struct vcpu *v)
{
	struct ffa_mailbox *mb = &locked.p->mailbox;

	if (mb->msg_unseen) {
		mb->msg_unseen = false;
		return run_result(v);
	}
	v->wake_pending = false;
	v->wait = VCPU_WAIT_MESSAGE;
	return ffa_blocked();
}

/*
 * FFA_MSG_WAIT: releases the RX buffer (v1.1+; v1.2 w2 bit 0 keeps it),
 * then blocks until an indirect message (completes with FFA_RUN) or a
 * direct request (completes with that request) arrives.
 */
static struct ffa_value call_msg_wait(struct vcpu *v, uint32_t version)
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
static struct vcpu *waiting_vcpu(struct partition *p)
{
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		struct vcpu *t = &p->vcpus[i];

		if (t->state == VCPU_ON && t->wait == VCPU_WAIT_MESSAGE) {
			return t;
		}
	}
	return NULL;
}

/* Tells a locked partition that a message is in its RX buffer: a vCPU in
 * MSG_WAIT returns, else one idling in WFI wakes. */
static void notify_message(struct partition *p)
{
	struct vcpu *t = waiting_vcpu(p);

	if (t != NULL) {
		struct ffa_value r = run_result(t);

		/* the wait was a MSG_WAIT or a direct response: x0..x7 */
		FFA_COPY_REGS(t->regs.x, r.x, 0, 8);
		vcpu_resume(t);
		return;
	}
	p->mailbox.msg_unseen = true;
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		if (p->vcpus[i].wait == VCPU_WAIT_IDLE) {
			vcpu_resume(&p->vcpus[i]);
			return;
		}
	}
}

/* --- Indirect messages --------------------------------------------------- */

/*
 * Copies the payload of the message in the sender's TX into the
 * receiver's RX (both locked) and writes the header in the receiver's
 * layout. `msg` is the one copy of the sender's header that was checked;
 * TX is not read for it again.
 */
static int32_t deliver_indirect(struct partition *from, struct partition *to,
				const struct ffa_msg *msg)
{
	const uint8_t *tx = partition_va(from->mailbox.tx);
	uint32_t version;
	uint32_t offset;
	uint8_t *rx;

	if (!rx_free(&to->mailbox)) {
		return FFA_BUSY;
	}
	/* A partition with RX mapped has its version fixed: one read. */
	version = partition_ffa_version(to);
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
	notify_message(to);
	return 0;
}

/*
 * FFA_MSG_SEND2: w1 MBZ, w2 flags (v1.2: bit 1 only). The header in TX
 * names the sender (must be the caller) and the receiver (must be in the
 * caller's manifest `messaging` list). The header is parsed once, from a
 * single read of TX under the caller's lock; delivery uses that copy, so a
 * second vCPU rewriting TX meanwhile cannot change what was checked.
 */
static struct ffa_value call_msg_send2(struct vcpu *v, uint32_t version)
{
	struct partition *p = v->part;
	struct partition *to;
	struct partition_locked lp;
	struct partition_locked lt;
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
	if (!may_message(p, msg.receiver)) {
		return ffa_error(FFA_DENIED);
	}
	partition_lock_pair(p, to, &lp, &lt);
	if (ipa_addr(p->mailbox.tx) != ipa_addr(mb.tx) ||
	    p->mailbox.page_count != mb.page_count) {
		/* the caller unmapped or replaced its buffers meanwhile */
		err = FFA_DENIED;
	} else {
		err = to->state == PARTITION_RUNNING
			  ? deliver_indirect(p, to, &msg)
			  : FFA_BUSY;
	}
	partition_unlock(&lt);
	partition_unlock(&lp);
	return err != 0 ? ffa_error(err) : ffa_success(0, 0);
}

/* --- Direct messages ----------------------------------------------------- */

static bool is_req2(uint32_t fn)
{
	return fn == FFA_MSG_SEND_DIRECT_REQ2 ||
	       fn == FFA_MSG_SEND_DIRECT_RESP2;
}

/*
 * The message registers of `from` as the result of the receiving vCPU's
 * wait: x0 = `fn`, x1 = endpoints, then the payload (x3..x7, or x2..x17
 * for REQ2/RESP2 where x2/x3 carry the UUID); every other register up to
 * x17 is zero. 32-bit calls pass the low halves only.
 */
static struct ffa_value message_value(const struct vcpu *from, uint32_t fn,
				      uint32_t endpoints)
{
	const struct arch_regs *s = &from->regs;
	uint64_t mask = (fn & (1u << 30)) ? ~0ull : 0xffffffffull;
	struct ffa_value r;

	r.x[0] = fn;
	r.x[1] = endpoints;
	if (fn == FFA_MSG_SEND_DIRECT_REQ2) {
		FFA_COPY_REGS(r.x, s->x, 2, 16);
	} else if (fn == FFA_MSG_SEND_DIRECT_RESP2) {
		r.x[2] = 0;
		r.x[3] = 0;
		FFA_COPY_REGS(r.x, s->x, 4, 14);
	} else {
		r.x[2] = 0;
		r.x[3] = s->x[3] & mask;
		r.x[4] = s->x[4] & mask;
		r.x[5] = s->x[5] & mask;
		r.x[6] = s->x[6] & mask;
		r.x[7] = s->x[7] & mask;
		FFA_ZERO_REGS(r.x, 8, FFA_VALUE_REGS - 8);
	}
	return r;
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
	if (!may_message(p, to->m->id)) {
		return ffa_error(FFA_DENIED);
	}
	partition_lock_pair(p, to, &lp, &lt);
	t = to->state == PARTITION_RUNNING ? waiting_vcpu(to) : NULL;
	if (t == NULL) {
		err = FFA_BUSY;
	} else if (is_req2(fn) && partition_ffa_version(to) < FFA_VERSION_1_2) {
		err = FFA_DENIED;
	} else {
		struct ffa_value msg = message_value(v, fn, endpoints);

		ffa_value_deliver(&t->regs, &msg, true);
		t->serving = v;
		t->serving_generation = v->generation;
		t->serving_kind =
		    is_req2(fn) ? FFA_DIRECT_REQ2 : FFA_DIRECT_REQ;
		v->awaiting = t;
		v->awaiting_generation = t->generation;
		v->wait = VCPU_WAIT_RESPONSE;
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
	if (req->generation == v->serving_generation &&
	    req->wait == VCPU_WAIT_RESPONSE && req->awaiting == v) {
		struct ffa_value msg = message_value(v, fn, endpoints);

		ffa_value_deliver(&req->regs, &msg, true);
		req->awaiting = NULL;
		vcpu_resume(req);
	}
	v->serving = NULL;
	v->serving_kind = FFA_DIRECT_NONE;
	ret = wait_for_message(lp, v);
	partition_unlock(&lr);
	partition_unlock(&lp);
	return ret;
}

void ffa_vcpu_check_aborted(struct vcpu *v)
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

	if (to == NULL || ffa_receiver(target) >= to->m->vcpu_count ||
	    (to == v->part && ffa_receiver(target) == v->index)) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (to != v->part && !may_message(v->part, to->m->id)) {
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

/* FF-A properties of a partition: it sends (direct and indirect) when its
 * manifest lists messaging targets, receives when another lists it. */
static uint32_t ffa_properties(const struct partition *p)
{
	uint32_t props = FFA_PROP_AARCH64;

	if (p->m->messaging_count > 0) {
		props |= FFA_PROP_DIRECT_REQ_SEND | FFA_PROP_DIRECT_REQ2_SEND |
			 FFA_PROP_INDIRECT_MSG;
	}
	for (uint32_t i = 0; i < bulkhead_manifest.partition_count; i++) {
		const struct manifest_partition *o =
		    &bulkhead_manifest.partitions[i];

		for (uint32_t j = 0; j < o->messaging_count; j++) {
			if (o->messaging[j] == p->m->id) {
				props |= FFA_PROP_DIRECT_REQ_RECV |
					 FFA_PROP_DIRECT_REQ2_RECV |
					 FFA_PROP_INDIRECT_MSG;
			}
		}
	}
	return props;
}

void ffa_partition_init(struct partition *p)
{
	p->ffa_properties = ffa_properties(p);
}

void ffa_partition_boot(struct partition_locked locked)
{
	locked.p->ffa_version = FFA_VERSION_IMPLEMENTED;
	locked.p->ffa_mem_ns = false;
	locked.p->mailbox = (struct ffa_mailbox){0};
}

void ffa_vcpu_stopped(struct vcpu *v)
{
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

void ffa_handle(struct vcpu *v)
{
	uint32_t fn = (uint32_t)v->regs.x[0];
	uint32_t version;

	if (fn == FFA_VERSION) {
		finish(v, fn, call_version(v));
		return;
	}
	version = fix_version(v->part);
	if (!available(version, fn)) {
		finish(v, fn, ffa_error(FFA_NOT_SUPPORTED));
		return;
	}
	switch (fn) {
	case FFA_ID_GET:
		finish(v, fn, ffa_success(own_id(v), 0));
		break;
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
	case FFA_MSG_WAIT:
		finish(v, fn, call_msg_wait(v, version));
		break;
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MSG_SEND_DIRECT_REQ_64:
	case FFA_MSG_SEND_DIRECT_REQ2:
		finish(v, fn, call_direct_req(v, fn));
		break;
	case FFA_MSG_SEND_DIRECT_RESP_32:
	case FFA_MSG_SEND_DIRECT_RESP_64:
	case FFA_MSG_SEND_DIRECT_RESP2:
		finish(v, fn, call_direct_resp(v, fn));
		break;
	case FFA_YIELD:
		/* The vCPU keeps its CPU: nothing else would run there. */
		finish(v, fn, ffa_success(0, 0));
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
