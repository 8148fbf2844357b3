/* Shared between the irq-test sources (see main.c). */
#pragma once

#include <guest/irq.h>
#include <guest/test.h>

/* The page both partitions share: the order of their steps. */
#define SHARED		     ((volatile uint32_t *)0x4f000000ull)
#define SHARED_OWNER_READY   0 /* owner: SPI 34 set up (1) */
#define SHARED_INTRUDER_DONE 1 /* intruder: its attempts made (1) */

#define RTC_INTID 34 /* QEMU virt's PL031: SPI 2 */
#define RTC_BASE  0x09010000ull

/* SGIs between the owner's vCPUs */
#define SGI_PING  1 /* to vCPU 1: it replies */
#define SGI_REPLY 2 /* to vCPU 0 */
#define SGI_A	  3 /* both vCPUs count it; vCPU 1 replies */
#define SGI_B	  4
#define SGI_STOP  15 /* vCPU 1 stops */

/* Counts of SGIs each vCPU of the owner took, by INTID. */
extern volatile uint32_t sgi_count[2][16];
/* vCPU 1 is serving (its interface is on, its handlers set). */
extern volatile uint32_t secondary_ready;

/* Waits, polling with interrupts unmasked, until *v >= want or `ms`
 * milliseconds passed; returns *v. */
uint32_t poll_until(const volatile uint32_t *v, uint32_t want, uint32_t ms);
