/*
 * FF-A calls from partitions: version, features, discovery, RX/TX buffers,
 * indirect messages (MSG_SEND2 / MSG_WAIT), direct messages, YIELD, RUN and
 * CONSOLE_LOG. Both conduits arrive here; results go to x0..x7 (x0..x17
 * for the v1.2 extended calls) with every unused result register zero.
 *
 * Lock order: a call that touches two partitions takes both locks with
 * partition_lock_pair (lower ID first); the console lock comes last.
 * Nothing here takes a partition lock while holding the console lock.
 *
 * Blocking: a vCPU in MSG_WAIT (or after a direct response) is
 * VCPU_WAIT_MESSAGE; after a direct request it is VCPU_WAIT_RESPONSE.
 * Its physical CPU idles in WFI (cpu_main) until another CPU writes its
 * result registers, makes it runnable and sends an SGI (vm_vcpu_resume).
 */
#include <bulkhead/ffa.h>
#include <core/arch.h>
#include <core/console.h>
#include <core/log.h>
#include <core/ffa.h>
#include <string.h>

/* Calls that exist only from a given negotiated version on. */
#define SINCE_1_1 FFA_VERSION_1_1
#define SINCE_1_2 FFA_VERSION_1_2

/* --- Results ------------------------------------------------------------- */

/* Zeroes x8..x17 as well, for the v1.2 extended calls. */
static void clear_extended(struct arch_regs *r)
{
	for (int i = 8; i < 18; i++) {
		r->x[i] = 0;
	}
}

static void ret_error(struct vcpu *v, int32_t code)
{
	ffa_set_error(&v->regs, code);
}

static void ret_success(struct vcpu *v, uint64_t w2, uint64_t w3)
{
	ffa_set_result(&v->regs, FFA_SUCCESS_32, 0, w2, w3);
}

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

/*
 * FFA_VERSION: w0 = the implemented version, or NOT_SUPPORTED (x0 = -1,
 * not wrapped in FFA_ERROR). The requested version sets the layouts the
 * partition gets, until it makes any other FF-A call; after that only the
 * version already in force is accepted.
 */
static void call_version(struct vcpu *v)
{
	struct partition *p = v->part;
	uint32_t requested = w(v, 1);

	if (!version_supported(requested) ||
	    (p->ffa_version_locked && requested != p->ffa_version)) {
		ffa_set_result(&v->regs, (uint64_t)-1, 0, 0, 0);
		return;
	}
	p->ffa_version = requested;
	ffa_set_result(&v->regs, FFA_VERSION_IMPLEMENTED, 0, 0, 0);
}

/* The version from which function `fn` is available, or 0 if never. */
static uint32_t function_since(uint32_t fn)
{
	switch (fn) {
	case FFA_ERROR:
	case FFA_SUCCESS_32:
	case FFA_SUCCESS_64:
	case FFA_INTERRUPT:
	case FFA_VERSION:
	case FFA_FEATURES:
	case FFA_RX_RELEASE:
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
	case FFA_RXTX_UNMAP:
	case FFA_PARTITION_INFO_GET:
	case FFA_ID_GET:
	case FFA_MSG_WAIT:
	case FFA_YIELD:
	case FFA_RUN:
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MSG_SEND_DIRECT_REQ_64:
	case FFA_MSG_SEND_DIRECT_RESP_32:
	case FFA_MSG_SEND_DIRECT_RESP_64:
		return FFA_VERSION_1_0;
	case FFA_MSG_SEND2:
	/* memory transactions: v1.0 descriptor layouts are not supported */
	case FFA_MEM_SHARE_32:
	case FFA_MEM_SHARE_64:
	case FFA_MEM_LEND_32:
	case FFA_MEM_LEND_64:
	case FFA_MEM_DONATE_32:
	case FFA_MEM_DONATE_64:
	case FFA_MEM_RETRIEVE_REQ_32:
	case FFA_MEM_RETRIEVE_REQ_64:
	case FFA_MEM_RETRIEVE_RESP:
	case FFA_MEM_RELINQUISH:
	case FFA_MEM_RECLAIM:
	case FFA_MEM_FRAG_RX:
	case FFA_MEM_FRAG_TX:
		return SINCE_1_1;
	case FFA_CONSOLE_LOG_32:
	case FFA_CONSOLE_LOG_64:
	case FFA_PARTITION_INFO_GET_REGS:
	case FFA_MSG_SEND_DIRECT_REQ2:
	case FFA_MSG_SEND_DIRECT_RESP2:
		return SINCE_1_2;
	default:
		return 0;
	}
}

