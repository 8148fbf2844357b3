/* System-register access and barriers. */
#pragma once

#include <stdint.h>

/* `name` is expanded first: a macro may give a register's S3_... form
 * (for registers the assembler knows only with an extension enabled). */
#define read_sysreg(name) read_sysreg_(name)
#define read_sysreg_(name)                                                     \
	({                                                                     \
		uint64_t v_;                                                   \
		__asm__ volatile("mrs %0, " #name : "=r"(v_));                 \
		v_;                                                            \
	})

#define write_sysreg(name, value) write_sysreg_(name, value)
#define write_sysreg_(name, value)                                             \
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
#define ESR_ISS_FSC(esr)      ((esr)&0x3f)
#define ESR_FSC_SYNC_EXTERNAL 0x10
#define ESR_EC_UNKNOWN	      0x00

/* EC 0x18 (trapped MSR, MRS, SYS): ISS fields */
#define ESR_SYS_READ	 (1ull << 0)
#define ESR_SYS_CRM(esr) (((esr) >> 1) & 0xf)
#define ESR_SYS_RT(esr)	 (((esr) >> 5) & 0x1f)
#define ESR_SYS_CRN(esr) (((esr) >> 10) & 0xf)
#define ESR_SYS_OP1(esr) (((esr) >> 14) & 0x7)
#define ESR_SYS_OP2(esr) (((esr) >> 17) & 0x7)
#define ESR_SYS_OP0(esr) (((esr) >> 20) & 0x3)
/* op0, op1, crn, crm, op2 of a system register or instruction */
#define SYS_ENC(op0, op1, crn, crm, op2)                                       \
	(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))
#define ESR_SYS_ENC(esr)                                                       \
	SYS_ENC(ESR_SYS_OP0(esr), ESR_SYS_OP1(esr), ESR_SYS_CRN(esr),          \
		ESR_SYS_CRM(esr), ESR_SYS_OP2(esr))

/* HCR_EL2 */
#define HCR_VM	  (1ull << 0)
#define HCR_SWIO  (1ull << 1)
#define HCR_FMO	  (1ull << 3)
#define HCR_IMO	  (1ull << 4)
#define HCR_AMO	  (1ull << 5)
#define HCR_TWI	  (1ull << 13)
#define HCR_TSC	  (1ull << 19)
#define HCR_TIDCP (1ull << 20) /* implementation-defined registers */
#define HCR_TACR  (1ull << 21) /* ACTLR_EL1 */
#define HCR_TSW	  (1ull << 22) /* data cache maintenance by set/way */
#define HCR_RW	  (1ull << 31)
#define HCR_TERR  (1ull << 36) /* RAS error record registers */
#define HCR_APK	  (1ull << 40) /* pointer authentication keys not trapped */
#define HCR_API	  (1ull << 41) /* pointer authentication not trapped */

/* CPTR_EL2 (E2H = 0) */
#define CPTR_RES1 0x32ffull    /* bits 0-7, 9, 12 (TSM), 13 */
#define CPTR_TZ	  (1ull << 8)  /* trap SVE */
#define CPTR_TSM  (1ull << 12) /* trap SME (RES1 without SME) */

/* MDCR_EL2 */
#define MDCR_TDRA (1ull << 11) /* trap debug ROM address registers */
#define MDCR_HPMD (1ull << 17) /* no event counting at EL2 */
#define MDCR_HCCD (1ull << 23) /* no cycle counting at EL2 */
#define MDCR_HPME (1ull << 7)  /* the counters from HPMN on count */
#define MDCR_HLP  (1ull << 26) /* ... and are 64 bits wide */

/* PSTATE / SPSR */
#define PSR_MODE_EL1H 0x5
#define PSR_MODE_EL1T 0x4
#define PSR_MODE_EL0T 0x0
#define PSR_MODE_MASK 0xf
#define PSR_DAIF      (0xfull << 6)

#define MPIDR_AFFINITY_MASK 0xff00ffffffull
