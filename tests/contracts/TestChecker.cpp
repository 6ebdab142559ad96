#include "CheckSource.h"

#include "contracts/Limits.h"

#include <gtest/gtest.h>

using namespace signet::contracts;

namespace {

char const* const calculator = R"(
contract Calculator {
  in  message Add(i32 a, i32 b);
  out message Sum(i64 value);
  out message Overflow();
  in  message Describe(string<64> name);
  out message Text(bytes<4096> data);
  in  message Bye();

  state Start: one {
    Add? -> (Sum! or Overflow!) -> Start;
    Describe? -> Text! -> Start;
    Bye? -> Done;
  }
  state Done: one { }
}
)";

std::vector<std::string> edge_labels(Contract const& contract, State const& state)
{
    std::vector<std::string> labels;
    for (auto const& edge : state.edges)
        labels.push_back(contract.messages[edge.message].name + (edge.action == Action::Send ? "!" : "?") + " -> " + contract.machine.states[edge.target].name);
    return labels;
}

}

TEST(ContractChecker, AcceptsTheCalculator)
{
    auto result = check_source(calculator);
    ASSERT_TRUE(result.ok()) << result.diagnostics_text();
    ASSERT_EQ(result.file->contracts.size(), 1u);
    EXPECT_EQ(result.file->sources, std::vector<std::string> { "test.contract" });
}

TEST(ContractChecker, NumbersMessagesFromOneInDeclarationOrder)
{
    auto contract = checked_contract(calculator, "Calculator");
    ASSERT_EQ(contract.messages.size(), 6u);
    for (size_t i = 0; i < contract.messages.size(); ++i)
        EXPECT_EQ(contract.messages[i].id, i + 1);
    EXPECT_EQ(contract.messages[1].name, "Sum");
    EXPECT_EQ(contract.messages[1].direction, Direction::Out);
}

TEST(ContractChecker, LowersSequencesThroughIntermediateStates)
{
    auto contract = checked_contract(calculator, "Calculator");
    auto const& states = contract.machine.states;
    ASSERT_EQ(states.size(), 4u);
    EXPECT_EQ(states[0].name, "Start");
    EXPECT_TRUE(states[0].is_named);
    EXPECT_EQ(states[1].name, "Done");
    EXPECT_EQ(states[2].name, "Start#1");
    EXPECT_FALSE(states[2].is_named);
    EXPECT_EQ(edge_labels(contract, states[0]), (std::vector<std::string> { "Add? -> Start#1", "Describe? -> Start#2", "Bye? -> Done" }));
    EXPECT_EQ(edge_labels(contract, states[2]), (std::vector<std::string> { "Sum! -> Start", "Overflow! -> Start" }));
    EXPECT_EQ(edge_labels(contract, states[3]), (std::vector<std::string> { "Text! -> Start" }));
    EXPECT_TRUE(states[1].edges.empty());
}

TEST(ContractChecker, LowersSequencesInsideAlternativesToTheSameTarget)
{
    auto contract = checked_contract(R"(contract C {
      in message A(); out message B(); in message C(); out message D();
      state S: one { A? -> (B! -> C? or D!) -> S; }
    })",
        "C");
    auto const& states = contract.machine.states;
    ASSERT_EQ(states.size(), 3u);
    EXPECT_EQ(edge_labels(contract, states[1]), (std::vector<std::string> { "B! -> S#2", "D! -> S" }));
    EXPECT_EQ(edge_labels(contract, states[2]), (std::vector<std::string> { "C? -> S" }));
}

TEST(ContractChecker, BoundsEachQueueByTheLongestRunOfOneSidesMessages)
{
    auto contract = checked_contract(calculator, "Calculator");
    EXPECT_EQ(contract.bounds.exporter_to_importer, 1u);
    EXPECT_EQ(contract.bounds.importer_to_exporter, 1u);

    auto pipeline = checked_contract(R"(contract P {
      in message Begin(); in message More(); out message Ack(); out message Note();
      state Idle: one { Begin? -> More? -> More? -> (Ack! or Note! -> Note! -> Ack!) -> Idle; }
    })",
        "P");
    EXPECT_EQ(pipeline.bounds.importer_to_exporter, 3u);
    EXPECT_EQ(pipeline.bounds.exporter_to_importer, 3u);
}