static bool available(const struct vcpu *v, uint32_t fn)
{
	uint32_t since = function_since(fn);

	return since != 0 && v->part->ffa_version >= since;
}

/*
 * FFA_FEATURES: SUCCESS with the properties clients read for every call
 * that works for this partition's version; NOT_SUPPORTED for everything
 * else, feature IDs included (no notifications, no managed exits). The
 * input properties (w2) must be zero.
 */
static void call_features(struct vcpu *v)
{
	uint32_t id = w(v, 1);
	uint32_t props = 0;

	/* input properties: only MEM_RETRIEVE_REQ has one (bit 1, NS) */
	if ((w(v, 2) &
	     ~((id == FFA_MEM_RETRIEVE_REQ_32 || id == FFA_MEM_RETRIEVE_REQ_64)
		   ? 2u
		   : 0u)) != 0) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	if ((id & (1u << 31)) == 0 || !available(v, id)) {
		ret_error(v, FFA_NOT_SUPPORTED);
		return;
	}
	if ((id == FFA_RXTX_MAP_32 || id == FFA_RXTX_MAP_64) &&
	    v->part->ffa_version >= FFA_VERSION_1_2) {
		props = (uint32_t)CONFIG_FFA_RXTX_MAX_PAGES
			<< FFA_FEATURES_RXTX_MAX_PAGES_SHIFT;
	}
	ret_success(v, props, 0);
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
static void call_partition_info_get(struct vcpu *v)
{
	struct partition *p = v->part;
	uint32_t words[4] = {w(v, 1), w(v, 2), w(v, 3), w(v, 4)};
	uint32_t flags = w(v, 5);
	uint32_t size = ffa_partition_info_size(p->ffa_version);
	uint32_t size_word = p->ffa_version == FFA_VERSION_1_0 ? 0 : size;
	struct partition_locked locked;
	uint8_t uuid[16];
	uint32_t count;
	uint8_t *rx;

	uuid_from_words(uuid, words);
	if ((flags & ~FFA_PARTITION_INFO_COUNT_ONLY) != 0) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	count = count_matching(uuid);
	if (count == 0) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	if (flags & FFA_PARTITION_INFO_COUNT_ONLY) {
		ret_success(v, count, size_word);
		return;
	}
	locked = partition_lock(p);
	if (p->mailbox.rx == 0 || p->mailbox.rx_owner != FFA_RX_HYPERVISOR) {
		ret_error(v, FFA_BUSY);
		goto out;
	}
	if ((uint64_t)count * size > p->mailbox.page_count * FFA_PAGE_SIZE) {
		ret_error(v, FFA_NO_MEMORY);
		goto out;
	}
	rx = va_from_pa(pa_init(p->mailbox.rx));
	for (uint32_t i = 0; i < partition_count; i++) {
		struct ffa_partition_info info;

		if (partition_matches(&partitions[i], uuid)) {
			partition_info(&info, &partitions[i]);
			rx +=
			    ffa_partition_info_write(rx, &info, p->ffa_version);
		}
	}
	p->mailbox.rx_owner = FFA_RX_PARTITION;
	ret_success(v, count, size_word);
out:
	partition_unlock(&locked);
}

/* Descriptors per FFA_PARTITION_INFO_GET_REGS answer (x3..x17). */
#define INFO_REGS_PER_CALL 5

/*
 * FFA_PARTITION_INFO_GET_REGS: x1/x2 = UUID, x3 = [15:0] start index,
 * [31:16] tag (must be 0: the list never changes). Answer: SUCCESS_64 with
 * x2 = last index | current index << 16 | tag << 32 | size << 48 and up to
 * five descriptors in x3..x17.
 */
static void call_partition_info_get_regs(struct vcpu *v)
{
	struct arch_regs *r = &v->regs;
	uint32_t words[4] = {(uint32_t)r->x[1], (uint32_t)(r->x[1] >> 32),
			     (uint32_t)r->x[2], (uint32_t)(r->x[2] >> 32)};
	uint64_t start = r->x[3] & 0xffff;
	uint8_t uuid[16];
	uint64_t descs[3 * INFO_REGS_PER_CALL] = {0};
	uint32_t count;
	uint32_t index = 0;
	uint32_t filled = 0;

	uuid_from_words(uuid, words);
	count = count_matching(uuid);
	if ((r->x[3] >> 16) != 0 || count == 0 || start >= count) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		clear_extended(r);
		return;
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
		memcpy(&descs[3 * filled], &info, sizeof(info));
		filled++;
	}
	ffa_set_result(r, FFA_SUCCESS_64, 0,
		       (count - 1) | ((start + filled - 1) << 16) |
			   ((uint64_t)FFA_PARTITION_INFO_SIZE << 48),
		       descs[0]);
	for (int i = 1; i < 3 * INFO_REGS_PER_CALL; i++) {
		r->x[3 + i] = descs[i];
	}
}

