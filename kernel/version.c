#include "kernel/version.h"

#ifndef CIVIC_GIT_VERSION
#define CIVIC_GIT_VERSION "unknown"
#endif
#ifndef CIVIC_COMPILER
#define CIVIC_COMPILER __VERSION__
#endif

const char civic_version[] = "0.1.0 (" CIVIC_GIT_VERSION ")";
const char civic_build_info[] = "compiler " CIVIC_COMPILER;
