/*
 * Console output and the hypervisor's log. The console lock is the last
 * lock in every lock order: nothing is taken while it is held.
 */
#include <bulkhead/fmt.h>
#include <core/arch.h>
#include <core/console.h>
#include <core/log.h>
#include <core/symbols.h>
#include <drivers/gicv3.h>
#include <drivers/pl011.h>

#define LOG_LINE_MAX 200

static struct spinlock console_lock = SPINLOCK_INIT;
static const struct arch_regs *panic_frame;
uint32_t panic_in_progress;

static void put_string(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		pl011_putc(s[i]);
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
	if (CONFIG_CONSOLE_PREFIX) {
		pl011_putc('[');
		put_string(prefix, string_length(prefix));
		put_string("] ", 2);
	}
	put_string(text, len);
	pl011_putc('\r');
	pl011_putc('\n');
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

void panic_set_frame(const struct arch_regs *frame)
{
	panic_frame = frame;
}

_Noreturn void panic(const char *format, ...)
{
	struct line_buf b = {.len = 0};
	uint64_t self = arch_cpu_mpidr();
	va_list ap;

	__atomic_store_n(&panic_in_progress, 1, __ATOMIC_SEQ_CST);
	va_start(ap, format);
	fmt_vformat(line_put, &b, format, ap);
	va_end(ap);
	/* The console lock may be held by the code that failed: bypass it. */
	put_string("\r\n[bulkhead] PANIC: ", 20);
	put_string(b.text, b.len);
	put_string("\r\n", 2);
	if (panic_frame != NULL) {
		arch_dump_regs(panic_frame);
	}
	arch_backtrace(panic_frame);
	put_string("[bulkhead] all CPUs stopped\r\n", 29);
	for (uint32_t i = 0; i < bulkhead_manifest.platform.cpu_count; i++) {
		if (cpus[i].mpidr != self) {
			gicv3_send_sgi(cpus[i].mpidr, GIC_SGI_KICK);
		}
	}
	for (;;) {
		arch_wait_for_interrupt();
	}
}
