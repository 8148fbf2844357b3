/* The owner's tests: SGIs, the virtual timer, priority order, INTIDs it
 * does not own, and its pass-through RTC. */
#include "common.h"

#define PINGS	    50
#define TICKS	    20
#define PRIO_COUNT  12
#define RTC_MATCHES 2

/* PL031 registers */
#define RTCDR	(RTC_BASE + 0x00)
#define RTCMR	(RTC_BASE + 0x04)
#define RTCIMSC (RTC_BASE + 0x10)
#define RTCRIS	(RTC_BASE + 0x14)
#define RTCMIS	(RTC_BASE + 0x18)
#define RTCICR	(RTC_BASE + 0x1c)

static uint32_t pings_sent; /* SGI_PING sent to vCPU 1 in all */

static uint32_t mmio_read(uint64_t addr)
{
	return *(volatile uint32_t *)(uintptr_t)addr;
}

static void mmio_write(uint64_t addr, uint32_t value)
{
	*(volatile uint32_t *)(uintptr_t)addr = value;
}

/* One round trip: vCPU 1 takes SGI_PING and replies. */
static void ping(void)
{
	uint32_t replies = sgi_count[0][SGI_REPLY];

	guest_sgi_send(SGI_PING, 1u << 1);
	pings_sent++;
	guest_irq_wait_count(&sgi_count[0][SGI_REPLY], replies + 1);
}

TEST(sgi, ping_pong_between_vcpus)
{
	for (uint32_t i = 0; i < PINGS; i++) {
		ping();
	}
	EXPECT_EQ(PINGS, sgi_count[1][SGI_PING]);
	EXPECT_EQ(PINGS, sgi_count[0][SGI_REPLY]);
	EXPECT_EQ(0, sgi_count[0][SGI_PING]);
	EXPECT_EQ(0, sgi_count[1][SGI_REPLY]);
	guest_printf("sgi ping-pong: sent=%u vcpu1-took=%u replies=%u\n",
		     pings_sent, sgi_count[1][SGI_PING],
		     sgi_count[0][SGI_REPLY]);
}

TEST(sgi, target_list_irm_and_affinity)
{
	uint32_t replies = sgi_count[0][SGI_REPLY];

	/* to both vCPUs (the sender too) */
	guest_sgi_send(SGI_A, 0x3);
	guest_irq_wait_count(&sgi_count[0][SGI_A], 1);
	guest_irq_wait_count(&sgi_count[0][SGI_REPLY], replies + 1);
	/* IRM: every vCPU but the sender */
	guest_sgi_send_others(SGI_B);
	guest_irq_wait_count(&sgi_count[0][SGI_REPLY], replies + 2);
	/* nobody: vCPUs the partition does not have (index 2 and 5, Aff1
	 * 1, range selector 1) */
	guest_sgi_send(SGI_A, 0x24);
	guest_sgi_write((uint64_t)SGI_A << 24 | 1ull << 16 | 0x3);
	guest_sgi_write((uint64_t)SGI_A << 24 | 1ull << 44 | 0x3);
	ping(); /* anything sent before has arrived by now */
	EXPECT_EQ(1, sgi_count[0][SGI_A]);
	EXPECT_EQ(1, sgi_count[1][SGI_A]);
	EXPECT_EQ(0, sgi_count[0][SGI_B]);
	EXPECT_EQ(1, sgi_count[1][SGI_B]);
	EXPECT_EQ(replies + 3, sgi_count[0][SGI_REPLY]);
	guest_printf("sgi targets: A vcpu0=%u vcpu1=%u, B(irm) vcpu0=%u "
		     "vcpu1=%u\n",
		     sgi_count[0][SGI_A], sgi_count[1][SGI_A],
		     sgi_count[0][SGI_B], sgi_count[1][SGI_B]);
}

/* --- the virtual timer --------------------------------------------------- */

static volatile uint32_t ticks;
static volatile uint32_t early;
static uint64_t next_tick;
static uint64_t period;

static void tick(uint32_t intid, void *arg)
{
	(void)intid;
	(void)arg;
	if (guest_timer_now() < next_tick) {
		early++;
	}
	ticks++;
	if (ticks < TICKS) {
		next_tick += period;
		guest_timer_arm_at(next_tick);
	} else {
		guest_timer_stop();
	}
}

