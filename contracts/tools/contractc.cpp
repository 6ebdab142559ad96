// signet-contractc: the contract compiler as a build tool. The build runs it
// through signet_add_contract() (sdk/cmake/SignetContract.cmake); people use
// `signet contract`, which calls the same library functions.
#include "contracts/ContractTool.h"

#include <iostream>
#include <string>
#include <vector>

static int usage()
{
    std::cerr << "usage: signet-contractc check <file.contract>...\n"
                 "       signet-contractc gen c <file.contract> <out-dir> [--depfile <file>]\n";
    return 2;
}

int main(int argc, char** argv)
{
    std::vector<std::string> arguments(argv + 1, argv + argc);
    if (arguments.empty())
        return usage();
    std::string command = arguments[0];
    arguments.erase(arguments.begin());

    if (command == "check")
        return signet::contracts::contract_check_main(arguments, std::cout, std::cerr);

    if (command == "gen") {
        std::string depfile;
        if (arguments.size() == 5 && arguments[3] == "--depfile")
            depfile = arguments[4];
        else if (arguments.size() != 3)
            return usage();
        return signet::contracts::contract_gen_main(arguments[0], arguments[1], arguments[2], std::cout, std::cerr, depfile);
    }
    return usage();
}
