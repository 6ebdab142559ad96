// Helpers for the installer tests: WAT -> wasm in-process, temporary stores,
// and reading an image's ELF symbols without loading it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace signet::installer::test {

// Parses WebAssembly text with every feature wabt knows (so refused features can be
// written down) and encodes it. Fails the calling test on a parse error.
std::vector<uint8_t> wat_to_wasm(std::string const& wat);

// A module with one function, ()->(), whose body nests `depth` empty blocks.
std::vector<uint8_t> deeply_nested_module(uint32_t depth);

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TemporaryDirectory {
public:
    TemporaryDirectory();
    ~TemporaryDirectory();
    TemporaryDirectory(TemporaryDirectory const&) = delete;
    TemporaryDirectory& operator=(TemporaryDirectory const&) = delete;
    std::string const& path() const { return m_path; }
    std::string store() const { return m_path + "/store"; }

private:
    std::string m_path;
};

// Names in a directory, "." and ".." excluded; 0 if it does not exist.
size_t count_entries(std::string const& directory);

struct ElfSymbol {
    std::string name;
    unsigned char binding { 0 };    // STB_*
    unsigned char type { 0 };       // STT_*
    unsigned char visibility { 0 }; // STV_*
    bool defined { false };
    uint64_t value { 0 };
};

struct ElfFile {
    std::vector<uint8_t> bytes;
    std::vector<ElfSymbol> dynamic_symbols; // .dynsym
    std::vector<ElfSymbol> symbols;         // .symtab, if not stripped

    ElfSymbol const* find_dynamic(std::string const& name) const;
    bool has_symbol(std::string const& name) const;
    // Bytes of the file at a virtual address inside some section with file contents.
    std::optional<std::vector<uint8_t>> read_at(uint64_t address, size_t size) const;
};

// Reads a 64-bit little-endian ELF shared object. Fails the calling test if malformed.
ElfFile read_elf(std::string const& path);

void flip_byte(std::string const& path, size_t offset);
std::vector<uint8_t> read_bytes(std::string const& path);

} // namespace signet::installer::test
