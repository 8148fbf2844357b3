/*
 * FF-A notifications (DEN0077 v1.1+): flags, result layouts and the
 * interrupt IDs Bulkhead gives them. Shared by the hypervisor and guest/.
 */
#pragma once

#include <bulkhead/ffa.h>

/* FFA_FEATURES feature IDs (w1 with bit 31 clear). */
#define FFA_FEATURE_NPI 0x1u /* notification pending interrupt */
#define FFA_FEATURE_SRI 0x2u /* schedule receiver interrupt */
#define FFA_FEATURE_MEI 0x3u /* managed exit interrupt (not supported) */

/* The virtual SGIs Bulkhead raises for them (what FFA_FEATURES returns in
 * w2). SGIs 0..7 are left to the partition's own IPIs (Linux uses 0..6). */
#define FFA_NOTIFY_SRI_INTID 8u
#define FFA_NOTIFY_NPI_INTID 9u

/* Notifications per bitmap (IDs 0..63). */
#define FFA_NOTIFICATIONS 64u

/* BIND w2, SET w2: a per-vCPU notification. */
#define FFA_NOTIFY_FLAG_PER_VCPU 0x1u
/* SET w2: delay the schedule receiver interrupt. */
#define FFA_NOTIFY_FLAG_DELAY_SRI 0x2u
/* SET w2 [31:16]: the receiver's vCPU of a per-vCPU notification. */
#define FFA_NOTIFY_VCPU_SHIFT 16

/* GET w2: which bitmaps to read (and clear). */
#define FFA_NOTIFY_GET_SP  0x1u /* from SPs: none without an SPMC */
#define FFA_NOTIFY_GET_VM  0x2u /* from partitions (VMs) */
#define FFA_NOTIFY_GET_SPM 0x4u /* SPMC framework: none */
#define FFA_NOTIFY_GET_HYP 0x8u /* hypervisor framework */
#define FFA_NOTIFY_GET_ALL 0xfu

/* Framework notifications (GET w7, the hypervisor's bitmap). */
#define FFA_FRAMEWORK_RX_FULL 0x1u /* a message is in the RX buffer */

/* INFO_GET x2: more pending than fit; count of lists [11:7]; list i's
 * count of vCPU IDs in bits [12 + 2i + 1 : 12 + 2i]. The IDs follow in
 * x3..x7 (64-bit: four per register, 20 in all) or w3..w7 (32-bit: two
 * per register, 10). */
#define FFA_NOTIFY_INFO_MORE		0x1u
#define FFA_NOTIFY_INFO_LISTS_SHIFT	7
#define FFA_NOTIFY_INFO_LIST_SIZE_SHIFT 12
#define FFA_NOTIFY_INFO_IDS_64		20u
#define FFA_NOTIFY_INFO_IDS_32		10u
#define FFA_NOTIFY_INFO_LIST_VCPUS	3u /* vCPU IDs in one list, at most */

static inline uint64_t ffa_notify_bitmap(uint64_t w3, uint64_t w4)
{
	return (uint32_t)w3 | ((uint64_t)(uint32_t)w4 << 32);
}
