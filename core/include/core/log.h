/* Hypervisor log: whole lines on the console, filtered by CONFIG_LOG_LEVEL. */
#pragma once

#include <stdbool.h>

#define LOG_LEVEL_ERROR	  1
#define LOG_LEVEL_WARNING 2
#define LOG_LEVEL_INFO	  3
#define LOG_LEVEL_DEBUG	  4

/* Writes one line ("[bulkhead] " + text) under the console lock. */
void log_line(int level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the message and stops every CPU. */
_Noreturn void panic(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* Whether some CPU has panicked (the others then stop). */
bool panic_in_progress(void);

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

/* An internal assertion: panics when CONFIG_ASSERTIONS is set and `cond`
 * is false; `cond` is compiled (and evaluated) in every configuration. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond) && IS_ENABLED(CONFIG_ASSERTIONS)) {                \
			panic("CHECK(%s) failed at %s:%d", #cond, __FILE__,    \
			      __LINE__);                                       \
		}                                                              \
	} while (0)
