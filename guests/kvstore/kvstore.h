/* kvstore's private helpers (guests/README.md, "kvstore"). */
#pragma once
#include "guest.h"
#include "pit_tsc.h"
