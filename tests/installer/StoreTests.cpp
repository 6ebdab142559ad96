// The store's key derivation and meta.toml format, without compiling anything.
#include "installer/Store.h"

#include "base/Hash.h"

#include <gtest/gtest.h>

using namespace signet;
using namespace signet::installer;

namespace {

EntryMeta sample_meta()
{
    EntryMeta meta;
    meta.module_hash = sha256_hex(std::string("module"));
    meta.image_sha256 = sha256_hex(std::string("image"));
    meta.recipe.tree_shake = true;
    meta.recipe.keep_exports = { "a \"quoted\" name", "b" };
    meta.recipe.extra_source_sha256 = sha256_hex(std::string());
    meta.recipe.optimization = "-O2";
    meta.recipe.c_compiler = "cc";
    meta.entry_key = compute_entry_key(meta.module_hash, meta.recipe);
    meta.personality = Personality::Wasi;
    meta.has_start = true;
    meta.imported_functions = { "wasi_snapshot_preview1.fd_write", "signet_v1.exit" };
    meta.module_bytes = 1234;
    meta.shaken_bytes = 567;
    meta.toolchain = "signet-installer test; cc (Debian 12.2.0-14) 12.2.0";
    meta.warnings = { "tree shaking skipped: because" };
    return meta;
}

} // namespace

TEST(StoreKey, EveryRecipeFieldChangesTheKey)
{
    auto hash = sha256_hex(std::string("module"));
    ImageRecipe base;
    base.optimization = "-O2";
    base.c_compiler = "cc";
    base.extra_source_sha256 = sha256_hex(std::string());
    auto key = compute_entry_key(hash, base);
    EXPECT_TRUE(is_sha256_hex(key));
    EXPECT_EQ(key, compute_entry_key(hash, base));
    EXPECT_NE(key, compute_entry_key(sha256_hex(std::string("other")), base));

    auto changed = [&](auto change) {
        auto recipe = base;
        change(recipe);
        return compute_entry_key(hash, recipe) != key;
    };
    EXPECT_TRUE(changed([](ImageRecipe& r) { r.tree_shake = false; }));
    EXPECT_TRUE(changed([](ImageRecipe& r) { r.keep_exports = { "main" }; }));
    EXPECT_TRUE(changed([](ImageRecipe& r) { r.extra_source_sha256 = sha256_hex(std::string("x")); }));
    EXPECT_TRUE(changed([](ImageRecipe& r) { r.optimization = "-O0"; }));
    EXPECT_TRUE(changed([](ImageRecipe& r) { r.c_compiler = "clang"; }));
    // Length prefixes: moving text between fields is a different key.
    auto split_one = base;
    split_one.keep_exports = { "ab", "c" };
    auto split_two = base;
    split_two.keep_exports = { "a", "bc" };
    EXPECT_NE(compute_entry_key(hash, split_one), compute_entry_key(hash, split_two));
}

TEST(StoreMeta, RoundTripsEveryField)
{
    auto meta = sample_meta();
    auto text = render_meta(meta);
    auto parsed = parse_meta(text, "test");
    ASSERT_FALSE(parsed.is_error()) << parsed.error().message() << "\n" << text;
    auto const& back = parsed.value();
    EXPECT_EQ(back.entry_key, meta.entry_key);
    EXPECT_EQ(back.module_hash, meta.module_hash);
    EXPECT_EQ(back.image_sha256, meta.image_sha256);
    EXPECT_EQ(back.recipe.tree_shake, meta.recipe.tree_shake);
    EXPECT_EQ(back.recipe.keep_exports, meta.recipe.keep_exports);
    EXPECT_EQ(back.recipe.extra_source_sha256, meta.recipe.extra_source_sha256);
    EXPECT_EQ(back.recipe.optimization, meta.recipe.optimization);
    EXPECT_EQ(back.recipe.c_compiler, meta.recipe.c_compiler);
    EXPECT_EQ(back.personality, meta.personality);
    EXPECT_EQ(back.has_start, meta.has_start);
    EXPECT_EQ(back.imported_functions, meta.imported_functions);
    EXPECT_EQ(back.module_bytes, meta.module_bytes);
    EXPECT_EQ(back.shaken_bytes, meta.shaken_bytes);
    EXPECT_EQ(back.toolchain, meta.toolchain);
    EXPECT_EQ(back.warnings, meta.warnings);
    EXPECT_EQ(render_meta(back), text);
}

TEST(StoreMeta, AnyEditIsCaughtByTheChecksum)
{
    auto text = render_meta(sample_meta());
    for (size_t position = 0; position < text.size(); position += 7) {
        auto edited = text;
        edited[position] = edited[position] == 'x' ? 'y' : 'x';
        auto parsed = parse_meta(edited, "test");
        ASSERT_TRUE(parsed.is_error()) << "edit at " << position << " accepted";
        EXPECT_EQ(parsed.error().kind(), ErrorKind::Corrupt);
    }
    EXPECT_TRUE(parse_meta("", "test").is_error());
    EXPECT_TRUE(parse_meta(text.substr(0, text.size() / 2), "test").is_error());
}

TEST(StoreMeta, AValidChecksumOverBadContentsIsStillCorrupt)
{
    std::string body = "format = 1\nmodule_hash = 7\n";
    std::string text = body + "meta_sha256 = \"" + sha256_hex(body) + "\"\n";
    auto parsed = parse_meta(text, "test");
    ASSERT_TRUE(parsed.is_error());
    EXPECT_EQ(parsed.error().kind(), ErrorKind::Corrupt);

    std::string not_toml = "[[[\n";
    auto garbage = parse_meta(not_toml + "meta_sha256 = \"" + sha256_hex(not_toml) + "\"\n", "test");
    ASSERT_TRUE(garbage.is_error());
    EXPECT_EQ(garbage.error().kind(), ErrorKind::Corrupt);
}
