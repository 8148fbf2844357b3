/*
 * Each partition with a `console` sees a PL011 at that address. Its page is
 * left out of stage 2, so every access traps here. Output is kept per vCPU
 * and written as whole lines; input comes from the board's UART for the
 * partition the manifest names (`console-input`): the board UART's receive
 * interrupt moves it into a ring (and so does every read of the partition),
 * and the partition's receive interrupt, an SPI of its virtual GIC with the
 * board UART's INTID, is high while the ring holds something and the
 * partition unmasked it (IMSC).
 */
#include <core/bench.h>
#include <core/console.h>
#include <core/irqchip.h>
#include <core/log.h>
#include <core/uart.h>
#include <core/vgic.h>

#define UART_DR		0x000
#define UART_RSR	0x004
#define UART_FR		0x018
#define UART_ILPR	0x020
#define UART_IBRD	0x024
#define UART_FBRD	0x028
#define UART_LCR_H	0x02c
#define UART_CR		0x030
#define UART_IFLS	0x034
#define UART_IMSC	0x038
#define UART_RIS	0x03c
#define UART_MIS	0x040
#define UART_ICR	0x044
#define UART_DMACR	0x048
#define UART_PERIPH_ID0 0xfe0

/* interrupt bits (RIS, MIS, IMSC, ICR) */
#define INT_RX	   (1u << 4)
#define INT_TX	   (1u << 5)
#define INT_RT	   (1u << 6)
#define FR_RXFE	   (1u << 4)
#define FR_TXFE	   (1u << 7)
#define CR_RESET   0x300
#define IFLS_RESET 0x12

static const uint8_t pl011_ids[8] = {0x11, 0x10, 0x14, 0x00,
				     0x0d, 0xf0, 0x05, 0xb1};

/* Console input for the `console-input` partition. */
static struct spinlock input_lock = SPINLOCK_INIT;
static char input_ring[CONFIG_CONSOLE_INPUT_BUFFER];
static uint32_t input_head;
static uint32_t input_tail;

bool vconsole_claims(const struct partition *p, ipaddr_t ipa)
{
	return p->m->has_console &&
	       align_down(ipa_addr(ipa), PAGE_SIZE) == p->m->console_base;
}

static uint64_t quiet_ticks(void)
{
	return arch_counter_hz() * CONFIG_CONSOLE_QUIET_MS / 1000;
}

void vconsole_quiet(struct vcpu *v)
{
	if (v->line_len == 0) {
		return;
	}
	if (v->line_len == v->line_checked) {
		vconsole_flush(v); /* nothing came for a whole quiet time */
		return;
	}
	v->line_checked = v->line_len;
	deadline_set(&cpus[v->cpu], DEADLINE_CONSOLE_QUIET,
		     arch_counter_now() + quiet_ticks());
}

void vconsole_flush(struct vcpu *v)
{
	if (v->line_len > 0) {
		if (IS_ENABLED(CONFIG_BENCH_BOOT_COUNT)) {
			bench_boot_line(v, v->line, v->line_len);
		}
		console_write_line(v->part->m->name, v->line, v->line_len);
		v->line_len = 0;
	}
}

static void line_add(struct vcpu *v, char c)
{
	if (v->line_len == 0) {
		/* a line begins: if it is still open after a quiet time
		 * (a prompt, a progress bar), it is shown unfinished */
		v->line_checked = 0;
		deadline_set(&cpus[v->cpu], DEADLINE_CONSOLE_QUIET,
			     arch_counter_now() + quiet_ticks());
	}
	v->line[v->line_len++] = c;
	if (v->line_len == sizeof(v->line)) {
		vconsole_flush(v);
	}
}

/*
 * Printable ASCII and tab pass; '\n' ends the line; '\r' is dropped
 * (drivers send "\r\n"); any other byte is shown as \xNN, so a partition
 * cannot move the cursor, clear the screen or start a new line that looks
 * like another partition's (or the hypervisor's) on the shared console.
 */
void vconsole_putc(struct vcpu *v, char c)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u = (unsigned char)c;

	if (u == '\r') {
		return;
	}
	if (u == '\n') {
		vconsole_flush(v);
		return;
	}
	if ((u >= 0x20 && u < 0x7f) || u == '\t') {
		line_add(v, (char)u);
		return;
	}
	if (v->line_len + 4 > sizeof(v->line)) {
		vconsole_flush(v); /* keep an escape on one line */
	}
	line_add(v, '\\');
	line_add(v, 'x');
	line_add(v, hex[u >> 4]);
	line_add(v, hex[u & 0xf]);
}

static bool is_input_partition(const struct partition *p)
{
	return bulkhead_manifest.console_input == (int32_t)p->index;
}

/* Moves what the board UART received into the ring; -1 if still empty. */
static int input_peek_or_take(bool take)
{
	int c;
	int result = -1;

	sl_lock(&input_lock);
	while ((c = uart_getc()) >= 0) {
		uint32_t next = (input_head + 1) % sizeof(input_ring);

		if (next != input_tail) {
			input_ring[input_head] = (char)c;
			input_head = next;
		}
	}
	if (input_head != input_tail) {
		result = (unsigned char)input_ring[input_tail];
		if (take) {
			input_tail = (input_tail + 1) % sizeof(input_ring);
		}
	}
	sl_unlock(&input_lock);
	return result;
}

