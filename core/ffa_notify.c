/*
 * FF-A notifications between partitions (core/include/core/ffa_notify.h).
 *
 * State per receiving partition (guarded by its lock): which sender each
 * of its 64 notifications is bound to and whether per vCPU, the global
 * and per-vCPU pending bitmaps, the hypervisor framework notifications
 * pending and what FFA_NOTIFICATION_INFO_GET has not listed yet (these
 * two in struct partition: p->ffa_framework, p->ffa_notify_unreported). State
 * per sending vCPU (struct vcpu, its own CPU): the schedulers whose
 * schedule receiver interrupt it delayed and still owes.
 *
 * Errors (DEN0077 v1.2, chapter "Notifications"): INVALID_PARAMETERS for
 * malformed calls (IDs that are not the caller's or name no partition,
 * MBZ bits, an empty bitmap, a vCPU the receiver does not have, a SET
 * whose per-vCPU flag does not match the bits' binding);
 * NOT_SUPPORTED when the caller has no bitmaps (declares no
 * "notification"); DENIED for what the manifest or the bindings do not
 * allow (a sender not in the receiver's `notify` permissions, a receiver
 * without bitmaps, bits bound to another sender or bound the other way,
 * bits still pending at BIND/UNBIND).
 */
#include <bulkhead/ffa_notify.h>
#include <core/ffa_notify.h>
#include <core/vcpu.h>
#include <core/vgic.h>
#include <string.h>

struct notify_vcpu {
	uint64_t pending;
	bool unreported; /* pending per-vCPU ones INFO_GET has not listed */
};

struct notify_part {
	uint16_t bound[FFA_NOTIFICATIONS]; /* sender ID, 0 = unbound */
	uint64_t per_vcpu;		   /* bound as per-vCPU */
	uint64_t pending;		   /* global */
	struct notify_vcpu vcpus[CONFIG_MAX_CPUS];
};

static struct notify_part notify[CONFIG_MAX_PARTITIONS];

static struct notify_part *state(const struct partition *p)
{
	return &notify[p->index];
}

static bool has_bitmaps(const struct partition *p)
{
	return (p->m->ffa_properties & FFA_PROP_NOTIFICATIONS) != 0;
}

/* Whether the manifest lets `from` notify partition `to_id`. */
static bool may_notify(const struct partition *from, uint16_t to_id)
{
	for (uint32_t i = 0; i < from->m->notify_count; i++) {
		if (from->m->notify[i] == to_id) {
			return true;
		}
	}
	return false;
}

static uint32_t w(const struct vcpu *v, int i)
{
	return (uint32_t)v->regs.x[i];
}

/* The vCPU of a locked partition that takes an interrupt meant for the
 * whole partition: the first that is on (vCPU 0 if none is). */
static struct vcpu *any_vcpu(struct partition *p)
{
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		if (p->vcpus[i].state == VCPU_ON) {
			return &p->vcpus[i];
		}
	}
	return &p->vcpus[0];
}

/* --- BIND / UNBIND ------------------------------------------------------- */

/*
 * FFA_NOTIFICATION_BIND: w1 = sender << 16 | receiver (the caller), w2
 * bit 0 per-vCPU, w3/w4 the bitmap. Every bit must be unbound and not
 * pending. FFA_NOTIFICATION_UNBIND: the same with w2 MBZ; every bit must
 * be bound to that sender and not pending.
 */
static struct ffa_value call_bind(struct vcpu *v, bool bind)
{
	struct partition *p = v->part;
	uint16_t sender = ffa_sender(w(v, 1));
	uint32_t flags = w(v, 2);
	uint64_t bits = ffa_notify_bitmap(v->regs.x[3], v->regs.x[4]);
	uint32_t allowed = bind ? FFA_NOTIFY_FLAG_PER_VCPU : 0;
	struct notify_part *n = state(p);
	struct partition *from;
	struct partition_locked locked;
	struct ffa_value ret = ffa_success(0, 0);

	if (ffa_receiver(w(v, 1)) != p->m->id || sender == p->m->id ||
	    (flags & ~allowed) != 0 || bits == 0 ||
	    (from = partition_find(sender)) == NULL) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (!has_bitmaps(p)) {
		return ffa_error(FFA_NOT_SUPPORTED);
	}
	if (bind && !may_notify(from, p->m->id)) {
		return ffa_error(FFA_DENIED);
	}
	locked = partition_lock(p);
	for (uint64_t rest = bits; rest != 0; rest &= rest - 1) {
		uint16_t owner = n->bound[__builtin_ctzll(rest)];

		if (owner != (bind ? 0 : sender)) {
			ret = ffa_error(FFA_DENIED);
			goto out;
		}
	}
	if ((n->pending & bits) != 0) {
		ret = ffa_error(FFA_DENIED);
		goto out;
	}
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		if ((n->vcpus[i].pending & bits) != 0) {
			ret = ffa_error(FFA_DENIED);
			goto out;
		}
	}
	for (uint64_t rest = bits; rest != 0; rest &= rest - 1) {
		n->bound[__builtin_ctzll(rest)] = bind ? sender : 0;
	}
	if (bind && (flags & FFA_NOTIFY_FLAG_PER_VCPU)) {
		n->per_vcpu |= bits;
	} else {
		n->per_vcpu &= ~bits;
	}
