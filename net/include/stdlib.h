/* lwIP's <stdlib.h>: only atoi (netif_find), defined in net/sys_arch.c. */
#pragma once
int atoi(const char *s);
