/*
 * Intel 8254x (e1000) hardware facts, named as the "PCI/PCI-X Family of Gigabit Ethernet
 * Controllers Software Developer's Manual" (8254x, 317453) names them: register offsets in the
 * memory BAR (section 13), their bits, and the legacy receive and transmit descriptors (3.2,
 * 3.3). Constants only.
 */
#pragma once
#include <stdint.h>

/* PCI IDs (table 5-1) of the parts with this register set that civic drives. */
#define E1000_VENDOR_INTEL 0x8086
#define E1000_DEV_82540EM 0x100e     /* desktop; what QEMU and Bochs emulate */
#define E1000_DEV_82540EM_LOM 0x1015
#define E1000_DEV_82540EP_LOM 0x1016
#define E1000_DEV_82540EP 0x1017
#define E1000_DEV_82540EP_LP 0x101e
#define E1000_DEV_82544GC_COPPER 0x100c /* QEMU's e1000-82544gc */
#define E1000_DEV_82544EI_COPPER 0x1008
#define E1000_DEV_82545EM_COPPER 0x100f /* QEMU's e1000-82545em */
#define E1000_DEV_82545EM_FIBER 0x1011
#define E1000_DEV_82546EB_COPPER 0x1010

/* General registers (13.3). */
#define E1000_CTRL 0x00000
#define E1000_STATUS 0x00008
#define E1000_EECD 0x00010
#define E1000_EERD 0x00014
#define E1000_CTRL_EXT 0x00018
#define E1000_MDIC 0x00020
#define E1000_FCAL 0x00028
#define E1000_FCAH 0x0002c
#define E1000_FCT 0x00030
#define E1000_VET 0x00038
#define E1000_FCTTV 0x00170
#define E1000_TXCW 0x00178
#define E1000_RXCW 0x00180
#define E1000_LEDCTL 0x00e00
#define E1000_PBA 0x01000
/* Interrupts. */
#define E1000_ICR 0x000c0 /* read to clear */
#define E1000_ITR 0x000c4
#define E1000_ICS 0x000c8
#define E1000_IMS 0x000d0
#define E1000_IMC 0x000d8
/* Receive. */
#define E1000_RCTL 0x00100
#define E1000_FCRTL 0x02160
#define E1000_FCRTH 0x02168
#define E1000_RDBAL 0x02800
#define E1000_RDBAH 0x02804
#define E1000_RDLEN 0x02808
#define E1000_RDH 0x02810
#define E1000_RDT 0x02818
#define E1000_RDTR 0x02820
#define E1000_RADV 0x0282c
#define E1000_RXDCTL 0x02828
#define E1000_RXCSUM 0x05000
#define E1000_MTA 0x05200 /* 128 dwords */
#define E1000_MTA_ENTRIES 128
#define E1000_RAL(n) (0x05400 + 8 * (n))
#define E1000_RAH(n) (0x05404 + 8 * (n))
#define E1000_VFTA 0x05600 /* 128 dwords */
/* Transmit. */
#define E1000_TCTL 0x00400
#define E1000_TIPG 0x00410
#define E1000_AIFS 0x00458
#define E1000_TDBAL 0x03800
#define E1000_TDBAH 0x03804
#define E1000_TDLEN 0x03808
#define E1000_TDH 0x03810
#define E1000_TDT 0x03818
#define E1000_TIDV 0x03820
#define E1000_TXDCTL 0x03828
#define E1000_TADV 0x0382c

/* Statistics (13.7): every one clears when read; the 64-bit pairs clear when the high half is
 * read, so read the low half first. */
