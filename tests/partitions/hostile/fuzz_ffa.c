/*
 * FF-A calls other than the memory transactions: every function with
 * plausible and mutated arguments, raw IDs anywhere in FF-A's range,
 * direct requests to the victim (whose echo is checked), indirect
 * messages with mutated headers, CONSOLE_LOG, and the RX/TX buffers.
 *
 * The fuzzer never blocks here: a MSG_WAIT always has an argument that
 * makes it fail (the blocking ones are in fuzz.c, with a doorbell), and
 * a direct request that reaches the victim is answered.
 */
#include "fuzz.h"

#include <string.h>

/* The pair mapped at each boot (and again when none is mapped). */
#define DEFAULT_TX     ARENA
#define DEFAULT_RX     (ARENA + 8 * FFA_PAGE_SIZE)
#define CONSOLE_BUDGET 16 /* calls: 8 lines of random bytes per run */

struct fz_mailbox fz_mb;

static uint32_t uuid_word(uint16_t id, int word)
{
	static const uint32_t words[4] = {0xf0220000, 0x7a3b4c5d, 0x8e9f0a1b,
					  0x2c3d4e5f};

	return word == 0 ? words[0] | id : words[word];
}

/* A UUID argument's words: nil, a real partition's, or random. */
static void uuid_args(struct fuzzer *f, uint32_t out[4])
{
	uint32_t pick = fz_below(f, 6);

	for (int i = 0; i < 4; i++) {
		out[i] = pick == 0   ? 0
			 : pick <= 3 ? uuid_word((uint16_t)pick, i)
			 : pick == 4 ? uuid_word(fz_partition_id(f), i)
				     : (uint32_t)fz_rand(f);
	}
}

uint8_t *fz_tx(void)
{
	return (uint8_t *)(uintptr_t)(fz_mb.pages ? fz_mb.tx : DEFAULT_TX);
}

uint8_t *fz_rx(void)
{
	return (uint8_t *)(uintptr_t)(fz_mb.pages ? fz_mb.rx : DEFAULT_RX);
}

/* The part of the TX (or RX) buffer the fuzzer touches: never past the
 * buffer pages, whatever size a pair was mapped with (the pages after
 * them may be lent away once the pair is gone). */
static uint32_t buffer_bytes(uint64_t start)
{
	uint64_t end = ARENA + BUFFER_PAGES * FFA_PAGE_SIZE;
	uint64_t bytes =
	    (uint64_t)(fz_mb.pages ? fz_mb.pages : 1) * FFA_PAGE_SIZE;

	if (start < ARENA || start >= end) {
		return FFA_PAGE_SIZE; /* the default pair's, unmapped */
	}
	return (uint32_t)(bytes < end - start ? bytes : end - start);
}

uint32_t fz_tx_size(void)
{
	return buffer_bytes((uintptr_t)fz_tx());
}

uint32_t fz_rx_size(void)
{
	return buffer_bytes((uintptr_t)fz_rx());
}

/* An address for a buffer argument: in the fuzzer's own RAM only its
 * buffer pages (never its image, never pages it sends). */
static uint64_t buffer_arg(uint64_t a, uint64_t mask)
{
	uint64_t v = a & mask;

	if (v >= FUZZER_RAM && v < FUZZER_RAM + RAM_SIZE &&
	    (v < ARENA || v >= ARENA + BUFFER_PAGES * FFA_PAGE_SIZE)) {
		return VICTIM_RAM + (v & 0xfff);
	}
	return a;
}

static void mapped(uint64_t tx, uint64_t rx, uint32_t pages)
{
	fz_mb = (struct fz_mailbox){tx, rx, pages};
}

