#include "kernel/object/ChannelAccount.h"
#include "kernel/object/Channel.h"

namespace signet {

uint64_t ChannelAccount::cost(ContractType const& type)
{
    auto const& bounds = type.contract.bounds;
    // As Channel::create allocates them: at least one slot each way.
    uint64_t slots = std::max<uint32_t>(bounds.importer_to_exporter, 1) + std::max<uint32_t>(bounds.exporter_to_importer, 1);
    return Channel::inbox_bytes(type) + slots * sizeof(QueuedMessage) + sizeof(Channel) + 2 * sizeof(Endpoint) + type.descriptor_bytes;
}

} // namespace signet
