/*
 * The fuzzer's parts: fuzz.c (boot, main loop, resets, the second vCPU,
 * results), fuzz_ffa.c (FF-A calls), fuzz_mem.c (memory descriptors and
 * handles), fuzz_sys.c (PSCI, SMCCC, vendor calls, system-register,
 * MMIO and execute probes).
 *
 * Every call goes through fz_call, which picks the conduit, makes the
 * call, counts it in the result table by its answer and checks the
 * answer's shape (error codes in range, unused registers zero, the
 * answer a call may give): a violation is an anomaly, printed and
 * counted; the run must end with none.
 */
#pragma once

#include "common.h"

#include <guest/ffa.h>
#include <stdbool.h>
#include <stdint.h>

/* One vCPU's fuzzing context. */
struct fuzzer {
	unsigned int vcpu;
	uint64_t *rng;	  /* PRNG state (vCPU 0: in fuzz_state) */
	uint32_t version; /* FF-A version negotiated this boot */
	/* vCPU 0 while vCPU 1 is off, from the start of the current step
	 * (only vCPU 0 starts vCPU 1): what it checks about its own memory
	 * and buffers nobody else changes meanwhile */
	bool alone;
};

/* --- random choices ------------------------------------------------------- */
uint64_t fz_rand(struct fuzzer *f);
/* 0 .. n - 1 (n > 0) */
uint32_t fz_below(struct fuzzer *f, uint32_t n);
/* true with probability percent / 100 */
bool fz_chance(struct fuzzer *f, uint32_t percent);
/* One of `count` values. */
uint64_t fz_pick(struct fuzzer *f, const uint64_t *values, uint32_t count);
#define FZ_PICK(f, ...)                                                        \
	fz_pick((f), (const uint64_t[]){__VA_ARGS__},                          \
		sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))
/* Edge values, small numbers, IDs, addresses, or random bits. */
uint64_t fz_value(struct fuzzer *f);
/* A 16-bit partition ID: real ones, 0, own, unknown ones. */
uint16_t fz_partition_id(struct fuzzer *f);
/* An address: the arena, the others' RAM, the hypervisor, devices,
 * shared regions, unaligned and wrapping ones. */
uint64_t fz_address(struct fuzzer *f);
/* A page of the arena (page aligned). */
uint64_t fz_arena_page(struct fuzzer *f);

/* --- calls ---------------------------------------------------------------- */
/*
 * Makes the call in regs->x[0..17] over HVC or SMC (random), replaces
 * regs with the answer, and counts it in `row`. `in` keeps a copy of the
 * arguments for the checks (may be NULL).
 */
void fz_call(struct fuzzer *f, enum row row, struct ffa_value *regs);
/* The same over the given conduit. */
void fz_call_via(struct fuzzer *f, enum row row, struct ffa_value *regs,
		 bool smc);
/* Counts and checks a call made some other way (in: its arguments,
 * out: x0..x3 of the answer). */
void fz_record(struct fuzzer *f, enum row row, const struct ffa_value *in,
	       const struct ffa_value *out);
/* The row of an FF-A function ID (ROW_FFA_OTHER for unknown ones). */
enum row fz_ffa_row(uint32_t fn);
/* The FF-A function ID of a named row (row < ROW_FFA_OTHER). */
uint32_t fz_ffa_fn(enum row row);
/* Counts a probe's outcome. */
void fz_count_probe(enum row row, enum probe_col col);
/* Reports a contract violation (printed the first few times). */
void fz_anomaly(struct fuzzer *f, const char *what, uint64_t a, uint64_t b);

/* The arena's first pages hold the RX/TX pairs the fuzzer maps; memory
 * sends never name them (what the fuzzer believes is its TX can always be
 * written). */
#define BUFFER_PAGES 16u

/* --- the mailbox as the fuzzer believes it is ------------------------------
 * (it maps and unmaps at random; memory calls need one). */
struct fz_mailbox {
	uint64_t tx;
	uint64_t rx;
	uint32_t pages; /* 0: unmapped */
};

extern struct fz_mailbox fz_mb;
/* Updates fz_mb after a successful RXTX_MAP or RXTX_UNMAP (fz_call). */
void fz_note_mailbox(const struct ffa_value *in, const struct ffa_value *out);
/* Maps the default pair if none is mapped (most of the time). */
void fz_mailbox_ensure(struct fuzzer *f);
uint8_t *fz_tx(void);
uint8_t *fz_rx(void);
uint32_t fz_tx_size(void);
uint32_t fz_rx_size(void);

/* --- generators (one call or a short sequence each) ----------------------- */
void fz_ffa_random(struct fuzzer *f);	 /* any FF-A function, mutated args */
void fz_ffa_wild(struct fuzzer *f);	 /* any ID in FF-A's range, raw args */
void fz_ffa_direct(struct fuzzer *f);	 /* direct requests, mostly valid */
void fz_ffa_msg_send2(struct fuzzer *f); /* indirect messages */
void fz_ffa_console(struct fuzzer *f);	 /* CONSOLE_LOG, mostly invalid */
void fz_ffa_mailbox(struct fuzzer *f);	 /* RXTX_MAP/UNMAP, RX_RELEASE */

void fz_mem_send(struct fuzzer *f);	  /* SHARE/LEND/DONATE (+ FRAG_TX) */
void fz_mem_retrieve(struct fuzzer *f);	  /* RETRIEVE_REQ (+ FRAG_RX) */
void fz_mem_relinquish(struct fuzzer *f); /* RELINQUISH */
void fz_mem_reclaim(struct fuzzer *f);	  /* RECLAIM */
void fz_mem_frag(struct fuzzer *f);	  /* FRAG_TX / FRAG_RX out of turn */
/* A handle: own live or half-sent ones, the checker's offers and leaks,
 * stale ones, guesses. */
uint64_t fz_handle(struct fuzzer *f);
/* Forgets what this boot knew about handles (after a reset). */
void fz_mem_boot(void);

void fz_psci(struct fuzzer *f);	     /* PSCI except OFF/RESET */
void fz_smccc(struct fuzzer *f);     /* SMCCC arch, vendor, other owners */
void fz_immediate(struct fuzzer *f); /* HVC/SMC #imm != 0 */
void fz_sysreg(struct fuzzer *f);    /* MRS/MSR/SYS probes */
void fz_mmio(struct fuzzer *f);	     /* loads/stores that must abort */
void fz_exec(struct fuzzer *f);	     /* execute what must not run */
/* Sets up the probe code of this vCPU (once per boot and vCPU). */
void fz_probe_init(unsigned int vcpu);

/* Where a started vCPU 1 runs the fuzzer. */
uint64_t fz_secondary_entry(void);
/* Whether vCPU 1 is (or may be) running a burst. */
bool fz_secondary_running(void);
/* Bookkeeping for a CPU_ON that may start vCPU 1: call before (it
 * returns the token for after) and after the call. */
int fz_cpu_on_before(struct fuzzer *f, const struct ffa_value *r);
void fz_cpu_on_after(int token, const struct ffa_value *r);
