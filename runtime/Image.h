// A sealed image mapped into the kernel: the compiled code of one installed
// module. Images come only from the store; the kernel never generates, patches
// or loads code any other way (the fixed-code invariant). One Image is shared
// by every SIP running that module; each SIP has its own instance.
#pragma once

#include "base/ErrorOr.h"
#include "runtime/ImageAbi.h"

#include <memory>
#include <string>

namespace signet {

class Image {
public:
    // Maps the image file. The caller has already verified its hash against the store.
    static ErrorOr<std::shared_ptr<Image>> load(std::string const& path, std::string const& expected_module_hash);
    // The kernel's side of an image whose code runs in a domain process
    // (docs/protection-domains.md): nothing is mapped here, instantiating it
    // does nothing, and it has no start; the SIP's host entry serves its ring.
    static std::shared_ptr<Image> remote(std::string const& path, std::string const& module_hash);
    ~Image();

    SignetImage const& entry() const { return *m_entry; }
    std::string const& path() const { return m_path; }
    std::string const& module_hash() const { return m_module_hash; }
    uintptr_t text_low() const { return m_text_low; }
    uintptr_t text_high() const { return m_text_high; }
    bool has_start() const { return m_entry->start != nullptr; }

private:
    Image() = default;

    void* m_handle { nullptr };
    SignetImage const* m_entry { nullptr };
    std::string m_path;
    std::string m_module_hash;
    uintptr_t m_text_low { 0 };
    uintptr_t m_text_high { 0 };
};

} // namespace signet
