// SIGNET_HOT marks a function on the hot path of a message round trip between
// two SIPs (docs/channels.md, "Where the code falls"). GCC puts it in .text.hot,
// which the linker gathers in one place: code added or removed anywhere else
// then no longer moves these functions relative to each other and to the cache
// lines and pages they share, which alone moved the round trip by up to 15%.
#pragma once

#define SIGNET_HOT __attribute__((hot))
