/* Guest run time: MMU, vCPU start-up, SMCCC/PSCI calls, abort probes. */
#include <bulkhead/hypercall.h>
#include <bulkhead/psci.h>
#include <guest/guest.h>

#define STACK_SIZE 16384

uint8_t guest_stacks[CONFIG_MAX_CPUS][STACK_SIZE] __attribute__((aligned(16)));

extern char guest_vectors[];

/* Stage 1 at EL1: identity map of 4 GiB, first GiB device, rest normal. */
static uint64_t l1_table[512] __attribute__((aligned(4096)));

#define DESC_BLOCK     0x1ull
#define DESC_AF	       (1ull << 10)
#define DESC_SH_INNER  (3ull << 8)
#define DESC_ATTR(i)   ((uint64_t)(i) << 2)
#define DESC_PXN       (1ull << 53)
#define DESC_UXN       (1ull << 54)
#define SCTLR_EL1_RES1 0x30d00800ull
#define SCTLR_M	       (1ull << 0)
#define SCTLR_C	       (1ull << 2)
#define SCTLR_SA       (1ull << 3)
#define SCTLR_I	       (1ull << 12)

static void mmu_enable(void)
{
	__asm__ volatile("msr mair_el1, %0" ::"r"(0xff00ull));
	__asm__ volatile("msr tcr_el1, %0" ::"r"(32ull | (1ull << 8) |
						 (1ull << 10) | (3ull << 12) |
						 (1ull << 23) | (2ull << 32)));
	__asm__ volatile("msr ttbr0_el1, %0" ::"r"(l1_table));
	__asm__ volatile("isb; tlbi vmalle1; dsb nsh; isb" ::: "memory");
	__asm__ volatile("msr sctlr_el1, %0; isb" ::"r"(SCTLR_EL1_RES1 |
							SCTLR_M | SCTLR_C |
							SCTLR_SA | SCTLR_I)
			 : "memory");
}

/* Entered from start.S. */
void guest_boot(uint64_t dtb);
void guest_secondary_boot(uint64_t vcpu);

static void cpu_setup(void)
{
	__asm__ volatile("msr vbar_el1, %0; isb" ::"r"(guest_vectors));
	mmu_enable();
}

/* x0 at the boot vCPU's entry: the IPA of the partition's device tree. */
static uint64_t boot_dtb;

const void *guest_dtb(void)
{
	return (const void *)(uintptr_t)boot_dtb;
}

/* Called by start.S with the x0 the partition was started with (bss is
 * clear by then). */
void guest_boot(uint64_t dtb)
{
	boot_dtb = dtb;
	l1_table[0] = DESC_BLOCK | DESC_AF | DESC_PXN | DESC_UXN | DESC_ATTR(0);
	for (uint64_t i = 1; i < 4; i++) {
		l1_table[i] = (i << 30) | DESC_BLOCK | DESC_AF | DESC_SH_INNER |
			      DESC_ATTR(1);
	}
	__asm__ volatile("dsb sy" ::: "memory");
	cpu_setup();
	main();
	psci_system_off();
}

__attribute__((weak)) void secondary_main(unsigned int vcpu)
{
	(void)vcpu;
}

void guest_secondary_boot(uint64_t vcpu)
{
	cpu_setup();
	secondary_main((unsigned int)vcpu);
	psci_cpu_off();
}

void guest_smccc(uint64_t regs[18], int use_smc);

static struct smccc_res call(int use_smc, uint64_t fn, uint64_t a1, uint64_t a2,
			     uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6,
			     uint64_t a7)
{
	struct smccc_res r = {{fn, a1, a2, a3, a4, a5, a6, a7}};

	guest_smccc(r.x, use_smc);
	return r;
}

struct smccc_res hvc_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7)
{
	return call(0, fn, a1, a2, a3, a4, a5, a6, a7);
}

struct smccc_res smc_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7)
{
	return call(1, fn, a1, a2, a3, a4, a5, a6, a7);
}

static int64_t call1(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return (int64_t)hvc_call(fn, a1, a2, a3, 0, 0, 0, 0).x[0];
}

int64_t psci_version(void)
{
	return call1(PSCI_VERSION, 0, 0, 0);
}

int64_t psci_features(uint32_t fn)
{
	return call1(PSCI_FEATURES, fn, 0, 0);
}

int64_t psci_cpu_on_raw(uint64_t target, uint64_t entry, uint64_t arg)
{
	return call1(PSCI_CPU_ON_64, target, entry, arg);
}

int64_t guest_cpu_on(unsigned int vcpu)
{
	return psci_cpu_on_raw(vcpu, (uint64_t)guest_secondary_entry, vcpu);
}

int64_t psci_affinity_info(uint64_t target, uint64_t level)
{
	return call1(PSCI_AFFINITY_INFO_64, target, level, 0);
}

_Noreturn void psci_cpu_off(void)
{
	call1(PSCI_CPU_OFF, 0, 0, 0);
	for (;;) {
		__asm__ volatile("wfi");
	}
}

_Noreturn void psci_system_off(void)
{
	call1(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;) {
		__asm__ volatile("wfi");
	}
}

_Noreturn void psci_system_reset(void)
{
	call1(PSCI_SYSTEM_RESET, 0, 0, 0);
	for (;;) {
		__asm__ volatile("wfi");
	}
}

