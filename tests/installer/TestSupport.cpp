#include "tests/installer/TestSupport.h"

#include <gtest/gtest.h>
#include <wabt/binary-writer.h>
#include <wabt/error-formatter.h>
#include <wabt/ir.h>
#include <wabt/stream.h>
#include <wabt/wast-lexer.h>
#include <wabt/wast-parser.h>

#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

namespace signet::installer::test {

std::vector<uint8_t> wat_to_wasm(std::string const& wat)
{
    wabt::Features features;
    features.EnableAll();
    wabt::Errors errors;
    auto lexer = wabt::WastLexer::CreateBufferLexer("test.wat", wat.data(), wat.size(), &errors);
    std::unique_ptr<wabt::Module> module;
    wabt::WastParseOptions parse_options(features);
    if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &parse_options))) {
        ADD_FAILURE() << "bad test WAT: " << wabt::FormatErrorsToString(errors, wabt::Location::Type::Text) << "\n" << wat;
        return {};
    }
    wabt::MemoryStream stream;
    wabt::WriteBinaryOptions write_options(features, true, false, false);
    if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), write_options))) {
        ADD_FAILURE() << "cannot encode test WAT:\n" << wat;
        return {};
    }
    return stream.output_buffer().data;
}

static void append_leb128(std::vector<uint8_t>& out, uint32_t value)
{
    do {
        uint8_t byte = value & 0x7f;
        value >>= 7;
        out.push_back(value ? (byte | 0x80) : byte);
    } while (value);
}

std::vector<uint8_t> deeply_nested_module(uint32_t depth)
{
    std::vector<uint8_t> body = { 0 }; // no locals
    for (uint32_t i = 0; i < depth; ++i) {
        body.push_back(0x02); // block
        body.push_back(0x40); // with no results
    }
    body.insert(body.end(), depth + 1, 0x0b); // the blocks' ends and the function's
    std::vector<uint8_t> code;
    append_leb128(code, 1);
    append_leb128(code, static_cast<uint32_t>(body.size()));
    code.insert(code.end(), body.begin(), body.end());
    std::vector<uint8_t> module = { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: ()->()
        0x03, 0x02, 0x01, 0x00 };           // function section: one function of type 0
    module.push_back(0x0a);                 // code section
    append_leb128(module, static_cast<uint32_t>(code.size()));
    module.insert(module.end(), code.begin(), code.end());
    return module;
}

TemporaryDirectory::TemporaryDirectory()
{
    char const* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/signet-installer-test-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        ADD_FAILURE() << "mkdtemp failed: " << std::strerror(errno);
    m_path = pattern;
}

TemporaryDirectory::~TemporaryDirectory()
{
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

size_t count_entries(std::string const& directory)
{
    std::error_code ec;
    size_t count = 0;
    for (auto it = std::filesystem::directory_iterator(directory, ec); !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++count;
    return count;
}

std::vector<uint8_t> read_bytes(std::string const& path)
{
    std::ifstream in(path, std::ios::binary);
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

void flip_byte(std::string const& path, size_t offset)
{
    ::chmod(path.c_str(), 0644);
    auto bytes = read_bytes(path);
    ASSERT_LT(offset, bytes.size());
    bytes[offset] ^= 0xff;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<char const*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

namespace {

template<typename T>
bool read_struct(std::vector<uint8_t> const& bytes, uint64_t offset, T& out)
{
    if (offset > bytes.size() || bytes.size() - offset < sizeof(T))
        return false;
    std::memcpy(&out, bytes.data() + offset, sizeof(T));
    return true;
}

std::vector<ElfSymbol> read_symbol_table(std::vector<uint8_t> const& bytes, Elf64_Shdr const& table, Elf64_Shdr const& strings)
{
    std::vector<ElfSymbol> symbols;
    if (table.sh_entsize != sizeof(Elf64_Sym))
        return symbols;
    for (uint64_t i = 0; i < table.sh_size / sizeof(Elf64_Sym); ++i) {
        Elf64_Sym symbol {};
        if (!read_struct(bytes, table.sh_offset + i * sizeof(Elf64_Sym), symbol))
            break;
        ElfSymbol out;
        uint64_t name_offset = strings.sh_offset + symbol.st_name;
        if (symbol.st_name < strings.sh_size && name_offset < bytes.size()) {
            auto const* start = reinterpret_cast<char const*>(bytes.data() + name_offset);
            out.name.assign(start, strnlen(start, bytes.size() - name_offset));
        }
        out.binding = ELF64_ST_BIND(symbol.st_info);
        out.type = ELF64_ST_TYPE(symbol.st_info);
        out.visibility = ELF64_ST_VISIBILITY(symbol.st_other);
        out.defined = symbol.st_shndx != SHN_UNDEF;
        out.value = symbol.st_value;
        symbols.push_back(std::move(out));
    }
    return symbols;
}

std::vector<Elf64_Shdr> section_headers(std::vector<uint8_t> const& bytes)
{
    std::vector<Elf64_Shdr> sections;
    Elf64_Ehdr header {};
    if (!read_struct(bytes, 0, header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64)
        return sections;
    for (unsigned i = 0; i < header.e_shnum; ++i) {
        Elf64_Shdr section {};
        if (!read_struct(bytes, header.e_shoff + uint64_t(i) * header.e_shentsize, section))
            return {};
        sections.push_back(section);
    }
    return sections;
}

} // namespace

ElfFile read_elf(std::string const& path)
{
    ElfFile file;
    file.bytes = read_bytes(path);
    auto sections = section_headers(file.bytes);
    EXPECT_FALSE(sections.empty()) << path << " is not a 64-bit ELF file";
    for (auto const& section : sections) {
        if (section.sh_type != SHT_DYNSYM && section.sh_type != SHT_SYMTAB)
            continue;
        if (section.sh_link >= sections.size())
            continue;
        auto symbols = read_symbol_table(file.bytes, section, sections[section.sh_link]);
        (section.sh_type == SHT_DYNSYM ? file.dynamic_symbols : file.symbols) = std::move(symbols);
    }
    return file;
}

ElfSymbol const* ElfFile::find_dynamic(std::string const& name) const
{
    for (auto const& symbol : dynamic_symbols) {
        if (symbol.name == name)
            return &symbol;
    }
    return nullptr;
}

bool ElfFile::has_symbol(std::string const& name) const
{
    for (auto const& symbol : symbols) {
        if (symbol.name == name)
            return true;
    }
    return false;
}

std::optional<std::vector<uint8_t>> ElfFile::read_at(uint64_t address, size_t size) const
{
    for (auto const& section : section_headers(bytes)) {
        if (section.sh_type == SHT_NOBITS || section.sh_addr == 0)
            continue;
        if (address >= section.sh_addr && address + size <= section.sh_addr + section.sh_size) {
            uint64_t offset = section.sh_offset + (address - section.sh_addr);
            if (offset + size > bytes.size())
                return {};
            return std::vector<uint8_t>(bytes.begin() + static_cast<ptrdiff_t>(offset), bytes.begin() + static_cast<ptrdiff_t>(offset + size));
        }
    }
    return {};
}

} // namespace signet::installer::test
