// The transformer's parts, each against values worked out independently of this code: Obsrv's
// mask (by hand from the algorithm, UTF-16 lengths and java.util.regex semantics checked with
// Java's String and Pattern), AES/ECB/PKCS5 + Base64 (the `openssl enc` command lines below,
// which agree with Java's Cipher.getInstance("AES")), json4s's path lookup and merge, and what
// the catalog refuses.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dataset/parse.h"
#include "pipeline/event_patch.h"
#include "pipeline/field_cipher.h"
#include "pipeline/field_text.h"
#include "pipeline/mask.h"
#include "pipeline/transformation_plan.h"

namespace obsrv::pipeline {
namespace {

std::string mask(std::string_view text) {
    std::string out;
    obsrv_mask(text, out);
    return out;
}

TEST(MaskTest, ShortStringsKeepCeil35PercentSplitStartAndEnd) {
    // open = ceil(len * 0.35), first = floor(open / 2), last = open - first.
    EXPECT_EQ(mask(""), "");
    EXPECT_EQ(mask("a"), "a");  // open 1: first 0, last 1
    EXPECT_EQ(mask("ab"), "*b");
    EXPECT_EQ(mask("abc"), "a*c");  // open 2
    EXPECT_EQ(mask("abcd"), "a**d");
    EXPECT_EQ(mask("abcde"), "a***e");
    EXPECT_EQ(mask("123456"), "1***56");  // open 3: 1 + 2
    EXPECT_EQ(mask("9849012345"), "98******45");
    // 20 * 0.35 is 7 in doubles (not 7.000…1): open 7, first 3, last 4.
    EXPECT_EQ(mask("abcdefghijklmnopqrst"), "abc*************qrst");
}

TEST(MaskTest, EmailsKeepTwoAndOneOfTheLocalPart) {
    EXPECT_EQ(mask("dealer1@gmail.com"), "de****1@gmail.com");
    EXPECT_EQ(mask("firstname.lastname@example.org"), "fi***************e@example.org");
    // Short local parts: left(2) and right(1) overlap (Obsrv repeats the characters).
    EXPECT_EQ(mask("a@b.co"), "aa@b.co");
    EXPECT_EQ(mask("ab@x"), "abb@x");
    EXPECT_EQ(mask("abc@x"), "abc@x");
    // split("@"): the domain is the text up to the next '@'.
    EXPECT_EQ(mask("x@y@z"), "xx@y");
    EXPECT_EQ(mask("@@x"), "@");
    // Not e-mails: a space after the '@', a line break before it.
    EXPECT_EQ(mask("not an@email"), "no***n@email");  // '@' at 6; \S+ fits "email"
    EXPECT_EQ(mask("a@b c"), "a***c");
    EXPECT_EQ(mask("line\nbreak@x.com"), "lin**********com");
    EXPECT_EQ(mask("tab\tx@y"), "ta**x@y");  // \t before the '@' is allowed by '.'
}

TEST(MaskTest, BlankStaysAndQuotesAreRemoved) {
    EXPECT_EQ(mask("   "), "   ");
    EXPECT_EQ(mask("say \"hi\" now"), "sa*******now");  // 12 units: 2 + 7 + 3, no '"' left
    // Masked first, then the quotes go: "\"quoted\"" (8 units) → "\"*****d\"" → "*****d".
    EXPECT_EQ(mask("\"quoted\""), "*****d");
}

TEST(MaskTest, LengthsAreUtf16UnitsAndCutSurrogatesBecomeQuestionMarks) {
    EXPECT_EQ(mask("é"), "é");
    EXPECT_EQ(mask("Zoë Ångström"), "Zo*******röm");  // 12 units
    // Each emoji is two UTF-16 units: 10 units, open 4 → 2 + 2 (whole emojis).
    EXPECT_EQ(mask("🙂🙂🙂🙂🙂"), "🙂******🙂");
    EXPECT_EQ(mask("a🙂b"), "a**b");
    // Local part "🙂": left(2) keeps it, right(1) is its low surrogate alone → '?'.
    EXPECT_EQ(mask("🙂@x.io"), "🙂?@x.io");
    EXPECT_EQ(mask("ab🙂cd@mail.com"), "ab***d@mail.com");
}

// Expected values: printf %s "$plain" | openssl enc -aes-<bits>-ecb -K <hex of key> | base64 -w0
// with key "obsrv-test-key16" = 6f627372762d746573742d6b65793136 for AES-128.
TEST(FieldCipherTest, MatchesJavaAesEcbPkcs5Base64) {
    auto cipher = field_cipher::create("obsrv-test-key16");
    ASSERT_TRUE(cipher) << cipher.error().message;
    const std::vector<std::pair<std::string, std::string>> vectors = {
        {"dealer1@gmail.com", "A+5iaq89XZJgAJkkoUTgoCAJ2+yBqrbLhyOnHWDnpXY="},
        {"9849012345", "DKFU/rqikADAXHrgl0WvEg=="},
        // A whole block gets a whole block of padding.
        {"0123456789abcdef", "FLZ+69HzpbXIzbsmJakfSCXMVnd/U+zgoYCnDbpTX2E="},
        {"Zoë 🙂", "y3HNt2rNmmS4D/SWVruX6A=="},
        {"a", "vEd3VVLtw9Wqf3opXxK0Tw=="},
    };
    for (int round = 0; round < 2; ++round) {  // the context is reused between values
        for (const auto& [plain, expected] : vectors) {
            std::string out = "x";
            ASSERT_TRUE(cipher->encrypt(plain, out));
            EXPECT_EQ(out, "x" + expected) << plain;
        }
    }
    std::string empty;
    ASSERT_TRUE(cipher->encrypt("", empty));
    EXPECT_EQ(empty, "");  // Obsrv returns empty text unencrypted
}

TEST(FieldCipherTest, KeyLengthPicksAes192And256AndOthersAreRefused) {
    // openssl enc -aes-192-ecb -K $(printf %s 'obsrv-test-key-24-bytes!' | od -An -tx1 | tr -d '
    // \n')
    auto c192 = field_cipher::create("obsrv-test-key-24-bytes!");
    ASSERT_TRUE(c192);
    std::string out;
    ASSERT_TRUE(c192->encrypt("dealer1@gmail.com", out));
    EXPECT_EQ(out, "J5oOnIbYpwUQhxFAehmKKL14VdMyK3iOiJ7fNEl/lyQ=");
    // Same with -aes-256-ecb and the 32-byte key.
    auto c256 = field_cipher::create("obsrv-test-key-of-thirty-2-bytes");
    ASSERT_TRUE(c256);
    out.clear();
    ASSERT_TRUE(c256->encrypt("dealer1@gmail.com", out));
    EXPECT_EQ(out, "vbd0yHbdvdC5Mrkdp0YfNywO1ULpv9bGd6m9MLLNyJc=");
    EXPECT_FALSE(field_cipher::create(""));
    EXPECT_FALSE(field_cipher::create("fifteen-bytes!!"));
}

TEST(FieldTextTest, PathLookupAsJson4s) {
    field_reader reader;
    std::string out;
    const std::string event =
        R"({"a":{"b":"x\"y","n":-0,"f":1e2,"d":0.0001,"big":123456789012345678901234567890},)"
        R"("one":[{"k":"only"}],"many":[{"k":1},{"k":2}],"mixed":[{"k":"v"},{"j":1}],)"
        R"("o":{"x":1},"t":true,"z":null,"e\u0301":"accent","":{"":"empty"}})";
    ASSERT_TRUE(reader.begin(event));
    const auto read = [&](std::string_view dotted) {
        const auto path = split_dotted(dotted);
        return reader.read(path, out) ? out : std::string("<not text>");
    };
    EXPECT_EQ(read("a.b"), "x\"y");
    EXPECT_EQ(read("a.n"), "0");       // Jackson reads -0 as the integer 0
    EXPECT_EQ(read("a.f"), "100.0");   // a double: Java's Double.toString
    EXPECT_EQ(read("a.d"), "1.0E-4");  // below 10^-3: scientific
    EXPECT_EQ(read("a.big"), "123456789012345678901234567890");
    EXPECT_EQ(read("one.k"), "only");  // one match through an array is the value
    EXPECT_EQ(read("mixed.k"), "v");
    EXPECT_EQ(read("many.k"), "<not text>");  // two matches are an array
    EXPECT_EQ(read("o"), "<not text>");
    EXPECT_EQ(read("t"), "<not text>");
    EXPECT_EQ(read("z"), "<not text>");
    EXPECT_EQ(read("a.missing"), "<not text>");
    EXPECT_EQ(read("e\xcc\x81"), "accent");  // keys compared unescaped
    EXPECT_EQ(read("."), "<not text>");      // no parts: the event itself, an object
}