void fz_note_mailbox(const struct ffa_value *in, const struct ffa_value *out)
{
	uint32_t fn = (uint32_t)in->x[0];

	if (out->x[0] != FFA_SUCCESS_32) {
		return;
	}
	if (fn == FFA_RXTX_UNMAP) {
		fz_mb.pages = 0;
	} else if (fn == FFA_RXTX_MAP_64) {
		mapped(in->x[1], in->x[2], (uint32_t)in->x[3] & 0x3f);
	} else if (fn == FFA_RXTX_MAP_32) {
		mapped((uint32_t)in->x[1], (uint32_t)in->x[2],
		       (uint32_t)in->x[3] & 0x3f);
	}
}

void fz_mailbox_ensure(struct fuzzer *f)
{
	struct ffa_value r;

	if (fz_mb.pages != 0) {
		return;
	}
	r = (struct ffa_value){{FFA_RXTX_MAP_64, DEFAULT_TX, DEFAULT_RX, 1}};
	fz_call(f, ROW_FFA_RXTX_MAP_64, &r);
	if (r.x[0] == FFA_SUCCESS_32) {
		return;
	}
	/* vCPU 1 mapped another pair meanwhile: take it down first */
	r = (struct ffa_value){{FFA_RXTX_UNMAP}};
	fz_call(f, ROW_FFA_RXTX_UNMAP, &r);
	r = (struct ffa_value){{FFA_RXTX_MAP_64, DEFAULT_TX, DEFAULT_RX, 1}};
	fz_call(f, ROW_FFA_RXTX_MAP_64, &r);
}

/* --- RX/TX buffers -------------------------------------------------------- */

static uint64_t buffer_page(struct fuzzer *f, uint32_t below)
{
	return ARENA + (uint64_t)fz_below(f, below) * FFA_PAGE_SIZE;
}

static uint64_t target_info(struct fuzzer *f)
{
	switch (fz_below(f, 5)) {
	case 0:
	case 1:
		return 0;
	case 2:
		return (uint64_t)ID_FUZZER << 16;
	case 3:
		return (uint64_t)fz_partition_id(f) << 16;
	default:
		return fz_value(f);
	}
}

void fz_ffa_mailbox(struct fuzzer *f)
{
	uint32_t what = fz_below(f, 10);
	struct ffa_value r = {{0}};

	if (what < 5) {
		bool wide = fz_chance(f, 60);
		uint32_t pages = 1 + fz_below(f, 4);
		uint64_t tx = buffer_page(f, 8 - pages + 1);
		uint64_t rx =
		    ARENA + 8 * FFA_PAGE_SIZE +
		    (uint64_t)fz_below(f, 8 - pages + 1) * FFA_PAGE_SIZE;
		uint64_t w3 = pages;

		switch (fz_below(f, 12)) {
		case 0:
			rx = tx; /* overlapping */
			break;
		case 1:
			tx += 0x10 * (1 + fz_below(f, 255)); /* unaligned */
			break;
		case 2:
			rx = fz_address(f) & ~0xfffull; /* someone else's */
			break;
		case 3:
			tx = fz_address(f);
			break;
		case 4:
			w3 = FZ_PICK(f, 0, 17, 63, 64, 0x41, 1ull << 32, ~0ull);
			break;
		case 5:
			tx = 0;
			break;
		case 6:
			rx = FUZZSTATE; /* shared, not its own alone */
			break;
		case 7:
			tx = rx = fz_value(f);
			break;
		default:
			break; /* a valid pair (DENIED if one is mapped) */
		}
		r.x[0] = wide ? FFA_RXTX_MAP_64 : FFA_RXTX_MAP_32;
		r.x[1] = buffer_arg(tx, wide ? ~0ull : 0xffffffffull);
		r.x[2] = buffer_arg(rx, wide ? ~0ull : 0xffffffffull);
		r.x[3] = w3;
		if (fz_chance(f, 10)) {
			r.x[4] = fz_value(f);
		}
		fz_call(f, wide ? ROW_FFA_RXTX_MAP_64 : ROW_FFA_RXTX_MAP_32,
			&r);
		if (r.x[0] == FFA_SUCCESS_32 &&
		    (fz_mb.tx >= ARENA + BUFFER_PAGES * FFA_PAGE_SIZE ||
		     fz_mb.rx >= ARENA + BUFFER_PAGES * FFA_PAGE_SIZE)) {
			fz_anomaly(f, "RXTX_MAP accepted", fz_mb.tx, fz_mb.rx);
		}
	} else if (what < 7) {
		r = (struct ffa_value){{FFA_RXTX_UNMAP, target_info(f)}};
		fz_call(f, ROW_FFA_RXTX_UNMAP, &r);
	} else {
		r = (struct ffa_value){{FFA_RX_RELEASE, target_info(f)}};
		fz_call(f, ROW_FFA_RX_RELEASE, &r);
	}
}

