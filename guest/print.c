/* Console output through the partition's (emulated) PL011. */
#include <bulkhead/fmt.h>
#include <guest/guest.h>

#define UART_DR 0x000
#define UART_FR 0x018
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)

static uint64_t console_base = 0x09000000;

void guest_console_set_base(uint64_t base)
{
	console_base = base;
}

static volatile uint32_t *uart_reg(uint32_t offset)
{
	return (volatile uint32_t *)(uintptr_t)(console_base + offset);
}

void guest_putc(char c)
{
	while (*uart_reg(UART_FR) & FR_TXFF) {
	}
	*uart_reg(UART_DR) = (uint8_t)c;
}

int guest_getc(void)
{
	if (*uart_reg(UART_FR) & FR_RXFE) {
		return -1;
	}
	return (int)(*uart_reg(UART_DR) & 0xff);
}

void guest_puts(const char *s)
{
	while (*s != '\0') {
		guest_putc(*s++);
	}
}

static void sink(void *ctx, char c)
{
	(void)ctx;
	guest_putc(c);
}

int guest_vprintf(const char *format, va_list ap)
{
	return fmt_vformat(sink, NULL, format, ap);
}

int guest_printf(const char *format, ...)
{
	va_list ap;
	int n;

	va_start(ap, format);
	n = guest_vprintf(format, ap);
	va_end(ap);
	return n;
}
