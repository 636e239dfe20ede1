/* lwIP's <string.h>: civic's own string functions (kernel/string.c). */
#pragma once
#include "../../kernel/string.h"