/* --- RX/TX buffers ------------------------------------------------------- */

static bool ranges_overlap(uint64_t a, uint64_t b, uint64_t size)
{
	return a < b + size && b < a + size;
}

/* Whether [addr, addr + size) is the partition's own RAM, mapped for it
 * alone, readable and writable, normal memory. */
static bool exclusively_owned(struct partition_locked locked, uint64_t addr,
			      uint64_t size)
{
	uint32_t mode;

	if (!vm_in_ram(locked.p, addr, size) ||
	    !mm_get_mode(&locked.p->ptable, ipa_init(addr),
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
 * CONFIG_FFA_RXTX_MAX_PAGES, TX and RX overlapping), DENIED when a pair is
 * already mapped or the memory is not the caller's own exclusive RAM.
 */
static void call_rxtx_map(struct vcpu *v, uint32_t fn)
{
	struct partition *p = v->part;
	uint64_t tx = arg(v, fn, 1);
	uint64_t rx = arg(v, fn, 2);
	uint32_t pages = w(v, 3);
	uint64_t size = (uint64_t)pages * FFA_PAGE_SIZE;
	struct partition_locked locked;

	if ((pages & ~FFA_RXTX_PAGE_COUNT_MASK) != 0 || pages == 0 ||
	    pages > CONFIG_FFA_RXTX_MAX_PAGES || !is_aligned(tx, PAGE_SIZE) ||
	    !is_aligned(rx, PAGE_SIZE) || tx == 0 || rx == 0 ||
	    ranges_overlap(tx, rx, size)) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	locked = partition_lock(p);
	if (p->mailbox.tx != 0 || !exclusively_owned(locked, tx, size) ||
	    !exclusively_owned(locked, rx, size)) {
		ret_error(v, FFA_DENIED);
		goto out;
	}
	p->mailbox = (struct ffa_mailbox){.tx = tx,
					  .rx = rx,
					  .page_count = pages,
					  .rx_owner = FFA_RX_HYPERVISOR};
	ret_success(v, 0, 0);
out:
	partition_unlock(&locked);
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
static void call_mailbox(struct vcpu *v, uint32_t fn)
{
	struct partition *p = v->part;
	struct ffa_mailbox *mb = &p->mailbox;
	struct partition_locked locked;

	if (!own_target_info(v)) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	locked = partition_lock(p);
	if (fn == FFA_RXTX_UNMAP && mb->tx == 0) {
		ret_error(v, FFA_INVALID_PARAMETERS);
	} else if (fn == FFA_RX_RELEASE &&
		   (mb->rx == 0 || mb->rx_owner != FFA_RX_PARTITION)) {
		ret_error(v, FFA_DENIED);
	} else {
		if (fn == FFA_RXTX_UNMAP) {
			*mb = (struct ffa_mailbox){0};
		} else {
			mb->rx_owner = FFA_RX_HYPERVISOR;
			mb->msg_unseen = false;
		}
		ret_success(v, 0, 0);
	}
	partition_unlock(&locked);
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
static void set_run_result(struct vcpu *v)
{
	ffa_set_result(&v->regs, FFA_RUN, ffa_endpoints(own_id(v), v->index), 0,
		       0);
}

/*
 * Puts the caller (its partition locked) in the receiving state. When RX
 * holds a message no earlier wait reported, returns at once with FFA_RUN
 * instead, so a message that came while the partition was busy is never
 * lost.
 */
static void wait_for_message(struct partition_locked locked, struct vcpu *v)
{
	struct ffa_mailbox *mb = &locked.p->mailbox;

	if (mb->msg_unseen) {
		mb->msg_unseen = false;
		set_run_result(v);
		return;
	}
	v->wake_pending = false;
	v->wait = VCPU_WAIT_MESSAGE;
}

/*
 * FFA_MSG_WAIT: releases the RX buffer (v1.1+; v1.2 w2 bit 0 keeps it),
 * then blocks until an indirect message (completes with FFA_RUN) or a
 * direct request (completes with that request) arrives.
 */
static void call_msg_wait(struct vcpu *v)
{
	struct partition *p = v->part;
	uint32_t flags = w(v, 2);
	uint32_t allowed =
	    p->ffa_version >= FFA_VERSION_1_2 ? FFA_MSG_WAIT_RETAIN_RX : 0;
	struct partition_locked locked;

	if (w(v, 1) != 0 || (flags & ~allowed) != 0) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	if (v->serving != NULL) {
		/* It owes its requester a response first. */
		ret_error(v, FFA_DENIED);
		return;
	}
	locked = partition_lock(p);
	if (!p->mailbox.msg_unseen && p->ffa_version >= FFA_VERSION_1_1 &&
	    !(flags & FFA_MSG_WAIT_RETAIN_RX) &&
	    p->mailbox.rx_owner == FFA_RX_PARTITION) {
		p->mailbox.rx_owner = FFA_RX_HYPERVISOR;
	}
	wait_for_message(locked, v);
	partition_unlock(&locked);
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
		set_run_result(t);
		vm_vcpu_resume(t);
		return;
	}
	p->mailbox.msg_unseen = true;
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		if (p->vcpus[i].wait == VCPU_WAIT_IDLE) {
			vm_vcpu_resume(&p->vcpus[i]);
			return;
		}
	}
}

/* --- Indirect messages --------------------------------------------------- */

/*
 * Copies the message in the sender's TX into the receiver's RX (both
 * locked) with the receiver's header layout. The header is copied out of
 * TX once and only that copy is checked and used.
 */
static int32_t deliver_indirect(struct partition *from, struct partition *to,
				const struct ffa_msg *msg)
{
	uint64_t rx_size = to->mailbox.page_count * FFA_PAGE_SIZE;
	const uint8_t *tx = va_from_pa(pa_init(from->mailbox.tx));
	uint8_t *rx;
	uint32_t offset;

	if (to->mailbox.rx == 0 || to->mailbox.rx_owner != FFA_RX_HYPERVISOR) {
		return FFA_BUSY;
	}
	if ((uint64_t)ffa_msg_payload_offset(to->ffa_version) + msg->size >
	    rx_size) {
		return FFA_INVALID_PARAMETERS;
	}
	rx = va_from_pa(pa_init(to->mailbox.rx));
	/* Payload first, then the header: a receiver polling its RX sees a
	 * header only once the payload behind it is complete. */
	offset = ffa_msg_payload_offset(to->ffa_version);
	memcpy(rx + offset, tx + msg->offset, msg->size);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ffa_msg_header_write(rx, msg, to->ffa_version);
	to->mailbox.rx_owner = FFA_RX_PARTITION;
	notify_message(to);
	return 0;
}

/*
 * FFA_MSG_SEND2: w1 MBZ, w2 flags (v1.2: bit 1 only). The header in TX
 * names the sender (must be the caller) and the receiver (must be in the
 * caller's manifest `messaging` list).
 */
static void call_msg_send2(struct vcpu *v)
{
	struct partition *p = v->part;
	struct partition *to;
	struct partition_locked lp;
	struct partition_locked lt;
	struct ffa_mailbox mb;
	struct ffa_msg msg;
	int32_t err;

	if (w(v, 1) != 0 || (w(v, 2) & ~FFA_MSG_SEND2_DELAY_SRI) != 0) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	/* Peek at the header under our lock to find the receiver. */
	lp = partition_lock(p);
	mb = p->mailbox;
	err = mb.tx == 0 ? FFA_DENIED
			 : ffa_msg_parse(va_from_pa(pa_init(mb.tx)),
					 mb.page_count * FFA_PAGE_SIZE,
					 p->ffa_version, &msg);
	partition_unlock(&lp);
	if (err != 0) {
		ret_error(v, err);
		return;
	}
	if (msg.sender != own_id(v) || msg.receiver == own_id(v) ||
	    (to = vm_find(msg.receiver)) == NULL ||
	    (!uuid_is_nil(msg.uuid) &&
	     memcmp(msg.uuid, to->m->uuid, 16) != 0)) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	if (!may_message(p, msg.receiver)) {
		ret_error(v, FFA_DENIED);
		return;
	}
	partition_lock_pair(p, to, &lp, &lt);
	/* The TX contents may have changed since the peek: parse again and
	 * require the same sender and receiver. */
	if (p->mailbox.tx == 0) {
		err = FFA_DENIED;
	} else {
		struct ffa_msg again;

		err = ffa_msg_parse(va_from_pa(pa_init(p->mailbox.tx)),
				    p->mailbox.page_count * FFA_PAGE_SIZE,
				    p->ffa_version, &again);
		if (err == 0 && (again.sender != msg.sender ||
				 again.receiver != msg.receiver)) {
			err = FFA_INVALID_PARAMETERS;
		}
		if (err == 0) {
			err = to->state == PARTITION_RUNNING
				  ? deliver_indirect(p, to, &again)
				  : FFA_BUSY;
		}
	}
	partition_unlock(&lt);
	partition_unlock(&lp);
	if (err != 0) {
		ret_error(v, err);
	} else {
		ret_success(v, 0, 0);
	}
}

/* --- Direct messages ----------------------------------------------------- */

static bool is_req2(uint32_t fn)
{
	return fn == FFA_MSG_SEND_DIRECT_REQ2 ||
	       fn == FFA_MSG_SEND_DIRECT_RESP2;
}

/*
 * Copies the message registers of `from` into `to` as the result of its
 * wait: x0 = `fn`, x1 = endpoints, then the payload (x3..x7, or x2..x17
 * for REQ2/RESP2 where x2/x3 carry the UUID); every other register up to
 * x17 is zero. 32-bit calls pass the low halves only.
 */
static void copy_message(struct vcpu *to, const struct vcpu *from, uint32_t fn,
			 uint32_t endpoints)
{
	struct arch_regs *r = &to->regs;
	const struct arch_regs *s = &from->regs;
	uint64_t mask = (fn & (1u << 30)) ? ~0ull : 0xffffffffull;

	r->x[0] = fn;
	r->x[1] = endpoints;
	if (is_req2(fn)) {
		for (int i = 2; i < 18; i++) {
			r->x[i] = s->x[i];
		}
		if (fn == FFA_MSG_SEND_DIRECT_RESP2) {
			r->x[2] = 0;
			r->x[3] = 0;
		}
		return;
	}
	r->x[2] = 0;
	for (int i = 3; i < 8; i++) {
		r->x[i] = s->x[i] & mask;
	}
	clear_extended(r);
}

/*
 * MSG_SEND_DIRECT_REQ (32/64) and REQ2: w1 = caller << 16 | receiver. The
 * receiver must be in the caller's `messaging` list (else DENIED) and have
 * a vCPU in MSG_WAIT (else BUSY). The caller blocks until the response.
 */
static void call_direct_req(struct vcpu *v, uint32_t fn)
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
	    (to = vm_find(ffa_receiver(endpoints))) == NULL) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	if (is_req2(fn)) {
		uint32_t words[4] = {w(v, 2), (uint32_t)(v->regs.x[2] >> 32),
				     w(v, 3), (uint32_t)(v->regs.x[3] >> 32)};
		uint8_t uuid[16];

		uuid_from_words(uuid, words);
		if (!uuid_is_nil(uuid) && memcmp(uuid, to->m->uuid, 16) != 0) {
			ret_error(v, FFA_INVALID_PARAMETERS);
			clear_extended(&v->regs);
			return;
		}
	}
	if (!may_message(p, to->m->id)) {
		err = FFA_DENIED;
		goto error;
	}
	partition_lock_pair(p, to, &lp, &lt);
	t = to->state == PARTITION_RUNNING ? waiting_vcpu(to) : NULL;
	if (t == NULL) {
		err = FFA_BUSY;
	} else if (is_req2(fn) && to->ffa_version < FFA_VERSION_1_2) {
		err = FFA_DENIED;
	} else {
		copy_message(t, v, fn, endpoints);
		t->serving = v;
		t->serving_generation = v->generation;
		t->serving_kind =
		    is_req2(fn) ? FFA_DIRECT_REQ2 : FFA_DIRECT_REQ;
		v->awaiting = t;
		v->awaiting_generation = t->generation;
		v->wait = VCPU_WAIT_RESPONSE;
		vm_vcpu_resume(t);
	}
	partition_unlock(&lt);
	partition_unlock(&lp);
	if (err == 0) {
		return;
	}
error:
	ret_error(v, err);
	if (is_req2(fn)) {
		clear_extended(&v->regs);
	}
}