/* --- direct requests ------------------------------------------------------ */

/* Checks the victim's echo (common.h) of a request it answered. */
static void check_echo(struct fuzzer *f, const struct ffa_value *in,
		       const struct ffa_value *out)
{
	uint32_t fn = (uint32_t)in->x[0];
	bool ok = out->x[1] == ffa_endpoints(ID_VICTIM, ID_FUZZER);

	if (fn == FFA_MSG_SEND_DIRECT_REQ2) {
		ok &= out->x[2] == 0 && out->x[3] == 0 && out->x[4] == ECHO_TAG;
		for (int i = 5; i < 18; i++) {
			ok &= out->x[i] == ~in->x[i];
		}
	} else {
		uint64_t mask =
		    fn == FFA_MSG_SEND_DIRECT_REQ_64 ? ~0ull : 0xffffffffull;

		ok &= out->x[2] == 0 && out->x[3] == (ECHO_TAG & mask);
		for (int i = 4; i < 8; i++) {
			ok &= out->x[i] == (~(in->x[i] & mask) & mask);
		}
		for (int i = 8; i < 18; i++) {
			ok &= out->x[i] == 0;
		}
	}
	if (!ok) {
		fz_anomaly(f, "the victim's echo arrived changed", fn,
			   out->x[3]);
		return;
	}
	__atomic_add_fetch(&fuzz_state()->direct_ok, 1, __ATOMIC_RELAXED);
}

void fz_ffa_direct(struct fuzzer *f)
{
	static const uint32_t fns[] = {FFA_MSG_SEND_DIRECT_REQ_32,
				       FFA_MSG_SEND_DIRECT_REQ_64,
				       FFA_MSG_SEND_DIRECT_REQ2};
	uint32_t fn = fns[fz_below(f, 3)];
	uint16_t sender = ID_FUZZER;
	uint16_t receiver = ID_VICTIM;
	struct ffa_value r = {{fn}};
	bool valid = true;

	for (int i = 2; i < 18; i++) {
		r.x[i] = fz_chance(f, 70) ? fz_rand(f) : fz_value(f);
	}
	if (fn == FFA_MSG_SEND_DIRECT_REQ2) {
		uint32_t u[4] = {0};

		if (fz_chance(f, 30)) {
			for (int i = 0; i < 4; i++) {
				u[i] = uuid_word(ID_VICTIM, i);
			}
		}
		r.x[2] = u[0] | (uint64_t)u[1] << 32;
		r.x[3] = u[2] | (uint64_t)u[3] << 32;
	} else {
		r.x[2] = 0;
	}
	switch (fz_below(f, 12)) {
	case 0:
		receiver = ID_CHECKER; /* not waiting: BUSY */
		valid = false;
		break;
	case 1:
		receiver = fz_partition_id(f);
		valid = receiver == ID_VICTIM;
		break;
	case 2:
		sender = fz_partition_id(f);
		valid = sender == ID_FUZZER;
		break;
	case 3:
		r.x[2] = fz_value(f) | 1; /* flags, or a wrong UUID */
		valid = false;
		break;
	case 4:
		receiver = ID_FUZZER;
		valid = false;
		break;
	default:
		break;
	}
	r.x[1] = ffa_endpoints(sender, receiver);
	if (fz_chance(f, 5)) {
		r.x[1] |= fz_rand(f) << 32; /* bits a 32-bit w1 ignores */
	}
	{
		struct ffa_value in = r;

		fz_call(f, fz_ffa_row(fn), &r);
		if (valid && ffa_value_is(&r, FFA_ERROR) == false) {
			check_echo(f, &in, &r);
		}
	}
}

