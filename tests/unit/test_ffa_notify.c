/*
 * FF-A notifications (core/ffa_notify.c) on the host: every call's
 * success and error cases, bindings, per-vCPU notifications, the
 * interrupts raised, and FFA_NOTIFICATION_INFO_GET's lists and paging.
 * Each case builds its own partition table (the cases run one per
 * process): partitions 1..NPARTS, partition 1 with 8 vCPUs.
 */
#include <bulkhead/ffa_notify.h>
#include <core/ffa_notify.h>
#include <string.h>

#include "unit.h"

#define NPARTS 6

static struct manifest_partition parts[NPARTS];

/* The virtual SGIs the calls made pending (core/vgic.c's state), in the
 * order collect() found them: (partition ID, vCPU, INTID). */
static struct {
	uint16_t id;
	uint16_t vcpu;
	uint32_t intid;
} raised[64];
static unsigned int raised_count;

/* Moves the SGIs pending at every vCPU into raised[] (partitions, vCPUs
 * and INTIDs in order) and clears them; the count so far. */
static unsigned int raised_n(void)
{
	for (uint16_t i = 0; i < NPARTS; i++) {
		for (uint16_t j = 0; j < CONFIG_MAX_CPUS; j++) {
			struct vcpu *v = &partitions[i].vcpus[j];
			uint32_t sgis = v->vgic.pending & 0xffffu;

			for (; sgis != 0; sgis &= sgis - 1) {
				raised[raised_count].id = parts[i].id;
				raised[raised_count].vcpu = j;
				raised[raised_count].intid =
				    (uint32_t)__builtin_ctz(sgis);
				raised_count++;
			}
			v->vgic.pending &= ~0xffffu;
		}
	}
	return raised_count;
}

/* Forgets what was raised so far. */
static void raised_reset(void)
{
	raised_n();
	raised_count = 0;
}

/* Partition 1 (8 vCPUs) and 4 receive notifications; 2 may notify 1 and 4,
 * 3 may notify 1; 5 schedules 4; 6 takes no part. */
static void setup(void)
{
	for (uint16_t i = 0; i < NPARTS; i++) {
		parts[i] = (struct manifest_partition){.id = (uint16_t)(i + 1),
						       .vcpu_count = 1};
		parts[i].scheduler = parts[i].id;
		partitions[i] = (struct partition){.m = &parts[i], .index = i};
		for (uint16_t j = 0; j < CONFIG_MAX_CPUS; j++) {
			partitions[i].vcpus[j] =
			    (struct vcpu){.part = &partitions[i],
					  .index = j,
					  .state = VCPU_ON};
		}
	}
	parts[0].vcpu_count = 8;
	parts[0].ffa_properties = FFA_PROP_NOTIFICATIONS;
	parts[3].ffa_properties = FFA_PROP_NOTIFICATIONS;
	parts[3].scheduler = 5;
	parts[1].notify_count = 2;
	parts[1].notify[0] = 1;
	parts[1].notify[1] = 4;
	parts[2].notify_count = 1;
	parts[2].notify[0] = 1;
	partition_count = NPARTS;
	raised_reset();
}

static struct vcpu *vcpu_of(uint16_t id, uint16_t index)
{
	return &partitions[id - 1].vcpus[index];
}

static struct ffa_value call(struct vcpu *v, uint32_t fn, uint64_t x1,
			     uint64_t x2, uint64_t x3, uint64_t x4)
{
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.x[0] = fn;
	v->regs.x[1] = x1;
	v->regs.x[2] = x2;
	v->regs.x[3] = x3;
	v->regs.x[4] = x4;
	return ffa_notify_handle(v, fn);
}

static int32_t error_of(struct ffa_value r)
{
	return r.x[0] == FFA_ERROR ? (int32_t)r.x[2] : 0;
}

static int32_t bind(uint16_t sender, uint16_t receiver, uint32_t flags,
		    uint64_t bits)
{
	return error_of(call(vcpu_of(receiver, 0), FFA_NOTIFICATION_BIND,
			     ffa_endpoints(sender, receiver), flags,
			     (uint32_t)bits, bits >> 32));
}

