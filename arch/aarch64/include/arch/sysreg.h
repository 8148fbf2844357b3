/* System-register access and barriers. */
#pragma once

#include <stdint.h>

#define read_sysreg(name)                                                      \
	({                                                                     \
		uint64_t v_;                                                   \
		__asm__ volatile("mrs %0, " #name : "=r"(v_));                 \
		v_;                                                            \
	})

#define write_sysreg(name, value)                                              \
	__asm__ volatile("msr " #name ", %0" ::"r"((uint64_t)(value))          \
			 : "memory")

#define isb()	 __asm__ volatile("isb" ::: "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")

/* ESR_ELx */
#define ESR_EC_SHIFT	      26
#define ESR_EC(esr)	      (((esr) >> ESR_EC_SHIFT) & 0x3f)
#define ESR_IL		      (1ull << 25)
#define ESR_EC_WFX	      0x01
#define ESR_EC_HVC64	      0x16
#define ESR_EC_SMC64	      0x17
#define ESR_EC_SYSREG	      0x18
#define ESR_EC_IABT_LOWER     0x20
#define ESR_EC_IABT_CUR	      0x21
#define ESR_EC_DABT_LOWER     0x24
#define ESR_EC_DABT_CUR	      0x25
#define ESR_ISS_ISV	      (1ull << 24)
#define ESR_ISS_SAS(esr)      (((esr) >> 22) & 3)
#define ESR_ISS_SSE	      (1ull << 21)
#define ESR_ISS_SRT(esr)      (((esr) >> 16) & 0x1f)
#define ESR_ISS_SF	      (1ull << 15)
#define ESR_ISS_WNR	      (1ull << 6)
#define ESR_ISS_S1PTW	      (1ull << 7)
#define ESR_FSC_SYNC_EXTERNAL 0x10

/* HCR_EL2 */
#define HCR_VM	 (1ull << 0)
#define HCR_SWIO (1ull << 1)
#define HCR_FMO	 (1ull << 3)
#define HCR_IMO	 (1ull << 4)
#define HCR_AMO	 (1ull << 5)
#define HCR_TWI	 (1ull << 13)
#define HCR_TSC	 (1ull << 19)
#define HCR_RW	 (1ull << 31)

/* MDCR_EL2 */
#define MDCR_HPMD (1ull << 17) /* no event counting at EL2 */
#define MDCR_HCCD (1ull << 23) /* no cycle counting at EL2 */

/* PSTATE / SPSR */
#define PSR_MODE_EL1H 0x5
#define PSR_MODE_EL1T 0x4
#define PSR_MODE_EL0T 0x0
#define PSR_MODE_MASK 0xf
#define PSR_DAIF      (0xfull << 6)

#define MPIDR_AFFINITY_MASK 0xff00ffffffull