/* --- indirect messages ---------------------------------------------------- */

void fz_ffa_msg_send2(struct fuzzer *f)
{
	uint32_t layout = fz_chance(f, 90) ? f->version : FFA_VERSION_1_2;
	struct ffa_msg msg = {.sender = ID_FUZZER,
			      .receiver =
				  fz_chance(f, 60) ? ID_VICTIM : ID_CHECKER,
			      .size = fz_below(f, 256)};
	struct ffa_value r = {{FFA_MSG_SEND2}};
	uint8_t *tx;
	uint32_t offset;
	uint32_t size;

	if (fz_chance(f, 90)) {
		fz_mailbox_ensure(f);
	}
	tx = fz_tx();
	size = fz_tx_size();
	if (layout == FFA_VERSION_1_0) {
		layout = FFA_VERSION_1_1;
	}
	offset = ffa_msg_header_write(tx, &msg, layout);
	for (uint32_t i = 0; i < msg.size && offset + i < size; i++) {
		tx[offset + i] = (uint8_t)fz_rand(f);
	}
	for (uint32_t n = fz_chance(f, 50) ? 1 + fz_below(f, 2) : 0; n > 0;
	     n--) {
		uint32_t field = fz_below(f, 9);
		uint32_t value = (uint32_t)fz_value(f);

		switch (field) {
		case 0: /* flags */
		case 1: /* reserved */
		case 2: /* offset */
		case 4: /* size */
		case 5: /* reserved (v1.2) */
			memcpy(tx + 4 * field, &value, 4);
			break;
		case 3: { /* endpoints */
			uint32_t e = ffa_endpoints(fz_partition_id(f),
						   fz_partition_id(f));

			memcpy(tx + 12, &e, 4);
			break;
		}
		case 6: /* the receiver's UUID (v1.2) */
			for (int i = 0; i < 4; i++) {
				uint32_t w = uuid_word(fz_partition_id(f), i);

				memcpy(tx + 24 + 4 * i, &w, 4);
			}
			break;
		case 7:
			value = size - fz_below(f, 64);
			memcpy(tx + 16, &value, 4); /* size up to the end */
			break;
		default:
			tx[fz_below(f, 40)] = (uint8_t)fz_rand(f);
			break;
		}
	}
	r.x[1] = fz_chance(f, 90) ? 0 : fz_value(f);
	r.x[2] = fz_chance(f, 80) ? 0 : FZ_PICK(f, 2, 1, 4, fz_rand(f));
	fz_call(f, ROW_FFA_MSG_SEND2, &r);
}

/* --- console -------------------------------------------------------------- */

void fz_ffa_console(struct fuzzer *f)
{
	bool wide = fz_chance(f, 50);
	uint32_t max = wide ? 128 : 24;
	struct ffa_value r = {{wide ? FFA_CONSOLE_LOG_64 : FFA_CONSOLE_LOG_32}};
	struct fuzz_state *s = fuzz_state();
	uint64_t printed = s->table[ROW_FFA_CONSOLE_LOG_32][COL_OK] +
			   s->table[ROW_FFA_CONSOLE_LOG_64][COL_OK];

	for (int i = 2; i < 18; i++) {
		r.x[i] = fz_rand(f);
	}
	if (printed < CONSOLE_BUDGET && fz_chance(f, 10)) {
		/* random bytes (shown escaped), then end the line */
		struct ffa_value nl = {{FFA_CONSOLE_LOG_64, 1, '\n'}};

		r.x[1] = 1 + fz_below(f, max);
		fz_call(f, fz_ffa_row((uint32_t)r.x[0]), &r);
		fz_call(f, ROW_FFA_CONSOLE_LOG_64, &nl);
		return;
	}
	/* none or too many, for either width: a 32-bit call sees only the
	 * low half (0x100000000 is none), a 64-bit one must have the high
	 * half zero */
	r.x[1] = FZ_PICK(f, 0, max + 1, 129, 0x100000000ull, ~0ull,
			 0x80000000ull | fz_below(f, 16),
			 0x100000000ull | (max + 1));
	fz_call(f, fz_ffa_row((uint32_t)r.x[0]), &r);
}

