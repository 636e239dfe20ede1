#pragma once

extern const char civic_version[];
extern const char civic_build_info[];
#define CIVIC_VERSION civic_version
