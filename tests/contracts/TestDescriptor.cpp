#include "CheckSource.h"

#include "contracts/Descriptor.h"

#include <gtest/gtest.h>

using namespace signet::contracts;

namespace {

char const* const source = R"(
contract Store {
  in  message Put(u8 tag, u64 key, string<16> name, bytes<8> value, bool sync, block<4096> page, Store.Imp:Idle peer);
  out message Stored(u64 key);
  out message Refused(string<32> reason);
  in  message Close();
  state Idle: one {
    Put? -> (Stored! or Refused!) -> Idle;
    Close? -> Closed;
  }
  state Closed: one { }
}
)";

Contract store() { return checked_contract(source, "Store"); }

void put_u16(std::vector<uint8_t>& bytes, size_t offset, uint16_t value)
{
    bytes[offset] = static_cast<uint8_t>(value);
    bytes[offset + 1] = static_cast<uint8_t>(value >> 8);
}

}

TEST(ContractDescriptor, RoundTripsACheckedContract)
{
    auto contract = store();
    auto bytes = encode_descriptor(contract);
    auto decoded = decode_descriptor(bytes);
    ASSERT_FALSE(decoded.is_error()) << decoded.error().message();
    EXPECT_EQ(decoded.value(), contract);
}

TEST(ContractDescriptor, StartsWithMagicVersionAndSize)
{
    auto bytes = encode_descriptor(store());
    ASSERT_GE(bytes.size(), descriptor_header_size);
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "SGCD");
    EXPECT_EQ(bytes[4] | bytes[5] << 8, descriptor_version);
    EXPECT_EQ(bytes[8] | bytes[9] << 8 | bytes[10] << 16 | bytes[11] << 24, static_cast<int>(bytes.size()));
}

TEST(ContractDescriptor, RejectsEveryTruncation)
{
    auto bytes = encode_descriptor(store());
    for (size_t length = 0; length < bytes.size(); ++length) {
        auto decoded = decode_descriptor(std::span(bytes.data(), length));
        EXPECT_TRUE(decoded.is_error()) << "a descriptor cut to " << length << " bytes decoded";
    }
}

TEST(ContractDescriptor, RejectsTrailingBytes)
{
    auto bytes = encode_descriptor(store());
    bytes.push_back(0);
    put_u16(bytes, 8, static_cast<uint16_t>(bytes.size()));
    auto decoded = decode_descriptor(bytes);
    ASSERT_TRUE(decoded.is_error());
    EXPECT_NE(decoded.error().message().find("1 bytes follow the descriptor"), std::string::npos) << decoded.error().message();
}

TEST(ContractDescriptor, RejectsAnotherVersion)
{
    auto bytes = encode_descriptor(store());
    put_u16(bytes, 4, 1); // version 1 named endpoint contracts only by name
    auto decoded = decode_descriptor(bytes);
    ASSERT_TRUE(decoded.is_error());
    EXPECT_EQ(decoded.error().kind(), signet::ErrorKind::Unsupported);
}

TEST(ContractDescriptor, RejectsGarbage)
{
    std::vector<uint8_t> garbage(64, 0xa5);
    EXPECT_TRUE(decode_descriptor(garbage).is_error());
    EXPECT_TRUE(decode_descriptor({}).is_error());
}

TEST(ContractDescriptor, RejectsQueueBoundsThatUnderstateTheProtocol)
{
    auto contract = store();
    contract.bounds.exporter_to_importer = 0;
    auto decoded = decode_descriptor(encode_descriptor(contract));
    ASSERT_TRUE(decoded.is_error());
    EXPECT_NE(decoded.error().message().find("queue bounds"), std::string::npos) << decoded.error().message();
}

TEST(ContractDescriptor, RejectsAnArgumentOffsetOtherThanTheNaturalOne)
{
    auto contract = store();
    contract.messages[0].arguments[1].offset = 4;
    EXPECT_TRUE(decode_descriptor(encode_descriptor(contract)).is_error());
}

TEST(ContractDescriptor, RejectsAStringBoundAboveTheLimit)
{
    auto contract = store();
    contract.messages[2].arguments[0].type.bound = 2 * 1024 * 1024;
    EXPECT_TRUE(decode_descriptor(encode_descriptor(contract)).is_error());
}

TEST(ContractDescriptor, RejectsAnEdgeToAStateThatDoesNotExist)
{
    auto contract = store();
    contract.machine.states[0].edges[0].target = 99;
    EXPECT_TRUE(decode_descriptor(encode_descriptor(contract)).is_error());
}

TEST(ContractDescriptor, RejectsACycleWithoutASend)
{
    auto contract = store();
    contract.machine.states[0].edges[0].target = 0; // Put? -> Idle, with no answer.
    EXPECT_TRUE(decode_descriptor(encode_descriptor(contract)).is_error());
}

TEST(ContractDescriptor, RejectsAnEndpointThatTravelsInAReceiveState)
{
    auto contract = store();
    auto& endpoint = contract.messages[0].arguments[6].type.endpoint;
    endpoint.end = End::Exp;
    endpoint.next = NextOperation::Receive;
    auto decoded = decode_descriptor(encode_descriptor(contract));
    ASSERT_TRUE(decoded.is_error());
    EXPECT_NE(decoded.error().message().find("receives next"), std::string::npos) << decoded.error().message();
}

namespace {

// Host names Service, which names Logger: Host's descriptor carries both.
std::string const service_source = R"(
contract Logger { in message Line(); out message Ack(); state Ready: one { Line? -> Ack! -> Ready; } }
contract Service { out message Ready(); in message Log(Logger.Imp:Ready log); state Ready: one { Ready! -> Log? -> Ready; } }
contract Host {
  in message Attach(Service.Exp:Ready service);
  out message Attached();
  state Start: one { Attach? -> Attached! -> Start; }
}
)";

} // namespace

