// The kernel speaking a contract on a SIP's behalf, on that SIP's fiber: the
// WASI personality's file calls (WasiFiles.cpp) and host-driven services
// (services/hostdir) send and receive messages that carry no handles on
// endpoints the kernel holds, checked against the channel's protocol as a
// SIP's own sends are.
#pragma once

#include "kernel/object/Channel.h"

#include <cstdint>
#include <span>
#include <vector>

namespace signet::abi {

// Sends `bytes` as message `id` from `endpoint`. OK; CLOSED if the peer is gone;
// INVALID_ARGUMENT if the bytes break the message's layout or limits; PROTOCOL
// if the protocol does not allow it now (a kernel bug, or a peer out of step).
int32_t kernel_send(Endpoint&, uint16_t id, std::span<uint8_t const> bytes);

// On a fiber: blocks until a message arrives at `endpoint`. OK with its id and
// bytes; CLOSED once the peer is gone and everything is drained, or when the
// calling thread is killed while it waits (it leaves at its next kernel call:
// callers' frames are never skipped); IO for a message that carries handles.
int32_t kernel_receive(Endpoint&, uint16_t& id, std::vector<uint8_t>& bytes);

// A request and its reply.
int32_t kernel_call(Endpoint&, uint16_t id, std::span<uint8_t const> request, uint16_t& reply_id, std::vector<uint8_t>& reply);

} // namespace signet::abi