TEST(FieldTextTest, SplitDottedAsJavaSplit) {
    using v = std::vector<std::string>;
    EXPECT_EQ(split_dotted("a.b"), (v{"a", "b"}));
    EXPECT_EQ(split_dotted("a..b"), (v{"a", "", "b"}));
    EXPECT_EQ(split_dotted("a."), (v{"a"}));
    EXPECT_EQ(split_dotted(".a"), (v{"", "a"}));
    EXPECT_EQ(split_dotted(""), (v{""}));
    EXPECT_EQ(split_dotted(".."), v{});
}

TEST(FieldTextTest, JavaDoubleToString) {
    // Java's Double.toString for these values (shortest digits; Java before 19 prints a longer
    // form for a few values such as 2e23, which this does not reproduce).
    const std::vector<std::pair<double, std::string>> vectors = {
        {1.0, "1.0"},
        {100.0, "100.0"},
        {0.1, "0.1"},
        {0.001, "0.001"},
        {1e-4, "1.0E-4"},
        {1234567.0, "1234567.0"},
        {12345678.9, "1.23456789E7"},
        {1e7, "1.0E7"},
        {9999999.0, "9999999.0"},
        {1.5e-5, "1.5E-5"},
        {3.356701, "3.356701"},
        {-2.5, "-2.5"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {1e21, "1.0E21"},
        {1.7976931348623157e308, "1.7976931348623157E308"},
        {1.005, "1.005"},
    };
    for (const auto& [d, expected] : vectors) {
        std::string out;
        append_java_double(d, out);
        EXPECT_EQ(out, expected) << expected;
    }
}

std::vector<std::string> path(std::string_view dotted) {
    return split_dotted(dotted);
}

// The transformer's sequence: the event's members scanned once, then the patch applied.
void apply(event_patch& patch, std::string_view event, std::string& out) {
    field_reader reader;
    ASSERT_TRUE(reader.begin(event));
    patch.apply(reader.members(), out);
}

TEST(EventPatchTest, DottedKeysBuildObjectsAndMergeDeeply) {
    const auto email = path("dealer.email");
    const auto masked = path("dealer.maskedPhone");
    const auto fresh = path("tf.deep.value");
    event_patch patch;
    patch.set_string(email, "de****1@gmail.com");
    patch.set_string(masked, "98******45");
    patch.set_string(fresh, "v");
    std::string out;
    apply(patch,
          R"( {"id" : 1.50, "dealer": {"email":"dealer1@gmail.com", "phone": "9849012345"}, )"
          R"("big": 123456789012345678901234567890 } )",
          out);
    // Untouched members keep their bytes (spaces inside them too); merged objects keep their
    // member order, lose the spaces between members and get the new members at the end.
    EXPECT_EQ(out, R"({"id" : 1.50,"dealer":{"email":"de****1@gmail.com","phone": "9849012345",)"
                   R"("maskedPhone":"98******45"},"big": 123456789012345678901234567890,)"
                   R"("tf":{"deep":{"value":"v"}}})");
}

TEST(EventPatchTest, RemovalDropsTheMemberButCreatesItsParents) {
    const auto gone = path("dealer.email");
    const auto none = path("tfdata.expr");
    event_patch patch;
    patch.remove(gone);
    patch.remove(none);
    std::string out;
    apply(patch, R"({"dealer":{"email":{"x":1},"phone":"1"}})", out);
    EXPECT_EQ(out, R"({"dealer":{"phone":"1"},"tfdata":{}})");
}

TEST(EventPatchTest, ResultsMergeIntoEachOtherBeforeTheEvent) {
    // json4s: (result1 merge result2) merged into the event. "a" as text, then "a.b": the
    // results merge to {"a":{"b":"t"}}, which then merges into the event's object "a".
    const auto a = path("a");
    const auto ab = path("a.b");
    event_patch patch;
    patch.set_string(a, "s");
    patch.set_string(ab, "t");
    std::string out;
    apply(patch, R"({"a":{"x":1},"c":[1,2]})", out);
    EXPECT_EQ(out, R"({"a":{"x":1,"b":"t"},"c":[1,2]})");

    // Then a leaf over an object: the object is replaced.
    patch.clear();
    patch.set_string(ab, "t");
    patch.set_string(a, "s");
    out.clear();
    apply(patch, R"({"a":{"x":1}})", out);
    EXPECT_EQ(out, R"({"a":"s"})");

    // An object merged over a non-object replaces it.
    patch.clear();
    patch.set_string(ab, "t");
    out.clear();
    apply(patch, R"({"a":"text","d":"x"})", out);
    EXPECT_EQ(out, R"({"a":{"b":"t"},"d":"x"})");
}

TEST(EventPatchTest, FirstOfDuplicateKeysIsMergedAndValuesAreEscaped) {
    const auto k = path("k");
    const auto q = path("q\"uote");
    event_patch patch;
    patch.set_string(k, "line\nbreak \\ \"q\"");
    patch.set_string(q, "x");
    std::string out;
    apply(patch, R"({"k":1,"k":2})", out);
    EXPECT_EQ(out, R"({"k":"line\nbreak \\ \"q\"","k":2,"q\"uote":"x"})");
}