TEST(ContractDescriptor, CarriesTheContractsItsEndpointTypesReach)
{
    auto host = checked_contract(service_source, "Host");
    ASSERT_EQ(host.referenced.size(), 2u);
    auto decoded = decode_descriptor(encode_descriptor(host));
    ASSERT_FALSE(decoded.is_error()) << decoded.error().message();
    EXPECT_EQ(decoded.value(), host);
    // A contract's identity is its closure: Service with another Logger is another contract.
    auto other = host;
    Argument count;
    count.name = "n";
    count.type.kind = TypeKind::U32;
    count.size = 4;
    other.referenced[0].messages[0].arguments.push_back(count);
    other.referenced[0].messages[0].size = 4;
    ASSERT_FALSE(decode_descriptor(encode_descriptor(other)).is_error());
    EXPECT_NE(encode_descriptor(*as_root(host, "Service")), encode_descriptor(*as_root(other, "Service")));
    EXPECT_EQ(encode_descriptor(*as_root(host, "Service")), encode_descriptor(checked_contract(service_source, "Service")));
}

TEST(ContractDescriptor, RejectsAnEndpointOfAContractItDoesNotCarry)
{
    auto host = checked_contract(service_source, "Host");
    host.referenced.erase(host.referenced.begin()); // Logger, which Service names
    auto decoded = decode_descriptor(encode_descriptor(host));
    ASSERT_TRUE(decoded.is_error());
    EXPECT_NE(decoded.error().message().find("names contract 'Logger', which the descriptor does not carry"), std::string::npos) << decoded.error().message();
}

TEST(ContractDescriptor, RejectsACarriedContractThatNoEndpointTypeReaches)
{
    auto host = checked_contract(service_source, "Host");
    auto extra = host.referenced[0];
    extra.name = "Unused";
    host.referenced.push_back(extra);
    auto decoded = decode_descriptor(encode_descriptor(host));
    ASSERT_TRUE(decoded.is_error());
    EXPECT_NE(decoded.error().message().find("carries contracts that none of its endpoint types reach"), std::string::npos) << decoded.error().message();
}

TEST(ContractDescriptor, RejectsCarriedContractsOutOfOrderOrTwice)
{
    auto host = checked_contract(service_source, "Host");
    std::swap(host.referenced[0], host.referenced[1]);
    EXPECT_TRUE(decode_descriptor(encode_descriptor(host)).is_error());
    std::swap(host.referenced[0], host.referenced[1]);
    host.referenced.insert(host.referenced.begin(), host.referenced[0]);
    auto decoded = decode_descriptor(encode_descriptor(host));
    ASSERT_TRUE(decoded.is_error());
    EXPECT_NE(decoded.error().message().find("appears twice"), std::string::npos) << decoded.error().message();
}

TEST(ContractDescriptor, ChecksAnEndpointTypeAgainstTheCarriedContractsMachine)
{
    auto host = checked_contract(service_source, "Host");
    // Service's Ready state, where the exporter sends: Service.Imp:Ready would receive next.
    host.messages[0].arguments[0].type.endpoint.end = End::Imp;
    auto decoded = decode_descriptor(encode_descriptor(host));
    ASSERT_TRUE(decoded.is_error());
    EXPECT_NE(decoded.error().message().find("wrong next operation"), std::string::npos) << decoded.error().message();
    host = checked_contract(service_source, "Host");
    host.messages[0].arguments[0].type.endpoint.state_index = 1;
    EXPECT_TRUE(decode_descriptor(encode_descriptor(host)).is_error());
}

TEST(ContractDescriptor, RejectsADuplicateEdge)
{
    auto contract = store();
    contract.machine.states[0].edges.push_back(contract.machine.states[0].edges[0]);
    EXPECT_TRUE(decode_descriptor(encode_descriptor(contract)).is_error());
}

TEST(MessageBuffer, AcceptsAZeroedBuffer)
{
    auto contract = store();
    std::vector<uint8_t> buffer(contract.messages[0].size, 0);
    EXPECT_FALSE(validate_message_buffer(contract.messages[0], buffer).is_error());
}

TEST(MessageBuffer, RejectsTheWrongLength)
{
    auto contract = store();
    std::vector<uint8_t> buffer(contract.messages[0].size + 1, 0);
    EXPECT_TRUE(validate_message_buffer(contract.messages[0], buffer).is_error());
}

TEST(MessageBuffer, RejectsAStringLongerThanItsBound)
{
    auto contract = store();
    auto const& message = contract.messages[0];
    std::vector<uint8_t> buffer(message.size, 0);
    buffer[message.arguments[2].offset] = 17;
    auto result = validate_message_buffer(message, buffer);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().message(), "argument 'name' of message 'Put' holds 17 bytes; at most 16 fit");
}

TEST(MessageBuffer, RejectsAStringThatIsNotUtf8)
{
    auto contract = store();
    auto const& message = contract.messages[0];
    std::vector<uint8_t> buffer(message.size, 0);
    buffer[message.arguments[2].offset] = 2;
    buffer[message.arguments[2].offset + 4] = 0xed; // A surrogate: U+D800.
    buffer[message.arguments[2].offset + 5] = 0xa0;
    EXPECT_TRUE(validate_message_buffer(message, buffer).is_error());
}

TEST(MessageBuffer, RejectsABoolThatIsNeitherZeroNorOne)
{
    auto contract = store();
    auto const& message = contract.messages[0];
    std::vector<uint8_t> buffer(message.size, 0);
    buffer[message.arguments[4].offset] = 2;
    EXPECT_TRUE(validate_message_buffer(message, buffer).is_error());
}
