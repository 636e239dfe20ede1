/*
 * lwIP's configuration for civic: NO_SYS (no threads: the monitor loop alone calls lwIP, through
 * the raw API), IPv4 with ARP, ICMP, UDP, TCP and the DHCP client.
 *
 * Sizing. The network's bulk user is a page stream between peers (4 KiB pages over TCP), which
 * should be limited by the link, not by lwIP. The receive window is 44 full segments (64240
 * bytes, the most that fits the 16-bit window, so no window scaling is needed) and the send
 * buffer the same; a window per round trip is what a connection can move, and on the emulated
 * and LAN links civic runs on a round trip is well under a millisecond of link time per 44
 * frames. Received frames land in PBUF_POOL buffers: 160 of them hold two full receive windows
 * (out-of-order segments and a second connection) plus ARP, ICMP and DHCP traffic. Sent data is
 * copied into the heap (MEM_SIZE), which holds two full send buffers with headers. TCP_SND_QUEUELEN
 * counts pbufs, not bytes: a 4 KiB page written as one tcp_write call may take up to 4 segments,
 * so it is 4 x the send buffer in segments. Total: about 256 KiB of pool + 256 KiB of heap in
 * .bss.
 */
#pragma once

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1

/* Memory: lwIP's own heap and pools in .bss, 8-byte aligned (x86-64). */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (256 * 1024)
#define MEMP_NUM_PBUF 64
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_UDP_PCB 8
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_TCP_SEG 256
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
#define PBUF_POOL_SIZE 160
#define PBUF_POOL_BUFSIZE 1536 /* a full Ethernet frame with its headers */

/* TCP: see the sizing note above. */
#define TCP_MSS 1460
#define TCP_WND (44 * TCP_MSS)
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT (TCP_SND_BUF / 2)
#define TCP_QUEUE_OOSEQ 1
#define TCP_OVERSIZE TCP_MSS
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_WND_SCALE 0

/* Checksums in software both ways (Bochs's e1000 offloads transmit checksums only). */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1

/* Counters for the shell's `net` command. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define ICMP_STATS 1
#define UDP_STATS 1
#define TCP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