out:
	partition_unlock(&locked);
	return ret;
}

/* --- SET ----------------------------------------------------------------- */

/*
 * FFA_NOTIFICATION_SET: w1 = sender (the caller) << 16 | receiver, w2 =
 * bit 0 per-vCPU, bit 1 delay SRI, [31:16] the receiver's vCPU (per-vCPU
 * only), w3/w4 the bitmap; each bit bound to the caller, per vCPU exactly
 * when the flag says so. The receiver's notification pending interrupt
 * goes to that vCPU (global: its first vCPU that is on).
 */
static struct ffa_value call_set(struct vcpu *v)
{
	struct partition *p = v->part;
	uint16_t sender = ffa_sender(w(v, 1));
	uint32_t flags = w(v, 2);
	uint64_t bits = ffa_notify_bitmap(v->regs.x[3], v->regs.x[4]);
	bool per_vcpu = (flags & FFA_NOTIFY_FLAG_PER_VCPU) != 0;
	uint32_t vcpu = flags >> FFA_NOTIFY_VCPU_SHIFT;
	struct partition *to = partition_find(ffa_receiver(w(v, 1)));
	struct partition_locked locked;
	struct notify_part *n;
	struct vcpu *target;
	bool schedule;

	if (sender != p->m->id || to == NULL || to == p || bits == 0 ||
	    (flags & ~(FFA_NOTIFY_FLAG_PER_VCPU | FFA_NOTIFY_FLAG_DELAY_SRI |
		       (0xffffu << FFA_NOTIFY_VCPU_SHIFT))) != 0 ||
	    (!per_vcpu && vcpu != 0) ||
	    (per_vcpu && vcpu >= to->m->vcpu_count)) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (!has_bitmaps(to) || !may_notify(p, to->m->id)) {
		return ffa_error(FFA_DENIED);
	}
	n = state(to);
	locked = partition_lock(to);
	for (uint64_t rest = bits; rest != 0; rest &= rest - 1) {
		if (n->bound[__builtin_ctzll(rest)] != sender) {
			partition_unlock(&locked);
			return ffa_error(FFA_DENIED);
		}
	}
	/* DEN0077: a per-vCPU bit in a global SET, or a global one in a
	 * per-vCPU SET, is a malformed call */
	if ((n->per_vcpu & bits) != (per_vcpu ? bits : 0)) {
		partition_unlock(&locked);
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (per_vcpu) {
		n->vcpus[vcpu].pending |= bits;
		n->vcpus[vcpu].unreported = true;
		target = &to->vcpus[vcpu];
	} else {
		n->pending |= bits;
		to->ffa_notify_unreported = true;
		target = any_vcpu(to);
	}
	vgic_pend_private(target, FFA_NOTIFY_NPI_INTID);
	schedule = to->m->scheduler != to->m->id;
	partition_unlock(&locked);
	if (schedule) {
		ffa_notify_schedule(v, to, flags & FFA_NOTIFY_FLAG_DELAY_SRI);
	}
	return ffa_success(0, 0);
}

bool ffa_notify_rx_full_tell(struct partition_locked locked, bool interrupt)
{
	struct partition *to = locked.p;

	if (interrupt) {
		vgic_pend_private(any_vcpu(to), FFA_NOTIFY_NPI_INTID);
	}
	return to->m->scheduler != to->m->id;
}

/* Raises the schedule receiver interrupt at scheduler `sched`. */
static void raise_sri(struct partition *sched)
{
	struct partition_locked locked = partition_lock(sched);

	vgic_pend_private(any_vcpu(sched), FFA_NOTIFY_SRI_INTID);
	partition_unlock(&locked);
}

void ffa_notify_schedule(struct vcpu *sender, struct partition *to, bool delay)
{
	struct partition *sched = partition_find(to->m->scheduler);

	if (sched == NULL) {
		return;
	}
	if (delay) {
		struct partition_locked own = partition_lock(sender->part);

		sender->ffa_sri_to[sched->index / 64] |= 1ull
							 << (sched->index % 64);
		sender->ffa_sri_owed = true;
		/* its next WFI returns at once and raises them (vcpu_idle) */
		sender->wake_pending = true;
		partition_unlock(&own);
	} else {
		raise_sri(sched);
	}
}

void ffa_notify_flush_owed(struct vcpu *v)
{
	v->ffa_sri_owed = false;
	for (uint32_t i = 0; i < sizeof(v->ffa_sri_to) / 8; i++) {
		uint64_t owed = v->ffa_sri_to[i];

		v->ffa_sri_to[i] = 0;
		for (; owed != 0; owed &= owed - 1) {
			raise_sri(&partitions[i * 64 +
					      (uint32_t)__builtin_ctzll(owed)]);
		}
	}
}

/* --- GET ----------------------------------------------------------------- */

/*
 * FFA_NOTIFICATION_GET: w1 = vCPU << 16 | receiver (the caller and its own
 * vCPU), w2 = which bitmaps (bits 0..3). Returns and clears them: w2/w3
 * from SPs (none), w4/w5 from partitions (global and this vCPU's), w6 the
 * SPMC's framework ones (none), w7 the hypervisor's (RX buffer full).
 */
static struct ffa_value call_get(struct vcpu *v)
{
	struct partition *p = v->part;
	uint32_t flags = w(v, 2);
	struct notify_part *n = state(p);
	struct notify_vcpu *nv = &n->vcpus[v->index];
	struct partition_locked locked;
	struct ffa_value r = ffa_success(0, 0);
	uint64_t vm = 0;
	uint32_t hyp = 0;

