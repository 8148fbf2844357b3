/* Console output shared by all CPUs, and the partitions' emulated PL011s. */
#pragma once

#include <core/arch.h>
#include <core/partition.h>

/* Writes "[prefix] text" and a newline, whole, under the console lock. */
void console_write_line(const char *prefix, const char *text, size_t len);

/* Whether `ipa` is in the partition's emulated console page. */
bool vconsole_claims(const struct partition *p, ipaddr_t ipa);

/* Emulates one trapped access to the console page. */
void vconsole_access(struct vcpu *v, const struct arch_trap_info *t);

/* Appends to the vCPU's console line; flushes on newline or when full. */
void vconsole_putc(struct vcpu *v, char c);
void vconsole_flush(struct vcpu *v);

/* The quiet timer of `v`'s CPU expired: its unfinished line is shown if
 * nothing was added since the last look, else the timer runs again. */
void vconsole_quiet(struct vcpu *v);

/* Puts the emulated PL011 registers back to their reset values. */
void vconsole_reset(struct partition_locked locked);

/* Once, after the interrupt controller: the board UART's receive
 * interrupt goes to the console-input partition's first CPU. */
void vconsole_init(void);

/* Whether `intid` is the board UART's (taken on this CPU); then the input
 * is moved into the ring and the partition's receive line updated. */
bool vconsole_input_interrupt(uint32_t intid);
