#include "passes/pass.h"

#include <gtest/gtest.h>

#include "passes/test_graphs.h"

namespace stratum {
namespace {

// Keeps the options it was made with.
class OptionsPass : public Pass {
 public:
  explicit OptionsPass(PassOptions given) : options(std::move(given)) {}
  std::string_view name() const override { return "options"; }
  bool run(Graph&) override { return false; }

  const PassOptions options;
};

class PassRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    register_pass("options",
                  [](const PassOptions& options) { return std::make_unique<OptionsPass>(options); });
    register_pass("strict", [](const PassOptions& options) {
      check_options("strict", options, {"lr", "loss"});
      float_option("strict", options, "lr", 0.1);
      return std::make_unique<OptionsPass>(options);
    });
  }

  static PassOptions options_of(std::string_view spec) {
    return dynamic_cast<const OptionsPass&>(*make_pass(spec)).options;
  }
};

TEST_F(PassRegistryTest, MakesPassesByName) {
  EXPECT_EQ(make_pass("options")->name(), "options");
  EXPECT_EQ(registered_passes(), (std::vector<std::string>{"options", "strict"}));
}

TEST_F(PassRegistryTest, ParsesOptions) {
  EXPECT_EQ(options_of("options"), PassOptions{});
  EXPECT_EQ(options_of("options()"), PassOptions{});
  EXPECT_EQ(options_of("options(lr=0.1,loss=loss)"), (PassOptions{{"lr", "0.1"}, {"loss", "loss"}}));
  EXPECT_EQ(options_of("  options ( lr = 0.1 , loss=x ) "), (PassOptions{{"lr", "0.1"}, {"loss", "x"}}));
  EXPECT_EQ(options_of("options(shape=(1,2))"), (PassOptions{{"shape", "(1,2)"}}));
  EXPECT_EQ(options_of("options(empty=)"), (PassOptions{{"empty", ""}}));
}

TEST_F(PassRegistryTest, RejectsMalformedSpecs) {
  EXPECT_NE(error_message([] { make_pass(""); }).find("the pass name is missing"), std::string::npos);
  EXPECT_NE(error_message([] { make_pass("(lr=1)"); }).find("the pass name is missing"), std::string::npos);
  EXPECT_NE(error_message([] { make_pass("options(lr=1"); }).find("expected ')' at the end"),
            std::string::npos);
  EXPECT_NE(error_message([] { make_pass("options(lr)"); }).find("expected key=value, got 'lr'"),
            std::string::npos);
  EXPECT_NE(error_message([] { make_pass("options(=1)"); }).find("expected key=value"), std::string::npos);
  EXPECT_NE(error_message([] { make_pass("options(lr=1,)"); }).find("expected key=value"), std::string::npos);
  EXPECT_NE(error_message([] { make_pass("options(a=1,a=2)"); }).find("option 'a' is given twice"),
            std::string::npos);
  EXPECT_NE(error_message([] { make_pass("options(a=(1)"); }).find("unbalanced '('"), std::string::npos);
}

TEST_F(PassRegistryTest, UnknownPassListsTheKnownOnes) {
  EXPECT_EQ(error_message([] { make_pass("nope(x=1)"); }),
            "unknown pass 'nope' (known passes: options, strict)");
}

TEST_F(PassRegistryTest, UnknownOrInvalidOptionsAreErrors) {
  EXPECT_EQ(error_message([] { make_pass("strict(lr=0.5,loss=l)"); }), "");
  EXPECT_EQ(error_message([] { make_pass("strict(momentum=0.9)"); }),
            "pass strict: unknown option 'momentum' (known options: lr, loss)");
  EXPECT_EQ(error_message([] { make_pass("strict(lr=fast)"); }),
            "pass strict: option lr must be a number, got 'fast'");
}

TEST_F(PassRegistryTest, RegisteringANameTwiceIsAnError) {
  EXPECT_EQ(error_message([] { register_pass("options", nullptr); }), "pass 'options' is registered twice");
}

TEST(CheckOptionsTest, NamesNoneWhenThePassTakesNoOptions) {
  EXPECT_EQ(error_message([] {
              check_options("dce", {{"x", "1"}}, {});
            }),
            "pass dce: unknown option 'x' (known options: none)");
}

TEST(FloatOptionTest, ParsesFiniteNumbersOnly) {
  const PassOptions options = {
      {"lr", "0.25"}, {"exp", "1e-3"}, {"junk", "1.5x"}, {"inf", "inf"}, {"empty", ""}};
  EXPECT_EQ(float_option("p", options, "lr", 1), 0.25);
  EXPECT_EQ(float_option("p", options, "exp", 1), 1e-3);
  EXPECT_EQ(float_option("p", options, "absent", 7), 7);
  for (const char* key : {"junk", "inf", "empty"}) {
    EXPECT_NE(error_message([&] { float_option("p", options, key, 1); }).find("must be a number"),
              std::string::npos)
        << key;
  }
}

TEST(SplitTopLevelTest, SplitsAtCommasOutsideParentheses) {
  EXPECT_EQ(split_top_level("autodiff(lr=0.1,loss=l), dce ,plan"),
            (std::vector<std::string_view>{"autodiff(lr=0.1,loss=l)", "dce", "plan"}));
  EXPECT_EQ(split_top_level("  "), std::vector<std::string_view>{});
  EXPECT_EQ(split_top_level("a,,b"), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_NE(error_message([] { split_top_level("a),b("); }).find("unbalanced ')'"), std::string::npos);
  EXPECT_NE(error_message([] { split_top_level("a(b,c"); }).find("unbalanced '('"), std::string::npos);
}

}  // namespace
}  // namespace stratum
