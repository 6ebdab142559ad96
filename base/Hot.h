// SIGNET_HOT marks a function on the hot path of a message round trip between
// two SIPs (docs/channels.md, "Where the code falls"). GCC puts it in .text.hot,
// which the linker gathers in one place: code added or removed anywhere else
// then no longer moves these functions relative to each other and to the cache
// lines and pages they share, which alone moved the round trip by up to 15%.
//
// The group's place is not fixed by that: the linker puts .text.hot after the
// cold code (.text.unlikely, the `[clone .cold]` parts), so cold code added
// anywhere moved the whole group, and a 256-byte move took the round trip from
// ~177 to ~192 ns. SIGNET_HOT_ANCHOR marks the group's first function (in link
// order: the channel calls' receive_on) and starts it on a 4 KiB page, so the
// group lies the same way in every build (~180 ns again; docs/channels.md).
#pragma once

#define SIGNET_HOT __attribute__((hot))
#define SIGNET_HOT_ANCHOR __attribute__((hot, aligned(4096)))