TEST(timer, periodic_ticks_idle_in_wfi_between)
{
	uint32_t wfis;
	uint32_t after;

	period = guest_timer_freq() / 500; /* 2 ms */
	ASSERT_TRUE(period > 0);
	guest_irq_register(GUEST_IRQ_VTIMER, tick, NULL);
	guest_irq_enable(GUEST_IRQ_VTIMER);
	EXPECT_TRUE(guest_irq_enabled(GUEST_IRQ_VTIMER));
	next_tick = guest_timer_now() + period;
	guest_timer_arm_at(next_tick);
	/* one WFI per tick: the vCPU idles until the timer fires */
	wfis = guest_irq_wait_count(&ticks, TICKS);
	/* stopped: no more come */
	after = poll_until(&ticks, TICKS + 1, 10);
	guest_irq_disable(GUEST_IRQ_VTIMER);
	EXPECT_EQ(TICKS, ticks);
	EXPECT_EQ(TICKS, after);
	EXPECT_EQ(0, early);
	/* at most one WFI per tick (fewer when a late vCPU finds the next
	 * tick already due): a WFI that did not idle would loop */
	EXPECT_TRUE(wfis >= 1 && wfis <= TICKS);
	EXPECT_TRUE(guest_timer_now() >= next_tick);
	guest_printf("timer: ticks=%u early=%u idle-between=%s\n", ticks, early,
		     wfis >= 1 && wfis <= TICKS ? "yes" : "no");
}

/* --- priority order ------------------------------------------------------ */

/* SGIs 5..12 and PPIs 16..19, each with a rank (priority 0x10 + 8 x rank,
 * the interface keeps 5 priority bits) */
static const uint32_t prio_intids[PRIO_COUNT] = {5,  6,	 7,  8,	 9,  10,
						 11, 12, 16, 17, 18, 19};
static const uint8_t prio_rank[PRIO_COUNT] = {7, 2,  11, 0, 5, 9,
					      1, 10, 3,	 8, 4, 6};
/* the INTIDs by rank */
static const uint32_t prio_expected[PRIO_COUNT] = {8,  11, 6,  16, 18, 9,
						   19, 5,  17, 10, 12, 7};

static volatile uint32_t taken;
static uint32_t taken_order[PRIO_COUNT + 4];

static void record(uint32_t intid, void *arg)
{
	(void)arg;
	if (taken < PRIO_COUNT + 4) {
		taken_order[taken] = intid;
	}
	taken++;
}

static void prio_setup(void)
{
	taken = 0;
	for (uint32_t i = 0; i < PRIO_COUNT; i++) {
		uint32_t intid = prio_intids[i];

		guest_irq_register(intid, record, NULL);
		guest_irq_set_priority(intid,
				       (uint8_t)(0x10 + 8 * prio_rank[i]));
		guest_irq_enable(intid);
	}
}

static void prio_pend_all(void)
{
	for (uint32_t i = 0; i < PRIO_COUNT; i++) {
		uint32_t intid = prio_intids[i];

		if (intid < GUEST_IRQ_SGI_COUNT) {
			guest_sgi_send(intid, 1u << 0); /* to itself */
		} else {
			guest_irq_set_pending(intid);
		}
	}
}

static void prio_check(const char *how)
{
	guest_irq_wait_count(&taken, PRIO_COUNT);
	poll_until(&taken, PRIO_COUNT + 1, 2);
	EXPECT_EQ(PRIO_COUNT, taken);
	for (uint32_t i = 0; i < PRIO_COUNT; i++) {
		EXPECT_EQ(prio_expected[i], taken_order[i]);
	}
	guest_printf("priority (%s):", how);
	for (uint32_t i = 0; i < taken && i < PRIO_COUNT; i++) {
		guest_printf(" %u", taken_order[i]);
	}
	guest_printf("\n");
	for (uint32_t i = 0; i < PRIO_COUNT; i++) {
		uint32_t intid = prio_intids[i];

		if (intid >= GUEST_IRQ_SGI_COUNT) {
			guest_irq_disable(intid);
		}
		guest_irq_register(intid, NULL, NULL);
	}
}

TEST(priority, masked_by_pmr_then_in_order)
{
	prio_setup();
	EXPECT_EQ(0x10 + 8 * 7, guest_irq_priority(5));
	guest_irq_set_mask(0);
	prio_pend_all();
	EXPECT_EQ(0, poll_until(&taken, 1, 2)); /* all held by the mask */
	guest_irq_set_mask(0xff);
	prio_check("pmr");
}

TEST(priority, masked_at_the_cpu_then_in_order)
{
	prio_setup();
	guest_irq_mask_all();
	prio_pend_all();
	for (volatile int i = 0; i < 100000; i++) {
	}
	EXPECT_EQ(0, taken);
	guest_irq_unmask();
	prio_check("daif");
}

/* --- interrupts it does not own -------------------------------------------
 */

