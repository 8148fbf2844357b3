/* Arm SMC Calling Convention (DEN0028) facts shared by core and guests. */
#pragma once

#define SMCCC_FAST_CALL	       (1u << 31)
#define SMCCC_64BIT	       (1u << 30)
#define SMCCC_OWNER_SHIFT      24
#define SMCCC_OWNER_MASK       0x3fu
#define SMCCC_OWNER_ARCH       0
#define SMCCC_OWNER_STANDARD   4
#define SMCCC_OWNER_VENDOR_HYP 6

#define SMCCC_VERSION	    0x80000000u
#define SMCCC_ARCH_FEATURES 0x80000001u
#define SMCCC_VERSION_1_2   0x10002

#define SMCCC_NOT_SUPPORTED (-1)