/*
 * MSG_SEND_DIRECT_RESP (32/64) and RESP2: only from a vCPU handling a
 * request (else DENIED), in the same family as the request (else DENIED),
 * addressed to its requester (else INVALID_PARAMETERS). The requester
 * resumes with the response; the caller goes back to receiving, as after
 * MSG_WAIT (its RX buffer is not released).
 */
static void call_direct_resp(struct vcpu *v, uint32_t fn)
{
	uint32_t endpoints = w(v, 1);
	struct vcpu *req = v->serving;
	struct partition *p = v->part;
	struct partition_locked lp;
	struct partition_locked lr;
	enum ffa_direct_kind kind =
	    is_req2(fn) ? FFA_DIRECT_REQ2 : FFA_DIRECT_REQ;

	if (req == NULL || v->serving_kind != kind) {
		ret_error(v, FFA_DENIED);
		goto fail;
	}
	if (ffa_sender(endpoints) != own_id(v) ||
	    ffa_receiver(endpoints) != req->part->m->id ||
	    (!is_req2(fn) && w(v, 2) != 0) ||
	    (is_req2(fn) && (v->regs.x[2] != 0 || v->regs.x[3] != 0))) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		goto fail;
	}
	partition_lock_pair(p, req->part, &lp, &lr);
	/* A requester that went off meanwhile gets nothing. */
	if (req->generation == v->serving_generation &&
	    req->wait == VCPU_WAIT_RESPONSE && req->awaiting == v) {
		copy_message(req, v, fn, endpoints);
		req->awaiting = NULL;
		vm_vcpu_resume(req);
	}
	v->serving = NULL;
	v->serving_kind = FFA_DIRECT_NONE;
	wait_for_message(lp, v);
	partition_unlock(&lr);
	partition_unlock(&lp);
	return;
