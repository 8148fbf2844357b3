/*
 * The board UART the hypervisor writes its console to and reads console
 * input from. A driver in drivers/ implements it (drivers/pl011.c today).
 */
#pragma once

#include <stdint.h>

void uart_init(uint64_t base);

/* Writes one byte, waiting while the transmitter is full. */
void uart_putc(char c);

/* A received byte, or -1 when none is waiting. */
int uart_getc(void);

/* Interrupts on received data (and the receive timeout); uart_getc until
 * -1, then uart_rx_ack, lowers the line again. */
void uart_rx_interrupt_enable(void);
void uart_rx_ack(void);
