// Standard streams bound to channel endpoints (docs/console.md).
//
// A SIP's stdin, stdout and stderr are either the host streams its Stdio names
// (only the console SIP gets the terminal under `signet boot`) or endpoints of
// the Stream contract (services/contracts/Stream.contract) that its creator
// bound: then signet_stdio_read/write and WASI fd_read/fd_write on 0, 1 and 2
// become Stream messages, spoken by the kernel on the SIP's behalf.
#pragma once

#include "kernel/object/Channel.h"
#include "kernel/object/Sip.h"

#include <memory>
#include <span>
#include <string>

namespace signet::abi {

// Whether `contract` is the Stream contract as the kernel speaks it: messages
// Read(u32) in, Data(bytes<4096>) out and Eof() out, and the one protocol
// `Start: Read? -> (Data! or Eof!) -> Start`. Any contract named otherwise, or
// shaped otherwise, is not a stream, whatever it is called.
bool is_stream_contract(contracts::Contract const&);

// The end a standard stream needs: the reader (Imp) for stdin, the writer (Exp) for stdout and stderr.
contracts::End stream_end(uint32_t stream);

// Checks that `endpoint` can be `stream` (0, 1 or 2) of a SIP: a Stream
// endpoint of the right end, in Start with nothing waiting in its inbox (or,
// for a writer, with its reader's first Read waiting).
// Returns an empty string, or what is wrong with it.
std::string check_stream_endpoint(Endpoint&, uint32_t stream);

// Binds `stream` of a SIP that has not started to `endpoint` (checked with
// check_stream_endpoint): the endpoint enters the SIP's handle table. For the
// host (`signet boot`). `terminal`: the stream leads to a terminal (the SIP's C
// library takes it for one).
ErrorOr<void> bind_stream(Sip&, uint32_t stream, std::shared_ptr<Endpoint>, bool terminal = false);

// Whether `stream` of the SIP is bound to an endpoint (not the host's stream).
bool stream_is_bound(Sip&, uint32_t stream);

// Whether `stream` of the SIP is a terminal: a host stream, or a bound one its
// binder said leads to a terminal.
bool stream_is_terminal(Sip&, uint32_t stream);

// On the SIP's fiber: writes all of `bytes` to a bound stdout or stderr,
// answering the reader's Read requests. OK with the count written (short only
// if the reader went away part way), CLOSED if the reader is gone, IO if the
// stream's handle is no longer a stream endpoint. Never unwinds: a SIP killed
// while it waits gets CLOSED and leaves at its next kernel call.
int32_t stream_write(Sip&, uint32_t stream, std::span<uint8_t const> bytes, uint32_t& written);

// On the SIP's fiber: reads at most `capacity` bytes (at most 4096) from a
// bound stdin into the SIP's memory at `offset`. 0 bytes is the end of the
// stream (Eof, or the writer gone). The range is checked again after the wait.
int32_t stream_read(Sip&, uint32_t offset, uint32_t capacity, uint32_t& read);

} // namespace signet::abi
