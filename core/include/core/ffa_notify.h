/*
 * FF-A notifications between partitions, managed by the hypervisor alone
 * (no SPMC): core/ffa_notify.c. Each partition that declares
 * "notification" in its manifest's messaging-method has its bitmaps from
 * boot (FFA_NOTIFICATION_BITMAP_CREATE/DESTROY are not for partitions and
 * answer NOT_SUPPORTED); `notify` lists say who may signal whom; the
 * receiver learns of pending notifications through the notification
 * pending interrupt (a virtual SGI), and a scheduler partition named by
 * `scheduler` through the schedule receiver interrupt.
 *
 * Locks: every function takes what it needs, one partition at a time;
 * none is called with a lock held, except where a `partition_locked`
 * says so.
 */
#pragma once

#include <bulkhead/ffa_notify.h>
#include <core/ffa.h>

/* BIND, UNBIND, SET, GET, INFO_GET_32/64 of vCPU `v` (fn one of them). */
struct ffa_value ffa_notify_handle(struct vcpu *v, uint32_t fn);

bool ffa_notify_rx_full_tell(struct partition_locked to, bool interrupt);

/*
 * An indirect message was written to the RX buffer of the locked
 * partition `to`: if it declares notifications, the framework
 * notification "RX buffer full" is pending for it and, with `interrupt`
 * (no vCPU of it in FFA_MSG_WAIT learnt of the message by FFA_RUN), its
 * notification pending interrupt raised. True when its scheduler (another
 * partition) is to be told: call ffa_notify_schedule after unlocking.
 * Inline: every indirect message comes here.
 */
static inline __attribute__((always_inline)) bool
ffa_notify_rx_full(struct partition_locked to, bool interrupt)
{
	struct partition *p = to.p;

	if (!(p->m->ffa_properties & FFA_PROP_NOTIFICATIONS)) {
		return false;
	}
	p->ffa_framework |= FFA_FRAMEWORK_RX_FULL;
	p->ffa_notify_unreported = true;
	if (interrupt || p->m->scheduler != p->m->id) {
		return ffa_notify_rx_full_tell(to, interrupt);
	}
	return false;
}

/* Raises the schedule receiver interrupt at `to`'s scheduler, or with
 * `delay` (FFA_MSG_SEND2 / SET flag) leaves it for when `sender` (the
 * calling vCPU, on its own CPU) next gives its CPU back (ffa_notify_flush):
 * each sender owes its own, so another's delay neither drops nor defers
 * it. No lock held. */
void ffa_notify_schedule(struct vcpu *sender, struct partition *to, bool delay);

/* The locked partition boots: no bindings, nothing pending, no schedule
 * receiver interrupt owed (ffa_notify_partition_stopped raised those). */
void ffa_notify_partition_boot(struct partition_locked locked);

/*
 * FFA_FEATURES: whether notification call or feature ID `id` is of use to
 * `p`, from its manifest: BIND, UNBIND, GET and the notification pending
 * interrupt when it has bitmaps; SET when it may notify a partition that
 * has them; INFO_GET and the schedule receiver interrupt when it is the
 * scheduler of one. True for every other ID.
 */
bool ffa_notify_offers(const struct partition *p, uint32_t id);

/* Every vCPU of `p` is off (it stops or restarts): the schedule receiver
 * interrupts they still owe are raised now, none is lost. No lock held. */
void ffa_notify_partition_stopped(struct partition *p);

void ffa_notify_flush_owed(struct vcpu *v);

/* `v` gives its CPU back (MSG_WAIT, YIELD, a direct request or response,
 * WFI, CPU_OFF), on its own CPU with no lock held: the schedule receiver
 * interrupts its calls delayed are raised now. Inline: one load when it
 * owes none. */
static inline void ffa_notify_flush(struct vcpu *v)
{
	if (v->ffa_sri_owed) {
		ffa_notify_flush_owed(v);
	}
}