/* --- any FF-A function ---------------------------------------------------- */

/* Arguments that keep a call from blocking, printing or mapping a buffer
 * over the fuzzer's own image. */
static void defuse(struct ffa_value *r)
{
	uint32_t fn = (uint32_t)r->x[0];

	if (fn == FFA_MSG_WAIT && (uint32_t)r->x[1] == 0) {
		r->x[1] |= 1; /* w1 must be zero: INVALID_PARAMETERS */
	}
	if ((fn == FFA_CONSOLE_LOG_32 || fn == FFA_CONSOLE_LOG_64) &&
	    (uint32_t)r->x[1] != 0 && (uint32_t)r->x[1] <= 128) {
		r->x[1] = 0;
	}
	if (fn == FFA_RXTX_MAP_32 || fn == FFA_RXTX_MAP_64) {
		for (int i = 1; i <= 2; i++) {
			r->x[i] = buffer_arg(r->x[i], fn == FFA_RXTX_MAP_32
							  ? 0xffffffffull
							  : ~0ull);
		}
	}
}

/* How many partitions the UUID in w1..w4 names (0: none, all: nil). */
static uint32_t partitions_named(const struct ffa_value *in)
{
	uint32_t w[4];
	uint32_t named = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (uint32_t)in->x[1 + i];
	}
	if ((w[0] | w[1] | w[2] | w[3]) == 0) {
		return 3;
	}
	for (uint16_t id = ID_FUZZER; id <= ID_CHECKER; id++) {
		bool same = true;

		for (int i = 0; i < 4; i++) {
			same &= w[i] == uuid_word(id, i);
		}
		named += same;
	}
	return named;
}

/* Exact answers where the contract gives them. */
static void check_value(struct fuzzer *f, const struct ffa_value *in,
			const struct ffa_value *out)
{
	uint32_t fn = (uint32_t)in->x[0];
	bool ok = true;

	if (fn == FFA_ID_GET) {
		ok = out->x[0] == FFA_SUCCESS_32 && out->x[2] == ID_FUZZER;
	} else if (fn == FFA_PARTITION_INFO_GET) {
		uint32_t named = partitions_named(in);
		uint32_t flags = (uint32_t)in->x[5];

		if (named == 0 || (flags & ~FFA_PARTITION_INFO_COUNT_ONLY)) {
			ok = ffa_is_error(out, FFA_INVALID_PARAMETERS);
		} else if (out->x[0] == FFA_SUCCESS_32) {
			ok = out->x[2] == named &&
			     out->x[3] == (f->version == FFA_VERSION_1_0
					       ? 0
					       : FFA_PARTITION_INFO_SIZE);
		} else {
			/* RX busy or unmapped */
			ok = !(flags & FFA_PARTITION_INFO_COUNT_ONLY) &&
			     ffa_is_error(out, FFA_BUSY);
		}
	} else if (fn == FFA_YIELD) {
		ok = out->x[0] == FFA_SUCCESS_32;
	}
	if (!ok) {
		fz_anomaly(f, "answer's value", fn, out->x[2]);
	}
}