TEST(ownership, unowned_spis_read_as_zero)
{
	const uint32_t unowned[] = {35, 39, 48};

	for (uint32_t i = 0; i < 3; i++) {
		uint32_t s = unowned[i];

		guest_irq_register(s, record, NULL);
		guest_irq_set_priority(s, 0x20);
		guest_irq_route(s, 1);
		guest_irq_enable(s);
		guest_irq_set_pending(s);
		EXPECT_FALSE(guest_irq_enabled(s));
		EXPECT_EQ(0, guest_irq_priority(s));
		EXPECT_EQ(0, guest_irq_router(s));
		EXPECT_EQ(0, mmio_read(guest_gicd_base() + GICD_ISPENDR +
				       4 * (s / 32)) &
				 (1u << (s % 32)));
		guest_irq_register(s, NULL, NULL);
	}
	/* the view: SPIs up to 63 (its console's 33, the RTC's 34) */
	EXPECT_EQ(1, mmio_read(guest_gicd_base() + GICD_TYPER) & 0x1f);
	guest_printf(
	    "ownership: spi35/39/48 enabled=%d priority=%u router=%lu\n",
	    guest_irq_enabled(39), guest_irq_priority(39),
	    guest_irq_router(39));
}

/* --- the RTC: a level-sensitive pass-through interrupt ------------------ */

static volatile uint32_t rtc_count;
static volatile uint32_t rtc_vcpu = 0xff;
static volatile uint32_t rtc_mis;

static void rtc_interrupt(uint32_t intid, void *arg)
{
	(void)intid;
	(void)arg;
	rtc_vcpu = guest_vcpu_index();
	rtc_mis |= mmio_read(RTCMIS);
	mmio_write(RTCICR, 1); /* the line drops */
	__asm__ volatile("dsb sy" ::: "memory");
	rtc_count++;
}

TEST(rtc, level_interrupt_once_per_match_on_vcpu_1)
{
	uint32_t done;

	guest_irq_register(RTC_INTID, rtc_interrupt, NULL);
	guest_irq_set_priority(RTC_INTID, 0x40);
	guest_irq_set_edge(RTC_INTID, false);
	guest_irq_route(RTC_INTID, 1);
	guest_irq_enable(RTC_INTID);
	mmio_write(RTCIMSC, 0);
	mmio_write(RTCICR, 1);
	/* the intruder tries its worst now */
	SHARED[SHARED_OWNER_READY] = 1;
	done = poll_until(&SHARED[SHARED_INTRUDER_DONE], 1, 20000);
	EXPECT_EQ(1, done);
	EXPECT_TRUE(guest_irq_enabled(RTC_INTID));
	EXPECT_EQ(0x40, guest_irq_priority(RTC_INTID));
	EXPECT_EQ(1, guest_irq_router(RTC_INTID));
	EXPECT_EQ(0, mmio_read(guest_gicd_base() + GICD_ICFGR +
			       4 * (RTC_INTID / 16)) &
			 (2u << (2 * (RTC_INTID % 16))));
	EXPECT_EQ(0, mmio_read(guest_gicd_base() + GICD_ISPENDR + 4) &
			 (1u << (RTC_INTID % 32)));

	mmio_write(RTCIMSC, 1);
	for (uint32_t m = 1; m <= RTC_MATCHES; m++) {
		uint32_t dr = mmio_read(RTCDR);
		uint32_t later = dr + 2;

		mmio_write(RTCMR, dr + 1);
		EXPECT_EQ(m, poll_until(&rtc_count, m, 5000));
		/* a second later it has not come again */
		for (int i = 0; i < 5000 && mmio_read(RTCDR) < later; i++) {
			poll_until(&rtc_count, m + 1, 1);
		}
		EXPECT_TRUE(mmio_read(RTCDR) >= later);
		EXPECT_EQ(m, rtc_count);
		EXPECT_EQ(0, mmio_read(RTCRIS));
	}
	mmio_write(RTCIMSC, 0);
	guest_irq_disable(RTC_INTID);
	EXPECT_EQ(1, rtc_vcpu);
	EXPECT_EQ(1, rtc_mis);
	/* the intruder's SGIs reached none of the owner's vCPUs */
	ping();
	EXPECT_EQ(pings_sent, sgi_count[1][SGI_PING]);
	EXPECT_EQ(0, sgi_count[0][SGI_PING]);
	guest_printf("rtc: matches=%u interrupts=%u vcpu=%u; pings sent=%u "
		     "taken=%u\n",
		     RTC_MATCHES, rtc_count, rtc_vcpu, pings_sent,
		     sgi_count[1][SGI_PING]);
}
