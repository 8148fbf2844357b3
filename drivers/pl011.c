#include <core/uart.h>
#include <stddef.h>

#define UART_DR	  0x000
#define UART_FR	  0x018
#define UART_CR	  0x030
#define UART_IMSC 0x038
#define UART_ICR  0x044
#define INT_RX	  (1u << 4)
#define INT_RT	  (1u << 6)
#define FR_RXFE	  (1u << 4)
#define FR_TXFF	  (1u << 5)
#define CR_UARTEN (1u << 0)
#define CR_TXE	  (1u << 8)
#define CR_RXE	  (1u << 9)

static volatile uint32_t *uart;

static inline volatile uint32_t *reg(uint32_t offset)
{
	return (volatile uint32_t *)((uintptr_t)uart + offset);
}

void uart_init(uint64_t base)
{
	uart = (volatile uint32_t *)(uintptr_t)base;
	*reg(UART_CR) = CR_UARTEN | CR_TXE | CR_RXE;
}

void uart_putc(char c)
{
	if (uart == NULL) {
		return;
	}
	while (*reg(UART_FR) & FR_TXFF) {
	}
	*reg(UART_DR) = (uint8_t)c;
}

int uart_getc(void)
{
	if (uart == NULL || (*reg(UART_FR) & FR_RXFE)) {
		return -1;
	}
	return (int)(*reg(UART_DR) & 0xff);
}

void uart_rx_interrupt_enable(void)
{
	if (uart != NULL) {
		*reg(UART_ICR) = INT_RX | INT_RT;
		*reg(UART_IMSC) = INT_RX | INT_RT;
	}
}

void uart_rx_ack(void)
{
	if (uart != NULL) {
		*reg(UART_ICR) = INT_RX | INT_RT;
	}
}