	if (ffa_receiver(w(v, 1)) != p->m->id ||
	    ffa_sender(w(v, 1)) != v->index ||
	    (flags & ~FFA_NOTIFY_GET_ALL) != 0) {
		return ffa_error(FFA_INVALID_PARAMETERS);
	}
	if (!has_bitmaps(p)) {
		return ffa_error(FFA_NOT_SUPPORTED);
	}
	locked = partition_lock(p);
	if (flags & FFA_NOTIFY_GET_VM) {
		vm = n->pending | nv->pending;
		n->pending = 0;
		nv->pending = 0;
		nv->unreported = false;
	}
	if (flags & FFA_NOTIFY_GET_HYP) {
		hyp = p->ffa_framework;
		p->ffa_framework = 0;
	}
	if (n->pending == 0 && p->ffa_framework == 0) {
		p->ffa_notify_unreported = false;
	}
	partition_unlock(&locked);
	r.x[4] = (uint32_t)vm;
	r.x[5] = (uint32_t)(vm >> 32);
	r.x[7] = hyp;
	return r;
}

/* --- INFO_GET ------------------------------------------------------------ */

/* The list being built: IDs, and per list its count of vCPU IDs. */
struct info_list {
	uint16_t ids[FFA_NOTIFY_INFO_IDS_64];
	uint32_t id_count;
	uint32_t max_ids;
	uint64_t sizes; /* x2's list-size fields */
	uint32_t lists;
	bool more;
};

/* Adds a list: `id`, then `vcpu_count` vCPU IDs from `vcpus`. */
static bool info_add(struct info_list *l, uint16_t id, const uint16_t *vcpus,
		     uint32_t vcpu_count)
{
	if (l->id_count + 1 + vcpu_count > l->max_ids) {
		l->more = true;
		return false;
	}
	l->ids[l->id_count++] = id;
	for (uint32_t i = 0; i < vcpu_count; i++) {
		l->ids[l->id_count++] = vcpus[i];
	}
	l->sizes |= (uint64_t)vcpu_count
		    << (FFA_NOTIFY_INFO_LIST_SIZE_SHIFT + 2 * l->lists);
	l->lists++;
	return true;
}

/* Lists what of the locked partition INFO_GET has not listed yet: a list
 * of its ID alone for global notifications, then lists of up to three
 * vCPU IDs; marks what fit as listed. */
static void info_partition(struct info_list *l, struct partition *p)
{
	struct notify_part *n = state(p);
	uint16_t vcpus[FFA_NOTIFY_INFO_LIST_VCPUS];
	uint32_t count = 0;

	if (p->ffa_notify_unreported) {
		if (!info_add(l, p->m->id, vcpus, 0)) {
			return;
		}
		p->ffa_notify_unreported = false;
	}
	for (uint16_t i = 0; i <= p->m->vcpu_count; i++) {
		bool last = i == p->m->vcpu_count;

		if (!last && n->vcpus[i].unreported) {
			vcpus[count++] = i;
		}
		if (count == FFA_NOTIFY_INFO_LIST_VCPUS ||
		    (last && count > 0)) {
			if (!info_add(l, p->m->id, vcpus, count)) {
				return;
			}
			for (uint32_t j = 0; j < count; j++) {
				n->vcpus[vcpus[j]].unreported = false;
			}
			count = 0;
		}
	}
}

/*
 * FFA_NOTIFICATION_INFO_GET_32/64: the partitions the caller schedules
 * (`scheduler` names it, or itself) with notifications pending that no
 * earlier call listed. x2 bit 0 says more remain (call again); NO_DATA
 * when none.
 */
static struct ffa_value call_info_get(struct vcpu *v, uint32_t fn)
{
	bool wide = fn == FFA_NOTIFICATION_INFO_GET_64;
	uint32_t per_reg = wide ? 4 : 2;
	struct info_list l = {.max_ids = wide ? FFA_NOTIFY_INFO_IDS_64
					      : FFA_NOTIFY_INFO_IDS_32};
	struct ffa_value r;