static int32_t unbind(uint16_t sender, uint16_t receiver, uint64_t bits)
{
	return error_of(call(vcpu_of(receiver, 0), FFA_NOTIFICATION_UNBIND,
			     ffa_endpoints(sender, receiver), 0, (uint32_t)bits,
			     bits >> 32));
}

static int32_t set(uint16_t sender, uint16_t receiver, uint32_t flags,
		   uint64_t bits)
{
	return error_of(call(vcpu_of(sender, 0), FFA_NOTIFICATION_SET,
			     ffa_endpoints(sender, receiver), flags,
			     (uint32_t)bits, bits >> 32));
}

static struct ffa_value get(uint16_t receiver, uint16_t vcpu, uint32_t flags)
{
	return call(vcpu_of(receiver, vcpu), FFA_NOTIFICATION_GET,
		    ffa_endpoints(vcpu, receiver), flags, 0, 0);
}

UNIT(notify_bind_errors)
{
	setup();
	/* the caller must be the receiver; the sender another partition */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  error_of(call(vcpu_of(1, 0), FFA_NOTIFICATION_BIND,
				ffa_endpoints(2, 4), 0, 1, 0)));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, bind(1, 1, 0, 1));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, bind(9, 1, 0, 1));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, bind(2, 1, 0, 0));   /* no bits */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, bind(2, 1, 0x2, 1)); /* MBZ */
	EXPECT_EQ(FFA_NOT_SUPPORTED, bind(2, 6, 0, 1));	       /* no bitmaps */
	EXPECT_EQ(FFA_DENIED, bind(3, 4, 0, 1)); /* 3 may not notify 4 */
	EXPECT_EQ(0, bind(2, 1, 0, 0x3));
	EXPECT_EQ(FFA_DENIED, bind(3, 1, 0, 0x2)); /* bound to 2 */
	EXPECT_EQ(FFA_DENIED, bind(2, 1, 0, 0x1)); /* already bound */
	EXPECT_EQ(FFA_DENIED, unbind(3, 1, 0x1));  /* not 3's */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  error_of(call(vcpu_of(1, 0), FFA_NOTIFICATION_UNBIND,
				ffa_endpoints(2, 1), FFA_NOTIFY_FLAG_PER_VCPU,
				1, 0)));
	EXPECT_EQ(0, set(2, 1, 0, 0x1));
	EXPECT_EQ(FFA_DENIED, unbind(2, 1, 0x1)); /* pending */
	EXPECT_EQ(FFA_SUCCESS_32, get(1, 0, FFA_NOTIFY_GET_VM).x[0]);
	EXPECT_EQ(0, unbind(2, 1, 0x3));
	EXPECT_EQ(0, bind(3, 1, 0, 0x2)); /* free again */
}

UNIT(notify_set_errors)
{
	setup();
	EXPECT_EQ(0, bind(2, 1, 0, 0xf0));
	EXPECT_EQ(0, bind(2, 1, FFA_NOTIFY_FLAG_PER_VCPU, 1ull << 40));
	/* the caller must be the sender */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  error_of(call(vcpu_of(3, 0), FFA_NOTIFICATION_SET,
				ffa_endpoints(2, 1), 0, 0x10, 0)));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, set(2, 2, 0, 0x10)); /* itself */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, set(2, 9, 0, 0x10)); /* nobody */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, set(2, 1, 0, 0));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, set(2, 1, 0x4, 0x10)); /* MBZ */
	/* a vCPU ID without the per-vCPU flag; a vCPU it does not have */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, set(2, 1, 1u << 16, 0x10));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  set(2, 1, FFA_NOTIFY_FLAG_PER_VCPU | 8u << 16, 1ull << 40));
	EXPECT_EQ(FFA_DENIED, set(2, 6, 0, 0x10));  /* no bitmaps */
	EXPECT_EQ(FFA_DENIED, set(6, 1, 0, 0x10));  /* not in 6's notify */
	EXPECT_EQ(FFA_DENIED, set(2, 1, 0, 0x100)); /* unbound */
	EXPECT_EQ(FFA_DENIED, set(3, 1, 0, 0x10));  /* bound to 2 */
	/* DEN0077: the flag must match the binding's kind */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, set(2, 1, 0, 1ull << 40));
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  set(2, 1, FFA_NOTIFY_FLAG_PER_VCPU, 0x10));
	EXPECT_EQ(0, raised_n());
}

