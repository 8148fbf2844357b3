/* ffa-mem scenario: "memowner" (CPU 0) runs the tests; "b1" (CPU 1) and
 * "b2" (CPU 2) are borrowers driven by direct requests; "outsider"
 * (CPU 3) has no grant at all. */
#pragma once

#include <guest/ffa.h>
#include <guest/test.h>

#define ID_OWNER    1
#define ID_B1	    2
#define ID_B2	    3
#define ID_OUTSIDER 4

/* Direct request commands to a borrower: x3 = command, x4.. arguments.
 * Responses: x3 = FF-A status (or value), x4.. results. */
/* Indirect message to a borrower: add 1 to the 64-bit counter at `address`
 * `count` times (atomically), then set the word after it to 1. */
struct spin_request {
	uint32_t magic; /* SPIN_MAGIC */
	uint32_t count;
	uint64_t address;
};
#define SPIN_MAGIC 0x5350494e

enum borrower_cmd {
	B_RETRIEVE = 0x42520001, /* x4 handle, x5 perms, x6 type, x7 flags */
	B_READ,			 /* x4 address -> x4 byte (probe), x5 abort */
	B_WRITE,		 /* x4 address, x5 byte -> x5 abort, x6 FAR */
	B_FILL,			 /* x4 address, x5 bytes, x6 byte */
	B_RELINQUISH,		 /* x4 handle, x5 flags */
	B_DONATE,		 /* x4 address, x5 pages, x6 to -> x4 handle */
	B_RETRIEVE_FROM,	 /* x4 handle, x5 owner, x6 perms, x7 flags */
	B_RESET,		 /* SYSTEM_RESET (the request is ABORTED) */
	B_RANGES,  /* x4 first address, x5 count: the last retrieve's ranges
		      are x5 single pages from x4 up, each starting with the
		      byte (index & 0xff) -> x4 mismatches, x5 range count */
	B_LEND,	   /* x4 address, x5 pages, x6 to -> x4 handle */
	B_EXEC,	   /* x4 address: call it -> x5 abort, x6 ESR */
	B_RECLAIM, /* x4 handle -> x3 status */
	B_FRAG_PROTOCOL, /* x4 handle: raw retrieve of a response longer
			    than RX, MEM_FRAG_RX misuse, then relinquish
			    -> x4 bitmask of failed checks */
	B_SHARE,	 /* x4 address, x5 pages, x6 to -> x4 handle */
};

/* The borrowers' side (borrower.c). */
void borrower_main(void);

/* memowner's memory-transaction quota (its `mem-transactions`) */
#define OWNER_QUOTA 16