dataset::dataset parse_dataset(std::string_view transformations) {
    auto parsed = dataset::parse_dataset(
        std::string(R"({"id":"t","dataset_id":"t","type":"event","status":"Live",)"
                    R"("dataset_config":{"keys_config":{"timestamp_key":"meta.when"}},)"
                    R"("transformations_config":)") +
            std::string(transformations) + "}",
        "test");
    EXPECT_TRUE(parsed) << parsed.error().message;
    return parsed ? std::move(parsed).value() : dataset::dataset{};
}

std::string refusal(std::string_view transformations, std::string key = "obsrv-test-key16") {
    dataset::system_settings settings;
    settings.encryption_secret_key = std::move(key);
    auto plan = compile_transformations(parse_dataset(transformations), settings);
    return plan ? std::string("<accepted>") : plan.error().message;
}

TEST(TransformationPlanTest, RefusesWhatCannotBeHonouredNamingTheField) {
    EXPECT_EQ(
        refusal(R"([{"field_key":"x","transformation_function":{"type":"jsonata","expr":"$a"}}])"),
        "transformations_config[0] (field_key 'x'): transformation_function.type 'jsonata' is "
        "not supported (JSONata expressions are not implemented)");
    EXPECT_EQ(refusal(R"([{"field_key":"a","transformation_function":{"type":"mask","expr":"a"}},
        {"field_key":"b.c","transformation_function":{"type":"mask","expr":"b",
         "condition":{"type":"jsonata","expr":"x = 1"}}}])"),
              "transformations_config[1] (field_key 'b.c'): transformation_function.condition "
              "of type 'jsonata' is not supported (JSONata expressions are not implemented)");
    EXPECT_EQ(refusal(R"([{"field_key":"a","transformation_function":{"type":"mask","expr":"a",
         "condition":{"type":"custom","expr":"x"}}}])"),
              "transformations_config[0] (field_key 'a'): transformation_function.condition of "
              "type 'custom' is not supported (Obsrv implements only jsonata conditions)");
    EXPECT_EQ(
        refusal(R"([{"field_key":"a","transformation_function":{"type":"custom","expr":"a"}}])"),
        "transformations_config[0] (field_key 'a'): transformation_function.type 'custom' is "
        "not supported (mask and encrypt are)");
    EXPECT_EQ(refusal(R"([{"field_key":"a","transformation_function":{"type":"mask"}}])"),
              "transformations_config[0] (field_key 'a'): transformation_function.expr: "
              "required for mask");
    EXPECT_EQ(
        refusal(R"([{"field_key":"..","transformation_function":{"type":"mask","expr":"a"}}])"),
        "transformations_config[0] (field_key '..'): field_key names no field");
}

