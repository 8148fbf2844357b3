/* The intruder's tests: the owner's interrupt and vCPUs are out of reach. */
#include "common.h"

static volatile uint32_t own_sgis;

static void own_sgi(uint32_t intid, void *arg)
{
	(void)intid;
	(void)arg;
	own_sgis++;
}

static uint32_t bank_bit(uint64_t bank, uint32_t intid)
{
	return (*(volatile uint32_t *)(uintptr_t)(guest_gicd_base() + bank +
						  4 * (intid / 32)) >>
		(intid % 32)) &
	       1;
}

TEST(intruder, owner_spi_reads_zero_and_ignores_writes)
{
	uint64_t ctlr = guest_gicd_base() + GICD_CTLR;

	EXPECT_EQ(1, poll_until(&SHARED[SHARED_OWNER_READY], 1, 60000));
	guest_irq_disable(RTC_INTID);
	guest_irq_enable(RTC_INTID);
	guest_irq_set_pending(RTC_INTID);
	*(volatile uint32_t *)(uintptr_t)(guest_gicd_base() + GICD_ISACTIVER +
					  4) = 1u << (RTC_INTID % 32);
	guest_irq_set_priority(RTC_INTID, 0);
	guest_irq_set_edge(RTC_INTID, true);
	guest_irq_route(RTC_INTID, 0);
	EXPECT_FALSE(guest_irq_enabled(RTC_INTID));
	EXPECT_EQ(0, bank_bit(GICD_ISPENDR, RTC_INTID));
	EXPECT_EQ(0, bank_bit(GICD_ISACTIVER, RTC_INTID));
	EXPECT_EQ(0, guest_irq_priority(RTC_INTID));
	EXPECT_EQ(0, guest_irq_router(RTC_INTID));
	/* its own distributor off and on again: its view only */
	*(volatile uint32_t *)(uintptr_t)ctlr = 0;
	EXPECT_EQ(0,
		  *(volatile uint32_t *)(uintptr_t)ctlr & GICD_CTLR_ENABLE_G1A);
	*(volatile uint32_t *)(uintptr_t)ctlr =
	    GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1A;
	guest_printf(
	    "intruder: spi34 enabled=%d pending=%u active=%u "
	    "priority=%u router=%lu\n",
	    guest_irq_enabled(RTC_INTID), bank_bit(GICD_ISPENDR, RTC_INTID),
	    bank_bit(GICD_ISACTIVER, RTC_INTID), guest_irq_priority(RTC_INTID),
	    guest_irq_router(RTC_INTID));
}

TEST(intruder, sgis_stay_inside_the_partition)
{
	guest_irq_register(9, own_sgi, NULL);
	guest_irq_enable(9);
	/* the owner's vCPUs 0 and 1 by index, and "every other vCPU" */
	guest_sgi_send(SGI_PING, 0x3);
	guest_sgi_send_others(SGI_PING);
	guest_sgi_send(SGI_STOP, 0x2);
	/* its own SGI to itself arrives, once */
	guest_sgi_send(9, 0x1);
	guest_irq_wait_count(&own_sgis, 1);
	EXPECT_EQ(1, poll_until(&own_sgis, 2, 2));
}

TEST(intruder, owner_device_and_frames_abort)
{
	struct guest_abort abort;
	uint64_t value;

	/* the RTC is the owner's; the redistributor frame of a vCPU 1 it
	 * does not have */
	EXPECT_FALSE(guest_probe_read(RTC_BASE, &value, &abort));
	EXPECT_EQ(ESR_EC_DABT_CUR, ESR_EC(abort.esr));
	EXPECT_FALSE(guest_probe_read(guest_gicr_sgi_base(1) + GICD_ISENABLER,
				      &value, &abort));
	EXPECT_EQ(ESR_EC_DABT_CUR, ESR_EC(abort.esr));
	EXPECT_TRUE(guest_probe_read(guest_gicr_sgi_base(0) + GICD_ISENABLER,
				     &value, &abort));
}
