#include "runtime/Image.h"

#include <cstring>
#include <dlfcn.h>
#include <link.h>

namespace signet {

namespace {

struct TextSearch {
    void const* symbol;
    uintptr_t low { 0 };
    uintptr_t high { 0 };
};

// Finds the executable segment of the object that contains `symbol`.
int find_text(dl_phdr_info* info, size_t, void* data)
{
    auto* search = static_cast<TextSearch*>(data);
    auto symbol = reinterpret_cast<uintptr_t>(search->symbol);
    bool contains_symbol = false;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        auto const& header = info->dlpi_phdr[i];
        if (header.p_type != PT_LOAD)
            continue;
        uintptr_t low = info->dlpi_addr + header.p_vaddr;
        if (symbol >= low && symbol < low + header.p_memsz)
            contains_symbol = true;
    }
    if (!contains_symbol)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        auto const& header = info->dlpi_phdr[i];
        if (header.p_type == PT_LOAD && (header.p_flags & PF_X)) {
            search->low = info->dlpi_addr + header.p_vaddr;
            search->high = search->low + header.p_memsz;
        }
    }
    return 1;
}

} // namespace

ErrorOr<std::shared_ptr<Image>> Image::load(std::string const& path, std::string const& expected_module_hash)
{
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        char const* why = ::dlerror();
        return Error(ErrorKind::Corrupt, "cannot map image " + path + ": " + (why ? why : "unknown error"));
    }
    auto image = std::shared_ptr<Image>(new Image);
    image->m_handle = handle;
    image->m_path = path;
    auto const* entry = static_cast<SignetImage const*>(::dlsym(handle, SIGNET_IMAGE_SYMBOL));
    if (!entry)
        return Error(ErrorKind::Corrupt, path + ": not a Signet image (no " SIGNET_IMAGE_SYMBOL " symbol)");
    if (entry->magic != SIGNET_IMAGE_MAGIC || entry->abi_version != SIGNET_IMAGE_ABI_VERSION)
        return Error(ErrorKind::Corrupt, path + ": image interface version " + std::to_string(entry->abi_version) + " is not the one this kernel speaks (" + std::to_string(SIGNET_IMAGE_ABI_VERSION) + ")");
    if (!entry->init_module || !entry->instantiate || entry->instance_size == 0)
        return Error(ErrorKind::Corrupt, path + ": image entry table is incomplete");
    if (!entry->module_hash || expected_module_hash != entry->module_hash)
        return Error(ErrorKind::Corrupt, path + ": image was built from module " + (entry->module_hash ? entry->module_hash : "?") + ", not " + expected_module_hash);
    image->m_entry = entry;
    image->m_module_hash = expected_module_hash;

    TextSearch search { reinterpret_cast<void const*>(entry->instantiate) };
    ::dl_iterate_phdr(find_text, &search);
    if (search.low == 0)
        return Error(ErrorKind::Corrupt, path + ": cannot find the image's code segment");
    image->m_text_low = search.low;
    image->m_text_high = search.high;

    // wasm2c's init registers function types in a per-image static array; it must run
    // once per mapping, before any instance. dlopen of an already-mapped image returns
    // the same mapping, whose init already ran: registering again is harmless (types are
    // deduplicated) and keeps this simple.
    entry->init_module();
    return image;
}

namespace {

void remote_init_module() { }
void remote_instantiate(void*, void*) { }

SignetImage const remote_entry {
    .magic = SIGNET_IMAGE_MAGIC,
    .abi_version = SIGNET_IMAGE_ABI_VERSION,
    .instance_size = 16,
    .init_module = remote_init_module,
    .instantiate = remote_instantiate,
    .start = nullptr,
    .module_hash = "",
    .stack_pointer_offset = SIGNET_IMAGE_NO_STACK_POINTER,
};

} // namespace

std::shared_ptr<Image> Image::remote(std::string const& path, std::string const& module_hash)
{
    auto image = std::shared_ptr<Image>(new Image);
    image->m_entry = &remote_entry;
    image->m_path = path;
    image->m_module_hash = module_hash;
    return image;
}

Image::~Image()
{
    if (m_handle)
        ::dlclose(m_handle);
}

} // namespace signet
