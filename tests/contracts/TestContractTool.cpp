#include "CheckSource.h"

#include "base/File.h"
#include "contracts/ContractTool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

using namespace signet::contracts;

namespace {

std::string const golden = test_directory + "/golden";


}

TEST(ContractTool, CheckPrintsOneLineWithQueueBoundsPerContract)
{
    std::ostringstream out, err;
    EXPECT_EQ(contract_check_main({ golden + "/nic.contract" }, out, err), 0);
    EXPECT_EQ(err.str(), "");
    EXPECT_EQ(out.str(),
        golden + "/nic.contract: contract NicEvents: 2 messages, 2 protocol states; queue bounds: exporter->importer 1, importer->exporter 1\n"
            + golden + "/nic.contract: contract NicDevice: 12 messages, 8 protocol states; queue bounds: exporter->importer 1, importer->exporter 3\n");
}

TEST(ContractTool, CheckFailsWithDiagnosticsIfAnyFileHasErrors)
{
    std::ostringstream out, err;
    EXPECT_EQ(contract_check_main({ golden + "/logger.contract", test_directory + "/errors/unknown-state.contract" }, out, err), 1);
    EXPECT_NE(out.str().find("contract Logger"), std::string::npos);
    EXPECT_NE(err.str().find("unknown-state.contract:4:38: error: unknown state 'Strat'"), std::string::npos) << err.str();
}

TEST(ContractTool, CheckWithoutFilesFails)
{
    std::ostringstream out, err;
    EXPECT_EQ(contract_check_main({}, out, err), 1);
    EXPECT_EQ(err.str(), "contract check: no contract files given\n");
}

TEST(ContractTool, GenWritesTheHeaderNamedAfterTheContractFile)
{
    std::ostringstream out, err;
    ScratchDirectory scratch("gen");
    std::string directory = scratch.path("out");
    ASSERT_EQ(contract_gen_main("c", golden + "/calculator.contract", directory, out, err, directory + "/calculator.d"), 0) << err.str();
    auto header = signet::read_text_file(directory + "/calculator.h");
    ASSERT_FALSE(header.is_error());
    EXPECT_EQ(header.value(), signet::read_text_file(golden + "/calculator.h").value());
    auto depfile = signet::read_text_file(directory + "/calculator.d");
    ASSERT_FALSE(depfile.is_error());
    EXPECT_EQ(depfile.value(), directory + "/calculator.h: " + golden + "/calculator.contract " + golden + "/logger.contract\n");
}

TEST(ContractTool, GenLeavesAnUnchangedHeaderUntouched)
{
    std::ostringstream out, err;
    ScratchDirectory scratch("unchanged");
    std::string directory = scratch.path();
    ASSERT_EQ(contract_gen_main("c", golden + "/logger.contract", directory, out, err), 0);
    auto before = std::filesystem::last_write_time(directory + "/logger.h");
    std::filesystem::last_write_time(directory + "/logger.h", before - std::chrono::hours(1));
    ASSERT_EQ(contract_gen_main("c", golden + "/logger.contract", directory, out, err), 0);
    EXPECT_EQ(std::filesystem::last_write_time(directory + "/logger.h"), before - std::chrono::hours(1));
}

TEST(ContractTool, GenRefusesALanguageItDoesNotKnow)
{
    std::ostringstream out, err;
    ScratchDirectory scratch("rust");
    EXPECT_EQ(contract_gen_main("rust", golden + "/logger.contract", scratch.path("out"), out, err), 1);
    EXPECT_EQ(err.str(), "contract gen: unknown language 'rust'; the generator knows 'c'\n");
}

TEST(ContractTool, GenWritesNothingForABadContract)
{
    std::ostringstream out, err;
    ScratchDirectory scratch("bad");
    std::string directory = scratch.path("out");
    EXPECT_EQ(contract_gen_main("c", test_directory + "/errors/cycle-without-send.contract", directory, out, err), 1);
    EXPECT_NE(err.str().find("cycle without a send"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(directory));
}
