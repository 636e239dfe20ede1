/* The 8254 programmable interval timer as the PC wires it (Intel 8254 datasheet; the port 0x61
 * bits are the PC/AT system control port B). civic uses only channel 2, to time TSC calibration. */
#pragma once

#define PIT_HZ 1193182u /* input clock: 14.31818 MHz / 12 */

#define PIT_CH2_DATA 0x42
#define PIT_MODE_CMD 0x43

/* Control word: SC (bits 7-6), RW (bits 5-4), M (bits 3-1), BCD (bit 0). */
#define PIT_SC_CHANNEL2 (2u << 6)
#define PIT_RW_LSB_MSB (3u << 4)
#define PIT_MODE0 (0u << 1) /* interrupt on terminal count: OUT rises when the count ends */
#define PIT_BINARY 0u

#define PC_PORT_B 0x61
#define PORT_B_TIMER2_GATE (1u << 0)
#define PORT_B_SPEAKER_DATA (1u << 1)
#define PORT_B_OUT2 (1u << 5) /* read only: channel 2's OUT pin */
