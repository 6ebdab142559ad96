// Turns hardware faults in SIP code into traps of that SIP.
#pragma once

#include "base/ErrorOr.h"

namespace signet {

// Installs the process-wide SIGSEGV/SIGBUS handler (idempotent).
void install_fault_handler();

// Gives the calling thread a signal stack so stack overflows can be handled.
// Every thread that runs SIP code must call this once.
ErrorOr<void> prepare_thread_for_sip_code();

} // namespace signet
