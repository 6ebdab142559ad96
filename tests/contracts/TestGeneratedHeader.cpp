// Compiles every golden header with the compilers SIPs and hosts use: clang-19
// for wasm32-wasi, and the host's C and C++ compilers, all with warnings as errors.
#include "CheckSource.h"

#include "base/File.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

using namespace signet::contracts;

namespace {

std::string const wasm_cc = SIGNET_TEST_CLANG19;
std::string const host_cc = SIGNET_TEST_HOST_CC;
std::string const host_cxx = SIGNET_TEST_HOST_CXX;

// A translation unit that includes every golden header twice, as a SIP that
// includes several contracts' headers would, and uses one of each kind of function.
std::string write_translation_unit(ScratchDirectory const& scratch, char const* extension)
{
    std::string path = scratch.path(std::string("use") + extension);
    std::ofstream out(path);
    for (int pass = 0; pass < 2; ++pass) {
        for (auto const& entry : std::filesystem::directory_iterator(test_directory + "/golden")) {
            if (entry.path().extension() == ".h")
                out << "#include \"" << entry.path().string() << "\"\n";
        }
    }
    out << R"(
int use_calculator(signet_handle endpoint)
{
    Calculator_Exp_message request;
    uint32_t index = 0;
    if (Calculator_Exp_select_recv(&endpoint, 1, -1, &index, &request) == Calculator_Exp_Add)
        return Calculator_Exp_send_Sum(endpoint, (int64_t)request.as.Add.a + request.as.Add.b);
    return Calculator_Imp_send_Describe(endpoint, "calc", 4) + (int)sizeof Calculator_descriptor;
}
)";
    return path;
}

void expect_compiles(std::string const& command)
{
    int status = std::system((command + " 2>&1").c_str());
    EXPECT_EQ(status, 0) << command;
}

}

TEST(GeneratedHeader, CompilesForWasm32WithClang19)
{
    if (wasm_cc.empty())
        GTEST_SKIP() << "clang-19 is not installed, so generated headers are not compiled for wasm32 (install clang-19 to run this test)";
    ScratchDirectory scratch("wasm32");
    expect_compiles(wasm_cc + " --target=wasm32-wasi --sysroot=/usr -fsyntax-only -std=c11 -Wall -Wextra -pedantic -Werror " + write_translation_unit(scratch, ".c"));
}

TEST(GeneratedHeader, CompilesAsCOnTheHost)
{
    ScratchDirectory scratch("host-c");
    expect_compiles(host_cc + " -fsyntax-only -std=c11 -Wall -Wextra -pedantic -Werror " + write_translation_unit(scratch, ".c"));
}

TEST(GeneratedHeader, CompilesAsCxxOnTheHost)
{
    ScratchDirectory scratch("host-cxx");
    expect_compiles(host_cxx + " -fsyntax-only -x c++ -std=c++17 -Wall -Wextra -pedantic -Werror " + write_translation_unit(scratch, ".cpp"));
}
