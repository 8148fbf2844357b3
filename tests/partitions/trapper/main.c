/*
 * What a partition gets for instructions the hypervisor traps, and what
 * survives of its EL1 state across SYSTEM_RESET and CPU_OFF/CPU_ON.
 * The first boot dirties FP/SIMD, timer, debug and PMU registers and
 * resets itself; the second checks they start clean. The shared page
 * 0x4f000000 carries the boot count across the reset.
 */
#include <bulkhead/psci.h>
#include <guest/test.h>

#define SHARED	       ((volatile uint64_t *)0x4f000000ull)
#define PATTERN	       0x5a5a5a5a5a5a5a5aull
#define TRAPS_TO_FLOOD 20

/* Each probe below: one instruction, then ret. Called with
 * guest_probe_exec, which comes back here if the instruction traps. */
__asm__(".pushsection .text\n"
	".global probe_untrapped_register\n"
	"probe_untrapped_register:\n"
	"	mrs x0, mdrar_el1\n" /* trapped, not emulated */
	"	ret\n"
	".global probe_actlr\n"
	"probe_actlr:\n"
	"	mov x1, #0xff\n"
	"	msr actlr_el1, x1\n"
	"	mrs x0, actlr_el1\n"
	"	ret\n"
	".global probe_set_way\n"
	"probe_set_way:\n"
	"	dc isw, xzr\n"
	"	dc csw, xzr\n"
	"	dc cisw, xzr\n"
	"	mov x0, #1\n"
	"	ret\n"
	".global probe_erridr\n"
	"probe_erridr:\n"
	"	mov x0, #0xff\n"
	"	mrs x0, s3_0_c5_c3_0\n" /* ERRIDR_EL1 */
	"	ret\n"
	".popsection\n");

void probe_untrapped_register(void);
void probe_actlr(void);
void probe_set_way(void);
void probe_erridr(void);

/* Calls `fn`; returns its x0, or ~0 with *abort set if it trapped. */
static uint64_t call_probe(void (*fn)(void), struct guest_abort *abort)
{
	uint64_t (*f)(void) = (uint64_t(*)(void))fn;
	struct guest_abort a = {0};
	uint64_t x0 = 0;

	/* guest_probe_exec discards x0: read it back through a second
	 * call when the first completed */
	if (!guest_probe_exec((uintptr_t)fn, &a)) {
		*abort = a;
		return ~0ull;
	}
	x0 = f();
	*abort = a;
	return x0;
}

TEST(traps, a_trapped_register_not_emulated_is_undefined)
{
	struct guest_abort a;

	call_probe(probe_untrapped_register, &a);
	EXPECT_TRUE(a.taken);
	EXPECT_EQ(0x00, ESR_EC(a.esr));	 /* Unknown reason */
	EXPECT_EQ(1, (a.esr >> 25) & 1); /* IL: a 32-bit instruction */
	EXPECT_EQ(0, a.esr & 0x1ffffff); /* ISS zero */
	EXPECT_EQ((uintptr_t)probe_untrapped_register, a.elr);
}

TEST(traps, actlr_el1_reads_zero_and_ignores_writes)
{
	struct guest_abort a;

	EXPECT_EQ(0, call_probe(probe_actlr, &a));
	EXPECT_FALSE(a.taken);
}

TEST(traps, set_way_cache_maintenance_does_nothing)
{
	struct guest_abort a;

	EXPECT_EQ(1, call_probe(probe_set_way, &a));
	EXPECT_FALSE(a.taken);
}

TEST(traps, ras_error_records_read_zero)
{
	struct guest_abort a;

	EXPECT_EQ(0, call_probe(probe_erridr, &a));
	EXPECT_FALSE(a.taken);
}

TEST(traps, a_flood_of_traps_stays_a_partition_problem)
{
	/* the console shows a few of these and then says it stops (the
	 * boot test counts the lines) */
	for (int i = 0; i < TRAPS_TO_FLOOD; i++) {
		struct guest_abort a;

		call_probe(probe_untrapped_register, &a);
		EXPECT_TRUE(a.taken);
	}
}

/* --- state across reset -------------------------------------------------- */

static void enable_fp(void)
{
	uint64_t cpacr;

	__asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
	cpacr |= 3ull << 20; /* FPEN: no trap */
	__asm__ volatile("msr cpacr_el1, %0\n\tisb" ::"r"(cpacr));
}

