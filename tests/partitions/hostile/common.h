/*
 * The hostile scenario (tests/scenarios/hostile.dts): one image, three
 * roles chosen by the partition's name.
 *
 *   fuzzer  (ID 1, CPUs 0 and 1)  fuzz.c, fuzz_*.c
 *   victim  (ID 2, CPU 2)         victim.c
 *   checker (ID 3, CPU 3)         checker.c
 *
 * The fuzzer keeps everything that must survive its own resets (PRNG
 * state, call counts, the result table) in the `fuzzstate` region it
 * shares with the checker; the checker reads it but trusts none of it
 * beyond reporting. Victim and checker meet in the `sync` region.
 */
#pragma once

#include <guest/ffa.h>
#include <guest/irq.h>
#include <stdint.h>

#define ID_FUZZER  1
#define ID_VICTIM  2
#define ID_CHECKER 3

#define FUZZER_RAM   0x44000000ull
#define VICTIM_RAM   0x44400000ull
#define CHECKER_RAM  0x44800000ull
#define RAM_SIZE     0x00400000ull
#define HYP_RAM	     0x40200000ull
#define HYP_RAM_SIZE 0x00e00000ull

/* The fuzzer's arena: the only pages of its own RAM it names in calls
 * (buffers, constituents); its image, data and stacks stay below. */
#define ARENA	    (FUZZER_RAM + 0x200000ull)
#define ARENA_PAGES 512u
#define ARENA_SIZE  (ARENA_PAGES * 4096ull)

/* The victim's pattern: 2 MiB of its RAM, checked at the end. */
#define VICTIM_PATTERN	     (VICTIM_RAM + 0x100000ull)
#define VICTIM_PATTERN_PAGES 512u
#define VICTIM_PATTERN_SIZE  (VICTIM_PATTERN_PAGES * 4096ull)

/* The checker's pages to share with the victim, and those it offers the
 * fuzzer: one page, or BIG_OFFER_PAGES separate pages (every other one),
 * so that the retrieve response does not fit the fuzzer's RX buffer. */
#define CHECKER_SHARE	    (CHECKER_RAM + 0x100000ull)
#define CHECKER_SHARE_PAGES 256u
#define CHECKER_OFFER	    (CHECKER_RAM + 0x200000ull)
#define CHECKER_OFFER_PAGES 512u
#define CHECKER_OFFER_SIZE  (CHECKER_OFFER_PAGES * 4096ull)
#define BIG_OFFER_PAGES	    256u

#define FUZZSTATE 0x4f000000ull
#define SYNC	  0x4f010000ull

#define FUZZER_QUOTA  8 /* `mem-transactions` of each partition */
#define CHECKER_QUOTA 8

/* The test run's defaults (make test); make fuzz sets its own through
 * fuzz_config (mk/fuzz.mk). */
extern const uint64_t fuzz_config_seed;
extern const uint64_t fuzz_config_calls;

/* --- result table ----------------------------------------------------------
 * One row per kind of call or probe, one column per outcome: column 0 is
 * success (any non-error answer), columns 1..9 the FF-A error codes -1..-9
 * (PSCI: its return codes -1..-9; SMCCC: -1), column 10 anything the
 * contract does not allow (an anomaly). Probe rows use their own columns
 * (PROBE_*). */
#define RESULT_COLS 11
#define COL_OK	    0
#define COL_OTHER   10

enum probe_col {
	PROBE_DONE = 0,	  /* the access or instruction completed */
	PROBE_UNDEF = 1,  /* undefined instruction */
	PROBE_DABT = 2,	  /* data abort */
	PROBE_IABT = 3,	  /* instruction abort */
	PROBE_OTHER = 10, /* another exception */
};