void fz_ffa_random(struct fuzzer *f)
{
	uint32_t fn = fz_ffa_fn((enum row)fz_below(f, ROW_FFA_OTHER));
	struct ffa_value r = {{fn}};
	uint32_t u[4];

	switch (fn) {
	case FFA_MSG_SEND_DIRECT_REQ_32:
	case FFA_MSG_SEND_DIRECT_REQ_64:
	case FFA_MSG_SEND_DIRECT_REQ2:
		fz_ffa_direct(f);
		return;
	case FFA_MSG_SEND2:
		fz_ffa_msg_send2(f);
		return;
	case FFA_CONSOLE_LOG_32:
	case FFA_CONSOLE_LOG_64:
		fz_ffa_console(f);
		return;
	case FFA_RXTX_MAP_32:
	case FFA_RXTX_MAP_64:
	case FFA_RXTX_UNMAP:
	case FFA_RX_RELEASE:
		fz_ffa_mailbox(f);
		return;
	case FFA_VERSION:
		r.x[1] = FZ_PICK(f, FFA_VERSION_1_0, FFA_VERSION_1_1,
				 FFA_VERSION_1_2, 0x10003, 0x20000, 0x80010002,
				 f->version, fz_value(f));
		break;
	case FFA_FEATURES:
		r.x[1] = fz_chance(f, 50)
			     ? fz_ffa_fn((enum row)fz_below(f, ROW_FFA_OTHER))
			 : fz_chance(f, 50) ? fz_below(f, 256)
					    : fz_value(f);
		r.x[2] = FZ_PICK(f, 0, 0, 0, 2, 1, fz_value(f));
		break;
	case FFA_PARTITION_INFO_GET:
		uuid_args(f, u);
		for (int i = 0; i < 4; i++) {
			r.x[1 + i] = u[i];
		}
		r.x[5] = FZ_PICK(f, 0, 1, 1, 2, fz_value(f));
		break;
	case FFA_PARTITION_INFO_GET_REGS:
		uuid_args(f, u);
		r.x[1] = u[0] | (uint64_t)u[1] << 32;
		r.x[2] = u[2] | (uint64_t)u[3] << 32;
		r.x[3] = fz_chance(f, 80) ? fz_below(f, 6) : fz_value(f);
		break;
	case FFA_RUN:
		r.x[1] =
		    ffa_endpoints(fz_partition_id(f),
				  (uint16_t)FZ_PICK(f, 0, 0, 1, 2, 0xffff));
		break;
	case FFA_MSG_WAIT:
		/* a wait that fails at once (w1 must be zero, w2 known
		 * flags) */
		r.x[1] = fz_chance(f, 50) ? 1 + fz_below(f, 0xffff) : 0;
		r.x[2] = r.x[1] != 0 ? fz_value(f) : 0x2 | fz_rand(f);
		break;
	default:
		/* anything: answers, obsolete calls, responses nobody
		 * asked for, the memory calls on whatever TX holds */
		for (int i = 1; i < 8; i++) {
			r.x[i] = fz_chance(f, 60) ? 0 : fz_value(f);
		}
		break;
	}
	if (fz_chance(f, 10)) {
		/* high halves a 32-bit call must ignore, registers past x7 */
		for (int i = 1; i < 18; i++) {
			r.x[i] |= (fn & (1u << 30)) ? 0 : fz_rand(f) << 32;
		}
	}
	defuse(&r);
	{
		struct ffa_value in = r;

		fz_call(f, fz_ffa_row(fn), &r);
		check_value(f, &in, &r);
	}
}

void fz_ffa_wild(struct fuzzer *f)
{
	uint32_t fn = (fz_chance(f, 50) ? 0x84000000u : 0xc4000000u) |
		      (FFA_FUNCTION_FIRST +
		       fz_below(f, FFA_FUNCTION_LAST - FFA_FUNCTION_FIRST + 1));
	struct ffa_value r = {{fn}};

	for (int i = 1; i < 18; i++) {
		r.x[i] = fz_chance(f, 50) ? fz_value(f) : fz_rand(f);
	}
	defuse(&r);
	fz_call(f, fz_ffa_row(fn), &r);
}
