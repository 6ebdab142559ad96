// The command-line layer of the contract compiler: `signet contract check` and
// `signet contract gen` call these, and so does signet-contractc.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace signet::contracts {

// Checks each file. Prints diagnostics to `err` and returns 1 if any file has
// errors; otherwise prints one line per contract with its queue bounds to
// `out` and returns 0.
int contract_check_main(std::vector<std::string> const& files, std::ostream& out, std::ostream& err);

// Checks `file` and writes the `lang` bindings (only "c" so far) as
// `<out_dir>/<file stem>.h`, leaving an identical existing header untouched so
// that builds do not redo work. With a `depfile`, also writes a Make-style
// dependency file naming every contract file read. Returns 0, or 1 with
// diagnostics on `err`.
int contract_gen_main(std::string const& lang, std::string const& file, std::string const& out_dir, std::ostream& out, std::ostream& err,
    std::string const& depfile = {});

} // namespace signet::contracts