enum row {
	/* FF-A: one row per function ID the fuzzer names on purpose */
	ROW_FFA_ERROR,
	ROW_FFA_SUCCESS_32,
	ROW_FFA_SUCCESS_64,
	ROW_FFA_INTERRUPT,
	ROW_FFA_VERSION,
	ROW_FFA_FEATURES,
	ROW_FFA_RX_RELEASE,
	ROW_FFA_RXTX_MAP_32,
	ROW_FFA_RXTX_MAP_64,
	ROW_FFA_RXTX_UNMAP,
	ROW_FFA_PARTITION_INFO_GET,
	ROW_FFA_ID_GET,
	ROW_FFA_MSG_POLL,
	ROW_FFA_MSG_WAIT,
	ROW_FFA_YIELD,
	ROW_FFA_RUN,
	ROW_FFA_MSG_SEND,
	ROW_FFA_DIRECT_REQ_32,
	ROW_FFA_DIRECT_REQ_64,
	ROW_FFA_DIRECT_RESP_32,
	ROW_FFA_DIRECT_RESP_64,
	ROW_FFA_MEM_DONATE_32,
	ROW_FFA_MEM_DONATE_64,
	ROW_FFA_MEM_LEND_32,
	ROW_FFA_MEM_LEND_64,
	ROW_FFA_MEM_SHARE_32,
	ROW_FFA_MEM_SHARE_64,
	ROW_FFA_MEM_RETRIEVE_REQ_32,
	ROW_FFA_MEM_RETRIEVE_REQ_64,
	ROW_FFA_MEM_RETRIEVE_RESP,
	ROW_FFA_MEM_RELINQUISH,
	ROW_FFA_MEM_RECLAIM,
	ROW_FFA_MEM_FRAG_RX,
	ROW_FFA_MEM_FRAG_TX,
	ROW_FFA_SPM_ID_GET,
	ROW_FFA_MSG_SEND2,
	ROW_FFA_CONSOLE_LOG_32,
	ROW_FFA_CONSOLE_LOG_64,
	ROW_FFA_PARTITION_INFO_GET_REGS,
	ROW_FFA_DIRECT_REQ2,
	ROW_FFA_DIRECT_RESP2,
	ROW_FFA_NOTIFICATION_BIND,
	ROW_FFA_NOTIFICATION_UNBIND,
	ROW_FFA_NOTIFICATION_SET,
	ROW_FFA_NOTIFICATION_GET,
	ROW_FFA_NOTIFICATION_INFO_GET_32,
	ROW_FFA_NOTIFICATION_INFO_GET_64,
	ROW_FFA_OTHER, /* any other ID in FF-A's range (BITMAP_CREATE, ...) */
	ROW_FFA_LAST = ROW_FFA_OTHER,
	/* PSCI */
	ROW_PSCI_VERSION,
	ROW_PSCI_CPU_SUSPEND,
	ROW_PSCI_CPU_OFF,
	ROW_PSCI_CPU_ON,
	ROW_PSCI_AFFINITY_INFO,
	ROW_PSCI_MIGRATE_INFO_TYPE,
	ROW_PSCI_SYSTEM_OFF,
	ROW_PSCI_SYSTEM_RESET,
	ROW_PSCI_FEATURES,
	ROW_PSCI_OTHER,
	ROW_PSCI_LAST = ROW_PSCI_OTHER,
	/* SMCCC and vendor calls */
	ROW_SMCCC_VERSION,
	ROW_SMCCC_ARCH_FEATURES,
	ROW_SMCCC_ARCH_OTHER,
	ROW_VENDOR_BULKHEAD,
	ROW_VENDOR_OTHER,
	ROW_SMCCC_OTHER_OWNER,
	ROW_SMCCC_YIELDING,
	ROW_SMCCC_IMMEDIATE, /* HVC/SMC with a non-zero immediate */
	ROW_SMCCC_LAST = ROW_SMCCC_IMMEDIATE,
	/* probes (PROBE_* columns) */
	ROW_PROBE_SYSREG_READ,
	ROW_PROBE_SYSREG_WRITE,
	ROW_PROBE_SYS_OP,
	ROW_PROBE_MMIO_READ,
	ROW_PROBE_MMIO_WRITE,
	ROW_PROBE_CONSOLE,
	ROW_PROBE_GIC,
	ROW_PROBE_EXEC,
	ROW_COUNT,
};

#define FUZZ_MAGIC 0x46555a5a53544154ull /* "FUZZSTAT" */

/* A memory offer from the checker to the fuzzer. */
struct fuzz_offer {
	uint64_t handle; /* 0: none */
	uint64_t address;
	uint32_t type; /* FFA_MEM_TYPE_SHARE or _LEND */
	uint32_t pages;
};

#define FUZZ_OFFERS 2
#define FUZZ_LEAKS  8

enum doorbell_kind {
	DOORBELL_MESSAGE = 1, /* send me an indirect message (MSG_WAIT) */
	DOORBELL_RUN = 2,     /* FFA_RUN me (WFI) */
};

struct fuzz_state {
	uint64_t magic;
	uint64_t seed;
	uint64_t target;      /* calls to make */
	uint64_t rng;	      /* vCPU 0's PRNG state */
	uint64_t calls;	      /* HVC/SMC calls made, both vCPUs */
	uint64_t calls_vcpu1; /* of which by vCPU 1 */
	uint64_t probes;      /* system register, MMIO and execute probes */
	uint64_t boots;
	uint64_t resets;     /* SYSTEM_RESETs it made */
	uint64_t next_reset; /* at this many calls */
	uint64_t bursts;     /* vCPU 1 started */
	uint64_t waits;	     /* blocking MSG_WAIT / WFI woken up */
	uint64_t anomalies;
	uint64_t start_count; /* CNTVCT at the first boot */
	uint64_t frequency;   /* CNTFRQ */
	uint64_t sends_ok;    /* memory sends that succeeded */
	uint64_t retrieves_ok;
	uint64_t fragments; /* MEM_FRAG_TX calls */
	uint64_t direct_ok; /* direct requests the victim answered */
	uint32_t go;	    /* checker: start */
	uint32_t final;	    /* fuzzer: done, about to power off */
	uint32_t doorbell;  /* fuzzer: sequence number of its request */
	uint32_t doorbell_kind;
	uint32_t doorbell_done; /* checker: the last request it served */
	/* fuzzer: the doorbell it still waits on (0: none; its WFI may end
	 * before the checker's RUN, and then it may even be resetting when
	 * the RUN comes) */
	uint32_t doorbell_waiting;
	uint32_t pad;
	/* checker -> fuzzer: memory it may retrieve */
	struct fuzz_offer offers[FUZZ_OFFERS];
	/* checker: handles of its transactions with the victim (the fuzzer
	 * tries them: they must be refused) */
	uint64_t leaked[FUZZ_LEAKS];
	uint32_t table[ROW_COUNT][RESULT_COLS];
};