UNIT(notify_set_get_global_and_per_vcpu)
{
	struct ffa_value r;

	setup();
	EXPECT_EQ(0, bind(2, 1, 0, 0xffffffffull));
	EXPECT_EQ(0, bind(2, 1, FFA_NOTIFY_FLAG_PER_VCPU, 0xffull << 32));
	partitions[0].vcpus[0].state = VCPU_OFF; /* global: first vCPU on */
	EXPECT_EQ(0, set(2, 1, 0, 0x5));
	EXPECT_EQ(0,
		  set(2, 1, FFA_NOTIFY_FLAG_PER_VCPU | 6u << 16, 1ull << 33));
	EXPECT_EQ(2, raised_n());
	EXPECT_EQ(1, raised[0].id);
	EXPECT_EQ(1, raised[0].vcpu);
	EXPECT_EQ(FFA_NOTIFY_NPI_INTID, raised[0].intid);
	EXPECT_EQ(6, raised[1].vcpu);
	EXPECT_EQ(FFA_NOTIFY_NPI_INTID, raised[1].intid);
	/* vCPU 3 sees the global ones only; vCPU 6 then its own */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  error_of(call(vcpu_of(1, 3), FFA_NOTIFICATION_GET,
				ffa_endpoints(6, 1), FFA_NOTIFY_GET_VM, 0, 0)));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, error_of(get(1, 3, 0x10)));
	EXPECT_EQ(FFA_NOT_SUPPORTED, error_of(get(6, 0, FFA_NOTIFY_GET_VM)));
	r = get(1, 3, FFA_NOTIFY_GET_ALL);
	EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
	EXPECT_EQ(0, r.x[2] | r.x[3] | r.x[6] | r.x[7]);
	EXPECT_EQ(0x5, r.x[4]);
	EXPECT_EQ(0, r.x[5]);
	r = get(1, 6, FFA_NOTIFY_GET_VM);
	EXPECT_EQ(0, r.x[4]);
	EXPECT_EQ(0x2, r.x[5]);
	r = get(1, 6, FFA_NOTIFY_GET_ALL);
	EXPECT_EQ(0, r.x[4] | r.x[5]); /* each once */
	/* a bitmap not asked for stays pending */
	EXPECT_EQ(0, set(2, 1, 0, 0x8));
	EXPECT_EQ(0, get(1, 0, FFA_NOTIFY_GET_HYP).x[4]);
	EXPECT_EQ(0x8, get(1, 0, FFA_NOTIFY_GET_VM).x[4]);
}