TEST(ContractChecker, CountsRunsAcrossNamedStates)
{
    auto contract = checked_contract(R"(contract C {
      in message A(); in message B(); out message Done();
      state One: one { A? -> Two; }
      state Two: one { B? -> Three; }
      state Three: one { Done! -> One; }
    })",
        "C");
    EXPECT_EQ(contract.bounds.importer_to_exporter, 2u);
    EXPECT_EQ(contract.bounds.exporter_to_importer, 1u);
}

TEST(ContractChecker, LaysOutArgumentsWithNaturalAlignment)
{
    auto contract = checked_contract(R"(contract C {
      in message M(u8 tag, u64 value, string<3> text, u8 after, u16 tail, bool flag, block<64> page, f32 ratio);
      out message Done();
      state S: one { M? -> Done! -> S; }
    })",
        "C");
    auto const& message = contract.messages[0];
    std::vector<std::pair<uint32_t, uint32_t>> layout;
    for (auto const& argument : message.arguments)
        layout.emplace_back(argument.offset, argument.size);
    // string<3> is a u32 length and 3 bytes, padded to 8.
    std::vector<std::pair<uint32_t, uint32_t>> expected { { 0, 1 }, { 8, 8 }, { 16, 8 }, { 24, 1 }, { 26, 2 }, { 28, 1 }, { 32, 4 }, { 36, 4 } };
    EXPECT_EQ(layout, expected);
    EXPECT_EQ(message.size, 40u);
    EXPECT_EQ(contract.messages[1].size, 0u);
}

TEST(ContractChecker, ResolvesEndpointTypesAndRecordsTheirNextOperation)
{
    auto result = check_source(R"(import "logger.contract";
      contract Host {
        in message Attach(Logger.Exp:Ready log, Logger.Imp:Waiting client, Logger.Exp:Closed done);
        out message Attached();
        state Start: one { Attach? -> Attached! -> Start; }
      })",
        { { "logger.contract", R"(contract Logger {
            out message Ready(); in message Log(string<8> line); out message Ack(); in message Bye();
            state Ready: one { Ready! -> Waiting; }
            state Waiting: one { Log? -> Ack! -> Waiting; Bye? -> Closed; }
            state Closed: one { }
          })" } });
    ASSERT_TRUE(result.ok()) << result.diagnostics_text();
    EXPECT_EQ(result.file->sources, (std::vector<std::string> { "test.contract", "logger.contract" }));
    auto const& arguments = result.file->contracts[0].contract.messages[0].arguments;
    EXPECT_EQ(arguments[0].type.kind, TypeKind::Endpoint);
    EXPECT_EQ(arguments[0].type.endpoint.contract, "Logger");
    EXPECT_EQ(arguments[0].type.endpoint.state_index, 0u);
    EXPECT_EQ(arguments[0].type.endpoint.next, NextOperation::Send);
    EXPECT_EQ(arguments[1].type.endpoint.end, End::Imp);
    EXPECT_EQ(arguments[1].type.endpoint.state_index, 1u);
    EXPECT_EQ(arguments[1].type.endpoint.next, NextOperation::Send);
    EXPECT_EQ(arguments[2].type.endpoint.next, NextOperation::None);
}

namespace {

// Two files to import: service.contract, whose Service names a Logger of
// logger.contract, whose Line message has `line_arguments`.
std::vector<std::pair<std::string, std::string>> service_and_logger(std::string const& line_arguments)
{
    return { { "service.contract", R"(import "logger.contract";
        contract Service { out message Ready(); in message Log(Logger.Imp:Ready log); state Ready: one { Ready! -> Log? -> Ready; } })" },
        { "logger.contract", "contract Logger { in message Line(" + line_arguments + "); out message Ack(); state Ready: one { Line? -> Ack! -> Ready; } }" } };
}

} // namespace

TEST(ContractChecker, ACheckedContractCarriesEveryContractItsEndpointTypesReach)
{
    auto result = check_source(R"(import "service.contract";
      contract Host {
        in message Attach(Service.Exp:Ready service, Host.Imp:Start self);
        out message Attached();
        state Start: one { Attach? -> Attached! -> Start; }
      })",
        service_and_logger(""));
    ASSERT_TRUE(result.ok()) << result.diagnostics_text();
    auto const& host = result.file->contracts[0].contract;
    ASSERT_EQ(host.referenced.size(), 2u);
    EXPECT_EQ(host.referenced[0].name, "Logger"); // by name, not by discovery
    EXPECT_EQ(host.referenced[1].name, "Service");
    EXPECT_TRUE(host.referenced[1].referenced.empty());
    auto service = as_root(host, "Service");
    ASSERT_TRUE(service.has_value());
    ASSERT_EQ(service->referenced.size(), 1u);
    EXPECT_EQ(service->referenced[0].name, "Logger");
    EXPECT_FALSE(as_root(host, "Nobody").has_value());
}