fail:
	if (is_req2(fn)) {
		clear_extended(&v->regs);
	}
}

void ffa_check_request_aborted(struct vcpu *v)
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
		ret_error(v, FFA_ABORTED);
		clear_extended(&v->regs);
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
 * target idling in WFI wakes (or, if running, its next WFI returns at
 * once); one in MSG_WAIT keeps waiting, since MSG_WAIT completes with
 * FFA_RUN only when a message is in its RX buffer. INVALID_PARAMETERS for
 * an unknown target or the caller itself, DENIED for a vCPU that is off.
 */
static void call_run(struct vcpu *v)
{
	uint32_t target = w(v, 1);
	struct partition *to = vm_find(ffa_sender(target));
	struct partition_locked lt;
	struct vcpu *t;

	if (to == NULL || ffa_receiver(target) >= to->m->vcpu_count ||
	    (to == v->part && ffa_receiver(target) == v->index)) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	t = &to->vcpus[ffa_receiver(target)];
	lt = partition_lock(to);
	if (t->state == VCPU_OFF || to->state != PARTITION_RUNNING) {
		ret_error(v, FFA_DENIED);
	} else {
		if (t->wait == VCPU_WAIT_IDLE) {
			vm_vcpu_resume(t);
		} else if (t->wait == VCPU_RUNNABLE) {
			t->wake_pending = true;
		}
		ret_success(v, 0, 0);
	}
	partition_unlock(&lt);
}