UNIT(notify_rx_full_and_scheduler)
{
	struct partition_locked locked;

	setup();
	locked = partition_lock(&partitions[3]);
	EXPECT_TRUE(ffa_notify_rx_full(locked, true)); /* 5 schedules 4 */
	EXPECT_EQ(1, raised_n());
	EXPECT_EQ(FFA_NOTIFY_NPI_INTID, raised[0].intid);
	partition_unlock(&locked);
	locked = partition_lock(&partitions[5]);
	EXPECT_FALSE(ffa_notify_rx_full(locked, true)); /* 6 has none */
	EXPECT_EQ(1, raised_n());
	partition_unlock(&locked);
	EXPECT_EQ(FFA_FRAMEWORK_RX_FULL, get(4, 0, FFA_NOTIFY_GET_HYP).x[7]);
	EXPECT_EQ(0, get(4, 0, FFA_NOTIFY_GET_HYP).x[7]);
	/* SET to 4: NPI at 4, SRI at its scheduler 5 */
	EXPECT_EQ(0, bind(2, 4, 0, 1));
	raised_reset();
	EXPECT_EQ(0, set(2, 4, 0, 1));
	EXPECT_EQ(2, raised_n());
	EXPECT_EQ(4, raised[0].id);
	EXPECT_EQ(FFA_NOTIFY_NPI_INTID, raised[0].intid);
	EXPECT_EQ(5, raised[1].id);
	EXPECT_EQ(FFA_NOTIFY_SRI_INTID, raised[1].intid);
	/* delayed: raised when the sender gives its CPU back */
	EXPECT_EQ(FFA_SUCCESS_32, get(4, 0, FFA_NOTIFY_GET_VM).x[0]);
	raised_reset();
	EXPECT_EQ(0, set(2, 4, FFA_NOTIFY_FLAG_DELAY_SRI, 1));
	EXPECT_EQ(1, raised_n());
	ffa_notify_flush(vcpu_of(3, 0)); /* not the one that delayed it */
	EXPECT_EQ(1, raised_n());
	ffa_notify_flush(vcpu_of(2, 0));
	EXPECT_EQ(2, raised_n());
	EXPECT_EQ(5, raised[1].id);
	EXPECT_EQ(FFA_NOTIFY_SRI_INTID, raised[1].intid);
	ffa_notify_flush(vcpu_of(2, 0));
	EXPECT_EQ(2, raised_n()); /* once */
}

/* Whether exactly one SGI, the SRI, was raised since `before` and at
 * scheduler `id`. */
static bool sri_at(unsigned int before, uint16_t id)
{
	return raised_n() == before + 1 && raised[before].id == id &&
	       raised[before].intid == FFA_NOTIFY_SRI_INTID;
}

/* Two senders delay the SRI of one scheduler: each raises its own at its
 * own flush, in either order; neither overwrites the other's. */
UNIT(notify_delayed_sri_two_senders)
{
	unsigned int n;

	setup();
	parts[2].notify_count = 2;
	parts[2].notify[1] = 4; /* 3 may notify 4 too */
	EXPECT_EQ(0, bind(2, 4, 0, 1));
	EXPECT_EQ(0, bind(3, 4, 0, 2));
	raised_reset();
	EXPECT_EQ(0, set(2, 4, FFA_NOTIFY_FLAG_DELAY_SRI, 1));
	EXPECT_EQ(0, set(3, 4, FFA_NOTIFY_FLAG_DELAY_SRI, 2));
	n = raised_n(); /* 4's NPI (pending once), no SRI */
	EXPECT_EQ(1, n);
	EXPECT_EQ(4, raised[0].id);
	EXPECT_EQ(FFA_NOTIFY_NPI_INTID, raised[0].intid);
	EXPECT_TRUE(vcpu_of(2, 0)->ffa_sri_owed);
	EXPECT_TRUE(vcpu_of(3, 0)->ffa_sri_owed);
	ffa_notify_flush(vcpu_of(2, 0)); /* the first sender's */
	EXPECT_TRUE(sri_at(n, 5));
	EXPECT_FALSE(vcpu_of(2, 0)->ffa_sri_owed);
	ffa_notify_flush(vcpu_of(2, 0)); /* owes nothing more */
	EXPECT_EQ(n + 1, raised_n());
	ffa_notify_flush(vcpu_of(3, 0)); /* the second sender's, still owed */
	EXPECT_TRUE(sri_at(n + 1, 5));
	ffa_notify_flush(vcpu_of(3, 0));
	EXPECT_EQ(n + 2, raised_n());
	/* the other order */
	EXPECT_EQ(FFA_SUCCESS_32, get(4, 0, FFA_NOTIFY_GET_VM).x[0]);
	raised_reset();
	EXPECT_EQ(0, set(3, 4, FFA_NOTIFY_FLAG_DELAY_SRI, 2));
	EXPECT_EQ(0, set(2, 4, FFA_NOTIFY_FLAG_DELAY_SRI, 1));
	n = raised_n();
	EXPECT_EQ(1, n);
	ffa_notify_flush(vcpu_of(3, 0));
	EXPECT_TRUE(sri_at(n, 5));
	ffa_notify_flush(vcpu_of(2, 0));
	EXPECT_TRUE(sri_at(n + 1, 5));
	/* delayed twice by one sender: raised once, at its flush */
	EXPECT_EQ(FFA_SUCCESS_32, get(4, 0, FFA_NOTIFY_GET_VM).x[0]);
	raised_reset();
	EXPECT_EQ(0, set(2, 4, FFA_NOTIFY_FLAG_DELAY_SRI, 1));
	EXPECT_EQ(FFA_SUCCESS_32, get(4, 0, FFA_NOTIFY_GET_VM).x[0]);
	EXPECT_EQ(0, set(2, 4, FFA_NOTIFY_FLAG_DELAY_SRI, 1));
	n = raised_n();
	EXPECT_EQ(1, n);
	ffa_notify_flush(vcpu_of(2, 0));
	EXPECT_TRUE(sri_at(n, 5));
	ffa_notify_flush(vcpu_of(2, 0));
	EXPECT_EQ(n + 1, raised_n());
}

