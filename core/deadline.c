/* The hypervisor's deadlines per physical CPU on its one EL2 physical
 * timer (core/include/core/deadline.h). */
#include <core/arch.h>
#include <core/deadline.h>
#include <core/partition.h>

/* Arms the timer for the earliest deadline of `d`, or stops it. */
static void rearm(struct cpu_deadlines *d)
{
	uint64_t first = 0;

	for (uint32_t i = 0; i < DEADLINE_PURPOSES; i++) {
		if (d->at[i] != 0 && (first == 0 || d->at[i] < first)) {
			first = d->at[i];
		}
	}
	if (first == d->armed) {
		return;
	}
	d->armed = first;
	if (first == 0) {
		arch_hyp_timer_stop();
	} else {
		arch_hyp_timer_arm(first);
	}
}

void deadline_set(struct cpu *c, enum deadline_purpose purpose, uint64_t when)
{
	c->deadlines.at[purpose] = when != 0 ? when : 1; /* 0 is none */
	rearm(&c->deadlines);
}

void deadline_clear(struct cpu *c, enum deadline_purpose purpose)
{
	c->deadlines.at[purpose] = 0;
	rearm(&c->deadlines);
}

uint64_t deadline_after_ms(uint32_t ms)
{
	return arch_counter_now() + arch_counter_hz() * ms / 1000;
}

uint32_t deadline_expired(struct cpu *c)
{
	struct cpu_deadlines *d = &c->deadlines;
	uint64_t now;
	uint32_t expired = 0;

	/* the timer's output is a level: it stays high until stopped */
	arch_hyp_timer_stop();
	d->armed = 0;
	now = arch_counter_now();
	for (uint32_t i = 0; i < DEADLINE_PURPOSES; i++) {
		if (d->at[i] != 0 && d->at[i] <= now) {
			d->at[i] = 0;
			expired |= 1u << i;
		}
	}
	rearm(d);
	return expired;
}