struct guest_self guest_self(void)
{
	struct smccc_res r = hvc_call(BULKHEAD_SELF_INFO, 0, 0, 0, 0, 0, 0, 0);
	struct guest_self s = {
	    .id = (uint16_t)r.x[1],
	    .vcpu = (uint16_t)r.x[2],
	    .cpu = (uint16_t)r.x[3],
	    .mem_base = r.x[4],
	    .mem_size = r.x[5],
	    .vcpu_count = (uint16_t)r.x[8],
	};

	for (int i = 0; i < 16; i++) {
		s.name[i] = (char)(r.x[6 + i / 8] >> (8 * (i % 8)));
	}
	s.name[16] = '\0';
	return s;
}

unsigned int guest_vcpu_index(void)
{
	uint64_t mpidr;

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	return (unsigned int)(mpidr & 0xff);
}

/* --- abort probes -----------------------------------------------------------
 */
struct exception_frame {
	uint64_t x[31];
	uint64_t elr;
	uint64_t spsr;
};

enum probe_mode { PROBE_NONE, PROBE_SKIP, PROBE_RETURN };

static volatile enum probe_mode probe_armed[CONFIG_MAX_CPUS];
static struct guest_abort probe_result[CONFIG_MAX_CPUS];

/* Entered from vectors.S; `kind`: 0 synchronous, 1 IRQ, 2 FIQ, 3 SError. */
void guest_exception(struct exception_frame *f, uint64_t kind);
/* guest/irq.c */
void guest_irq_dispatch(void);

#define EXCEPTION_IRQ 1

void guest_exception(struct exception_frame *f, uint64_t kind)
{
	unsigned int cpu = guest_vcpu_index();
	uint64_t esr, far;

	if (kind == EXCEPTION_IRQ) {
		guest_irq_dispatch();
		return;
	}

	__asm__ volatile("mrs %0, esr_el1" : "=r"(esr));
	__asm__ volatile("mrs %0, far_el1" : "=r"(far));
	if (probe_armed[cpu] != PROBE_NONE) {
		probe_result[cpu] = (struct guest_abort){
		    .taken = true, .esr = esr, .far = far, .elr = f->elr};
		/* skip the access, or return from the probed branch */
		f->elr = probe_armed[cpu] == PROBE_SKIP ? f->elr + 4 : f->x[30];
		probe_armed[cpu] = PROBE_NONE;
		return;
	}
	guest_printf("unexpected exception (kind %lu): ESR %#lx FAR %#lx ELR "
		     "%#lx SPSR %#lx; powering off\n",
		     kind, esr, far, f->elr, f->spsr);
	psci_system_off();
}

static void arm_probe(enum probe_mode mode)
{
	unsigned int cpu = guest_vcpu_index();

	probe_result[cpu] = (struct guest_abort){.taken = false};
	probe_armed[cpu] = mode;
	__asm__ volatile("" ::: "memory");
}

static bool finish_probe(struct guest_abort *abort)
{
	unsigned int cpu = guest_vcpu_index();

	probe_armed[cpu] = PROBE_NONE;
	if (abort != NULL) {
		*abort = probe_result[cpu];
	}
	return !probe_result[cpu].taken;
}

bool guest_probe_read(uint64_t addr, uint64_t *value, struct guest_abort *abort)
{
	uint64_t v = 0;

	arm_probe(PROBE_SKIP);
	__asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(addr) : "memory");
	if (value != NULL) {
		*value = v;
	}
	return finish_probe(abort);
}

bool guest_probe_write(uint64_t addr, uint64_t value, struct guest_abort *abort)
{
	arm_probe(PROBE_SKIP);
	__asm__ volatile("str %0, [%1]" ::"r"(value), "r"(addr) : "memory");
	return finish_probe(abort);
}

bool guest_probe_exec(uint64_t addr, struct guest_abort *abort)
{
	arm_probe(PROBE_RETURN);
	__asm__ volatile("blr %0"
			 :
			 : "r"(addr)
			 : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8",
			   "x9", "x10", "x11", "x12", "x13", "x14", "x15",
			   "x16", "x17", "x30", "memory");
	return finish_probe(abort);
}

int32_t (*guest_handover_hook)(void);

_Noreturn void guest_handover(uint64_t entry, uint64_t arg)
{
	struct guest_self me = guest_self();
	uint64_t ctr;
	uint64_t line;
	uint64_t sctlr;

	if (guest_handover_hook != NULL) {
		int32_t err = guest_handover_hook();

		if (err != 0) {
			guest_printf("handover: memory is still shared (%d)\n",
				     err);
		}
	}
	/* what the next stage reads must be in memory, not in the cache */
	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	line = 4ull << ((ctr >> 16) & 0xf);
	for (uint64_t a = me.mem_base; a < me.mem_base + me.mem_size;
	     a += line) {
		__asm__ volatile("dc civac, %0" ::"r"(a) : "memory");
	}
	__asm__ volatile("dsb sy; mrs %0, sctlr_el1" : "=r"(sctlr));
	sctlr &= ~(SCTLR_M | SCTLR_C | SCTLR_I);
	__asm__ volatile("msr sctlr_el1, %0; isb; ic iallu; dsb sy; isb\n\t"
			 "mov x0, %1\n\t"
			 "br %2" ::"r"(sctlr),
			 "r"(arg), "r"(entry)
			 : "x0", "memory");
	__builtin_unreachable();
}
