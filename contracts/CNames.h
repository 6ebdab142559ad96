// The C identifiers generated for a contract, in one place: the C generator
// names things with them, and the checker uses them to reject contracts whose
// names would collide, or clash with C, in the generated header.
#pragma once

#include "contracts/Contract.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signet::contracts::cnames {

std::string message_id(std::string_view contract, std::string_view message);           // Calc_MSG_Add
std::string message_struct(std::string_view contract, std::string_view message);       // Calc_Add
std::string message_valid(std::string_view contract, std::string_view message);        // Calc_Add_valid
std::string send(std::string_view contract, End, std::string_view message);            // Calc_Imp_send_Add
std::string send_message(std::string_view contract, End, std::string_view message);    // Calc_Imp_send_Add_message
std::string tag_type(std::string_view contract, End);                                  // Calc_Imp_tag
std::string tag(std::string_view contract, End, std::string_view message);             // Calc_Imp_Sum
std::string tag_closed(std::string_view contract, End);                                // Calc_Imp_CLOSED
std::string tag_failed(std::string_view contract, End);                                // Calc_Imp_FAILED
std::string received(std::string_view contract, End);                                  // Calc_Imp_message
std::string accept(std::string_view contract, End);                                    // Calc_Imp_accept
std::string recv(std::string_view contract, End);                                      // Calc_Imp_recv
std::string select_recv(std::string_view contract, End);                               // Calc_Imp_select_recv
std::string call(std::string_view contract, End, std::string_view message);            // Calc_Imp_call_Add
std::string descriptor(std::string_view contract);                                     // Calc_descriptor
std::string descriptor_size(std::string_view contract);                                // Calc_DESCRIPTOR_SIZE

// Which end sends a message: the importer sends `in` messages, the exporter `out` ones.
End sender(Direction);
End receiver(Direction);
// Whether an end receives any message, and so gets a receive function.
bool receives_any(Contract const&, End);

struct FileScopeName {
    std::string identifier;
    std::optional<size_t> message; // The message it belongs to; none for the contract's own.
};

// Every identifier the generated header declares at file scope for this contract.
std::vector<FileScopeName> file_scope_names(Contract const&);

struct ParameterName {
    std::string identifier;
    size_t argument { 0 };
    bool is_length { false }; // The `<name>_length` parameter of a bytes<N> or string<N>.
};

// The parameters of a message's typed send function, after the endpoint.
std::vector<ParameterName> parameter_names(Message const&);

// Why a contract, message or argument name cannot be used in the generated C
// (a keyword, a standard name, a reserved prefix), if it cannot.
std::optional<std::string> reserved_reason(std::string_view name);

} // namespace signet::contracts::cnames