/* One sender delays the SRIs of two schedulers: its flush raises both;
 * a vCPU of it that delayed none raises none. */
UNIT(notify_delayed_sri_two_schedulers)
{
	setup();
	parts[0].scheduler = 6; /* 6 schedules 1, 5 schedules 4 */
	EXPECT_EQ(0, bind(2, 1, 0, 1));
	EXPECT_EQ(0, bind(2, 4, 0, 1));
	raised_reset();
	EXPECT_EQ(0, set(2, 1, FFA_NOTIFY_FLAG_DELAY_SRI, 1));
	EXPECT_EQ(0, set(2, 4, FFA_NOTIFY_FLAG_DELAY_SRI, 1));
	EXPECT_EQ(2, raised_n()); /* the NPIs at 1 and 4 */
	ffa_notify_flush(vcpu_of(2, 1));
	EXPECT_EQ(2, raised_n());
	ffa_notify_flush(vcpu_of(2, 0));
	EXPECT_EQ(4, raised_n());
	EXPECT_EQ(5, raised[2].id); /* collect() goes by partition */
	EXPECT_EQ(FFA_NOTIFY_SRI_INTID, raised[2].intid);
	EXPECT_EQ(6, raised[3].id);
	EXPECT_EQ(FFA_NOTIFY_SRI_INTID, raised[3].intid);
}

/* A sender that stops with an SRI owed raises it then (every vCPU of its
 * partition, not only the first); its next boot owes none. */
UNIT(notify_delayed_sri_partition_stopped)
{
	struct partition_locked locked;

	setup();
	parts[1].vcpu_count = 2;
	EXPECT_EQ(0, bind(2, 4, 0, 3));
	raised_reset();
	EXPECT_EQ(0, error_of(call(vcpu_of(2, 1), FFA_NOTIFICATION_SET,
				   ffa_endpoints(2, 4),
				   FFA_NOTIFY_FLAG_DELAY_SRI, 1, 0)));
	EXPECT_EQ(1, raised_n()); /* the NPI */
	ffa_notify_partition_stopped(&partitions[1]);
	EXPECT_TRUE(sri_at(1, 5));
	EXPECT_FALSE(vcpu_of(2, 1)->ffa_sri_owed);
	ffa_notify_partition_stopped(&partitions[1]); /* once */
	EXPECT_EQ(2, raised_n());
	/* a boot forgets debts (none is left after a stop) */
	EXPECT_EQ(0, set(2, 4, FFA_NOTIFY_FLAG_DELAY_SRI, 2));
	EXPECT_EQ(3, raised_n());
	locked = partition_lock(&partitions[1]);
	ffa_notify_partition_boot(locked);
	partition_unlock(&locked);
	EXPECT_FALSE(vcpu_of(2, 0)->ffa_sri_owed);
	EXPECT_EQ(0, vcpu_of(2, 0)->ffa_sri_to[0]);
	ffa_notify_flush(vcpu_of(2, 0));
	EXPECT_EQ(3, raised_n());
}