#define E1000_CRCERRS 0x04000
#define E1000_ALGNERRC 0x04004
#define E1000_SYMERRS 0x04008
#define E1000_RXERRC 0x0400c
#define E1000_MPC 0x04010 /* missed packets: no room in the receive FIFO */
#define E1000_SCC 0x04014
#define E1000_ECOL 0x04018
#define E1000_MCC 0x0401c
#define E1000_LATECOL 0x04020
#define E1000_COLC 0x04028
#define E1000_DC 0x04030
#define E1000_TNCRS 0x04034
#define E1000_SEC 0x04038
#define E1000_CEXTERR 0x0403c
#define E1000_RLEC 0x04040
#define E1000_XONRXC 0x04048
#define E1000_XONTXC 0x0404c
#define E1000_XOFFRXC 0x04050
#define E1000_XOFFTXC 0x04054
#define E1000_FCRUC 0x04058
#define E1000_GPRC 0x04074
#define E1000_BPRC 0x04078
#define E1000_MPRC 0x0407c
#define E1000_GPTC 0x04080
#define E1000_GORCL 0x04088
#define E1000_GORCH 0x0408c
#define E1000_GOTCL 0x04090
#define E1000_GOTCH 0x04094
#define E1000_RNBC 0x040a0 /* receive no buffers: no free descriptor when a frame arrived */
#define E1000_RUC 0x040a4
#define E1000_RFC 0x040a8
#define E1000_ROC 0x040ac
#define E1000_RJC 0x040b0
#define E1000_TORL 0x040c0
#define E1000_TORH 0x040c4
#define E1000_TOTL 0x040c8
#define E1000_TOTH 0x040cc
#define E1000_TPR 0x040d0
#define E1000_TPT 0x040d4
#define E1000_MPTC 0x040f0
#define E1000_BPTC 0x040f4
#define E1000_REG_SPACE 0x20000 /* BAR0 is 128 KiB */

/* CTRL (13.4.1). */
#define E1000_CTRL_FD (1u << 0)
#define E1000_CTRL_LRST (1u << 3)
#define E1000_CTRL_ASDE (1u << 5)
#define E1000_CTRL_SLU (1u << 6)
#define E1000_CTRL_ILOS (1u << 7)
#define E1000_CTRL_FRCSPD (1u << 11)
#define E1000_CTRL_FRCDPLX (1u << 12)
#define E1000_CTRL_RST (1u << 26)
#define E1000_CTRL_RFCE (1u << 27)
#define E1000_CTRL_TFCE (1u << 28)
#define E1000_CTRL_VME (1u << 30)
#define E1000_CTRL_PHY_RST (1u << 31)

/* STATUS (13.4.2). */
#define E1000_STATUS_FD (1u << 0)
#define E1000_STATUS_LU (1u << 1)
#define E1000_STATUS_TXOFF (1u << 4)
#define E1000_STATUS_SPEED_SHIFT 6
#define E1000_STATUS_SPEED_MASK (3u << 6)
#define E1000_STATUS_SPEED_10 0u
#define E1000_STATUS_SPEED_100 1u
#define E1000_STATUS_SPEED_1000 2u /* 11b also means 1000 Mb/s */

