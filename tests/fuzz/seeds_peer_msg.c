/*
 * Writes fuzz_peer_msg's seed corpus into the directory given: a few valid streams built with the
 * encoders (so the corpus follows the format instead of being checked-in bytes). Each file is the
 * target's input: two chunking bytes, then the stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/peer_msg.h"

static uint8_t buf[64 * 1024];
static size_t n;
static struct peer_tx tx;

static void start(uint8_t chunking, uint64_t host, uint64_t seq)
{
    buf[0] = chunking;
    buf[1] = 0x5a;
    n = 2;
    peer_tx_init(&tx, host, seq);
}

static void add(struct peer_msg m)
{
    size_t len = 0;
    if (peer_tx_encode(&tx, &m, buf + n, sizeof(buf) - n, &len) != CIVIC_OK) {
        fprintf(stderr, "seeds_peer_msg: cannot encode type 0x%04x\n", m.type);
        exit(1);
    }
    n += len;
}

static void hello(uint16_t type)
{
    struct peer_msg m = {.type = type,
                         .hello = {.host_id = tx.sender,
                                   .caps = PEER_CAP_BENCH | PEER_CAP_PAGE,
                                   .accepted = type == PEER_T_HELLO_ACK ? PEER_CAP_BENCH : 0,
                                   .version = PEER_VERSION,
                                   .port = PEER_PORT}};
    strcpy(m.hello.name, "seed-host");
    add(m);
}

static void page_msg(uint16_t type, struct peer_page pg)
{
    add((struct peer_msg){.type = type, .page = pg});
}

static void save(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static uint8_t page[PEER_RR_SIZE], data[3000];
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof(page); i++)
        page[i] = (uint8_t)(i * 31);
    memcpy(data, page, sizeof(data));

    start(0x00, 2, 0); /* byte by byte */
    hello(PEER_T_HELLO);
    add((struct peer_msg){.type = PEER_T_KEEPALIVE, .timestamp = 1000000000});
    add((struct peer_msg){.type = PEER_T_KEEPALIVE_ACK, .timestamp = 1000000000});
    save(argv[1], "handshake-keepalive");

    start(0x60, 0x1122334455667788ull, ~0ull); /* chunks up to 31 bytes; seq wraps */
    hello(PEER_T_HELLO_ACK);
    add((struct peer_msg){.type = PEER_T_BENCH_DATA, .bench = {data, sizeof(data)}});
    add((struct peer_msg){.type = PEER_T_BENCH_DATA, .bench = {data, 0}});
    add((struct peer_msg){.type = PEER_T_BENCH_DONE, .done = {sizeof(data), 0x12345678}});
    add((struct peer_msg){.type = PEER_T_BYE, .bye_reason = PEER_BYE_SHUTDOWN});
    save(argv[1], "bench");

    start(0xc0, 7, 100); /* chunks up to 4100 bytes */
    hello(PEER_T_HELLO);
    add((struct peer_msg){.type = PEER_T_RR_REQUEST, .rr_req = {1, PEER_RR_SIZE}});
    add((struct peer_msg){.type = PEER_T_RR_RESPONSE, .rr_resp = {1, page}});
    save(argv[1], "rr");

    /* Every PAGE_* type; chunks up to 4100 bytes. Under the fuzzer's max_len (20000). */
    start(0xc0, 0x0a0b0c0d, 1);
    hello(PEER_T_HELLO);
    page_msg(PEER_T_PAGE_PUT,
             (struct peer_page){.vm = 1, .version = 1, .gfn = 0x42, .crc = 0x1234, .data = page});
    page_msg(PEER_T_PAGE_PUT_ACK, (struct peer_page){.vm = 1, .version = 1, .gfn = 0x42});
    page_msg(PEER_T_PAGE_PUT_ACK,
             (struct peer_page){.vm = 1, .version = 1, .gfn = 0x43, .status = PEER_PAGE_FULL});
    page_msg(PEER_T_PAGE_GET, (struct peer_page){.vm = 1, .version = 1, .gfn = 0x42});
    page_msg(PEER_T_PAGE_DATA,
             (struct peer_page){.vm = 1, .version = 1, .gfn = 0x42, .crc = 0x1234, .data = page});
    page_msg(PEER_T_PAGE_DATA,
             (struct peer_page){.vm = 1, .version = 2, .gfn = 0x42, .status = PEER_PAGE_ABSENT});
    page_msg(PEER_T_PAGE_FREE, (struct peer_page){.vm = 1, .version = 1, .gfn = 0x42});
    page_msg(PEER_T_PAGE_FREE_VM, (struct peer_page){.vm = 1});
    page_msg(PEER_T_PAGE_FREE_VM, (struct peer_page){.vm = PEER_VM_ALL});
    save(argv[1], "page-all");

    start(0x00, 4, 0); /* byte by byte: a PUT and its answer */
    hello(PEER_T_HELLO_ACK);
    page_msg(PEER_T_PAGE_PUT, (struct peer_page){.vm = 0xfffffffe,
                                                 .version = 0xffffffff,
                                                 .gfn = PEER_PAGE_GFN_LIMIT - 1,
                                                 .data = page});
    page_msg(PEER_T_PAGE_PUT_ACK, (struct peer_page){.vm = 0xfffffffe,
                                                     .version = 0xffffffff,
                                                     .gfn = PEER_PAGE_GFN_LIMIT - 1,
                                                     .status = PEER_PAGE_STALE});
    save(argv[1], "page-put");

    start(0x40, 5, 0); /* the short ones, chunks up to 8 bytes */
    hello(PEER_T_HELLO);
    page_msg(PEER_T_PAGE_GET, (struct peer_page){.vm = 0, .version = 0, .gfn = 0});
    page_msg(PEER_T_PAGE_PUT_ACK,
             (struct peer_page){.vm = 2, .gfn = 9, .status = PEER_PAGE_CORRUPT});
    page_msg(PEER_T_PAGE_FREE, (struct peer_page){.vm = 2, .version = 3, .gfn = 9});
    page_msg(PEER_T_PAGE_FREE_VM, (struct peer_page){.vm = 2});
    save(argv[1], "page-short");

    start(0xa0, 6, 0); /* a refusal: PAGE_DATA not OK with a CRC (patched after encoding) */
    hello(PEER_T_HELLO);
    page_msg(PEER_T_PAGE_DATA, (struct peer_page){.vm = 1, .gfn = 1, .status = PEER_PAGE_ABSENT});
    buf[n - PEER_PAGE_SIZE - 1] = 1; /* crc's last byte */
    save(argv[1], "page-data-crc");

    start(0x20, 9, 0); /* a refusal: BYE first */
    add((struct peer_msg){.type = PEER_T_BYE, .bye_reason = PEER_BYE_SELF});
    save(argv[1], "bye-first");

    start(0x80, 3, 5); /* truncated inside the second message */
    hello(PEER_T_HELLO);
    add((struct peer_msg){.type = PEER_T_KEEPALIVE, .timestamp = 1});
    n -= 3;
    save(argv[1], "truncated");
    return 0;
}
