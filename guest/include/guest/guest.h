/*
 * Bulkhead guest SDK for bare-metal partitions at EL1.
 *
 * Write `int main(void)` (boot vCPU; returning powers the partition off) and
 * optionally `void secondary_main(unsigned int vcpu)` (vCPUs started with
 * guest_cpu_on(); returning turns that vCPU off).
 */
#pragma once

/* Partition images are position independent and relocate themselves:
 * every symbol is local to the image, so no GOT entry is needed. */
#pragma GCC visibility push(hidden)

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- SMCCC calls ---------------------------------------------------------- */
struct smccc_res {
	uint64_t x[18];
};

/* Calls function `fn` with x1..x7 = args over HVC (or SMC); x0..x17 back. */
struct smccc_res hvc_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7);
struct smccc_res smc_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7);

/* --- PSCI ----------------------------------------------------------------- */
int64_t psci_version(void);
int64_t psci_features(uint32_t fn);
/* Starts vCPU `vcpu` at guest_secondary_entry -> secondary_main(vcpu). */
int64_t guest_cpu_on(unsigned int vcpu);
/* Where a secondary vCPU starts: psci_cpu_on_raw(target,
 * (uintptr_t)guest_secondary_entry, context) runs secondary_main(context)
 * (low 32 bits) on the vCPU's own stack, whatever the context. */
extern char guest_secondary_entry[];
int64_t psci_cpu_on_raw(uint64_t target, uint64_t entry, uint64_t arg);
int64_t psci_affinity_info(uint64_t target, uint64_t level);
_Noreturn void psci_cpu_off(void);
_Noreturn void psci_system_off(void);
_Noreturn void psci_system_reset(void);

/*
 * Hands the partition over to a next-stage image at `entry` (x0 = arg), as
 * a boot loader would: first every shared-memory pool is unshared (see
 * guest/shpool.h; a failure is printed, the hand-over goes on), then the
 * data cache is cleaned for the partition's RAM and the MMU and caches
 * are turned off.
 */
_Noreturn void guest_handover(uint64_t entry, uint64_t arg);

/* Run by guest_handover() before anything else (set by the shared-memory
 * pool; NULL when there is nothing to undo). */
extern int32_t (*guest_handover_hook)(void);

/* --- Who am I (Bulkhead vendor call BULKHEAD_SELF_INFO) --------------------
 */
struct guest_self {
	uint16_t id;
	uint16_t vcpu;
	uint16_t cpu;
	uint16_t vcpu_count;
	uint64_t mem_base;
	uint64_t mem_size;
	char name[17];
};

struct guest_self guest_self(void);
unsigned int guest_vcpu_index(void);

/* --- Console -------------------------------------------------------------- */
/* The emulated PL011 (default: 0x09000000, the usual manifest address). */
void guest_console_set_base(uint64_t base);
void guest_putc(char c);
void guest_puts(const char *s);
int guest_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
int guest_vprintf(const char *format, va_list ap);
/* A received character, or -1 when none is waiting. */
int guest_getc(void);

/* --- Probing accesses that may abort ---------------------------------------
 */
struct guest_abort {
	bool taken;
	uint64_t esr; /* ESR_EL1 the abort arrived with */
	uint64_t far; /* FAR_EL1 */
	uint64_t elr; /* where it happened */
};

/* Each returns true when the access completed, false when it aborted (the
 * abort's registers are in *abort). */
bool guest_probe_read(uint64_t addr, uint64_t *value,
		      struct guest_abort *abort);
bool guest_probe_write(uint64_t addr, uint64_t value,
		       struct guest_abort *abort);
bool guest_probe_exec(uint64_t addr, struct guest_abort *abort);

#define ESR_EC(esr)	(((esr) >> 26) & 0x3f)
#define ESR_EC_DABT_CUR 0x25
#define ESR_EC_IABT_CUR 0x21
#define ESR_FSC(esr)	((esr)&0x3f)
#define ESR_WNR		(1u << 6)

/* --- Small helpers ---------------------------------------------------------
 */
static inline void guest_cpu_relax(void)
{
	__asm__ volatile("yield" ::: "memory");
}

int main(void);
void secondary_main(unsigned int vcpu);
