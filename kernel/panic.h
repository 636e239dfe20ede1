/* A bug or an impossible state in the hypervisor itself: report it and stop this CPU. Never for
 * anything a guest, a peer or an operator can cause. */
#pragma once

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