static void dirty_fp(void)
{
	enable_fp();
	__asm__ volatile(".arch_extension fp\n\t"
			 ".arch_extension simd\n\t"
			 "dup v0.2d, %0\n\t"
			 "dup v17.2d, %0\n\t"
			 "dup v31.2d, %0\n\t"
			 "msr fpcr, %1" ::"r"(PATTERN),
			 "r"(1ull << 24) /* FZ */
			 : "v0", "v17", "v31");
}

/* The OR of v0, v17, v31 (both halves) and FPCR: 0 when all are clean. */
static uint64_t fp_state(void)
{
	uint64_t lo0, hi0, lo17, hi17, lo31, hi31, fpcr;

	enable_fp();
	__asm__ volatile(".arch_extension fp\n\t"
			 ".arch_extension simd\n\t"
			 "mov %0, v0.d[0]\n\tmov %1, v0.d[1]\n\t"
			 "mov %2, v17.d[0]\n\tmov %3, v17.d[1]\n\t"
			 "mov %4, v31.d[0]\n\tmov %5, v31.d[1]\n\t"
			 "mrs %6, fpcr"
			 : "=r"(lo0), "=r"(hi0), "=r"(lo17), "=r"(hi17),
			   "=r"(lo31), "=r"(hi31), "=r"(fpcr));
	return lo0 | hi0 | lo17 | hi17 | lo31 | hi31 | fpcr;
}

static void dirty_el1_state(void)
{
	dirty_fp();
	__asm__ volatile("msr cntv_cval_el0, %0\n\t"
			 "msr cntv_ctl_el0, %1\n\t"
			 "msr dbgbvr0_el1, %0\n\t"
			 "msr pmcntenset_el0, %2\n\t"
			 "msr pmuserenr_el0, %3\n\t"
			 "isb" ::"r"(PATTERN),
			 "r"(3ull), /* ENABLE, IMASK */
			 "r"(1ull << 31), "r"(1ull));
}

TEST(traps, reset_leaves_no_el1_state_behind)
{
	uint64_t cval, ctl, bvr, cnten, userenr;

	ASSERT_EQ(1, SHARED[0]); /* the second boot */
	EXPECT_EQ(0, fp_state());
	__asm__ volatile("mrs %0, cntv_cval_el0\n\t"
			 "mrs %1, cntv_ctl_el0\n\t"
			 "mrs %2, dbgbvr0_el1\n\t"
			 "mrs %3, pmcntenset_el0\n\t"
			 "mrs %4, pmuserenr_el0"
			 : "=r"(cval), "=r"(ctl), "=r"(bvr), "=r"(cnten),
			   "=r"(userenr));
	EXPECT_EQ(0, cval);
	EXPECT_EQ(0, ctl & 1);
	EXPECT_EQ(0, bvr);
	EXPECT_EQ(0, cnten);
	EXPECT_EQ(0, userenr);
}

static volatile uint64_t secondary_fp = ~0ull;
static volatile unsigned int secondary_boots;

void secondary_main(unsigned int vcpu)
{
	(void)vcpu;
	secondary_fp = fp_state();
	dirty_fp();
	__atomic_add_fetch(&secondary_boots, 1, __ATOMIC_SEQ_CST);
}

TEST(traps, cpu_on_after_cpu_off_starts_with_clean_fp_state)
{
	for (unsigned int round = 1; round <= 2; round++) {
		ASSERT_EQ(PSCI_SUCCESS, guest_cpu_on(1));
		for (unsigned long i = 0;
		     secondary_boots < round ||
		     psci_affinity_info(1, 0) != PSCI_AFFINITY_OFF;
		     i++) {
			ASSERT_TRUE(i < 100000000);
		}
		/* the second start must not see what the first left */
		EXPECT_EQ(0, secondary_fp);
	}
}

int main(void)
{
	if (guest_self().name[0] == 'w') {
		return 0; /* the witness: it only holds the shared page */
	}
	if (SHARED[0] == 0) {
		/* first boot: dirty the state, come back */
		SHARED[0] = 1;
		dirty_el1_state();
		guest_printf("trapper: first boot, resetting\n");
		psci_system_reset();
	}
	return test_run_suite("traps");
}
