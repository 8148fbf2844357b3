/* Hypervisor log: whole lines on the console, filtered by CONFIG_LOG_LEVEL. */
#pragma once

#define LOG_LEVEL_ERROR	  1
#define LOG_LEVEL_WARNING 2
#define LOG_LEVEL_INFO	  3
#define LOG_LEVEL_DEBUG	  4

/* Writes one line ("[bulkhead] " + text) under the console lock. */
void log_line(int level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

struct arch_regs;

/* Registers to print with the next panic (an exception frame). */
void panic_set_frame(const struct arch_regs *frame);

/* Prints the message (and registers, if set) and stops every CPU. */
_Noreturn void panic(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

#define LOG_AT(level, ...)                                                     \
	do {                                                                   \
		if (CONFIG_LOG_LEVEL >= (level)) {                             \
			log_line((level), __VA_ARGS__);                        \
		}                                                              \
	} while (0)

#define ERROR(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define WARN(...)  LOG_AT(LOG_LEVEL_WARNING, __VA_ARGS__)
#define INFO(...)  LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define DEBUG(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)

#ifdef CONFIG_ASSERTIONS
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			panic("CHECK(%s) failed at %s:%d", #cond, __FILE__,    \
			      __LINE__);                                       \
		}                                                              \
	} while (0)
#else
#define CHECK(cond) ((void)(cond))
#endif