/* The IDs of an INFO_GET answer, `per_reg` to a register. */
static uint16_t info_id(struct ffa_value r, unsigned int i,
			unsigned int per_reg)
{
	return (uint16_t)(r.x[3 + i / per_reg] >> (16 * (i % per_reg)));
}

UNIT(notify_info_get_lists_and_pages)
{
	struct vcpu *sched = vcpu_of(1, 0);
	struct ffa_value r;

	setup();
	EXPECT_EQ(
	    FFA_NO_DATA,
	    error_of(call(sched, FFA_NOTIFICATION_INFO_GET_64, 0, 0, 0, 0)));
	EXPECT_EQ(
	    FFA_INVALID_PARAMETERS,
	    error_of(call(sched, FFA_NOTIFICATION_INFO_GET_64, 1, 0, 0, 0)));
	EXPECT_EQ(0, bind(2, 1, 0, 1));
	EXPECT_EQ(0, bind(2, 1, FFA_NOTIFY_FLAG_PER_VCPU, 2));
	EXPECT_EQ(0, set(2, 1, 0, 1));
	for (uint32_t i = 0; i < 8; i++) {
		EXPECT_EQ(0, set(2, 1, FFA_NOTIFY_FLAG_PER_VCPU | i << 16, 2));
	}
	/* 32-bit: 10 IDs. [1] [1 0 1 2] [1 3 4 5] fit (9), [1 6 7] not */
	r = call(sched, FFA_NOTIFICATION_INFO_GET_32, 0, 0, 0, 0);
	EXPECT_EQ(FFA_SUCCESS_32, r.x[0]);
	EXPECT_EQ(FFA_NOTIFY_INFO_MORE | 3u << FFA_NOTIFY_INFO_LISTS_SHIFT |
		      0u << 12 | 3u << 14 | 3u << 16,
		  r.x[2]);
	{
		static const uint16_t want[] = {1, 1, 0, 1, 2, 1, 3, 4, 5};

		for (unsigned int i = 0; i < 9; i++) {
			EXPECT_EQ(want[i], info_id(r, i, 2));
		}
		EXPECT_EQ(5, r.x[7]); /* the tenth slot empty */
	}
	/* the next page: the rest, nothing more */
	r = call(sched, FFA_NOTIFICATION_INFO_GET_64, 0, 0, 0, 0);
	EXPECT_EQ(FFA_SUCCESS_64, r.x[0]);
	EXPECT_EQ(1u << FFA_NOTIFY_INFO_LISTS_SHIFT | 2u << 12, r.x[2]);
	EXPECT_EQ(1, info_id(r, 0, 4));
	EXPECT_EQ(6, info_id(r, 1, 4));
	EXPECT_EQ(7, info_id(r, 2, 4));
	EXPECT_EQ(0, r.x[3] >> 48);
	EXPECT_EQ(
	    FFA_NO_DATA,
	    error_of(call(sched, FFA_NOTIFICATION_INFO_GET_64, 0, 0, 0, 0)));
	/* another SET lists it again; a partition scheduled by another is
	 * not listed here but there */
	EXPECT_EQ(0, set(2, 1, 0, 1));
	EXPECT_EQ(0, bind(2, 4, 0, 1));
	EXPECT_EQ(0, set(2, 4, 0, 1));
	r = call(sched, FFA_NOTIFICATION_INFO_GET_64, 0, 0, 0, 0);
	EXPECT_EQ(1u << FFA_NOTIFY_INFO_LISTS_SHIFT, r.x[2]);
	EXPECT_EQ(1, r.x[3]);
	r = call(vcpu_of(5, 0), FFA_NOTIFICATION_INFO_GET_64, 0, 0, 0, 0);
	EXPECT_EQ(1u << FFA_NOTIFY_INFO_LISTS_SHIFT, r.x[2]);
	EXPECT_EQ(4, r.x[3]);
}
