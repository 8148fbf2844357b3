/*
 * Bulkhead's own hypercalls, in the SMCCC vendor-specific hypervisor service
 * range (owner 6). FFA_FEATURES never claims them.
 *
 *   BULKHEAD_CALL_UID (0x8600ff01)   -> w0..w3 = Bulkhead's service UUID
 *   BULKHEAD_REVISION (0x8600ff03)   -> w0 = major, w1 = minor
 *   BULKHEAD_SELF_INFO (0xc6000001)  -> x0 = 0, x1 = partition ID,
 *        x2 = vCPU index, x3 = physical CPU, x4 = first RAM base,
 *        x5 = RAM size, x6/x7 = the partition's name, first 16 bytes
 *        (little-endian packed, NUL padded), x8 = vCPU count
 *   BULKHEAD_POOL_INFO (0xc6000002)  -> x0 = 0, x1 = free pages in the
 *        hypervisor's page pool (stage-2 tables), x2 = its size in pages,
 *        x3 = FF-A memory-transaction slots in use (sending or live)
 *   BULKHEAD_DEBUG_PANIC (0xc60000f0) -> the hypervisor panics (crash-report
 *        tests); only with CONFIG_DEBUG_CALLS, else NOT_SUPPORTED
 */
#pragma once

#define BULKHEAD_CALL_UID    0x8600ff01u
#define BULKHEAD_REVISION    0x8600ff03u
#define BULKHEAD_SELF_INFO   0xc6000001u
#define BULKHEAD_POOL_INFO   0xc6000002u
#define BULKHEAD_DEBUG_PANIC 0xc60000f0u

#define BULKHEAD_UID_0 0x6b6c7542u /* "Bulk" */
#define BULKHEAD_UID_1 0x64616568u /* "head" */
#define BULKHEAD_UID_2 0x70796820u /* " hyp" */
#define BULKHEAD_UID_3 0x00000001u

#define BULKHEAD_REVISION_MAJOR 0
#define BULKHEAD_REVISION_MINOR 1
