/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The direct-request protocol between the Linux self-test module
 * (bulkhead_ffa_test.c, GPL-2.0) and the bare-metal service partition
 * (guest/apps/linux-ffa-service): only constants, shared by both.
 *
 * A request is an FFA_MSG_SEND_DIRECT_REQ_64: x3 = command, x4..x7 =
 * arguments. The response's x3 is a status (0, or a negative FF-A error
 * code of the service's own calls), x4..x7 results.
 *
 *   ECHO     x4..x7 = a, b, c, d          -> x4..x7 = ~a, ~b, ~c, ~d
 *   CHECK    x4 = handle, x5 = tag,       -> retrieve, checksum, compare
 *            x6 = pages | type << 32,        with the pattern of seed,
 *            x7 = seed                       write the pattern of
 *                                            seed ^ ANSWER_XOR over every
 *                                            page, relinquish
 *                                         -> x4 = checksum, x5 = bytes that
 *                                            differ from the pattern,
 *                                            x6 = pages retrieved,
 *                                            x7 = constituents
 *   HOLD     x4 = handle, x5 = tag,       -> retrieve and keep it mapped
 *            x6 = pages | type << 32         (x6 = pages retrieved)
 *   RELEASE  x4 = handle                  -> relinquish what HOLD kept
 *   RETRIEVE_AS x4 = handle, x5 = tag,    -> a retrieve request naming
 *            x6 = pages | type << 32,        partition x7 as the receiver
 *            x7 = another endpoint's ID      instead of the service (a
 *                                            hostile borrower): x3 = its
 *                                            FF-A status
 *   QUIT                                  -> the service ends after the
 *                                            response (and tells its peer)
 */
#ifndef BULKHEAD_FFA_TEST_PROTOCOL_H
#define BULKHEAD_FFA_TEST_PROTOCOL_H

#define BFT_CMD_ECHO	    0xB0EC0001u
#define BFT_CMD_CHECK	    0xB0EC0002u
#define BFT_CMD_HOLD	    0xB0EC0003u
#define BFT_CMD_RELEASE	    0xB0EC0004u
#define BFT_CMD_QUIT	    0xB0EC0005u
#define BFT_CMD_RETRIEVE_AS 0xB0EC0006u

/* a status the service answers an unknown command with */
#define BFT_STATUS_UNKNOWN 0xB0ECBADCu

/* x6 of CHECK and HOLD: the transaction type (FF-A's 1 share, 2 lend) */
#define BFT_TYPE_SHIFT 32

#define BFT_ANSWER_XOR 0x5A5AA5A5C3C33C3Cull

/*
 * The byte at physical address `pa` in the pattern of `seed`. Both sides
 * compute it from the address, so the order in which constituents arrive
 * does not matter (the guest SDK gives them in address order).
 */
static inline unsigned char bft_pattern(unsigned long long seed,
					unsigned long long pa)
{
	unsigned long long x = (seed ^ (pa >> 3)) * 0x9E3779B97F4A7C15ull;

	return (unsigned char)(x >> (8 * (pa & 7)));
}

/* The checksum of a region: the sum (mod 2^64) over its 4 KiB pages of
 * FNV-1a-64 of each page's bytes; independent of the pages' order. */
#define BFT_FNV_OFFSET 0xCBF29CE484222325ull
#define BFT_FNV_PRIME  0x100000001B3ull

#endif