	for (int i = 1; i < 8; i++) {
		if (w(v, i) != 0 || (wide && v->regs.x[i] != 0)) {
			return ffa_error(FFA_INVALID_PARAMETERS);
		}
	}
	for (uint32_t i = 0; i < partition_count && !l.more; i++) {
		struct partition *p = &partitions[i];
		struct partition_locked locked;

		if (p->m->scheduler != v->part->m->id || !has_bitmaps(p)) {
			continue;
		}
		locked = partition_lock(p);
		info_partition(&l, p);
		partition_unlock(&locked);
	}
	if (l.lists == 0) {
		return ffa_error(FFA_NO_DATA);
	}
	r = ffa_result(wide ? FFA_SUCCESS_64 : FFA_SUCCESS_32, 0,
		       l.sizes |
			   (uint64_t)l.lists << FFA_NOTIFY_INFO_LISTS_SHIFT |
			   (l.more ? FFA_NOTIFY_INFO_MORE : 0),
		       0);
	for (uint32_t i = 0; i < l.id_count; i++) {
		r.x[3 + i / per_reg] |= (uint64_t)l.ids[i]
					<< (16 * (i % per_reg));
	}
	return r;
}

/* --- Entry points -------------------------------------------------------- */

struct ffa_value ffa_notify_handle(struct vcpu *v, uint32_t fn)
{
	switch (fn) {
	case FFA_NOTIFICATION_BIND:
		return call_bind(v, true);
	case FFA_NOTIFICATION_UNBIND:
		return call_bind(v, false);
	case FFA_NOTIFICATION_SET:
		return call_set(v);
	case FFA_NOTIFICATION_GET:
		return call_get(v);
	default:
		return call_info_get(v, fn);
	}
}

void ffa_notify_partition_boot(struct partition_locked locked)
{
	*state(locked.p) = (struct notify_part){0};
	locked.p->ffa_framework = 0;
	locked.p->ffa_notify_unreported = false;
	for (uint16_t i = 0; i < locked.p->m->vcpu_count; i++) {
		struct vcpu *v = &locked.p->vcpus[i];

		v->ffa_sri_owed = false;
		memset(v->ffa_sri_to, 0, sizeof(v->ffa_sri_to));
	}
}

void ffa_notify_partition_stopped(struct partition *p)
{
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		ffa_notify_flush(&p->vcpus[i]);
	}
}

/* Whether `p` schedules a partition that has bitmaps. */
static bool schedules_any(const struct partition *p)
{
	for (uint32_t i = 0; i < partition_count; i++) {
		if (partitions[i].m->scheduler == p->m->id &&
		    has_bitmaps(&partitions[i])) {
			return true;
		}
	}
	return false;
}

/* Whether `p` may notify a partition that has bitmaps. */
static bool notifies_any(const struct partition *p)
{
	for (uint32_t i = 0; i < partition_count; i++) {
		if (may_notify(p, partitions[i].m->id) &&
		    has_bitmaps(&partitions[i])) {
			return true;
		}
	}
	return false;
}

bool ffa_notify_offers(const struct partition *p, uint32_t id)
{
	switch (id) {
	case FFA_NOTIFICATION_BIND:
	case FFA_NOTIFICATION_UNBIND:
	case FFA_NOTIFICATION_GET:
	case FFA_FEATURE_NPI:
		return has_bitmaps(p);
	case FFA_NOTIFICATION_SET:
		return notifies_any(p);
	case FFA_NOTIFICATION_INFO_GET_32:
	case FFA_NOTIFICATION_INFO_GET_64:
	case FFA_FEATURE_SRI:
		return schedules_any(p);
	default:
		return true;
	}
}
