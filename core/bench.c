/* CONFIG_BENCH_BOOT_COUNT: the instruction count of a partition's boot. */
#include <core/bench.h>
#include <core/log.h>

#define INIT_LINE "Run /init as init process"

static bool contains(const char *text, size_t len, const char *word)
{
	size_t n = 0;

	while (word[n] != '\0') {
		n++;
	}
	for (size_t i = 0; i + n <= len; i++) {
		size_t j = 0;

		while (j < n && text[i + j] == word[j]) {
			j++;
		}
		if (j == n) {
			return true;
		}
	}
	return false;
}

void bench_boot_sample(struct cpu *c)
{
	uint64_t el2;
	uint64_t guest;

	arch_boot_count(&el2, &guest);
	/* 32-bit counters wrap; between two samples far fewer pass */
	__atomic_store_n(&c->count_el2,
			 c->count_el2 + (uint32_t)((uint32_t)el2 - c->raw_el2),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&c->count_guest,
			 c->count_guest +
			     (uint32_t)((uint32_t)guest - c->raw_guest),
			 __ATOMIC_RELAXED);
	c->raw_el2 = (uint32_t)el2;
	c->raw_guest = (uint32_t)guest;
}

void bench_boot_line(struct vcpu *v, const char *line, size_t len)
{
	struct partition *p = v->part;
	uint64_t el2 = 0;
	uint64_t guest = 0;

	if (!IS_ENABLED(CONFIG_BENCH_BOOT_COUNT) ||
	    !contains(line, len, INIT_LINE)) {
		return;
	}
	/* this CPU now; the partition's other CPUs at their last exit */
	bench_boot_sample(&cpus[v->cpu]);
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		const struct cpu *c = &cpus[p->vcpus[i].cpu];

		el2 += __atomic_load_n(&c->count_el2, __ATOMIC_RELAXED);
		guest += __atomic_load_n(&c->count_guest, __ATOMIC_RELAXED);
	}
	INFO("BENCH-BOOT partition=%s cpus=%u el2=%lu total=%lu", p->m->name,
	     (unsigned int)p->m->vcpu_count, (unsigned long)el2,
	     (unsigned long)(el2 + guest));
}