TEST(ContractChecker, RejectsTwoContractsOfOneNameInOneClosure)
{
    // Host sees its own Logger; Service, which it imports, names another Logger.
    auto result = check_source(R"(import "service.contract";
      contract Logger { in message Line(); out message Ack(); state Ready: one { Line? -> Ack! -> Ready; } }
      contract Host {
        in message Attach(Service.Exp:Ready service, Logger.Imp:Ready log);
        out message Attached();
        state Start: one { Attach? -> Attached! -> Start; }
      })",
        service_and_logger("u32 n"));
    ASSERT_FALSE(result.ok());
    ASSERT_EQ(result.diagnostics.size(), 1u) << result.diagnostics_text();
    EXPECT_TRUE(result.diagnostics[0].message.starts_with("contract 'Host' reaches two different contracts named 'Logger' (declared in "))
        << result.diagnostics[0].message;
    EXPECT_NE(result.diagnostics[0].message.find("a descriptor names contracts by name"), std::string::npos);
}

TEST(ContractChecker, LetsAContractCarryItsOwnEndpoints)
{
    auto contract = checked_contract(R"(contract Fork {
      in message Split(Fork.Imp:Start other); out message Done();
      state Start: one { Split? -> Done! -> Start; }
    })",
        "Fork");
    EXPECT_EQ(contract.messages[0].arguments[0].type.endpoint.next, NextOperation::Send);
}

TEST(ContractChecker, ResolvesImportsRelativeToTheImportingFile)
{
    MemorySources sources;
    sources.add("app/main.contract", R"(import "../shared/logger.contract";
      contract Host { in message Attach(Logger.Exp:Ready log); out message Ok(); state S: one { Attach? -> Ok! -> S; } })");
    sources.add("shared/logger.contract", R"(import "types.contract";
      contract Logger { out message Ready(); in message Go(); state Ready: one { Ready! -> Go? -> Ready; } })");
    sources.add("shared/types.contract", "");
    auto result = check("app/main.contract", sources);
    ASSERT_TRUE(result.ok()) << result.diagnostics_text();
    EXPECT_EQ(result.file->sources, (std::vector<std::string> { "app/main.contract", "shared/logger.contract", "shared/types.contract" }));
}

TEST(ContractChecker, LoadsAFileImportedTwiceOnce)
{
    auto result = check_source(R"(import "a.contract"; import "b.contract";
      contract Host { in message Ping(); out message Pong(); state S: one { Ping? -> Pong! -> S; } })",
        { { "a.contract", "import \"common.contract\";" }, { "b.contract", "import \"./common.contract\";" },
            { "common.contract", "contract Common { out message Hi(); in message Ack(); state S: one { Hi! -> Ack? -> S; } }" } });
    ASSERT_TRUE(result.ok()) << result.diagnostics_text();
    EXPECT_EQ(result.file->sources, (std::vector<std::string> { "test.contract", "a.contract", "common.contract", "b.contract" }));
}

TEST(ContractChecker, SeesOnlyTheContractsOfFilesItImportsItself)
{
    auto result = check_source(R"(import "a.contract";
      contract Host { in message Attach(Common.Exp:S c); out message Ok(); state S: one { Attach? -> Ok! -> S; } })",
        { { "a.contract", "import \"common.contract\";" },
            { "common.contract", "contract Common { out message Hi(); in message Ack(); state S: one { Hi! -> Ack? -> S; } }" } });
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.diagnostics[0].message, "unknown contract 'Common' in the endpoint type of argument 'c' of message 'Attach'");
}

TEST(ContractChecker, RejectsACycleWithoutASend)
{
    EXPECT_EQ(first_error(R"(contract C {
  in message Attach(u32 log); out message Ok(); in message Ping();
  state S: one { Ping? -> Ok! -> S; Attach? -> S; }
})"),
        "test.contract:3:37: error: cycle without a send: from state 'S' the exporter can receive 'Attach?' and return to 'S' forever, so the importer-to-exporter queue has no bound; every cycle must contain a send and a receive (finiteness rule)");
}