/* The raw interrupt status: the transmitter is always empty (TX); data
 * waiting raises RX and the receive timeout (RT) at once. */
static uint32_t raw_interrupts(const struct partition *p)
{
	bool data = is_input_partition(p) && input_peek_or_take(false) >= 0;

	return INT_TX | (data ? INT_RX | INT_RT : 0);
}

/* The partition's console receive SPI (flag MANIFEST_SPI_CONSOLE_RX). */
static const struct manifest_spi *rx_spi(const struct partition *p)
{
	for (uint32_t i = 0; i < p->m->spi_count; i++) {
		if (p->m->spis[i].flags & MANIFEST_SPI_CONSOLE_RX) {
			return &p->m->spis[i];
		}
	}
	return NULL;
}

/* Gives the partition's virtual GIC the level of its UART's interrupt. */
static void update_line(struct partition *p)
{
	const struct manifest_spi *spi = rx_spi(p);

	if (spi != NULL) {
		vgic_set_level(p, spi->intid,
			       (raw_interrupts(p) & p->console.imsc) != 0);
	}
}

void vconsole_init(void)
{
	const struct manifest_platform *plat = &bulkhead_manifest.platform;
	struct partition *p;

	if (bulkhead_manifest.console_input < 0) {
		return;
	}
	p = &partitions[bulkhead_manifest.console_input];
	/* taken on the CPU of the partition's first vCPU: nobody else's
	 * time goes to it */
	irqchip_set_edge(plat->uart_intid, false);
	irqchip_route(plat->uart_intid, cpus[p->vcpus[0].cpu].mpidr);
	irqchip_enable(plat->uart_intid, 0);
	uart_rx_interrupt_enable();
}

bool vconsole_input_interrupt(uint32_t intid)
{
	struct partition *p;

	if (intid != bulkhead_manifest.platform.uart_intid ||
	    bulkhead_manifest.console_input < 0) {
		return false;
	}
	p = &partitions[bulkhead_manifest.console_input];
	input_peek_or_take(false); /* drains the UART */
	uart_rx_ack();
	update_line(p);
	return true;
}

static uint32_t read_register(struct vcpu *v, uint32_t offset)
{
	struct partition *p = v->part;
	struct vconsole *con = &p->console;
	bool input = is_input_partition(p);

	switch (offset) {
	case UART_DR: {
		int c = input ? input_peek_or_take(true) : -1;

		return c < 0 ? 0 : (uint32_t)c;
	}
	case UART_FR:
		return FR_TXFE |
		       ((input && input_peek_or_take(false) >= 0) ? 0
								  : FR_RXFE);
	case UART_IBRD:
		return con->ibrd;
	case UART_FBRD:
		return con->fbrd;
	case UART_LCR_H:
		return con->lcr_h;
	case UART_CR:
		return con->cr;
	case UART_IFLS:
		return con->ifls;
	case UART_IMSC:
		return con->imsc;
	case UART_RIS:
		return raw_interrupts(p);
	case UART_MIS:
		return raw_interrupts(p) & con->imsc;
	case UART_DMACR:
		return con->dmacr;
	default:
		if (offset >= UART_PERIPH_ID0 &&
		    offset < UART_PERIPH_ID0 + 32 && (offset & 3) == 0) {
			return pl011_ids[(offset - UART_PERIPH_ID0) / 4];
		}
		return 0;
	}
}

static void write_register(struct vcpu *v, uint32_t offset, uint32_t value)
{
	struct vconsole *con = &v->part->console;

	switch (offset) {
	case UART_DR:
		vconsole_putc(v, (char)(value & 0xff));
		break;
	case UART_IBRD:
		con->ibrd = value & 0xffff;
		break;
	case UART_FBRD:
		con->fbrd = value & 0x3f;
		break;
	case UART_LCR_H:
		con->lcr_h = value & 0xff;
		break;
	case UART_CR:
		con->cr = value & 0xff87;
		break;
	case UART_IFLS:
		con->ifls = value & 0x3f;
		break;
	case UART_IMSC:
		con->imsc = value & 0x7ff;
		break;
	case UART_DMACR:
		con->dmacr = value & 0x7;
		break;
	default: /* RSR/ECR, ILPR and read-only registers: ignored; ICR too
		  * (RX and RT follow the data waiting, TX is always set) */
		break;
	}
}

void vconsole_access(struct vcpu *v, const struct arch_trap_info *t)
{
	uint32_t offset = ipa_addr(t->fault_ipa) & (PAGE_SIZE - 1);
	uint64_t *reg = t->reg < 31 ? &v->regs.x[t->reg] : NULL;

	if (t->write) {
		write_register(v, offset, reg != NULL ? (uint32_t)*reg : 0);
	} else {
		uint64_t value = read_register(v, offset);

		if (t->access_size < 4) {
			value &= (1ull << (8 * t->access_size)) - 1;
		}
		if (reg != NULL) {
			*reg = t->reg64 ? value : (uint32_t)value;
		}
	}
	if ((offset == UART_DR && !t->write) || offset == UART_IMSC) {
		update_line(v->part); /* data taken, or the mask changed */
	}
	arch_skip_instruction(&v->regs);
}

void vconsole_reset(struct partition_locked locked)
{
	struct vconsole *con = &locked.p->console;

	*con = (struct vconsole){.cr = CR_RESET, .ifls = IFLS_RESET};
}