TEST(TransformationPlanTest, EncryptNeedsAnAesKeyNamedByItsConfigKey) {
    constexpr std::string_view encrypt =
        R"([{"field_key":"e","transformation_function":{"type":"encrypt","expr":"e"}}])";
    EXPECT_EQ(refusal(encrypt, ""),
              "transformations_config[0] (field_key 'e'): encrypt needs "
              "datasets.encryption_secret_key (system_settings encryptionSecretKey) of 16, 24 "
              "or 32 bytes; it is empty");
    EXPECT_EQ(refusal(encrypt, "short"),
              "transformations_config[0] (field_key 'e'): encrypt needs "
              "datasets.encryption_secret_key (system_settings encryptionSecretKey) of 16, 24 "
              "or 32 bytes; it has 5 bytes");
    EXPECT_EQ(refusal(encrypt), "<accepted>");
    // Mask alone does not need the key.
    EXPECT_EQ(
        refusal(R"([{"field_key":"m","transformation_function":{"type":"mask","expr":"m"}}])", ""),
        "<accepted>");
}

TEST(TransformationPlanTest, EncryptStepsComeFirstAndRouterInputIsDetected) {
    dataset::system_settings settings;
    settings.encryption_secret_key = "obsrv-test-key16";
    auto plan = compile_transformations(parse_dataset(R"([
          {"field_key":"m1","transformation_function":{"type":"mask","expr":"a"}},
          {"field_key":"e1","transformation_function":{"type":"encrypt","expr":"b"},"mode":"Lenient"},
          {"field_key":"m2.x","transformation_function":{"type":"mask","expr":"c.d"}}])"),
                                        settings);
    ASSERT_TRUE(plan) << plan.error().message;
    ASSERT_EQ(plan->steps.size(), 3u);
    EXPECT_EQ(plan->steps[0].field_path, path("e1"));
    EXPECT_EQ(plan->steps[0].mode, dataset::transform_mode::lenient);
    EXPECT_EQ(plan->steps[1].field_path, path("m1"));
    EXPECT_EQ(plan->steps[1].mode, dataset::transform_mode::strict);  // absent mode
    EXPECT_EQ(plan->steps[2].source_path, path("c.d"));
    EXPECT_EQ(plan->encryption_key, "obsrv-test-key16");
    EXPECT_FALSE(plan->rewrites_router_input);

    for (std::string_view key : {"meta", "meta.when", "meta.when.x", "obsrv_meta.a", "indexTS"}) {
        auto touching = compile_transformations(
            parse_dataset(R"([{"field_key":")" + std::string(key) +
                          R"(","transformation_function":{"type":"mask","expr":"a"}}])"),
            settings);
        ASSERT_TRUE(touching);
        EXPECT_TRUE(touching->rewrites_router_input) << key;
    }
}

}  // namespace
}  // namespace obsrv::pipeline