TEST(ContractChecker, RejectsACycleWithoutAReceiveThatSpansNamedStates)
{
    auto text = first_error(R"(contract C {
  in message Go(); out message Tick(); out message Tock();
  state Idle: one { Go? -> A; }
  state A: one { Tick! -> B; }
  state B: one { Tock! -> A; }
})");
    EXPECT_NE(text.find("cycle without a receive: from state 'A' the exporter can send 'Tick!' -> 'Tock!' and return to 'A'"), std::string::npos) << text;
}

TEST(ContractChecker, RejectsAMessageUsedAgainstItsDirection)
{
    EXPECT_EQ(first_error("contract C { in message Add(); state S: one { Add! -> S; } }"),
        "test.contract:1:47: error: message 'Add' is declared 'in', so the exporter receives it: write 'Add?', not 'Add!'");
}

TEST(ContractChecker, RejectsAmbiguityHiddenInAlternatives)
{
    auto text = first_error("contract C { in message A(); out message B(); out message D(); state S: one { (A? -> B! or A? -> D!) -> S; } }");
    EXPECT_NE(text.find("ambiguous transition: 'A?' already leads from state 'S'"), std::string::npos) << text;
}

TEST(ContractChecker, RejectsAMixedIntermediateState)
{
    auto text = first_error("contract C { in message A(); out message B(); in message Q(); state S: one { A? -> (B! or Q?) -> S; } }");
    EXPECT_NE(text.find("state 'S' after 'A?' both receives 'Q?' and sends 'B!'"), std::string::npos) << text;
}

TEST(ContractChecker, RejectsAContractWithMoreStatesThanTheLimit)
{
    std::string steps;
    for (uint32_t i = 0; i < limits::max_states / 2 + 1; ++i)
        steps += "A? -> B! -> ";
    auto text = first_error("contract C { in message A(); out message B(); state S: one { " + steps + "S; } }");
    EXPECT_NE(text.find("needs more than 4096 protocol states"), std::string::npos) << text;
}

TEST(ContractChecker, RejectsAContractThatReachesMoreContractsThanADescriptorCarries)
{
    // Host names L0, which names L1, ... L256: one more than a descriptor may carry.
    std::string text;
    for (uint32_t i = 0; i <= limits::max_referenced_contracts; ++i) {
        std::string next = i < limits::max_referenced_contracts ? "L" + std::to_string(i + 1) + ".Imp:S e" : "";
        text += "contract L" + std::to_string(i) + " { in message Go(" + next + "); out message Done(); state S: one { Go? -> Done! -> S; } }\n";
    }
    text += "contract Host { in message Attach(L0.Imp:S e); out message Ok(); state S: one { Attach? -> Ok! -> S; } }\n";
    auto result = check_source(text);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.diagnostics_text().find("contract 'Host' reaches 257 other contracts through its endpoint types; a descriptor carries at most 256"), std::string::npos)
        << result.diagnostics_text();
}

TEST(ContractChecker, StopsAfterAHundredErrors)
{
    std::string messages;
    for (int i = 0; i < 300; ++i)
        messages += "in message M(i32 x); ";
    auto result = check_source("contract C { " + messages + " state S: one { } }");
    ASSERT_EQ(result.diagnostics.size(), Diagnostics::max_errors + 1);
    EXPECT_EQ(result.diagnostics.back().message, "too many errors (100); stopping here");
}

TEST(ContractChecker, ReportsAFileThatCannotBeRead)
{
    MemorySources sources;
    auto result = check("missing.contract", sources);
    ASSERT_EQ(result.diagnostics.size(), 1u);
    EXPECT_EQ(result.diagnostics[0].to_string(), "missing.contract:1:1: error: no such file");
}

TEST(ContractChecker, RejectsAFileThatImportsItself)
{
    auto text = first_error("import \"test.contract\";");
    EXPECT_EQ(text, "test.contract:1:1: error: cannot import \"test.contract\": import cycle test.contract -> test.contract");
}

TEST(ContractChecker, LimitsHowDeeplyImportsNest)
{
    MemorySources sources;
    for (int i = 0; i < 40; ++i)
        sources.add("f" + std::to_string(i) + ".contract", "import \"f" + std::to_string(i + 1) + ".contract\";");
    sources.add("f40.contract", "");
    auto result = check("f0.contract", sources);
    ASSERT_EQ(result.diagnostics.size(), 1u);
    EXPECT_EQ(result.diagnostics[0].to_string(), "f31.contract:1:1: error: cannot import \"f32.contract\": imports nest more than 32 files deep");
}