/*
 * FFA_CONSOLE_LOG: w1 = character count, characters packed little-endian
 * from w2 (32-bit: up to 24) or x2 (64-bit: up to 128). They join the
 * vCPU's console line; '\n' ends it.
 */
static void call_console_log(struct vcpu *v, uint32_t fn)
{
	bool wide = fn == FFA_CONSOLE_LOG_64;
	uint32_t per_reg = wide ? 8 : 4;
	uint32_t max = per_reg * (wide ? 16 : 6);
	uint32_t count = w(v, 1);

	if (count == 0 || count > max || (wide && (v->regs.x[1] >> 32) != 0)) {
		ret_error(v, FFA_INVALID_PARAMETERS);
		return;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t reg = v->regs.x[2 + i / per_reg];

		vconsole_putc(v, (char)(reg >> (8 * (i % per_reg))));
	}
	ret_success(v, 0, 0);
	if (wide) {
		clear_extended(&v->regs);
	}
}

/* --- Dispatch ------------------------------------------------------------ */

void ffa_handle(struct vcpu *v)
{
	uint32_t fn = (uint32_t)v->regs.x[0];

	if (fn == FFA_VERSION) {
		call_version(v);
		return;
	}
	v->part->ffa_version_locked = true;
	if (!available(v, fn)) {
		ret_error(v, FFA_NOT_SUPPORTED);
		return;
	}
	switch (fn) {
	case FFA_ID_GET:
		ret_success(v, own_id(v), 0);
		break;
	case FFA_FEATURES:
		call_features(v);
		break;
	case FFA_PARTITION_INFO_GET:
		call_partition_info_get(v);
		break;
	case FFA_PARTITION_INFO_GET_REGS:
		call_partition_info_get_regs(v);
		break;
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
		call_rxtx_map(v, fn);
		break;
	case FFA_RXTX_UNMAP:
	case FFA_RX_RELEASE:
		call_mailbox(v, fn);
		break;
	case FFA_MSG_SEND2:
		call_msg_send2(v);
		break;
	case FFA_MSG_WAIT:
		call_msg_wait(v);
		break;
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MSG_SEND_DIRECT_REQ_64:
	case FFA_MSG_SEND_DIRECT_REQ2:
		call_direct_req(v, fn);
		break;
	case FFA_MSG_SEND_DIRECT_RESP_32:
	case FFA_MSG_SEND_DIRECT_RESP_64:
	case FFA_MSG_SEND_DIRECT_RESP2:
		call_direct_resp(v, fn);
		break;
	case FFA_YIELD:
		/* The vCPU keeps its CPU: nothing else would run there. */
		ret_success(v, 0, 0);
		break;
	case FFA_RUN:
		call_run(v);
		break;
	case FFA_CONSOLE_LOG_32:
	case FFA_CONSOLE_LOG_64:
		call_console_log(v, fn);
		break;
	default:
		/* the memory calls; everything else (ERROR, SUCCESS,
		 * INTERRUPT and RETRIEVE_RESP are answers, not requests) gets
		 * NOT_SUPPORTED there */
		ffa_mem_handle(v, fn);
		break;
	}
}