/* EERD (13.4.4), 82540/82544/82545/82546 layout. */
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE (1u << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16
/* EEPROM words (table 5-2): the Ethernet address in words 0-2, low byte first. */
#define E1000_EEPROM_ETH_ADDR 0x00

/* ICR, ICS, IMS, IMC (13.4.17-13.4.21): the same bit layout. */
#define E1000_ICR_TXDW (1u << 0)
#define E1000_ICR_TXQE (1u << 1)
#define E1000_ICR_LSC (1u << 2)
#define E1000_ICR_RXSEQ (1u << 3)
#define E1000_ICR_RXDMT0 (1u << 4)
#define E1000_ICR_RXO (1u << 6)
#define E1000_ICR_RXT0 (1u << 7)
#define E1000_ICR_MDAC (1u << 9)
#define E1000_ICR_RXCFG (1u << 10)
#define E1000_ICR_TXD_LOW (1u << 15)
#define E1000_ICR_SRPD (1u << 16)
#define E1000_IMC_ALL 0xffffffffu

/* RCTL (13.4.22). */
#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_SBP (1u << 2)
#define E1000_RCTL_UPE (1u << 3)
#define E1000_RCTL_MPE (1u << 4)
#define E1000_RCTL_LPE (1u << 5)
#define E1000_RCTL_LBM_NONE (0u << 6)
#define E1000_RCTL_RDMTS_HALF (0u << 8)
#define E1000_RCTL_MO_SHIFT 12
#define E1000_RCTL_BAM (1u << 15)
#define E1000_RCTL_BSIZE_2048 (0u << 16) /* with BSEX = 0 */
#define E1000_RCTL_VFE (1u << 18)
#define E1000_RCTL_BSEX (1u << 25)
#define E1000_RCTL_SECRC (1u << 26)

/* TCTL (13.4.33) and TIPG (13.4.34). */
#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)
#define E1000_TCTL_CT_SHIFT 4
#define E1000_TCTL_COLD_SHIFT 12
#define E1000_TCTL_RTLC (1u << 24)
#define E1000_TCTL_CT_IEEE 0x0fu    /* collision threshold: 16 attempts */
#define E1000_TCTL_COLD_FD 0x40u    /* collision distance, full duplex: 64 byte times */
#define E1000_TIPG_IPGT_SHIFT 0
#define E1000_TIPG_IPGR1_SHIFT 10
#define E1000_TIPG_IPGR2_SHIFT 20
#define E1000_TIPG_COPPER (10u | 8u << 10 | 6u << 20) /* IEEE 802.3 values, table 13-77 */

/* RAH (13.5.4). */
#define E1000_RAH_AV (1u << 31)

/* Legacy receive descriptor (3.2.3). */
struct e1000_rx_desc {
    uint64_t buffer_addr;
    uint16_t length;
    uint16_t csum;
    uint8_t status;
    uint8_t errors;
    uint16_t special;
} __attribute__((packed));
#define E1000_RXD_STAT_DD (1u << 0)
#define E1000_RXD_STAT_EOP (1u << 1)
#define E1000_RXD_STAT_IXSM (1u << 2)
#define E1000_RXD_STAT_VP (1u << 3)
#define E1000_RXD_ERR_CE (1u << 0)
#define E1000_RXD_ERR_SE (1u << 1)
#define E1000_RXD_ERR_SEQ (1u << 2)
#define E1000_RXD_ERR_CXE (1u << 4)
#define E1000_RXD_ERR_TCPE (1u << 5)
#define E1000_RXD_ERR_IPE (1u << 6)
#define E1000_RXD_ERR_RXE (1u << 7)
/* Errors that make a frame unusable (the checksum errors only concern offload). */
#define E1000_RXD_ERR_FRAME (E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | E1000_RXD_ERR_SEQ | \
                             E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE)

/* Legacy transmit descriptor (3.3.3). */
struct e1000_tx_desc {
    uint64_t buffer_addr;
    uint16_t length;
    uint8_t cso;
    uint8_t cmd;
    uint8_t status;
    uint8_t css;
    uint16_t special;
} __attribute__((packed));
#define E1000_TXD_CMD_EOP (1u << 0)
#define E1000_TXD_CMD_IFCS (1u << 1)
#define E1000_TXD_CMD_IC (1u << 2)
#define E1000_TXD_CMD_RS (1u << 3)
#define E1000_TXD_CMD_DEXT (1u << 5)
#define E1000_TXD_CMD_VLE (1u << 6)
#define E1000_TXD_CMD_IDE (1u << 7)
#define E1000_TXD_STAT_DD (1u << 0)
#define E1000_TXD_STAT_EC (1u << 1)
#define E1000_TXD_STAT_LC (1u << 2)
#define E1000_TXD_STAT_TU (1u << 3)

/* Descriptor rings: RDLEN/TDLEN a multiple of 128 bytes (8 descriptors), base 16-byte aligned. */
#define E1000_RING_ALIGN 128
_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor is 16 bytes");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor is 16 bytes");
