/*
 * Console output and the hypervisor's log. The console lock is the last
 * lock in the order (core/include/core/partition.h): nothing is taken
 * while it is held.
 */
#include <bulkhead/fmt.h>
#include <core/arch.h>
#include <core/console.h>
#include <core/irqchip.h>
#include <core/log.h>
#include <core/symbols.h>
#include <core/uart.h>

#define LOG_LINE_MAX 200

static struct spinlock console_lock = SPINLOCK_INIT;
static const struct arch_regs *panic_frame;
static uint32_t panicking;

static void put_string(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uart_putc(s[i]);
	}
}

static size_t string_length(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0') {
		n++;
	}
	return n;
}

void console_write_line(const char *prefix, const char *text, size_t len)
{
	sl_lock(&console_lock);
	if (IS_ENABLED(CONFIG_CONSOLE_PREFIX)) {
		uart_putc('[');
		put_string(prefix, string_length(prefix));
		put_string("] ", 2);
	}
	put_string(text, len);
	uart_putc('\r');
	uart_putc('\n');
	sl_unlock(&console_lock);
}

struct line_buf {
	char text[LOG_LINE_MAX];
	size_t len;
};

static void line_put(void *ctx, char c)
{
	struct line_buf *b = ctx;

	if (b->len < sizeof(b->text)) {
		b->text[b->len++] = c;
	}
}

void log_line(int level, const char *format, ...)
{
	struct line_buf b = {.len = 0};
	va_list ap;

	(void)level;
	va_start(ap, format);
	fmt_vformat(line_put, &b, format, ap);
	va_end(ap);
	console_write_line("bulkhead", b.text, b.len);
}

/* Frames a panic's backtrace shows at most. */
#define BACKTRACE_MAX_FRAMES 32

/* "backtrace (call sites):" and one line per frame record,
 * "  #N 0xADDRESS function+0xOFFSET" (symbols: core/symbols.c). */
static void print_backtrace(const struct arch_regs *frame)
{
	uint64_t addrs[BACKTRACE_MAX_FRAMES];
	size_t count = arch_backtrace(frame, addrs, BACKTRACE_MAX_FRAMES);

	log_line(LOG_LEVEL_ERROR, "backtrace (call sites):");
	for (size_t i = 0; i < count; i++) {
		uint64_t offset = 0;
		const char *name = symbols_lookup(addrs[i], &offset);

		if (name != NULL) {
			log_line(LOG_LEVEL_ERROR, "  #%-2zu 0x%016lx %s+%#lx",
				 i, addrs[i], name, offset);
		} else {
			log_line(LOG_LEVEL_ERROR, "  #%-2zu 0x%016lx ?", i,
				 addrs[i]);
		}
	}
}

bool panic_in_progress(void)
{
	return __atomic_load_n(&panicking, __ATOMIC_RELAXED) != 0;
}

_Noreturn void panic(const char *format, ...)
{
	struct line_buf b = {.len = 0};
	uint64_t self = arch_cpu_mpidr();
	va_list ap;

	__atomic_store_n(&panicking, 1, __ATOMIC_SEQ_CST);
	va_start(ap, format);
	fmt_vformat(line_put, &b, format, ap);
	va_end(ap);
	/* The console lock may be held by the code that failed: bypass it. */
	put_string("\r\n[bulkhead] PANIC: ", 20);
	put_string(b.text, b.len);
	put_string("\r\n", 2);
	if (panic_frame != NULL) {
		char line[LOG_LINE_MAX];
		size_t len;

		for (unsigned int i = 0;
		     (len = arch_regs_line(panic_frame, i, line, sizeof(line)));
		     i++) {
			put_string("[bulkhead] ", 11);
			put_string(line, len);
			put_string("\r\n", 2);
		}
	}
	print_backtrace(panic_frame);
	put_string("[bulkhead] all CPUs stopped\r\n", 29);
	for (uint32_t i = 0; i < bulkhead_manifest.platform.cpu_count; i++) {
		uint64_t mpidr = bulkhead_manifest.platform.cpu_mpidr[i];

		if (mpidr != self) {
			irqchip_send_sgi(mpidr, IRQCHIP_SGI_KICK);
		}
	}
	for (;;) {
		arch_wait_for_interrupt();
	}
}

_Noreturn void panic_el2_exception(const struct arch_regs *frame)
{
	uint64_t syndrome;
	uint64_t address;

	arch_el2_fault(&syndrome, &address);
	panic_frame = frame;
	panic("unexpected exception at EL2: ESR %#lx ELR %#lx FAR %#lx "
	      "SPSR %#lx",
	      syndrome, frame->pc, address, frame->pstate);
}
