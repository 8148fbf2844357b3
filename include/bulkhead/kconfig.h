/*
 * IS_ENABLED(CONFIG_FOO): 1 when Kconfig set the bool option FOO, else 0,
 * usable in ordinary C expressions, so that code under an option is
 * compiled (and checked) in every configuration and only dropped by the
 * optimiser. kconfiglib's header defines an enabled bool as 1 and leaves
 * a disabled one undefined; the macros below turn "defined as 1" into 1
 * and anything else into 0 without #ifdef.
 *
 * How: pasting the option's value onto KCONFIG_ON_ gives KCONFIG_ON_1,
 * which expands to "ignored," and shifts a 1 into the second argument
 * slot; an undefined option pastes to an unknown name and leaves 0 there.
 */
#pragma once

#define KCONFIG_ON_1			    ignored,
#define KCONFIG_SECOND(ignored, value, ...) value
#define KCONFIG_PICK(junk_or_ignored)	    KCONFIG_SECOND(junk_or_ignored 1, 0, 0)
#define KCONFIG_PASTE(value)		    KCONFIG_PICK(KCONFIG_ON_##value)
#define KCONFIG_EXPAND(option)		    KCONFIG_PASTE(option)

#define IS_ENABLED(option) KCONFIG_EXPAND(option)
