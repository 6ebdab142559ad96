// Checks a contract file and the files it imports, and lowers each contract
// to its checked form (Contract.h): message layouts, the protocol's state
// machine and its queue bounds.
#pragma once

#include "contracts/Contract.h"
#include "contracts/Diagnostic.h"
#include "contracts/SourceProvider.h"

#include <optional>
#include <string>
#include <vector>

namespace signet::contracts {

struct CheckedContract {
    Contract contract;
    SourceLocation location;
    std::string doc;
    std::vector<std::string> message_docs; // Parallel to contract.messages.
};

struct CheckedFile {
    std::string path;
    // The contracts this file declares, in order; imported ones are not repeated.
    std::vector<CheckedContract> contracts;
    // Every file the check read, this one first: what a build must watch.
    std::vector<std::string> sources;
};

struct CheckResult {
    std::optional<CheckedFile> file; // Set exactly when there are no diagnostics.
    std::vector<Diagnostic> diagnostics;

    bool ok() const { return file.has_value(); }
    // Every diagnostic, one per line.
    std::string diagnostics_text() const;
};

// Checks the file at `path`; imports are resolved relative to the importing file.
CheckResult check(std::string const& path, SourceProvider&);
CheckResult check(std::string const& path);

} // namespace signet::contracts