_Static_assert(sizeof(struct fuzz_state) <= 0x4000, "fits fuzzstate");

static inline struct fuzz_state *fuzz_state(void)
{
	return (struct fuzz_state *)FUZZSTATE;
}

/* --- victim <-> checker --------------------------------------------------- */

/* Direct requests from the checker to the victim: x3 = command; the
 * response's x3 = FF-A status (0 = done), x4.. results. Requests from
 * anyone else are echoed (victim.c). */
enum victim_cmd {
	V_PING = 0x56430001, /* x4 n -> x4 n + 1 */
	V_RETRIEVE,	     /* x4 handle, x5 type: retrieve, check the
				checker's pattern, write its own when lent
				read-write, relinquish -> x3 pages whose
				pattern was wrong (or an error), x4 pages */
	V_HOLD,		     /* x4 handle, x5 type: retrieve and keep */
	V_RELEASE,	     /* x4 handle: relinquish what V_HOLD kept */
	V_SHARE,	     /* x4 first pattern page index, x5 pages:
				share them read-only with the checker
				-> x4 handle */
	V_RECLAIM,	     /* x4 handle */
	V_VERIFY,	     /* -> x4 pattern pages intact (of 512), x5 image
				intact (1/0), x6 requests from the fuzzer,
				x7 anomalies seen */
};

/* The victim's echo of a request from anyone but the checker: x3 (REQ2:
 * x4) = ECHO_TAG, every other payload word inverted. */
#define ECHO_TAG 0xec40ec40ec40ec40ull

/* Indirect message from the checker: stop serving. */
#define QUIT_MAGIC 0x5155495421ull

struct sync_state {
	uint32_t victim_ready; /* pattern written, serving */
	uint32_t checker_done;
};

static inline struct sync_state *sync_state(void)
{
	return (struct sync_state *)SYNC;
}

/* The pattern word at `address` (victim's pattern and the checker's
 * shared pages use it with different keys). */
static inline uint64_t pattern_word(uint64_t address, uint64_t key)
{
	uint64_t x = address ^ key;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* The first and last word of page `p` of the `pages` at `address` hold
 * the pattern of `key` (the checker's shares and the victim's writes to
 * lent memory): page_ends_write puts it there, page_ends_wrong counts
 * the pages where it is not. */
static inline uint64_t *page_first_word(uint64_t address, uint32_t p)
{
	return (uint64_t *)(uintptr_t)(address + (uint64_t)p * FFA_PAGE_SIZE);
}

static inline void page_ends_write(uint64_t address, uint32_t pages,
				   uint64_t key)
{
	for (uint32_t p = 0; p < pages; p++) {
		uint64_t *w = page_first_word(address, p);
		uint64_t *last = w + FFA_PAGE_SIZE / 8 - 1;

		*w = pattern_word((uintptr_t)w, key);
		*last = pattern_word((uintptr_t)last, key);
	}
}

static inline uint32_t page_ends_wrong(uint64_t address, uint32_t pages,
				       uint64_t key)
{
	uint32_t bad = 0;

	for (uint32_t p = 0; p < pages; p++) {
		const uint64_t *w = page_first_word(address, p);
		const uint64_t *last = w + FFA_PAGE_SIZE / 8 - 1;

		bad += *w != pattern_word((uintptr_t)w, key) ||
		       *last != pattern_word((uintptr_t)last, key);
	}
	return bad;
}

#define KEY_VICTIM  0x76696374696dull
#define KEY_CHECKER 0x636865636b6572ull
#define KEY_LENT    0x6c656e74ull

/* Role entry points */
int fuzzer_main(void);
void fuzzer_secondary(unsigned int context);
int victim_main(void);
int checker_main(void);

/* BULKHEAD_POOL_INFO: free pool pages (x1), slots in use (x3). */
struct pool_info {
	uint64_t free_pages;
	uint64_t pool_pages;
	uint64_t slots_in_use;
};

struct pool_info pool_info(void);
